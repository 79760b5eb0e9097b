//! # prefixrace
//!
//! A deterministic race-reproduction harness for parallel installs into a
//! shared prefix. It replays recorded install scenarios (the files a real
//! install writes, plus the concurrent activity around it) under randomized
//! and systematic interleavings, against several install strategies, and
//! checks that no job fails and that the prefix ends the same under every
//! ordering. Every failure comes with a token that replays it exactly.
//!
//! In `cargo test`, a check is one line; it panics with the story of the
//! first failure (see [`Check`] and `docs/library.md`):
//!
//! ```
//! use prefixrace::Check;
//!
//! Check::builtin("sage-32361").strategy("direct-install").schedules(100).run();
//! let race = Check::builtin("sage-32361").strategy("staged-copy").find_race().unwrap();
//! assert!(race.to_string().contains("File exists"));
//! ```
//!
//! Underneath, the exploration is plain data:
//!
//! ```
//! use std::sync::Arc;
//! use prefixrace::{explore, scenario, strategy, ExploreOptions, Setup, Verdict};
//!
//! let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
//! let staged = Setup::new(scenario.clone(), &strategy::StagedCopy).unwrap();
//! let found = explore(&staged, &ExploreOptions { seed: 1, ..Default::default() }).unwrap();
//! assert_eq!(found.verdict(), Verdict::Fail);
//!
//! let direct = Setup::new(scenario, &strategy::DirectInstall).unwrap();
//! let passed = explore(&direct, &ExploreOptions { schedules: 200, ..Default::default() }).unwrap();
//! assert!(passed.first_failure.is_none());
//! ```
//!
//! # What is here
//!
//! - [`Check`]: a check for `cargo test`, ending in [`Check::run`],
//!   [`Check::find_race`], [`Check::prove`] or [`Check::replay`]; a failing
//!   one is a [`Failure`], a passing one a [`Report`].
//! - [`Scenario`]: packages and the activity around them, from a TOML file
//!   ([`scenario::load`]), a built-in one ([`scenario::builtin::load`]) or
//!   code ([`Scenario::builder`]).
//! - [`Strategy`]: how a package lands in the prefix: the built-in ones in
//!   [`strategy`], or one declared from [`Step`]s ([`DeclaredStrategy`]).
//! - [`SchedulerKind`]: who runs next: `auto`, `directed`, `random`, `pct`,
//!   `serial` or `dpor`.
//! - [`explore()`], [`replay`], [`ExploreOptions`], [`Exploration`],
//!   [`Verdict`], [`FailureKind`]: the exploration as data, for tools of
//!   your own.
//! - [`Error`] and [`Result`].
//!
//! The vocabulary follows `docs/ARCHITECTURE.md`: a scenario holds packages
//! and activities; a strategy turns a package into jobs; jobs emit ops
//! against a filesystem; a scheduler picks who steps next; the oracle
//! judges; a report explains. The machinery itself lives in
//! [`internals`], which is not a stable API.

mod bench;
mod brute_force;
pub mod check;
mod conflicts;
mod content;
mod corpus;
pub mod crash;
mod directed;
mod dpor;
mod dpor_feed;
mod error;
mod execution;
mod explore;
mod fast_hash;
pub mod fault;
mod fs;
mod gate;
mod job;
pub mod kit;
mod limits;
mod merge;
mod op;
mod oracle;
mod pairs;
mod pct_bound;
mod portfolio;
mod record;
mod report;
pub mod scenario;
mod schedule;
mod setup;
mod shard;
mod shrink;
mod state_graph;
mod state_key;
mod story;
pub mod strategy;
mod tail;
#[cfg(test)]
mod test_support;
mod thousands;

pub use check::{Check, Failure, Report};
pub use error::{Error, Result};
pub use explore::{explore, replay, Exploration, ExploreOptions, Replay, Verdict};
pub use oracle::FailureKind;
pub use scenario::{Scenario, ScenarioBuilder};
pub use schedule::SchedulerKind;
pub use setup::Setup;
pub use strategy::{DeclaredStrategy, Step, Strategy};

// Short paths for the crate's own code (`crate::Fs`, `crate::Tree`).
pub(crate) use fs::{Fs, Tree};

/// The machinery behind the API: the model filesystem, the jobs, the
/// schedulers, dpor, the oracle, reports, recording, the gate for real
/// processes and the benches.
///
/// **Not a stable API.** It is public for the `prefixrace` binary, the
/// criterion benches and this crate's own tests; anything in it may change
/// in any release. A test of an installer needs only the items at the top
/// of the crate.
pub mod internals {
    pub use crate::fs::{Fs, ModelFs, Tree};
    pub use crate::job::{BoxClone, Job};
    pub use crate::op::{Errno, Op, OpResult};
    pub use crate::oracle::{Judgement, Oracle};
    pub use crate::schedule::{Schedule, Scheduler};

    macro_rules! internal_modules {
        ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
            $(
                $(#[$doc])*
                pub mod $name {
                    pub use crate::$name::*;
                }
            )*
        };
    }

    internal_modules! {
        /// `prefixrace bench`: exploration speed, first failures, installs, scaling.
        bench,
        /// Brute-force enumeration of tiny scenarios, the reference for dpor.
        brute_force,
        /// Conflicting ops of an execution, enumerated once.
        conflicts,
        /// File contents: blobs and their digests.
        content,
        /// `prefixrace corpus`: scenarios explored against their `[expect]` tables.
        corpus,
        /// The race-directed scheduler and its work list.
        directed,
        /// Optimal dynamic partial-order reduction.
        dpor,
        /// dpor as a step-by-step feed for the portfolio.
        dpor_feed,
        /// The error type and its one-line rendering.
        error,
        /// One execution: the executor loop and its observers.
        execution,
        /// Exploration: schedulers, budgets, the first failure, replay.
        explore,
        /// The fixed hasher of the model's maps.
        fast_hash,
        /// Filesystems: the model, the real one, trees.
        fs,
        /// Real processes under a ptrace gate.
        gate,
        /// Jobs: cp, pip, the importer and the strategies' steps.
        job,
        /// Every limit on input, in one place.
        limits,
        /// Merging sharded reports.
        merge,
        /// Filesystem ops and their results.
        op,
        /// The oracle: job failures and order-dependent trees.
        oracle,
        /// Conflicting pairs counted per execution.
        pairs,
        /// The PCT miss-probability bound.
        pct_bound,
        /// `auto`: the portfolio of schedulers.
        portfolio,
        /// Recording scenarios from wheels, trees, strace logs and commands.
        record,
        /// Text and JSON reports.
        report,
        /// Schedules, tokens and schedulers.
        schedule,
        /// A scenario under a strategy, ready to run.
        setup,
        /// Shards of an exploration.
        shard,
        /// Shrinking a failing schedule.
        shrink,
        /// The state graph of executions.
        state_graph,
        /// State keys of the model.
        state_key,
        /// Race stories.
        story,
        /// Known tails.
        tail,
        /// Counts grouped by thousands.
        thousands,
    }
}
