//! Time to the first failure: how long `explore` takes to find, shrink and
//! explain the SageMath 32361 race, per scheduler.
//!
//! The cases run the staged copy, which fails, on the wide-window scenario
//! (sage-32361) and the one-step window (sage-32361-upgrade). The time is the
//! whole [`explore`] call on the model filesystem: the serial reference run,
//! every execution up to the failing one, shrinking, and the story. The
//! failing execution's 1-based index is reported beside it; a case that finds
//! nothing within its budget reports `None` and the time the budget took.
//! Each case is also timed without shrinking ([`ExploreOptions::shrink`]
//! off): the time to find the failure and tell it as it ran.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::median::median;
use crate::error::Result;
use crate::explore::{explore, ExploreOptions};
use crate::fs::FsKind;
use crate::scenario;
use crate::schedule::SchedulerKind;
use crate::setup::Setup;
use crate::strategy::{StagedCopy, Strategy};

/// The built-in scenarios measured: the wide and the one-step window.
pub const SCENARIOS: &[&str] = &["sage-32361", "sage-32361-upgrade"];

/// The schedulers measured, with the seed each runs with.
pub const SCHEDULERS: &[SchedulerKind] = &[
    SchedulerKind::Dpor,
    SchedulerKind::Random,
    SchedulerKind::Pct { depth: 2 },
];

/// The seed of the random and PCT cases (dpor ignores it).
pub const SEED: u64 = 1;

/// One search for the first failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstFailureCase {
    /// A built-in scenario name.
    pub scenario: &'static str,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// The budget of executions.
    pub budget: u64,
}

impl FirstFailureCase {
    /// Every scenario × scheduler with a budget of `budget` executions.
    pub fn all(budget: u64) -> Vec<FirstFailureCase> {
        SCENARIOS
            .iter()
            .flat_map(|&scenario| {
                SCHEDULERS.iter().map(move |&scheduler| FirstFailureCase {
                    scenario,
                    scheduler,
                    budget,
                })
            })
            .collect()
    }

    /// The strategy every case runs.
    pub fn strategy() -> &'static dyn Strategy {
        &StagedCopy
    }

    /// The options of this case's exploration, shrinking or not.
    pub fn options(&self, shrink: bool) -> ExploreOptions {
        ExploreOptions {
            shrink,
            scheduler: self.scheduler,
            schedules: self.budget,
            seed: SEED,
            threads: 1,
            fs: FsKind::Model,
            progress: None,
            ..ExploreOptions::default()
        }
    }
}

/// The figures of one case.
#[derive(Debug, Clone, Serialize)]
pub struct FirstFailureFigure {
    /// Built-in scenario name.
    pub scenario: &'static str,
    /// Strategy name.
    pub strategy: String,
    /// Scheduler, as `--scheduler` spells it.
    pub scheduler: String,
    /// The seed (meaningless for dpor).
    pub seed: u64,
    /// The budget of executions.
    pub budget: u64,
    /// The 1-based index of the failing execution, if one failed.
    pub failing_execution: Option<u64>,
    /// Executions run.
    pub executions: u64,
    /// Repetitions.
    pub reps: usize,
    /// Median wall time of the whole exploration, seconds.
    pub seconds_median: f64,
    /// Median wall time of the same exploration without shrinking, seconds.
    pub seconds_unshrunk_median: f64,
}

/// Times every case `reps` times, round-robin, and returns one figure per case.
pub fn measure_first_failure(
    cases: &[FirstFailureCase],
    reps: usize,
) -> Result<Vec<FirstFailureFigure>> {
    let setups = cases
        .iter()
        .map(|c| {
            let scenario = Arc::new(scenario::builtin::load(c.scenario)?);
            Setup::new(scenario, FirstFailureCase::strategy())
        })
        .collect::<Result<Vec<_>>>()?;
    let mut times = vec![Vec::new(); cases.len()];
    let mut unshrunk = vec![Vec::new(); cases.len()];
    let mut outcomes = vec![(None, 0); cases.len()];
    for _ in 0..reps.max(1) {
        for (i, case) in cases.iter().enumerate() {
            let start = Instant::now();
            let found = explore(&setups[i], &case.options(true))?;
            times[i].push(start.elapsed().as_secs_f64());
            outcomes[i] = (
                found.first_failure.as_ref().and_then(|f| f.execution),
                found.executions,
            );
            let start = Instant::now();
            explore(&setups[i], &case.options(false))?;
            unshrunk[i].push(start.elapsed().as_secs_f64());
        }
    }
    Ok(cases
        .iter()
        .zip(times)
        .zip(unshrunk)
        .zip(outcomes)
        .map(
            |(((case, times), unshrunk), (failing_execution, executions))| FirstFailureFigure {
                scenario: case.scenario,
                strategy: FirstFailureCase::strategy().name().to_string(),
                scheduler: case.scheduler.to_string(),
                seed: SEED,
                budget: case.budget,
                failing_execution,
                executions,
                reps: times.len(),
                seconds_median: median(&times),
                seconds_unshrunk_median: median(&unshrunk),
            },
        )
        .collect())
}
