//! Exploration speed: executions/s and ops/s of [`explore`] per scenario,
//! filesystem and scheduler.
//!
//! The strategy is direct install, which passes every execution, so each
//! exploration runs its whole budget and the rate is a steady-state rate
//! (staged copy stops at its first failure). One worker thread, so the
//! figure is per core, like loom's and shuttle's.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::median::median;
use super::parallel_install::per_second;
use super::scale::Scale;
use crate::error::Result;
use crate::explore::{explore, ExploreOptions};
use crate::fs::FsKind;
use crate::schedule::SchedulerKind;
use crate::setup::Setup;
use crate::strategy::DirectInstall;
use crate::{scenario, Strategy};

/// The schedulers measured. Adding one is one line here.
pub const SCHEDULERS: &[SchedulerKind] = &[
    SchedulerKind::Random,
    SchedulerKind::Pct { depth: 3 },
    SchedulerKind::Dpor,
];

/// The built-in scenarios measured.
pub const SCENARIOS: &[&str] = &["sage-32361", "pip-21.1.2"];

/// The filesystems measured.
pub const FILESYSTEMS: &[FsKind] = &[FsKind::Model, FsKind::Real];

/// The seed of every measured exploration.
pub const SEED: u64 = 1;

/// One exploration to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExplorationCase {
    /// A built-in scenario name.
    pub scenario: &'static str,
    /// The filesystem.
    pub fs: FsKind,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// The budget of executions.
    pub executions: u64,
}

impl ExplorationCase {
    /// Every scenario × filesystem × scheduler, with the budgets of `scale`.
    pub fn all(scale: &Scale) -> Vec<ExplorationCase> {
        let mut cases = Vec::new();
        for &scenario in SCENARIOS {
            for &fs in FILESYSTEMS {
                if fs == FsKind::Real && !scale.real_scenarios.contains(&scenario) {
                    continue;
                }
                for &scheduler in SCHEDULERS {
                    let executions = match fs {
                        FsKind::Model => scale.model_executions,
                        FsKind::Real => scale.real_executions,
                    };
                    cases.push(ExplorationCase {
                        scenario,
                        fs,
                        scheduler,
                        executions,
                    });
                }
            }
        }
        cases
    }

    /// The strategy every case runs.
    pub fn strategy() -> &'static dyn Strategy {
        &DirectInstall
    }

    /// The prepared scenario of this case.
    pub fn setup(&self) -> Result<Setup> {
        let scenario = Arc::new(scenario::builtin::load(self.scenario)?);
        Setup::new(scenario, Self::strategy())
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
            ..ExploreOptions::default()
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
    /// Executions per exploration.
    pub executions: u64,
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
    let mut counts = vec![(0, 0); cases.len()];
    for _ in 0..reps.max(1) {
        for (i, case) in cases.iter().enumerate() {
            let start = Instant::now();
            let found = explore(&setups[i], &case.options())?;
            times[i].push(start.elapsed().as_secs_f64());
            counts[i] = (found.executions, found.ops_executed);
        }
    }
    Ok(cases
        .iter()
        .zip(times)
        .zip(counts)
        .map(|((case, times), (executions, ops))| {
            let seconds = median(&times);
            ExplorationFigure {
                scenario: case.scenario,
                strategy: ExplorationCase::strategy().name().to_string(),
                fs: case.fs.to_string(),
                scheduler: case.scheduler.to_string(),
                executions,
                ops,
                reps: times.len(),
                seconds_median: seconds,
                executions_per_s: per_second(executions as f64, seconds),
                ops_per_s: per_second(ops as f64, seconds),
            }
        })
        .collect())
}
