//! `Check`: prefixrace inside `cargo test`, in the spirit of shuttle's
//! `check_random` and loom's `model::Builder`.
//!
//! ```
//! use prefixrace::Check;
//!
//! // Panics with the whole story if any explored schedule fails.
//! Check::builtin("sage-32361").strategy("direct-install").schedules(50).run();
//!
//! // The race SageMath hit, found and explained.
//! let failure = Check::builtin("sage-32361").strategy("staged-copy").find_race().unwrap();
//! assert!(failure.to_string().contains("File exists"));
//! ```
//!
//! A check names a scenario ([`Check::scenario`] for a TOML file,
//! [`Check::builtin`], [`Check::new`] for one built in code with
//! [`crate::Scenario::builder`]) and a strategy, then ends in one of:
//! - [`Check::run`]: explores (`auto` by default, 1000 executions) and
//!   panics with the story of the first failure. A run whose budget ends
//!   without a failure passes, as a random test does; it is not a proof.
//! - [`Check::find_race`]: the same, returning the failure instead.
//! - [`Check::prove`]: dpor to the end of its search; panics when it finds
//!   a failure and when the search did not end (a cap, a time limit).
//! - [`Check::replay`]: runs one token and panics with the story if it fails.
//!
//! Settings left unset in code come from the environment knobs
//! ([`env`](mod@env): `PREFIXRACE_SCHEDULES`, `PREFIXRACE_SEED`, …), then the
//! defaults. A failing [`Check::run`] or [`Check::prove`] saves its token
//! to a regressions file ([`regressions`]) that every later check of the
//! scenario replays first. See `docs/library.md`.

mod builder;
pub mod env;
mod failure;
pub mod regressions;
mod run;
mod source;

pub use failure::Failure;
pub use source::StrategyChoice;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::explore::{Exploration, Verdict};
use crate::scenario::Scenario;
use env::Seed;

/// A check of one scenario under one strategy; see the [module docs](self).
///
/// Build it with [`Check::scenario`], [`Check::builtin`] or [`Check::new`],
/// set what you need, and end with [`Check::run`], [`Check::find_race`],
/// [`Check::prove`] or [`Check::replay`]. Those take `&self`, so one check
/// can be run and replayed again.
#[derive(Clone)]
#[must_use = "a check does nothing until run(), find_race(), prove() or replay() is called"]
pub struct Check {
    source: source::Source,
    strategy: Option<StrategyChoice>,
    scheduler: Option<String>,
    seed: Option<u64>,
    jobs: Option<usize>,
    schedules: Option<u64>,
    time_limit: Option<Duration>,
    faults: crate::crash::Faults,
    regressions: RegressionsSetting,
}

/// Where a check keeps its regressions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RegressionsSetting {
    /// Next to the scenario file, or under `prefixrace-regressions/`.
    Default,
    /// This file.
    File(PathBuf),
    /// Neither replayed nor saved.
    Off,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("source", &self.source)
            .field("strategy", &self.strategy)
            .field("scheduler", &self.scheduler)
            .field("seed", &self.seed)
            .field("jobs", &self.jobs)
            .field("schedules", &self.schedules)
            .field("time_limit", &self.time_limit)
            .field("faults", &self.faults)
            .field("regressions", &self.regressions)
            .finish()
    }
}

/// What a check that did not fail found: its verdict and report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Pass, or incomplete (a budget or time limit ended first, or a
    /// search that did not finish); never fail, which panics or returns a
    /// [`Failure`] instead.
    pub verdict: Verdict,
    /// The seed the run used.
    pub seed: Seed,
    /// Everything the exploration counted.
    pub exploration: Exploration,
    /// The report as `prefixrace explore` prints it, plus the check's own lines.
    text: String,
}

impl Report {
    /// Executions run.
    pub fn executions(&self) -> u64 {
        self.exploration.executions
    }

    /// True when a dpor search (alone, or auto's dpor part) covered every
    /// interleaving, and, with [`Check::faults`], every crash point of
    /// every one in every order of the jobs going on after it, and every
    /// fault point struck as early as its op can run (unless
    /// [`crate::crash::FaultCounts::struck_along_search`]): the pass is a
    /// proof.
    pub fn is_proof(&self) -> bool {
        let ex = &self.exploration;
        self.verdict == Verdict::Pass
            && ex.coverage.as_ref().is_some_and(|c| c.complete)
            && ex
                .faults
                .is_none_or(|f| f.complete && !f.one_order_after && !f.struck_along_search)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Check {
    /// A check of the scenario file at `path`.
    ///
    /// A relative path is looked up from the current directory (where
    /// `cargo test` runs a crate's tests: the crate's root), then from each
    /// of its parents, so a crate inside a workspace finds the workspace's
    /// `scenarios/`. When no such file exists and the file's stem names a
    /// built-in scenario (`scenarios/sage-32361.toml` → `sage-32361`), the
    /// built-in one is used, and reports say so. Anything else panics
    /// with one line naming the path.
    pub fn scenario(path: impl Into<PathBuf>) -> Check {
        Check::from_source(source::Source::File(path.into()))
    }

    /// A check of the built-in scenario `name` (`prefixrace list`).
    pub fn builtin(name: impl Into<String>) -> Check {
        Check::from_source(source::Source::Builtin(name.into()))
    }

    /// A check of a scenario built in code ([`Scenario::builder`]) or loaded
    /// by hand.
    pub fn new(scenario: Scenario) -> Check {
        Check::from_source(source::Source::Code(Arc::new(scenario)))
    }

    fn from_source(source: source::Source) -> Check {
        Check {
            source,
            strategy: None,
            scheduler: None,
            seed: None,
            jobs: None,
            schedules: None,
            time_limit: None,
            faults: crate::crash::Faults::NONE,
            regressions: RegressionsSetting::Default,
        }
    }
}
