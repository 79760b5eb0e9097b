//! Schedules and schedulers.
//!
//! A [`Scheduler`] picks which runnable job takes the next step. The sequence
//! of picks of one execution is its [`Schedule`], which serializes to a short
//! token (see [`token`]) that the replay scheduler follows exactly.

pub mod dependence;
mod dpor;
mod dpor_steps;
mod forced;
mod pct;
mod random;
mod replay;
mod resumed;
mod rng;
mod serial;
pub mod token;

pub use dpor::{Asleep, DporScheduler};
pub use dpor_steps::DporSteps;
pub use forced::ForcedScheduler;
pub use pct::PctScheduler;
pub use random::RandomScheduler;
pub use replay::ReplayScheduler;
pub use resumed::Resumed;
pub use rng::SplitMix64;
pub use serial::SerialScheduler;

use std::fmt;
use std::str::FromStr;

use crate::limits::MAX_PCT_DEPTH;

/// Index of a job within an execution.
pub type JobId = usize;

/// Picks the next job to step.
pub trait Scheduler: Send {
    /// Chooses one of `runnable` (never empty, sorted ascending) at step `step`.
    /// Returns `None` when the scheduler cannot continue (a replay whose token
    /// does not match the scenario).
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId>;

    /// Like [`Scheduler::pick`], also seeing the op each runnable job offers
    /// (`offered[j]` for every `j` in `runnable`). Schedulers that reason
    /// about dependence (DPOR) override it; the others just pick.
    fn pick_offered(
        &mut self,
        runnable: &[JobId],
        offered: &[Option<crate::op::Op>],
        step: usize,
    ) -> Option<JobId> {
        let _ = offered;
        self.pick(runnable, step)
    }

    /// Told the result of the op the last pick ran. Schedulers that reason
    /// about dependence (DPOR) use it; the others ignore it.
    fn completed(&mut self, result: &crate::op::OpResult) {
        let _ = result;
    }

    /// True when the scheduler's picks depend on the ops offered or on
    /// their results ([`Scheduler::pick_offered`], [`Scheduler::completed`]),
    /// not only on the runnable jobs and the step. Such a scheduler cannot
    /// be driven through a [`crate::state_graph::StateGraph`], which knows
    /// the jobs that can run in a state but not their ops.
    fn sees_ops(&self) -> bool {
        false
    }

    /// For schedulers that aim an execution at something (the
    /// race-directed one): whether the execution so far met its aim.
    /// `None` for the others.
    fn aim_met(&self) -> Option<bool> {
        None
    }
}

/// The sequence of job choices of one execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The job picked at each step.
    pub choices: Vec<JobId>,
}

impl Schedule {
    /// The short token that replays this schedule.
    pub fn token(&self) -> String {
        token::encode(&self.choices)
    }

    /// Decodes a token.
    pub fn from_token(token: &str) -> Result<Schedule, token::TokenError> {
        token::decode(token).map(|choices| Schedule { choices })
    }

    /// Number of preemptions: switches away from a job that could have continued.
    /// Counted approximately as the number of switches between jobs.
    pub fn switches(&self) -> usize {
        self.choices.windows(2).filter(|w| w[0] != w[1]).count()
    }
}

/// Which scheduler explores a scenario, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerKind {
    /// Always the lowest-numbered runnable job: the dependency order.
    Serial,
    /// Uniformly random among runnable jobs, seeded.
    Random,
    /// Probabilistic concurrency testing with `depth` priority change points.
    Pct {
        /// The bug depth d: d - 1 priority change points.
        depth: usize,
    },
    /// Systematic exploration with dynamic partial-order reduction
    /// (see `crate::dpor`); executions are driven by the explorer.
    Dpor,
    /// Race-directed: one execution aimed at each conflict of the serial
    /// reference run (see `crate::directed`); driven by the explorer.
    Directed,
    /// The default portfolio: race-directed, random, dpor and pct
    /// executions interleaved in a fixed order (see `crate::portfolio`).
    Auto,
}

impl SchedulerKind {
    /// Builds the scheduler for execution `execution` of a run seeded with `seed`.
    /// `jobs` is the number of jobs and `steps` an estimate of the steps of one execution.
    pub fn build(self, seed: u64, execution: u64, jobs: usize, steps: usize) -> Box<dyn Scheduler> {
        let rng = SplitMix64::for_execution(seed, execution);
        match self {
            SchedulerKind::Serial => Box::new(SerialScheduler),
            SchedulerKind::Random => Box::new(RandomScheduler::new(rng)),
            SchedulerKind::Pct { depth } => Box::new(PctScheduler::new(rng, jobs, steps, depth)),
            // Without a DPOR driver, the first DPOR execution: non-preemptive.
            SchedulerKind::Dpor => Box::new(DporScheduler::new(Vec::new(), 0, Vec::new())),
            // Without a work list (see `crate::portfolio::Plan`), the
            // reference order: what their first planned execution would
            // aim from.
            SchedulerKind::Directed | SchedulerKind::Auto => Box::new(SerialScheduler),
        }
    }

    /// True for schedulers that give the same schedule for every execution.
    pub fn is_deterministic_per_run(self) -> bool {
        matches!(self, SchedulerKind::Serial)
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedulerKind::Serial => f.write_str("serial"),
            SchedulerKind::Random => f.write_str("random"),
            SchedulerKind::Pct { depth } => write!(f, "pct:{depth}"),
            SchedulerKind::Dpor => f.write_str("dpor"),
            SchedulerKind::Directed => f.write_str("directed"),
            SchedulerKind::Auto => f.write_str("auto"),
        }
    }
}

impl FromStr for SchedulerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "serial" => Ok(SchedulerKind::Serial),
            "random" => Ok(SchedulerKind::Random),
            "pct" => Ok(SchedulerKind::Pct { depth: 3 }),
            "dpor" => Ok(SchedulerKind::Dpor),
            "directed" => Ok(SchedulerKind::Directed),
            "auto" => Ok(SchedulerKind::Auto),
            _ => match s.strip_prefix("pct:").map(str::parse::<usize>) {
                Some(Ok(depth)) if (1..=MAX_PCT_DEPTH).contains(&depth) => {
                    Ok(SchedulerKind::Pct { depth })
                }
                Some(_) => Err(format!(
                    "scheduler {s:?}: the pct depth must be a number from 1 to {MAX_PCT_DEPTH}"
                )),
                None => Err(format!(
                    "unknown scheduler {s:?}: expected auto, directed, serial, random, pct, pct:DEPTH or dpor"
                )),
            },
        }
    }
}
