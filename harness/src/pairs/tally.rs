//! The conflicting pairs of many executions, kept per shape.
//!
//! Executions of one shape ([`super::shape`]) have the same pairs in the
//! same rows; each orders a row with its split. A pair `t` of a row (0-based,
//! in the partner job's order) ran partner first in an execution whose
//! split is above `t`, and the row's op first otherwise. So the splits seen
//! so far, their lowest `lo` and highest `hi`, say which pairs were seen in
//! which orders: all of them in at least one, those with `lo <= t < hi` in
//! both. A shape's record keeps `lo` and `hi` per row and a log of the
//! executions that widened them, which gives every pair's first execution
//! in each order. Records are united with other shapes' (to count, for the
//! compact form, or to bound memory) row by row in a [`RowSet`], and only
//! turned into a [`PairSet`] of every pair for the compact form, past the
//! row set's budget, or when identities collide.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::state_key::StateKey;

use super::cache::ExecutionPairs;
use super::rows::{self, RowSet, Splits};
use super::shape::Shape;
use super::{PairCounts, PairSet};

/// An execution that widened a row's range of splits, and the range after it.
#[derive(Debug, Clone, Copy)]
struct Widened {
    row: u32,
    execution: u64,
    lo: u32,
    hi: u32,
}

/// The executions of one shape.
#[derive(Debug)]
struct Record {
    shape: Arc<Shape>,
    lo: Vec<u32>,
    hi: Vec<u32>,
    /// The first execution of the shape, and its splits.
    first: u64,
    initial: Vec<u32>,
    /// The executions after it that widened a row's range, in order.
    log: Vec<Widened>,
    /// The last execution added.
    last: u64,
}

/// The conflicting pairs seen over many executions, each with the first
/// execution (1-based) that ran it in each order. Like [`PairSet`], but an
/// execution of a shape seen before costs a look at each row, not at each
/// pair.
#[derive(Debug, Default)]
pub struct PairTally {
    /// Rows of the records turned into rows.
    rows: RowSet,
    /// Pairs of the rows past the budget, and of shapes whose ops do not
    /// all have distinct identities.
    set: PairSet,
    records: BTreeMap<StateKey, Record>,
    /// Pairs held by `records`.
    held: usize,
}

impl PairTally {
    /// How many pairs the records hold at most (besides a few words per
    /// row); past it, the records used longest ago are turned into rows.
    /// The row set holds as many at most, then its rows are turned into
    /// pairs.
    pub const BUDGET: usize = 1 << 23;

    /// Adds the pairs of execution `execution` (1-based). Executions are
    /// best added in increasing order (an earlier one than the last of its
    /// shape costs a look at each of its pairs); the earliest one is kept.
    pub fn add(&mut self, execution: u64, pairs: &ExecutionPairs) {
        let shape = &pairs.shape;
        debug_assert_eq!(shape.rows(), pairs.splits.len());
        let record = match self.records.get_mut(&pairs.key) {
            Some(record) if record.last <= execution => record,
            Some(_) => {
                // Out of order: straight into the rows.
                for (row, &split) in pairs.splits.iter().enumerate() {
                    let one = [Splits {
                        execution,
                        lo: split,
                        hi: split,
                    }];
                    self.unite(shape, row, &one);
                }
                self.bound_rows();
                return;
            }
            None => {
                self.held += shape.pairs();
                if self.held > Self::BUDGET {
                    self.make_room();
                }
                let record = Record {
                    shape: shape.clone(),
                    lo: pairs.splits.clone(),
                    hi: pairs.splits.clone(),
                    first: execution,
                    initial: pairs.splits.clone(),
                    log: Vec::new(),
                    last: execution,
                };
                self.records.insert(pairs.key, record);
                return;
            }
        };
        record.last = execution;
        for (row, &split) in pairs.splits.iter().enumerate() {
            let (lo, hi) = (&mut record.lo[row], &mut record.hi[row]);
            if split < *lo || split > *hi {
                *lo = (*lo).min(split);
                *hi = (*hi).max(split);
                record.log.push(Widened {
                    row: row as u32,
                    execution,
                    lo: *lo,
                    hi: *hi,
                });
            }
        }
    }

    /// Turns the records used longest ago into pairs until the rest hold
    /// half the budget (the newest, being added, is not among them yet).
    fn make_room(&mut self) {
        let mut by_age: Vec<(u64, StateKey)> =
            self.records.iter().map(|(k, r)| (r.last, *k)).collect();
        by_age.sort_unstable();
        for (_, key) in by_age {
            if self.held <= Self::BUDGET / 2 {
                break;
            }
            self.flush(key);
        }
    }

    /// Adds row `row` of `shape`, run by the executions `splits` (in
    /// increasing order), to the rows, or to the set when the shape's
    /// identities collide.
    fn unite(&mut self, shape: &Shape, row: usize, splits: &[Splits]) {
        if shape.distinct() {
            self.rows.add(shape, row, splits);
        } else {
            let (_, op) = shape.row_op(row);
            rows::expand_row(&mut self.set, op, shape.row_partners(row).1, splits);
        }
    }

    /// Turns the rows into pairs of the set past the budget.
    fn bound_rows(&mut self) {
        if self.rows.pairs() > Self::BUDGET {
            self.rows_into_set();
        }
    }

    /// Turns the rows into pairs of the set.
    fn rows_into_set(&mut self) {
        self.rows.expand_into(&mut self.set);
        self.rows.clear();
    }

    /// Turns the record of `key` into rows.
    fn flush(&mut self, key: StateKey) {
        let Some(mut record) = self.records.remove(&key) else {
            return;
        };
        self.held -= record.shape.pairs();
        // Stable: each row's entries stay in execution order.
        record.log.sort_by_key(|w| w.row);
        let mut log = record.log.as_slice();
        let mut entries = Vec::new();
        for (row, &split) in record.initial.iter().enumerate() {
            let later = log.partition_point(|w| w.row as usize == row);
            entries.clear();
            entries.push(Splits {
                execution: record.first,
                lo: split,
                hi: split,
            });
            entries.extend(log[..later].iter().map(|w| Splits {
                execution: w.execution,
                lo: w.lo,
                hi: w.hi,
            }));
            log = &log[later..];
            self.unite(&record.shape, row, &entries);
        }
        self.bound_rows();
    }

    /// Turns every record into rows.
    fn flush_all(&mut self) {
        let keys: Vec<StateKey> = self.records.keys().copied().collect();
        for key in keys {
            self.flush(key);
        }
    }

    /// The counts over every execution added.
    pub fn counts(&mut self) -> PairCounts {
        if self.set.is_empty() && self.rows.is_empty() && self.records.len() == 1 {
            let record = self.records.values().next().expect("one record");
            if record.shape.distinct() {
                // One shape: its pairs are distinct, counted row by row.
                let mut counts = PairCounts::default();
                for row in 0..record.shape.rows() {
                    counts.seen += u64::from(record.shape.row_len(row));
                    counts.both_orders += u64::from(record.hi[row] - record.lo[row]);
                }
                return counts;
            }
        }
        self.flush_all();
        if self.set.is_empty() {
            if let Some(counts) = self.rows.counts() {
                return counts;
            }
        }
        self.rows_into_set();
        self.set.counts()
    }

    /// Every pair seen, in [`PairSet::to_compact`]'s form.
    pub fn to_compact(&mut self) -> Vec<String> {
        self.flush_all();
        self.rows_into_set();
        self.set.to_compact()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::Event;
    use crate::op::Op;
    use crate::pairs::cache::ShapeCache;
    use crate::pairs::execution_pairs;
    use crate::test_support::ev;
    use proptest::prelude::*;

    /// A few ops of three jobs over a few paths, that conflict in every way.
    fn job_ops(job: usize) -> Vec<Op> {
        let p = |s: &str| -> std::sync::Arc<str> { s.into() };
        let mut ops = vec![
            Op::Lstat { path: p("a") },
            Op::Mkdir {
                path: p("a"),
                mode: 0o755,
            },
            Op::Readdir { path: p("a") },
            Op::Mkdir {
                path: p("a/b"),
                mode: 0o755,
            },
            Op::Lstat { path: p("a/b") },
            Op::Rename {
                from: p("t"),
                to: p("a/b/c"),
            },
            Op::Lstat { path: p("a/b") },
        ];
        ops.rotate_left(job * 2);
        ops
    }

    /// An interleaving of the three jobs' ops, from `picks`.
    fn interleave(picks: &[usize]) -> Vec<Event> {
        let mut jobs: Vec<std::collections::VecDeque<Op>> =
            (0..3).map(|j| job_ops(j).into()).collect();
        let mut events = Vec::new();
        let mut picks = picks.iter().cycle();
        while jobs.iter().any(|j| !j.is_empty()) {
            let mut job = picks.next().copied().unwrap_or(0) % 3;
            while jobs[job].is_empty() {
                job = (job + 1) % 3;
            }
            let op = jobs[job].pop_front().expect("not empty");
            events.push(ev(job, op));
        }
        events
    }

    proptest! {
        /// The tally of many interleavings (some of them again, some out
        /// of order, each shape built once or by every execution of it)
        /// equals the pair set of the same executions.
        #[test]
        fn the_tally_equals_the_pair_set(
            runs in prop::collection::vec(prop::collection::vec(0usize..3, 1..8), 1..12),
            late in 0usize..12,
            rebuild in any::<bool>(),
        ) {
            let mut cache = ShapeCache::new(3);
            let mut tally = PairTally::default();
            let mut set = PairSet::default();
            let mut order: Vec<usize> = (0..runs.len()).collect();
            if late < order.len() {
                let moved = order.remove(late);
                order.push(moved);
            }
            for &k in &order {
                let events = interleave(&runs[k]);
                let execution = k as u64 + 1;
                if rebuild {
                    cache = ShapeCache::new(3);
                }
                set.add(execution, &execution_pairs(&events));
                tally.add(execution, &cache.execution(&events));
            }
            prop_assert_eq!(tally.counts(), set.counts());
            prop_assert_eq!(tally.to_compact(), set.to_compact());
        }
    }

    #[test]
    fn shapes_are_united_by_identity() {
        let cache = ShapeCache::new(3);
        let mut tally = PairTally::default();
        let mut set = PairSet::default();
        let first = interleave(&[0, 1, 2]);
        let mut second = interleave(&[2, 2, 1, 0]);
        second.pop();
        for (k, events) in [first, second].iter().enumerate() {
            set.add(k as u64 + 1, &execution_pairs(events));
            tally.add(k as u64 + 1, &cache.execution(events));
        }
        assert_eq!(tally.counts(), set.counts());
        assert!(set.counts().both_orders > 0);
    }
}
