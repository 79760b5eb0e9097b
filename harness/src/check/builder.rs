//! The settings of a [`Check`], one method each.

use std::path::PathBuf;
use std::time::Duration;

use super::{Check, RegressionsSetting, StrategyChoice};

impl Check {
    /// The strategy: a name (built-in, or declared by the scenario), or a
    /// strategy value ([`crate::strategy::DeclaredStrategy::from_steps`], or
    /// an `Arc<dyn Strategy>` of your own). Required.
    pub fn strategy(mut self, strategy: impl Into<StrategyChoice>) -> Check {
        self.strategy = Some(strategy.into());
        self
    }

    /// The scheduler: `auto` (the default), `directed`, `random`, `pct`,
    /// `pct:D`, `serial` or `dpor`, as a string or a
    /// [`crate::SchedulerKind`]. Overrides `PREFIXRACE_SCHEDULER`.
    pub fn scheduler(mut self, scheduler: impl ToString) -> Check {
        self.scheduler = Some(scheduler.to_string());
        self
    }

    /// The seed (default 0). Overrides `PREFIXRACE_SEED`.
    pub fn seed(mut self, seed: u64) -> Check {
        self.seed = Some(seed);
        self
    }

    /// Worker threads (default: every core). Results do not depend on it.
    /// Overrides `PREFIXRACE_JOBS`.
    pub fn jobs(mut self, jobs: usize) -> Check {
        self.jobs = Some(jobs);
        self
    }

    /// The budget of executions (default 1000; dpor: none, to the end of
    /// its search). Overrides `PREFIXRACE_SCHEDULES`.
    pub fn schedules(mut self, schedules: u64) -> Check {
        self.schedules = Some(schedules);
        self
    }

    /// Stop starting executions after `limit`; a run cut short says so
    /// (and [`Check::prove`] panics). Overrides `PREFIXRACE_TIME_LIMIT`.
    pub fn time_limit(mut self, limit: Duration) -> Check {
        self.time_limit = Some(limit);
        self
    }

    /// Faults to inject: with [`crate::crash::Faults::CRASH`],
    /// every op of every passing execution is also a crash point; with
    /// `Faults::NONE.with(Fault::NoSpace)` (any [`crate::fault::Fault`]),
    /// every op the fault can strike is struck once. The check fails
    /// (class `unrecoverable`) when rerunning the failed jobs does not
    /// bring the prefix back (see `docs/faults.md`).
    pub fn faults(mut self, faults: crate::crash::Faults) -> Check {
        self.faults = faults;
        self
    }

    /// Keep regressions in `path` instead of next to the scenario file (or
    /// in `prefixrace-regressions/NAME.txt` for built-in and in-code scenarios).
    pub fn regressions(mut self, path: impl Into<PathBuf>) -> Check {
        self.regressions = RegressionsSetting::File(path.into());
        self
    }

    /// Neither replay nor save regressions.
    pub fn no_regressions(mut self) -> Check {
        self.regressions = RegressionsSetting::Off;
        self
    }
}
