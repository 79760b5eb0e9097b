//! Measuring code shared by `prefixrace bench` and the criterion benches.
//!
//! Two families of figures, each measured side by side in one process so that
//! ratios survive a noisy machine:
//!
//! - [`exploration_speed`]: executions/s and ops/s of [`crate::explore()`] on the
//!   built-in scenarios, per filesystem and scheduler.
//! - [`first_failure`]: the wall time `explore` takes to find, shrink and
//!   explain the SageMath 32361 race, per scheduler.
//! - [`replay_floor`]: one direct-install execution replayed on the real
//!   filesystem against the floor writing the same final tree.
//! - [`parallel_install`]: a set of recorded payloads ([`payload_set`])
//!   installed free-running into a fresh real prefix by several threads, with
//!   the [`InstallMethod`]s staged copy, direct install, the copy alone and
//!   the floor (a plain loop writing the same tree).
//!
//! - [`scaling`]: ops/s, executions/s, memo hit rates and peak RSS as the
//!   jobs get more ([`generate`]: 10 to 1,000 packages) and longer (2 to 8
//!   concurrent long installs).
//!
//! Nothing here asserts a time: figures are reported, never judged.

pub mod cp_rp;
pub mod exploration_speed;
pub mod first_failure;
pub mod generate;
pub mod install_method;
pub mod median;
pub mod parallel_install;
pub mod payload_set;
pub mod pip_install;
pub mod replay_floor;
pub mod report;
pub mod scale;
pub mod scaling;

pub use exploration_speed::{measure_exploration, ExplorationCase, ExplorationFigure, SCHEDULERS};
pub use first_failure::{measure_first_failure, FirstFailureCase, FirstFailureFigure};
pub use install_method::InstallMethod;
pub use parallel_install::{measure_installs, InstallFigure, InstallRatio};
pub use payload_set::{PayloadSet, SetPackage, TreeFile};
pub use replay_floor::{measure_replay_floor, ReplayFloorFigure};
pub use report::BenchReport;
pub use scale::Scale;
pub use scaling::{ScalingCase, ScalingFigure};
