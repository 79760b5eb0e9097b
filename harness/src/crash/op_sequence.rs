//! The ops a job ran, as one hash: what tells whether two orders of an
//! execution made every job run the same ops.
//!
//! Two things may differ between such orders and are left out: the
//! descriptor numbers the opens returned (see
//! [`crate::schedule::dependence`]), and retries, a failed op the job
//! made again right after (a lock found held and taken once it was free:
//! another order may find it free the first time).

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::op::Op;

/// The ops of one job so far, hashed in order, without descriptor
/// numbers or retries; equal when two orders made the job run the same
/// ops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OpSequence {
    /// The ops up to the last that succeeded or was not retried.
    hash: u64,
    /// The last op, when it failed: a retry if the next op is the same.
    failed: Option<u64>,
}

impl OpSequence {
    /// The job ran `op`, which succeeded (`ok`) or failed.
    pub(crate) fn ran(&mut self, op: &Op, ok: bool) {
        let op = hash_without_descriptor(op);
        match self.failed.take() {
            Some(retried) if retried == op => {}
            // A failure not retried: folded apart from a success.
            Some(other) => self.hash = fold(self.hash, !other),
            None => {}
        }
        match ok {
            true => self.hash = fold(self.hash, op),
            false => self.failed = Some(op),
        }
    }
}

/// A hash of `op` that leaves out its descriptor number.
fn hash_without_descriptor(op: &Op) -> u64 {
    let mut h = DefaultHasher::new();
    match op {
        Op::Write { path, blob, .. } => ("write", path, blob.digest()).hash(&mut h),
        Op::Read { path, .. } => ("read", path).hash(&mut h),
        Op::Close { path, .. } => ("close", path).hash(&mut h),
        Op::Flock { path, call, .. } => ("flock", path, call).hash(&mut h),
        other => other.hash(&mut h),
    }
    h.finish()
}

/// `ops`, the hash of a sequence, with `op` after it.
fn fold(ops: u64, op: u64) -> u64 {
    let mut h = DefaultHasher::new();
    (ops, op).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::LockCall;

    fn of(ops: &[(&Op, bool)]) -> OpSequence {
        let mut sequence = OpSequence::default();
        for (op, ok) in ops {
            sequence.ran(op, *ok);
        }
        sequence
    }

    fn lock(fd: u32) -> Op {
        Op::Flock {
            fd,
            path: ".lock".into(),
            call: LockCall::Flock,
        }
    }

    fn close(fd: u32) -> Op {
        Op::Close {
            fd,
            path: ".lock".into(),
        }
    }

    #[test]
    fn descriptor_numbers_and_retries_are_left_out_and_nothing_else() {
        let stat = Op::Stat { path: "a".into() };
        let other = Op::Stat { path: "b".into() };
        let plain = of(&[(&lock(3), true), (&stat, true), (&close(3), true)]);
        // Another descriptor number.
        assert_eq!(
            of(&[(&lock(4), true), (&stat, true), (&close(4), true)]),
            plain
        );
        // A lock found held, then taken.
        assert_eq!(
            of(&[
                (&lock(3), false),
                (&lock(3), true),
                (&stat, true),
                (&close(3), true)
            ]),
            plain
        );
        // A failure not retried, another op, another order, a missing op.
        assert_ne!(
            of(&[(&lock(3), true), (&stat, false), (&close(3), true)]),
            plain
        );
        assert_ne!(
            of(&[(&lock(3), true), (&other, true), (&close(3), true)]),
            plain
        );
        assert_ne!(
            of(&[(&stat, true), (&lock(3), true), (&close(3), true)]),
            plain
        );
        assert_ne!(of(&[(&lock(3), true), (&close(3), true)]), plain);
        // A failed last op counts.
        assert_ne!(
            of(&[(&lock(3), true), (&stat, true), (&close(3), false)]),
            plain
        );
    }
}
