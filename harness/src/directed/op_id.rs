//! Op identities that do not depend on the schedule.
//!
//! An op is named by its job, its syscall, its path(s) and its occurrence:
//! how many ops of the same job with the same syscall and paths came before
//! it, plus one. "cp's 1st `mkdir` of `Cython/__pycache__`" is then the same
//! op in every execution, even when the ops before it shift. This is the
//! identity [`crate::pairs`] hashes; here it is kept readable, because the
//! race-directed scheduler waits for it and the report names it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::execution::Event;
use crate::op::Op;
use crate::schedule::JobId;

/// The syscall and paths of an op: what its occurrences are counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpShape {
    /// The syscall, as strace names it.
    pub syscall: &'static str,
    /// Its first path.
    pub path: Arc<str>,
    /// The second path of a rename.
    pub path2: Option<Arc<str>>,
}

impl OpShape {
    /// The shape of `op`.
    pub fn of(op: &Op) -> OpShape {
        OpShape {
            syscall: op.syscall(),
            path: op.path().clone(),
            path2: op.path2().cloned(),
        }
    }

    /// True when `op` has this shape (no allocation).
    pub fn matches(&self, op: &Op) -> bool {
        op.syscall() == self.syscall
            && *op.path() == self.path
            && op.path2().map(|p| &**p) == self.path2.as_deref()
    }
}

impl fmt::Display for OpShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path2 {
            Some(to) => write!(f, "{}({:?}, {:?})", self.syscall, self.path, to),
            None => write!(f, "{}({:?})", self.syscall, self.path),
        }
    }
}

/// One op of one job, named independently of the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId {
    /// The job that runs it.
    pub job: JobId,
    /// Its syscall and paths.
    pub shape: OpShape,
    /// 1-based: the how-many-th op of the job with this shape it is.
    pub occurrence: u32,
}

/// Counts occurrences as a job's ops go by.
#[derive(Debug, Default, Clone)]
pub struct Occurrences {
    seen: HashMap<(JobId, OpShape), u32>,
}

impl Occurrences {
    /// The identity of `op`, run next by `job`, counting it.
    pub fn next(&mut self, job: JobId, op: &Op) -> OpId {
        let shape = OpShape::of(op);
        let n = self.seen.entry((job, shape.clone())).or_insert(0);
        *n += 1;
        OpId {
            job,
            shape,
            occurrence: *n,
        }
    }
}

/// The identities of every event of one execution, in order.
pub fn identities(events: &[Event]) -> Vec<OpId> {
    let mut occurrences = Occurrences::default();
    events
        .iter()
        .map(|e| occurrences.next(e.job, &e.op))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ev;

    #[test]
    fn occurrences_count_per_job_and_shape() {
        let lstat = |p: &str| Op::Lstat { path: p.into() };
        let ids = identities(&[
            ev(0, lstat("a")),
            ev(1, lstat("a")),
            ev(0, lstat("b")),
            ev(0, lstat("a")),
        ]);
        let occ: Vec<u32> = ids.iter().map(|i| i.occurrence).collect();
        assert_eq!(occ, [1, 1, 1, 2]);
        assert!(ids[3].shape.matches(&lstat("a")));
        assert!(!ids[3].shape.matches(&lstat("b")));
        assert_eq!(ids[0].shape.to_string(), "lstat(\"a\")");
    }
}
