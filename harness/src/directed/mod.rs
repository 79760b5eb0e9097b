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

/// The most conflicting pairs the serial and opposite runs may show for
/// the round-robin run to be recorded too. Its targets are for small,
/// branchy scenarios (two installers that each find a cache cold); where
/// every job shares a directory with every other (1,000 packages, several
/// long pips) interleaving them one op at a time multiplies the windows:
/// measured on 1,000 one-file packages, 0.4 s and 124 MB without it, 40 s
/// and 8.8 GB with it (docs/directed.md).
pub const ROUND_ROBIN_PAIR_BUDGET: usize = 100_000;

/// The work list of `setup`: the targets of its serial reference run and
/// of the opposite job order, and, when those show at most
/// [`ROUND_ROBIN_PAIR_BUDGET`] conflicting pairs, of the round-robin order,
/// each recorded on a fresh model filesystem; the first `limit` of them
/// kept.
pub fn work_list(setup: &Setup, limit: usize) -> Result<WorkList> {
    let mut fs = FsKind::Model.fresh_unkeyed()?;
    let serial = setup.run(fs.as_mut(), &mut SerialScheduler, true);
    let mut fs = FsKind::Model.fresh_unkeyed()?;
    let opposite = setup.run(fs.as_mut(), &mut OppositeScheduler, true);
    let two = WorkList::from_runs(&[&serial, &opposite], setup.deps(), limit);
    if two.pairs > ROUND_ROBIN_PAIR_BUDGET {
        return Ok(two);
    }
    let mut fs = FsKind::Model.fresh_unkeyed()?;
    let round_robin = setup.run(fs.as_mut(), &mut RoundRobinScheduler::default(), true);
    let mut three = WorkList::from_runs(&[&serial, &opposite, &round_robin], setup.deps(), limit);
    three.round_robin = true;
    Ok(three)
}
