//! What a DPOR exploration is asked to do: how far it may go, which
//! executions a shard judges, and the race-directed order.

use std::fmt;
use std::time::Instant;

use crate::shard::Shard;

/// What a DPOR exploration is asked to do.
///
/// The search checks its limits between executions, in this order: the
/// budget, the stop callback, the deadline. A search stopped by any of them
/// ends cleanly: its [`super::Coverage`] says `complete: false`, why (for
/// a deadline: "time limit reached after N executions with B branches still
/// to explore") and how many branches were left
/// ([`super::Coverage::branches_left`]); it does not count as a failure.
///
/// ```
/// use prefixrace::internals::dpor::DporOptions;
/// use std::time::{Duration, Instant};
/// // No cap on executions, but at most ten seconds.
/// let options = DporOptions {
///     budget: None,
///     deadline: Some(Instant::now() + Duration::from_secs(10)),
///     ..DporOptions::default()
/// };
/// assert!(options.race_directed);
/// ```
#[derive(Clone, Copy)]
pub struct DporOptions<'a> {
    /// At most this many executions; `None`: no cap (run to completion,
    /// as loom does).
    pub budget: Option<u64>,
    /// The executions of the search to judge.
    pub shard: Shard,
    /// Explore the race-directed branch second.
    pub race_directed: bool,
    /// Start no execution at or after this instant. A run stopped by it is
    /// not reproducible in its count (the rest of the search is).
    pub deadline: Option<Instant>,
    /// Asked before every execution; the search stops when it returns true
    /// (for example a portfolio's shared time limit, or Ctrl-C).
    pub stop: Option<&'a dyn Fn() -> bool>,
}

impl Default for DporOptions<'_> {
    /// No cap, the whole search, race-directed, no deadline, no callback.
    fn default() -> Self {
        DporOptions {
            budget: None,
            shard: Shard::WHOLE,
            race_directed: true,
            deadline: None,
            stop: None,
        }
    }
}

impl fmt::Debug for DporOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DporOptions")
            .field("budget", &self.budget)
            .field("shard", &self.shard)
            .field("race_directed", &self.race_directed)
            .field("deadline", &self.deadline)
            .field("stop", &self.stop.map(|_| "callback"))
            .finish()
    }
}
