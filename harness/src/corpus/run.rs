//! One scheduler's exploration of a corpus scenario: the library's
//! [`explore`] under that scheduler, reduced to what the corpus table shows.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::CorpusOptions;
use crate::error::Result;
use crate::explore::{explore, ExploreOptions};
use crate::report::explain;
use crate::scenario::Scenario;
use crate::schedule::SchedulerKind;
use crate::setup::Setup;

/// What one scheduler found on one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulerRun {
    /// `auto`, `random`, `pct:D` or `dpor`.
    pub scheduler: String,
    /// `pass`, `fail` or `incomplete`, as `explore` says.
    pub verdict: String,
    /// Whether a failure was found.
    pub found: bool,
    /// The 1-based execution of the first failure, or every execution run.
    pub executions: u64,
    /// The budget it was given (`null`: none).
    pub budget: Option<u64>,
    /// dpor (alone or in auto): whether the search ended, covering every class.
    pub complete: bool,
    /// dpor: the classes explored.
    pub classes: Option<u64>,
    /// The first failure's error lines, exactly as the real tool prints them.
    pub errors: Vec<String>,
    /// The first failure's replay token.
    pub token: Option<String>,
    /// Wall-clock milliseconds (left out with `--no-timing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millis: Option<u64>,
}

/// How one scheduler is run for the corpus.
pub(super) struct RunSpec<'a> {
    /// The scenario.
    pub scenario: &'a Arc<Scenario>,
    /// The scenario under the expectation's strategy.
    pub setup: &'a Setup,
    /// The strategy's name, for the failure's replay line.
    pub strategy: &'a str,
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// The budget (`u64::MAX`: to the end of a dpor search).
    pub budget: u64,
    /// Shrink the first failure before reading its error lines (what
    /// `explore` prints); off where only the execution count is shown.
    pub shrink: bool,
}

impl RunSpec<'_> {
    /// Runs the exploration and sums it up.
    pub(super) fn run(&self, options: &CorpusOptions) -> Result<SchedulerRun> {
        let label = format!("{} {}", self.scenario.name, self.scheduler);
        let watch = options
            .watcher
            .as_ref()
            .map(|w| w.start(&label, self.budget));
        let explore_options = ExploreOptions {
            scheduler: self.scheduler,
            schedules: self.budget,
            seed: options.seed,
            threads: options.threads,
            progress: watch.as_ref().and_then(|w| w.callback()),
            shrink: self.shrink,
            ..ExploreOptions::default()
        };
        let started = Instant::now();
        let explored = explore(self.setup, &explore_options);
        let millis = started.elapsed().as_millis();
        drop(watch);
        let ex = explored?;
        let (errors, token) = match &ex.first_failure {
            Some(f) => {
                let explained = explain(f, self.scenario, self.strategy);
                let j = explained.json();
                (j.errors.clone(), Some(j.token.clone()))
            }
            None => (Vec::new(), None),
        };
        Ok(SchedulerRun {
            scheduler: self.scheduler.to_string(),
            verdict: ex.verdict().as_str().to_string(),
            found: ex.first_failure.is_some(),
            executions: ex
                .first_failure
                .as_ref()
                .and_then(|f| f.execution)
                .unwrap_or(ex.executions),
            budget: (self.budget != u64::MAX).then_some(self.budget),
            complete: ex.coverage.as_ref().is_some_and(|c| c.complete),
            classes: ex.coverage.as_ref().map(|c| c.classes),
            errors,
            token,
            millis: options
                .timing
                .then(|| u64::try_from(millis).unwrap_or(u64::MAX)),
        })
    }
}
