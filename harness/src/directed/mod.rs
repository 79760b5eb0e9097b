//! Race-directed search: executions aimed at conflicts.
//!
//! Random and PCT schedules find a race by luck; DPOR finds every race but
//! explores a long scenario's classes in an order that may reach a given
//! race late. The race-directed scheduler takes the conflicts the serial
//! reference run shows ([`WorkList`]: pairs of dependent ops of different
//! jobs, and windows between two ops of one job on one path that another
//! job's destructive op can land in) and aims one execution at each
//! ([`DirectedScheduler`]), the conflicts whose reversal makes an op fail
//! first. Which conflicts an execution aimed at, and whether it hit them,
//! is its coverage.

mod op_id;
mod opposite;
mod round_robin;
mod scheduler;
mod target;
mod work_list;

/// The conflicting pairs of one run (shared with the pair counts).
pub use crate::conflicts::conflicting_events;
pub use op_id::{identities, Occurrences, OpId, OpShape};
pub use opposite::OppositeScheduler;
pub use round_robin::RoundRobinScheduler;
pub use scheduler::DirectedScheduler;
pub use target::{destructive, makes_fail, Aim, Hold, Lead, Target};
pub use work_list::WorkList;

use crate::error::Result;
use crate::fs::FsKind;
use crate::schedule::SerialScheduler;
use crate::setup::Setup;

/// The work list of `setup`: the targets of its serial reference run, of
/// the opposite job order and of the round-robin order, each recorded on
/// a fresh model filesystem, the first `limit` of them kept.
pub fn work_list(setup: &Setup, limit: usize) -> Result<WorkList> {
    let mut fs = FsKind::Model.fresh_unkeyed()?;
    let serial = setup.run(fs.as_mut(), &mut SerialScheduler, true);
    let mut fs = FsKind::Model.fresh_unkeyed()?;
    let opposite = setup.run(fs.as_mut(), &mut OppositeScheduler, true);
    let mut fs = FsKind::Model.fresh_unkeyed()?;
    let round_robin = setup.run(fs.as_mut(), &mut RoundRobinScheduler::default(), true);
    Ok(WorkList::from_runs(
        &[&serial, &opposite, &round_robin],
        setup.deps(),
        limit,
    ))
}
