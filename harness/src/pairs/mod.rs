//! Conflicting pairs: which dependent ops of different jobs an exploration
//! saw, and which it saw in both orders.
//!
//! Two events of one execution form a *conflicting pair* when they belong to
//! different jobs and their ops are dependent
//! ([`crate::schedule::dependence::dependent`]). A pair is identified
//! independently of the schedule, by the identities of its two ops: an op's
//! identity is (job index, syscall, path(s), occurrence), where the
//! occurrence counts the earlier ops of the same job with the same syscall
//! and paths. So "cp's 2nd `mkdir` of `Cython/__pycache__`" is the same op
//! in every execution even when the ops before it shift, and a pair seen in
//! two executions in opposite orders counts as seen in both orders.
//! Identities are 64-bit FNV-1a hashes; a collision would merge two pairs
//! (about one chance in 10^10 for 10^5 pairs).
//!
//! Sharded runs carry their set in compact form (one short string per pair
//! with the first execution that ran it in each order), so that `merge` can
//! take the exact union up to the merged first failure.
//!
//! Finding the pairs of an execution does not compare all pairs of events
//! ([`crate::conflicts`]), and an exploration finds them once per *shape*
//! of execution, the ops each job ran in its order ([`shape`]): executions
//! of a known shape only order its rows of pairs ([`cache`]), and a
//! [`PairTally`] keeps, per shape, which orders its executions gave each
//! row. Shapes are united row by row, rows of one content being one row
//! ([`rows`]), and turned into a [`PairSet`] for the compact form.

pub mod cache;
pub mod delta;
pub mod job_ops;
pub mod rows;
pub mod shape;
pub mod tally;

pub use cache::{ExecutionPairs, ShapeCache};
pub use tally::PairTally;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::conflicts::for_each_conflict;
use crate::execution::Event;
use crate::op::Op;

/// How many conflicting pairs an exploration saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCounts {
    /// Distinct conflicting pairs seen in at least one execution.
    pub seen: u64,
    /// Of those, the pairs seen in both orders (possibly in different executions).
    pub both_orders: u64,
}

impl PairCounts {
    /// The report line, ending in a newline.
    pub fn text(&self) -> String {
        format!(
            "pairs: {} conflicting pairs of ops seen, {} of them in both orders\n",
            crate::thousands::thousands(self.seen),
            crate::thousands::thousands(self.both_orders)
        )
    }
}

/// One conflicting pair of an execution: the two op identities, the lower
/// first, and which ran first ([`LOW_FIRST`] or [`HIGH_FIRST`]).
pub type Pair = (u64, u64, u8);

/// The op with the lower identity ran first.
pub const LOW_FIRST: u8 = 1;
/// The op with the higher identity ran first.
pub const HIGH_FIRST: u8 = 2;

/// The conflicting pairs seen over many executions, each with the first
/// execution (1-based) that ran it in each order (0: never).
#[derive(Debug, Clone, Default)]
pub struct PairSet {
    /// Keyed by identities, which are hashes already: the word-at-a-time
    /// hasher is enough (FNV's byte loop cost a third of a counted run).
    first: HashMap<(u64, u64), [u64; 2], Fast>,
}

impl PairSet {
    /// Adds the pairs of execution `execution` (1-based). Executions may be
    /// added in any order; the earliest one is kept.
    pub fn add(&mut self, execution: u64, pairs: &[Pair]) {
        for &(low, high, order) in pairs {
            let first = self.first.entry((low, high)).or_insert([0, 0]);
            let slot = &mut first[usize::from(order == HIGH_FIRST)];
            if *slot == 0 || execution < *slot {
                *slot = execution;
            }
        }
    }

    /// Adds one pair, `low` and `high`, first run low-first by execution
    /// `first[0]` and high-first by `first[1]` (0: not run that way): one
    /// look-up for both orders.
    pub fn add_first(&mut self, low: u64, high: u64, first: [u64; 2]) {
        let known = self.first.entry((low, high)).or_insert([0, 0]);
        for (slot, execution) in known.iter_mut().zip(first) {
            if execution != 0 && (*slot == 0 || execution < *slot) {
                *slot = execution;
            }
        }
    }

    /// The counts over executions up to `cutoff` (1-based, inclusive; all
    /// when `None`). The map is only counted, never iterated into output.
    pub fn counts_up_to(&self, cutoff: Option<u64>) -> PairCounts {
        let within = |e: u64| e != 0 && cutoff.is_none_or(|c| e <= c);
        let mut counts = PairCounts::default();
        for [a, b] in self.first.values() {
            match (within(*a), within(*b)) {
                (true, true) => {
                    counts.seen += 1;
                    counts.both_orders += 1;
                }
                (true, false) | (false, true) => counts.seen += 1,
                (false, false) => {}
            }
        }
        counts
    }

    /// The counts over every execution added.
    pub fn counts(&self) -> PairCounts {
        self.counts_up_to(None)
    }

    /// True when no pair was added.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// The set in its compact report form, sorted: one string per pair,
    /// `LOW-HIGH:A:B` with the two op identities in hex and the first
    /// executions that ran them low-first (A) and high-first (B), 0 for never.
    pub fn to_compact(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .first
            .iter()
            .map(|((low, high), [a, b])| format!("{low:016x}-{high:016x}:{a}:{b}"))
            .collect();
        out.sort_unstable();
        out
    }

    /// Adds pairs in the form [`PairSet::to_compact`] writes; `Err` names
    /// the entry that does not parse.
    pub fn add_compact(&mut self, entries: &[String]) -> Result<(), String> {
        self.add_compact_as(entries, |e| e)
    }

    /// Like [`PairSet::add_compact`], with each (nonzero) execution number
    /// of the entries replaced by `global(number)`: a dpor shard numbers
    /// the executions it judged 1, 2, …, which `merge` turns into their
    /// indices in the whole search.
    pub fn add_compact_as(
        &mut self,
        entries: &[String],
        global: impl Fn(u64) -> u64,
    ) -> Result<(), String> {
        for entry in entries {
            let bad = || format!("{entry:?}: expected LOW-HIGH:A:B");
            let (ids, firsts) = entry.split_once(':').ok_or_else(bad)?;
            let (low, high) = ids.split_once('-').ok_or_else(bad)?;
            let (a, b) = firsts.split_once(':').ok_or_else(bad)?;
            let low = u64::from_str_radix(low, 16).map_err(|_| bad())?;
            let high = u64::from_str_radix(high, 16).map_err(|_| bad())?;
            let a: u64 = a.parse().map_err(|_| bad())?;
            let b: u64 = b.parse().map_err(|_| bad())?;
            if a != 0 {
                self.add(global(a), &[(low, high, LOW_FIRST)]);
            }
            if b != 0 {
                self.add(global(b), &[(low, high, HIGH_FIRST)]);
            }
        }
        Ok(())
    }
}

/// FNV-1a, 64 bits: stable across runs, platforms and Rust versions.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

use crate::fast_hash::Fast;

/// The identity of the `occurrence`-th op like `op` of job `job`.
fn op_identity(job: usize, op: &Op, occurrence: u32) -> u64 {
    let mut h = FnvHasher::default();
    h.write(&(job as u64).to_le_bytes());
    h.write(op.syscall().as_bytes());
    h.write(&[0]);
    h.write(op.path().as_bytes());
    if let Some(to) = op.path2() {
        h.write(&[0]);
        h.write(to.as_bytes());
    }
    h.write(&occurrence.to_le_bytes());
    h.finish()
}

/// The identity of every event of one execution, in order. Occurrence
/// numbers count the ops of the same job, syscall and paths.
pub(crate) fn identities<E: Borrow<Event>>(events: &[E]) -> Vec<u64> {
    let mut counts: HashMap<(usize, &'static str, &str, Option<&str>), u32, Fast> =
        HashMap::default();
    events
        .iter()
        .map(|e| {
            let e = e.borrow();
            let key = (
                e.job,
                e.op.syscall(),
                &**e.op.path(),
                e.op.path2().map(|p| &**p),
            );
            let n = counts.entry(key).or_insert(0);
            *n += 1;
            op_identity(e.job, &e.op, *n)
        })
        .collect()
}

/// The conflicting pairs of one execution, grouped by the event that ran
/// second, in its order.
pub fn execution_pairs<E: Borrow<Event>>(events: &[E]) -> Vec<Pair> {
    let ids = identities(events);
    let mut pairs = Vec::new();
    for_each_conflict(events, |earlier, later| {
        let (a, b) = (ids[earlier as usize], ids[later as usize]);
        pairs.push(if a < b {
            (a, b, LOW_FIRST)
        } else {
            (b, a, HIGH_FIRST)
        });
    });
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::dependence::dependent;
    use crate::test_support::{ev, lstat, mkdir, open};

    /// Every conflicting pair, by comparing all pairs: the specification.
    fn naive(events: &[Event]) -> usize {
        let mut n = 0;
        for (i, a) in events.iter().enumerate() {
            for b in &events[i + 1..] {
                if a.job != b.job && dependent(&a.op, &b.op) {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn the_indexes_find_exactly_the_dependent_pairs() {
        let events = vec![
            ev(0, lstat("a/d")),
            ev(1, mkdir("a")),
            ev(0, mkdir("a/d")),
            ev(1, open("a/d/x.pyc")),
            ev(1, Op::Readdir { path: "a".into() }),
            ev(0, mkdir("a/e")),
            ev(1, lstat("a/d")),
            ev(0, lstat("a/d")),
            ev(
                1,
                Op::Rename {
                    from: "t/y".into(),
                    to: "a/d/y".into(),
                },
            ),
            ev(0, Op::Readdir { path: "a/d".into() }),
        ];
        assert_eq!(execution_pairs(&events).len(), naive(&events));
        assert!(naive(&events) >= 6);
    }

    #[test]
    fn a_pair_seen_in_both_orders_counts_once_with_both_orders() {
        let forward = vec![ev(0, mkdir("a")), ev(1, lstat("a")), ev(1, lstat("b"))];
        let backward = vec![ev(1, lstat("a")), ev(0, mkdir("a")), ev(1, lstat("b"))];
        let mut set = PairSet::default();
        set.add(1, &execution_pairs(&forward));
        assert_eq!(
            set.counts(),
            PairCounts {
                seen: 1,
                both_orders: 0
            }
        );
        set.add(2, &execution_pairs(&backward));
        assert_eq!(
            set.counts(),
            PairCounts {
                seen: 1,
                both_orders: 1
            }
        );
        assert_eq!(set.counts_up_to(Some(1)).both_orders, 0);
        let mut copy = PairSet::default();
        copy.add_compact(&set.to_compact()).unwrap();
        assert_eq!(copy.to_compact(), set.to_compact());
        assert!(copy.add_compact(&["nonsense".to_string()]).is_err());
    }

    #[test]
    fn occurrences_tell_repeated_ops_apart() {
        let events = vec![ev(0, mkdir("a")), ev(1, lstat("a")), ev(1, lstat("a"))];
        let mut set = PairSet::default();
        set.add(1, &execution_pairs(&events));
        assert_eq!(set.counts().seen, 2);
    }
}
