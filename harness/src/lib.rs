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
//! use prefixrace::{explore, scenario, strategy, ExploreOptions, Setup};
//!
//! let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
//! let staged = Setup::new(scenario.clone(), &strategy::StagedCopy).unwrap();
//! let found = explore(&staged, &ExploreOptions { seed: 1, ..Default::default() }).unwrap();
//! let failure = found.first_failure.expect("the SageMath race");
//! assert!(failure.judgement.failure.is_some());
//!
//! let direct = Setup::new(scenario, &strategy::DirectInstall).unwrap();
//! let passed = explore(&direct, &ExploreOptions { schedules: 200, ..Default::default() }).unwrap();
//! assert!(passed.first_failure.is_none());
//! ```
//!
//! The vocabulary follows `docs/ARCHITECTURE.md`: a [`Scenario`] holds
//! packages and activities; a [`Strategy`] turns a package into a [`Job`];
//! jobs emit [`Op`]s against an [`Fs`]; a [`Scheduler`] picks who steps next;
//! the [`Oracle`] judges; a report explains.

pub mod bench;
pub mod brute_force;
pub mod check;
pub mod conflicts;
pub mod content;
pub mod directed;
pub mod dpor;
pub mod dpor_feed;
pub mod error;
pub mod execution;
pub mod explore;
pub mod fast_hash;
pub mod fs;
pub mod gate;
pub mod job;
pub mod merge;
pub mod op;
pub mod oracle;
pub mod pairs;
pub mod pct_bound;
pub mod portfolio;
pub mod record;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod setup;
pub mod shard;
pub mod shrink;
pub mod state_graph;
pub mod state_key;
pub mod story;
pub mod strategy;
pub mod tail;
#[cfg(test)]
mod test_support;

pub use check::{Check, Failure, Report};
pub use error::{Error, Result};
pub use explore::{explore, replay, Exploration, ExploreOptions, Replay, Verdict};
pub use fs::{Fs, ModelFs, Tree};
pub use job::Job;
pub use op::{Errno, Op, OpResult};
pub use oracle::{FailureKind, Judgement, Oracle};
pub use scenario::{Scenario, ScenarioBuilder};
pub use schedule::{Schedule, Scheduler, SchedulerKind};
pub use setup::Setup;
pub use strategy::{DeclaredStrategy, Step, Strategy};
