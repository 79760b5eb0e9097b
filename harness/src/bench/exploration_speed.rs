//! Exploration speed: executions/s and ops/s of [`explore`] per scenario,
//! filesystem, scheduler and tail reuse.
//!
//! Every measured pair of scenario and strategy passes under random and pct,
//! so those explorations run their whole budget and the rate is a
//! steady-state rate: sage-32361 and pip-21.1.2 under direct install, and
//! sage-32361-upgrade under staged copy (the shape of the loom and shuttle
//! model: a one-step window random sampling does not hit). One worker
//! thread, so the figure is per core, like loom's and shuttle's. Random and
//! pct on the model run twice, with known tails and the state graph reused
//! (the default) and with every execution run to its end, side by side.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::median::median;
use super::parallel_install::per_second;
use super::scale::Scale;
use crate::error::Result;
use crate::explore::{explore, ExploreOptions};
use crate::fs::FsKind;
use crate::scenario;
use crate::schedule::SchedulerKind;
use crate::setup::Setup;
use crate::strategy::builtin_strategy;

/// The schedulers measured. Adding one is one line here.
pub const SCHEDULERS: &[SchedulerKind] = &[
    SchedulerKind::Random,
    SchedulerKind::Pct { depth: 3 },
    SchedulerKind::Dpor,
];

/// The built-in scenarios measured, each with its strategy.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("sage-32361", "direct-install"),
    ("sage-32361-upgrade", "staged-copy"),
    ("pip-21.1.2", "direct-install"),
];

/// The filesystems measured.
pub const FILESYSTEMS: &[FsKind] = &[FsKind::Model, FsKind::Real];

/// The seed of every measured exploration.
pub const SEED: u64 = 1;

/// One exploration to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExplorationCase {
    /// A built-in scenario name.
    pub scenario: &'static str,
    /// The strategy's name.
    pub strategy: &'static str,
    /// The filesystem.
    pub fs: FsKind,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// Reuse known tails ([`ExploreOptions::reuse_tails`]).
    pub reuse_tails: bool,
    /// The budget of executions.
    pub executions: u64,
}

impl ExplorationCase {
    /// Every scenario × filesystem × scheduler (× tail reuse for random and
    /// pct on the model), with the budgets of `scale`.
    pub fn all(scale: &Scale) -> Vec<ExplorationCase> {
        let mut cases = Vec::new();
        for &(scenario, strategy) in SCENARIOS {
            for &fs in FILESYSTEMS {
                if fs == FsKind::Real && !scale.real_scenarios.contains(&scenario) {
                    continue;
                }
                for &scheduler in SCHEDULERS {
                    let sampling = scheduler != SchedulerKind::Dpor;
                    let reuse = if fs == FsKind::Model && sampling {
                        &[true, false][..]
                    } else {
                        &[false][..]
                    };
                    for &reuse_tails in reuse {
                        let executions = match (fs, reuse_tails) {
                            (FsKind::Model, true) => scale.model_executions,
                            (FsKind::Model, false) => scale.model_rerun_executions,
                            (FsKind::Real, _) => scale.real_executions,
                        };
                        cases.push(ExplorationCase {
                            scenario,
                            strategy,
                            fs,
                            scheduler,
                            reuse_tails,
                            executions,
                        });
                    }
                }
            }
        }
        cases
    }

    /// The prepared scenario of this case.
    pub fn setup(&self) -> Result<Setup> {
        let scenario = Arc::new(scenario::builtin::load(self.scenario)?);
        let strategy = builtin_strategy(self.strategy)?;
        Setup::new(scenario, strategy.as_ref())
    }

    /// The options of this case's exploration.
    pub fn options(&self) -> ExploreOptions {
        ExploreOptions {
            scheduler: self.scheduler,
            schedules: self.executions,
            seed: SEED,
            threads: 1,
            fs: self.fs,
            progress: None,
            count_pairs: false,
            reuse_tails: self.reuse_tails,
            ..ExploreOptions::default()
        }
    }

    /// How the case treats tails, for reports: `reused` or `rerun`.
    pub fn tails(&self) -> &'static str {
        if self.reuse_tails {
            "reused"
        } else {
            "rerun"
        }
    }
}

/// The figures of one case.
#[derive(Debug, Clone, Serialize)]
pub struct ExplorationFigure {
    /// Built-in scenario name.
    pub scenario: &'static str,
    /// Strategy name.
    pub strategy: String,
    /// `model` or `real`.
    pub fs: String,
    /// Scheduler, as `--scheduler` spells it.
    pub scheduler: String,
    /// `reused` (known tails reused) or `rerun` (every execution to its end).
    pub tails: &'static str,
    /// Executions per exploration.
    pub executions: u64,
    /// Of those, the executions decided by walking the state graph
    /// ([`crate::explore::Exploration::walked_executions`]).
    pub walked: u64,
    /// Ops executed per exploration.
    pub ops: u64,
    /// Repetitions.
    pub reps: usize,
    /// Median wall time of one exploration, seconds.
    pub seconds_median: f64,
    /// `executions / seconds_median`.
    pub executions_per_s: f64,
    /// `ops / seconds_median`.
    pub ops_per_s: f64,
}

/// Times every case `reps` times, round-robin, and returns one figure per case.
pub fn measure_exploration(
    cases: &[ExplorationCase],
    reps: usize,
) -> Result<Vec<ExplorationFigure>> {
    let setups = cases
        .iter()
        .map(|c| c.setup())
        .collect::<Result<Vec<_>>>()?;
    let mut times = vec![Vec::new(); cases.len()];
    let mut counts = vec![(0, 0, 0); cases.len()];
    for _ in 0..reps.max(1) {
        for (i, case) in cases.iter().enumerate() {
            let start = Instant::now();
            let found = explore(&setups[i], &case.options())?;
            times[i].push(start.elapsed().as_secs_f64());
            counts[i] = (
                found.executions,
                found.walked_executions,
                found.ops_executed,
            );
        }
    }
    Ok(cases
        .iter()
        .zip(times)
        .zip(counts)
        .map(|((case, times), (executions, walked, ops))| {
            let seconds = median(&times);
            ExplorationFigure {
                scenario: case.scenario,
                strategy: case.strategy.to_string(),
                fs: case.fs.to_string(),
                scheduler: case.scheduler.to_string(),
                tails: case.tails(),
                executions,
                walked,
                ops,
                reps: times.len(),
                seconds_median: seconds,
                executions_per_s: per_second(executions as f64, seconds),
                ops_per_s: per_second(ops as f64, seconds),
            }
        })
        .collect())
}
