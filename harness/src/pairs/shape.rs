//! The conflicting pairs of executions whose jobs ran the same ops.
//!
//! Which pairs of ops conflict, and the identities of those ops, depend
//! only on what ops each job ran, in its own order: the *shape* of an
//! execution ([`shape_key`]). Only the order of each pair depends on the
//! interleaving. A [`Shape`] holds the pairs once, in rows: one op, and
//! the ops of one other job that conflict with it, in that job's order.
//! Since a job's ops run in its order, an execution orders a whole row with
//! one number, its *split*: the row's first `split` partners ran before the
//! row's op, the rest after ([`Shape::splits`]). So an execution of a known
//! shape costs a pass over its jobs and a binary search per row, not a
//! look at every pair.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::conflicts::for_each_conflict_touching;
use crate::execution::Event;
use crate::op::Op;
use crate::state_key::{StateHasher, StateKey};

use super::delta::Delta;
use super::job_ops::{identify, job_ops, JobOps};

/// Feeds `h` what pairs see of `op`: its syscall, its paths and, for
/// `open`, its flags (what [`crate::schedule::dependence::dependent`] and
/// op identities look at), and not its descriptor, mode or bytes.
fn hash_op_shape(op: &Op, h: &mut StateHasher) {
    h.write(op.syscall().as_bytes());
    h.write(op.path().as_bytes());
    match op.path2() {
        Some(to) => h.write(to.as_bytes()),
        None => h.write_u8(0),
    }
    if let Op::Open { flags, .. } = op {
        flags.hash(h);
    }
}

/// The shape of the execution `events` of `jobs` jobs: every job's ops as
/// [`Shape`]s see them, each job in its order, whatever the interleaving.
pub fn shape_key<E: Borrow<Event>>(events: &[E], jobs: usize) -> StateKey {
    let mut per_job: Vec<(StateHasher, u64)> = vec![(StateHasher::default(), 0); jobs];
    for e in events {
        let e = e.borrow();
        if per_job.len() <= e.job {
            per_job.resize(e.job + 1, (StateHasher::default(), 0));
        }
        let (h, n) = &mut per_job[e.job];
        hash_op_shape(&e.op, h);
        *n += 1;
    }
    let mut h = StateHasher::default();
    per_job.len().hash(&mut h);
    for (job, n) in &per_job {
        (n, job.finish128()).hash(&mut h);
    }
    h.finish128()
}

/// One op and the ops of one other job that conflict with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// The op: its job and its index among the job's ops.
    job: u32,
    op: u32,
    /// The other job.
    partner_job: u32,
    /// Its ops, by index among its ops, ascending: `partners[start..end]`.
    start: u32,
    end: u32,
}

/// The conflicting pairs of one shape of execution, in rows: every pair in
/// the row of its op of the lower job, rows by that op (job, then the job's
/// order), then by partner job. Every execution of a shape builds the same,
/// whichever known shape it was built from.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    /// Per job: its ops, as shapes see them and with their identities.
    ops: Vec<JobOps>,
    rows: Vec<Row>,
    partners: Vec<u32>,
    /// Per row, the key of its content ([`Shape::row_key`]).
    row_keys: Vec<StateKey>,
    /// False when two ops share an identity (a hash collision): the pairs
    /// of two rows may then be one pair.
    distinct: bool,
}

/// Which of `known` a shape of the ops `ops` ([`job_ops`]) is best built
/// from: the nearest of those with as many jobs, unless even it would leave
/// half of the ops fresh (then building from nothing costs less than
/// looking twice).
pub fn nearest<'k>(known: &'k [Arc<Shape>], ops: &[JobOps]) -> Option<(&'k Shape, Delta)> {
    let count: usize = ops.iter().map(|job| job.keys.len()).sum();
    known
        .iter()
        .filter(|shape| shape.ops.len() == ops.len())
        .map(|shape| (&**shape, Delta::between(&shape.ops, ops)))
        .min_by_key(|(_, delta)| delta.distance())
        .filter(|(_, delta)| 2 * delta.fresh() < count)
}

impl Shape {
    /// The pairs of the execution `events` (of at least `jobs` jobs), and
    /// so of every execution of its shape.
    pub fn build<E: Borrow<Event>>(events: &[E], jobs: usize) -> Shape {
        Shape::build_from(None, events, job_ops(events, jobs))
    }

    /// [`Shape::build`], from `base` if given: a known shape of as many
    /// jobs and how the jobs of `events` differ from its jobs (`ops`:
    /// [`job_ops`] of `events`). The pairs of two ops kept from `base` are taken from its
    /// rows; only those with a fresh op are looked for.
    pub fn build_from<E: Borrow<Event>>(
        base: Option<(&Shape, &Delta)>,
        events: &[E],
        mut ops: Vec<JobOps>,
    ) -> Shape {
        let jobs = ops.len();
        let job_of: Vec<u32> = events.iter().map(|e| e.borrow().job as u32).collect();
        let mut count = vec![0u32; jobs];
        let local: Vec<u32> = job_of
            .iter()
            .map(|&j| {
                count[j as usize] += 1;
                count[j as usize] - 1
            })
            .collect();
        identify(
            &mut ops,
            base.map(|(shape, delta)| (&shape.ops[..], delta)),
            events,
        );
        let mut sorted: Vec<u64> = ops.iter().flat_map(|job| &job.ids).copied().collect();
        sorted.sort_unstable();
        let distinct = sorted.windows(2).all(|w| w[0] != w[1]);
        drop(sorted);
        let fresh: Option<Vec<bool>> = base.map(|(_, delta)| {
            job_of
                .iter()
                .zip(&local)
                .map(|(&job, &op)| delta.job(job as usize).is_fresh(op))
                .collect()
        });
        // Every pair in the row of its op of the lower job: which execution
        // of the shape builds it does not matter.
        let mut found: Vec<(u32, u32)> = Vec::new();
        for_each_conflict_touching(events, fresh.as_deref(), |i, j| {
            found.push(match job_of[i as usize] < job_of[j as usize] {
                true => (i, j),
                false => (j, i),
            })
        });
        drop(fresh);
        let mut by_job: Vec<Vec<u32>> = count
            .iter()
            .map(|&n| Vec::with_capacity(n as usize))
            .collect();
        for (i, &job) in job_of.iter().enumerate() {
            by_job[job as usize].push(i as u32);
        }
        // Each op's partners, by job and then in the job's order (which is
        // the event order), without a comparison sort: the pairs by
        // partner, then the partners taken in that order into their ops'
        // buckets.
        let (at_partner, by_partner) = grouped(events.len(), found.iter().map(|&(i, j)| (j, i)));
        let start = offsets(events.len(), found.iter().map(|&(i, _)| i));
        drop(found);
        let mut by_op = vec![0u32; by_partner.len()];
        let mut fill = start.clone();
        for j in by_job.iter().flatten().map(|&j| j as usize) {
            for &i in &by_partner[at_partner[j] as usize..at_partner[j + 1] as usize] {
                by_op[fill[i as usize] as usize] = j as u32;
                fill[i as usize] += 1;
            }
        }
        drop(by_partner);
        drop(fill);
        let mut kept = base.map(|(shape, delta)| Kept {
            shape,
            delta,
            next: 0,
        });
        let mut rows = Vec::new();
        let mut partners =
            Vec::with_capacity(by_op.len() + base.map_or(0, |(shape, _)| shape.partners.len()));
        for i in by_job.iter().flatten().map(|&i| i as usize) {
            let (job, op) = (job_of[i], local[i]);
            let mut old = match &mut kept {
                Some(kept) => kept.rows_of(job, op),
                None => &[],
            };
            let bucket = &by_op[start[i] as usize..start[i + 1] as usize];
            let mut new = bucket.chunk_by(|&a, &b| job_of[a as usize] == job_of[b as usize]);
            let mut next_new = new.next();
            // The op's rows from `base` and from the fresh pairs, united by
            // partner job, in order.
            loop {
                let old_job = old.first().map(|r| r.partner_job);
                let new_job = next_new.map(|run| job_of[run[0] as usize]);
                let partner_job = match (old_job, new_job) {
                    (None, None) => break,
                    (Some(o), Some(n)) => o.min(n),
                    (Some(o), None) => o,
                    (None, Some(n)) => n,
                };
                let begin = partners.len() as u32;
                let mut fresh_run: &[u32] = &[];
                if new_job == Some(partner_job) {
                    fresh_run = next_new.unwrap_or_default();
                    next_new = new.next();
                }
                if old_job == Some(partner_job) {
                    let (shape, delta) = base.expect("rows only come from a base");
                    let row = old[0];
                    old = &old[1..];
                    let was = &shape.partners[row.start as usize..row.end as usize];
                    delta.job(partner_job as usize).map_kept(was, &mut partners);
                }
                if !fresh_run.is_empty() {
                    partners.extend(fresh_run.iter().map(|&j| local[j as usize]));
                    // Rarely more than a few rows have fresh partners.
                    partners[begin as usize..].sort_unstable();
                }
                if partners.len() as u32 > begin {
                    rows.push(Row {
                        job,
                        op,
                        partner_job,
                        start: begin,
                        end: partners.len() as u32,
                    });
                }
            }
        }
        let row_keys = rows
            .iter()
            .map(|r| {
                let mut h = StateHasher::default();
                h.write_u32(r.job);
                h.write_u64(ops[r.job as usize].ids[r.op as usize]);
                h.write_u32(r.partner_job);
                let other = &ops[r.partner_job as usize].ids;
                for &k in &partners[r.start as usize..r.end as usize] {
                    h.write_u64(other[k as usize]);
                }
                h.finish128()
            })
            .collect();
        Shape {
            ops,
            rows,
            partners,
            row_keys,
            distinct,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Number of pairs.
    pub fn pairs(&self) -> usize {
        self.partners.len()
    }

    /// Number of pairs in row `row`.
    pub fn row_len(&self, row: usize) -> u32 {
        self.rows[row].end - self.rows[row].start
    }

    /// The key of row `row`'s content: its op's job and identity, its
    /// partner job and its partners' identities in order. Rows of any
    /// shapes with one key have the same pairs, in the same order.
    pub fn row_key(&self, row: usize) -> StateKey {
        self.row_keys[row]
    }

    /// Row `row`'s op: its job and identity.
    pub fn row_op(&self, row: usize) -> (u32, u64) {
        let r = self.rows[row];
        (r.job, self.ops[r.job as usize].ids[r.op as usize])
    }

    /// Row `row`'s partners: their job, and their identities in its order.
    pub fn row_partners(&self, row: usize) -> (u32, impl Iterator<Item = u64> + '_) {
        let r = self.rows[row];
        let other = &self.ops[r.partner_job as usize].ids;
        let partners = &self.partners[r.start as usize..r.end as usize];
        (r.partner_job, partners.iter().map(|&k| other[k as usize]))
    }

    /// False when two ops of the shape share an identity.
    pub fn distinct(&self) -> bool {
        self.distinct
    }

    /// Every row's split in the execution of this shape that ran its jobs'
    /// ops in the order `jobs` (the job of every step): how many of the
    /// row's partners ran before the row's op.
    pub fn splits(&self, jobs: impl Iterator<Item = usize>) -> Vec<u32> {
        let mut at: Vec<Vec<u32>> = self
            .ops
            .iter()
            .map(|job| Vec::with_capacity(job.keys.len()))
            .collect();
        for (step, job) in jobs.enumerate() {
            at[job].push(step as u32);
        }
        self.rows
            .iter()
            .map(|r| {
                let when = at[r.job as usize][r.op as usize];
                let other = &at[r.partner_job as usize];
                let partners = &self.partners[r.start as usize..r.end as usize];
                partners.partition_point(|&k| other[k as usize] < when) as u32
            })
            .collect()
    }
}

/// A walk over the rows of a known shape, in order, taking those of the
/// ops a new shape kept.
struct Kept<'s> {
    shape: &'s Shape,
    delta: &'s Delta,
    /// The first row not walked past.
    next: usize,
}

impl<'s> Kept<'s> {
    /// The known shape's rows of the new shape's op `op` of job `job`
    /// (none when the op is fresh). Asked for ops in the new shape's row
    /// order, whose kept ops are in the known shape's row order.
    fn rows_of(&mut self, job: u32, op: u32) -> &'s [Row] {
        let Some(old) = self.delta.job(job as usize).old_index(op) else {
            return &[];
        };
        let rows = &self.shape.rows;
        while self.next < rows.len() && (rows[self.next].job, rows[self.next].op) < (job, old) {
            self.next += 1;
        }
        let first = self.next;
        while self.next < rows.len() && (rows[self.next].job, rows[self.next].op) == (job, old) {
            self.next += 1;
        }
        &rows[first..self.next]
    }
}

/// Where each key's entries start among `n` keys (and where the last
/// ends), for entries with the keys `keys`.
fn offsets(n: usize, keys: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut start = vec![0u32; n + 1];
    for k in keys {
        start[k as usize + 1] += 1;
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    start
}

/// The values of `entries` (key, value) grouped by key, each group in the
/// entries' order, and where each key's group starts ([`offsets`]).
fn grouped(n: usize, entries: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<u32>, Vec<u32>) {
    let start = offsets(n, entries.clone().map(|(k, _)| k));
    let mut values = vec![0u32; start[n] as usize];
    let mut fill = start.clone();
    for (k, v) in entries {
        values[fill[k as usize] as usize] = v;
        fill[k as usize] += 1;
    }
    (start, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{any_op, ev};
    use proptest::prelude::*;

    #[test]
    fn the_shape_ignores_the_interleaving_and_the_splits_order_the_rows() {
        let mkdir = |p: &str| Op::Mkdir {
            path: p.into(),
            mode: 0o755,
        };
        let lstat = |p: &str| Op::Lstat { path: p.into() };
        let forward = vec![ev(0, mkdir("a")), ev(1, lstat("a")), ev(1, lstat("a/b"))];
        let backward = vec![ev(1, lstat("a")), ev(1, lstat("a/b")), ev(0, mkdir("a"))];
        assert_eq!(shape_key(&forward, 2), shape_key(&backward, 2));
        let other = vec![ev(0, mkdir("a")), ev(1, lstat("a/b")), ev(1, lstat("a"))];
        assert_ne!(shape_key(&forward, 2), shape_key(&other, 2));
        let shape = Shape::build(&forward, 2);
        assert_eq!(shape, Shape::build(&backward, 2));
        assert_eq!((shape.rows(), shape.pairs()), (1, 2));
        assert_eq!(shape.splits(forward.iter().map(|e| e.job)), vec![0]);
        assert_eq!(shape.splits(backward.iter().map(|e| e.job)), vec![2]);
        let middle = [1, 0, 1];
        assert_eq!(shape.splits(middle.into_iter()), vec![1]);
    }

    proptest! {
        /// A shape built from a known one equals the one built from
        /// nothing, however the jobs differ (ops inserted, removed or
        /// replaced anywhere, jobs interleaved in another order).
        #[test]
        fn a_shape_built_from_a_known_one_equals_one_built_from_nothing(
            known in prop::collection::vec((0usize..3, any_op()), 0..40),
            cut in (0usize..40, 0usize..10),
            inserted in prop::collection::vec((0usize..3, any_op()), 0..10),
            order in prop::collection::vec(0usize..3, 0..60),
        ) {
            let known: Vec<Event> = known.into_iter().map(|(job, op)| ev(job, op)).collect();
            let at = cut.0.min(known.len());
            let gone = cut.1.min(known.len() - at);
            let mut changed: Vec<Event> = known[..at].to_vec();
            changed.extend(inserted.into_iter().map(|(job, op)| ev(job, op)));
            changed.extend(known[at + gone..].iter().cloned());
            let events = interleaved(&changed, &order);
            let base = Shape::build(&known, 3);
            let ops = job_ops(&events, 3);
            let delta = Delta::between(&base.ops, &ops);
            let built = Shape::build_from(Some((&base, &delta)), &events, ops);
            prop_assert_eq!(&built, &Shape::build(&events, 3));
            // And the same through the choice of a base.
            let known = [Arc::new(base)];
            let ops = job_ops(&events, 3);
            let chosen = nearest(&known, &ops);
            let chosen = chosen.as_ref().map(|(shape, delta)| (*shape, delta));
            prop_assert_eq!(&Shape::build_from(chosen, &events, ops), &built);
        }
    }

    /// The events of `events`, each job's in its order, with the jobs
    /// taken in the order `order` (then the rest of each job).
    fn interleaved(events: &[Event], order: &[usize]) -> Vec<Event> {
        let mut queues: Vec<std::collections::VecDeque<Event>> = vec![Default::default(); 3];
        for e in events {
            queues[e.job].push_back(e.clone());
        }
        let mut out: Vec<Event> = order
            .iter()
            .filter_map(|&job| queues[job].pop_front())
            .collect();
        out.extend(queues.into_iter().flatten());
        out
    }
}
