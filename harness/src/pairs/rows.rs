//! The conflicting pairs of many shapes, united row by row.
//!
//! Executions that rarely repeat a shape still share most of their rows
//! (an op, and the conflicting ops of one other job in that job's order,
//! [`super::shape`]): two pips that see each other's files run a few ops
//! more or less, which changes a few rows and leaves thousands as they
//! were. A row's pairs depend only on its *content* ([`Shape::row_key`]:
//! its op's identity and its partners' identities, in order), so rows of
//! one content, from any shapes, are one row of a [`RowSet`], and their
//! executions unite as within a shape: by the lowest and highest split.
//! No pair is looked at to add a row, only its key.
//!
//! Pairs are looked at when counting the rows of one op and partner job
//! whose contents differ (a small set per such op), and when the first
//! executions of every pair are wanted ([`RowSet::expand_into`]).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::fast_hash::Fast;
use crate::state_key::{KeyHasher, StateKey};

use super::shape::Shape;
use super::{PairCounts, PairSet};

/// An execution that ran a row with splits from `lo` to `hi` (one
/// execution: its split, twice; or a shape's lowest and highest splits
/// until that execution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Splits {
    /// The execution, 1-based.
    pub execution: u64,
    /// The lowest split.
    pub lo: u32,
    /// The highest split.
    pub hi: u32,
}

/// The rows of one content.
#[derive(Debug, Clone, Copy)]
struct United {
    /// The op: its job and identity.
    job: u32,
    op: u64,
    /// The partners' job, and their identities: `partners[start..end]`.
    partner_job: u32,
    start: usize,
    end: usize,
    /// The lowest and highest split of every execution added.
    lo: u32,
    hi: u32,
}

/// The conflicting pairs of many executions, as rows of distinct content,
/// each with the splits its executions gave it. The pairs of a shape with
/// two ops of one identity ([`Shape::distinct`]) may repeat within a row,
/// and do not belong here.
#[derive(Debug, Default)]
pub struct RowSet {
    index: HashMap<StateKey, u32, BuildHasherDefault<KeyHasher>>,
    rows: Vec<United>,
    partners: Vec<u64>,
    /// Per row (index into `rows`), the executions that ran it: what gives
    /// each pair's first execution in each order.
    seen: Vec<(u32, Splits)>,
}

impl RowSet {
    /// Adds row `row` of `shape` (whose ops have distinct identities), run
    /// by the executions `splits`.
    pub fn add(&mut self, shape: &Shape, row: usize, splits: &[Splits]) {
        debug_assert!(shape.distinct());
        let next = self.rows.len() as u32;
        let k = *self.index.entry(shape.row_key(row)).or_insert(next);
        if k == next {
            let (job, op) = shape.row_op(row);
            let (partner_job, ids) = shape.row_partners(row);
            let start = self.partners.len();
            self.partners.extend(ids);
            self.rows.push(United {
                job,
                op,
                partner_job,
                start,
                end: self.partners.len(),
                lo: u32::MAX,
                hi: 0,
            });
        }
        let united = &mut self.rows[k as usize];
        for s in splits {
            united.lo = united.lo.min(s.lo);
            united.hi = united.hi.max(s.hi);
            self.seen.push((k, *s));
        }
    }

    /// How many pairs the rows hold (besides a few words per row and per
    /// execution of a row).
    pub fn pairs(&self) -> usize {
        self.partners.len()
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The counts over every execution added, or `None` when an identity
    /// belongs to ops of two jobs (a hash collision across shapes: a pair
    /// may then sit in rows of two ops; [`RowSet::expand_into`] counts it).
    pub fn counts(&self) -> Option<PairCounts> {
        // A pair's op of the lower job is its row's op, so with every
        // identity in one job a pair sits only in rows of one op and one
        // partner job.
        let mut job_of: HashMap<u64, u32, Fast> = HashMap::default();
        let mut one_job = |id: u64, job: u32| *job_of.entry(id).or_insert(job) == job;
        for u in &self.rows {
            if !one_job(u.op, u.job) {
                return None;
            }
            if !self.partners[u.start..u.end]
                .iter()
                .all(|&id| one_job(id, u.partner_job))
            {
                return None;
            }
        }
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        order.sort_unstable_by_key(|&k| {
            let u = &self.rows[k as usize];
            (u.op, u.partner_job)
        });
        let mut counts = PairCounts::default();
        // Per partner of an op with rows of several contents: bit 1, seen
        // op first; bit 2, seen partner first.
        let mut orders: HashMap<u64, u8, Fast> = HashMap::default();
        let group = |&a: &u32, &b: &u32| {
            let (a, b) = (&self.rows[a as usize], &self.rows[b as usize]);
            (a.op, a.partner_job) == (b.op, b.partner_job)
        };
        for rows in order.chunk_by(group) {
            if let [k] = rows {
                // Pair `t` ran op first when a split was at most `t`, and
                // partner first when one was above it.
                let u = &self.rows[*k as usize];
                counts.seen += (u.end - u.start) as u64;
                counts.both_orders += u64::from(u.hi - u.lo);
                continue;
            }
            orders.clear();
            for &k in rows {
                let u = &self.rows[k as usize];
                for (t, &id) in (0u32..).zip(&self.partners[u.start..u.end]) {
                    let bits = u8::from(u.lo <= t) | (u8::from(t < u.hi) << 1);
                    *orders.entry(id).or_insert(0) |= bits;
                }
            }
            counts.seen += orders.len() as u64;
            counts.both_orders += orders.values().filter(|&&b| b == 3).count() as u64;
        }
        Some(counts)
    }

    /// Adds every pair, with its first execution in each order, to `set`.
    pub fn expand_into(&self, set: &mut PairSet) {
        let mut seen = self.seen.clone();
        seen.sort_unstable_by_key(|&(k, s)| (k, s.execution, s.lo, u32::MAX - s.hi));
        for runs in seen.chunk_by(|a, b| a.0 == b.0) {
            let u = &self.rows[runs[0].0 as usize];
            let splits: Vec<Splits> = runs.iter().map(|&(_, s)| s).collect();
            expand_row(
                set,
                u.op,
                self.partners[u.start..u.end].iter().copied(),
                &splits,
            );
        }
    }

    /// Forgets every row.
    pub fn clear(&mut self) {
        *self = RowSet::default();
    }
}

/// Adds the pairs of a row to `set`: its op `op`, its partners in order
/// `partners`, and `splits`, the executions that ran it in increasing
/// order. A pair `t` (0-based among the partners) first ran op first in
/// the first execution with `lo <= t`, and partner first in the first with
/// `hi > t`.
pub(super) fn expand_row(
    set: &mut PairSet,
    op: u64,
    partners: impl Iterator<Item = u64>,
    splits: &[Splits],
) {
    // The executions that lowered the lowest split, and those that raised
    // the highest: along them `lo` only falls and `hi` only rises.
    let mut lowered: Vec<Splits> = Vec::new();
    let mut raised: Vec<Splits> = Vec::new();
    for s in splits {
        if lowered.last().is_none_or(|w| s.lo < w.lo) {
            lowered.push(*s);
        }
        if raised.last().is_none_or(|w| s.hi > w.hi) {
            raised.push(*s);
        }
    }
    let execution = |steps: &[Splits], k: usize| steps.get(k).map_or(0, |w| w.execution);
    for (t, partner) in (0u32..).zip(partners) {
        let op_first = execution(&lowered, lowered.partition_point(|w| w.lo > t));
        let partner_first = execution(&raised, raised.partition_point(|w| w.hi <= t));
        match op < partner {
            true => set.add_first(op, partner, [op_first, partner_first]),
            false => set.add_first(partner, op, [partner_first, op_first]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::Event;
    use crate::op::Op;
    use crate::pairs::execution_pairs;
    use crate::test_support::ev;
    use proptest::prelude::*;

    /// Ops of two jobs over a few paths; `extra` adds ops that shift the
    /// rows of some shapes and not others.
    fn job_ops(job: usize, extra: &[bool]) -> Vec<Op> {
        let p = |s: &str| -> std::sync::Arc<str> { s.into() };
        let mut ops = vec![
            Op::Lstat { path: p("a") },
            Op::Mkdir {
                path: p("a"),
                mode: 0o755,
            },
            Op::Readdir { path: p("a") },
            Op::Lstat { path: p("a/b") },
            Op::Mkdir {
                path: p("a/b"),
                mode: 0o755,
            },
            Op::Lstat { path: p("a/b") },
        ];
        for (k, &on) in extra.iter().enumerate() {
            if on {
                let path = ["a", "a/b", "c"][k % 3];
                ops.insert((k * 2) % ops.len(), Op::Lstat { path: p(path) });
            }
        }
        ops.rotate_left(job * 3);
        ops
    }

    /// An interleaving of the jobs' ops, from `picks`.
    fn interleave(jobs: Vec<Vec<Op>>, picks: &[usize]) -> Vec<Event> {
        let n = jobs.len();
        let mut jobs: Vec<std::collections::VecDeque<Op>> =
            jobs.into_iter().map(Into::into).collect();
        let mut events = Vec::new();
        let mut picks = picks.iter().cycle();
        while jobs.iter().any(|j| !j.is_empty()) {
            let mut job = picks.next().copied().unwrap_or(0) % n;
            while jobs[job].is_empty() {
                job = (job + 1) % n;
            }
            events.push(ev(job, jobs[job].pop_front().expect("not empty")));
        }
        events
    }

    proptest! {
        /// Rows of executions of many shapes, added in any order, count
        /// and expand to the pair set of the same executions.
        #[test]
        fn the_rows_equal_the_pair_set(
            runs in prop::collection::vec(
                (prop::collection::vec(0usize..3, 1..8), prop::collection::vec(any::<bool>(), 0..4), 2usize..4),
                1..10,
            ),
            reverse in any::<bool>(),
        ) {
            let mut rows = RowSet::default();
            let mut set = PairSet::default();
            let mut order: Vec<usize> = (0..runs.len()).collect();
            if reverse {
                order.reverse();
            }
            for &k in &order {
                let (picks, extra, jobs) = &runs[k];
                let ops = (0..*jobs).map(|j| job_ops(j, extra)).collect();
                let events = interleave(ops, picks);
                let execution = k as u64 + 1;
                set.add(execution, &execution_pairs(&events));
                let shape = Shape::build(&events, *jobs);
                prop_assume!(shape.distinct());
                let splits = shape.splits(events.iter().map(|e| e.job));
                for (row, &split) in splits.iter().enumerate() {
                    rows.add(&shape, row, &[Splits { execution, lo: split, hi: split }]);
                }
            }
            prop_assert_eq!(rows.counts(), Some(set.counts()));
            let mut expanded = PairSet::default();
            rows.expand_into(&mut expanded);
            prop_assert_eq!(expanded.to_compact(), set.to_compact());
        }
    }

    #[test]
    fn rows_of_one_content_are_one_row() {
        let a = interleave(vec![job_ops(0, &[]), job_ops(1, &[])], &[0, 1]);
        let b = interleave(vec![job_ops(0, &[]), job_ops(1, &[true])], &[1, 1, 0]);
        let (sa, sb) = (Shape::build(&a, 2), Shape::build(&b, 2));
        let mut rows = RowSet::default();
        for (shape, events, execution) in [(&sa, &a, 1), (&sb, &b, 2)] {
            let splits = shape.splits(events.iter().map(|e| e.job));
            for (row, &split) in splits.iter().enumerate() {
                rows.add(
                    shape,
                    row,
                    &[Splits {
                        execution,
                        lo: split,
                        hi: split,
                    }],
                );
            }
        }
        // Some rows are shared, some are not.
        assert!(rows.rows.len() > sa.rows().max(sb.rows()));
        assert!(rows.rows.len() < sa.rows() + sb.rows());
        let mut set = PairSet::default();
        set.add(1, &execution_pairs(&a));
        set.add(2, &execution_pairs(&b));
        assert_eq!(rows.counts(), Some(set.counts()));
    }
}
