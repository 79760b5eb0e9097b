//! How the jobs of a new shape differ from those of a known one, so that a
//! new shape can be built from a known one at the cost of what changed.
//!
//! Executions that rarely repeat a shape still differ little: two pips that
//! see each other's files run a few other ops in the middle of thousands
//! of the same ones. Per job, a [`Delta`] keeps the ops both shapes start
//! with and the ops both end with (compared by [`JobOps::keys`]);
//! the ops between are *fresh* in the new shape and *gone* from the known
//! one. Whether two ops conflict depends only on the two ops, so every
//! pair of two kept ops is a pair of the known shape, and only the pairs
//! with a fresh op need to be found.

use crate::state_key::StateKey;

use super::job_ops::JobOps;

/// How one job's ops in a new shape map to a known shape's: the first
/// `start` ops and the last `end` ops are the same; those between are fresh
/// in the new shape and gone from the known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobDelta {
    start: u32,
    end: u32,
    old_len: u32,
    new_len: u32,
}

impl JobDelta {
    /// The delta from the ops `old` to the ops `new` of one job.
    pub fn between(old: &[StateKey], new: &[StateKey]) -> JobDelta {
        let start = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let room = old.len().min(new.len()) - start;
        let end = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        JobDelta {
            start: start as u32,
            end: end as u32,
            old_len: old.len() as u32,
            new_len: new.len() as u32,
        }
    }

    /// Whether the new shape's op `op` (its index among the job's ops) is
    /// fresh.
    pub fn is_fresh(&self, op: u32) -> bool {
        op >= self.start && op < self.new_len - self.end
    }

    /// The known shape's index of the new shape's op `op`, unless it is
    /// fresh.
    pub fn old_index(&self, op: u32) -> Option<u32> {
        match op {
            op if op < self.start => Some(op),
            op if op >= self.new_len - self.end => {
                Some(op - (self.new_len - self.end) + (self.old_len - self.end))
            }
            _ => None,
        }
    }

    /// Appends to `out` the new index of each of the known shape's ops
    /// `ops` (ascending) that is kept, in order.
    pub fn map_kept(&self, ops: &[u32], out: &mut Vec<u32>) {
        let head = ops.partition_point(|&k| k < self.start);
        let tail = ops.partition_point(|&k| k < self.old_len - self.end);
        out.extend_from_slice(&ops[..head]);
        let (from, to) = (self.old_len - self.end, self.new_len - self.end);
        out.extend(ops[tail..].iter().map(|&k| k - from + to));
    }

    /// Number of fresh ops.
    pub fn fresh(&self) -> usize {
        (self.new_len - self.start - self.end) as usize
    }

    /// Number of gone ops.
    pub fn gone(&self) -> usize {
        (self.old_len - self.start - self.end) as usize
    }
}

/// How every job of a new shape maps to a known shape's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    jobs: Vec<JobDelta>,
}

impl Delta {
    /// The delta from the known shape's ops `old` to the new one's `new`
    /// (a job missing from `old` has no ops there).
    pub fn between(old: &[JobOps], new: &[JobOps]) -> Delta {
        let jobs = new
            .iter()
            .enumerate()
            .map(|(job, ops)| JobDelta::between(old.get(job).map_or(&[], |o| &o.keys), &ops.keys))
            .collect();
        Delta { jobs }
    }

    /// Job `job`'s delta.
    pub fn job(&self, job: usize) -> &JobDelta {
        &self.jobs[job]
    }

    /// Fresh ops of every job.
    pub fn fresh(&self) -> usize {
        self.jobs.iter().map(JobDelta::fresh).sum()
    }

    /// Fresh and gone ops of every job: how far apart the two shapes are.
    pub fn distance(&self) -> usize {
        self.jobs.iter().map(|j| j.fresh() + j.gone()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ops: &[u128]) -> Vec<StateKey> {
        ops.iter().map(|&k| StateKey(k)).collect()
    }

    #[test]
    fn a_job_keeps_its_common_start_and_end_and_maps_them_both_ways() {
        let d = JobDelta::between(&keys(&[1, 2, 3, 4, 5]), &keys(&[1, 2, 9, 9, 9, 4, 5]));
        assert_eq!((d.fresh(), d.gone()), (3, 1));
        let fresh: Vec<u32> = (0..7).filter(|&op| d.is_fresh(op)).collect();
        assert_eq!(fresh, vec![2, 3, 4]);
        let old: Vec<Option<u32>> = (0..7).map(|op| d.old_index(op)).collect();
        assert_eq!(
            old,
            vec![Some(0), Some(1), None, None, None, Some(3), Some(4)]
        );
        let mut mapped = vec![7];
        d.map_kept(&[0, 2, 3, 4], &mut mapped);
        assert_eq!(mapped, vec![7, 0, 5, 6]);
    }

    #[test]
    fn a_repeated_op_is_not_kept_twice() {
        // [1, 1] → [1]: the start keeps one op, so the end may keep none.
        let d = JobDelta::between(&keys(&[1, 1]), &keys(&[1]));
        assert_eq!((d.fresh(), d.gone()), (0, 1));
        let mut mapped = Vec::new();
        d.map_kept(&[0, 1], &mut mapped);
        assert_eq!(mapped, vec![0]);
    }
}
