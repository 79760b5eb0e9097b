//! Advisory locks built from ops every filesystem has: `mkdir` of a lock
//! directory, or an `O_EXCL` lock file. A job that finds the lock taken
//! waits until it is released (it blocks, as `flock` does; it does not
//! spin), then tries again. An ineffective lock takes no op at all.

use std::sync::Arc;

use super::{Failure, LockKind, Next, Primitive};
use crate::job::Condition;
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    /// About to try, or waiting for the holder to release.
    Trying,
    /// The lock file was created; close it.
    Close(Fd),
    /// Releasing: `rmdir` or `unlink`.
    Releasing,
    Done,
    Failed(Failure),
}

/// Taking or releasing an advisory lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdvisoryLock {
    path: Arc<str>,
    kind: LockKind,
    phase: Phase,
}

impl AdvisoryLock {
    /// Starts taking the lock at `path`.
    pub fn acquire(path: &Arc<str>, kind: LockKind) -> AdvisoryLock {
        let phase = match kind {
            LockKind::Ineffective => Phase::Done,
            LockKind::Mkdir | LockKind::ExclusiveFile => Phase::Trying,
        };
        AdvisoryLock {
            path: path.clone(),
            kind,
            phase,
        }
    }

    /// Starts releasing the lock at `path`.
    pub fn release(path: &Arc<str>, kind: LockKind) -> AdvisoryLock {
        let phase = match kind {
            LockKind::Ineffective => Phase::Done,
            LockKind::Mkdir | LockKind::ExclusiveFile => Phase::Releasing,
        };
        AdvisoryLock {
            path: path.clone(),
            kind,
            phase,
        }
    }
}

impl Primitive for AdvisoryLock {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        let path = self.path.clone();
        match (&self.phase, self.kind) {
            (Phase::Trying, _) if probe(&path).is_some() => Next::Wait(Condition::Absent {
                path: path.to_string(),
            }),
            (Phase::Trying, LockKind::Mkdir) => Next::Op(Op::Mkdir { path, mode: 0o700 }),
            (Phase::Trying, _) => Next::Op(Op::Open {
                path,
                flags: OpenFlags::CREATE_NEW,
                mode: 0o644,
            }),
            (Phase::Close(fd), _) => Next::Op(Op::Close { fd: *fd, path }),
            (Phase::Releasing, LockKind::Mkdir) => Next::Op(Op::Rmdir { path }),
            (Phase::Releasing, _) => Next::Op(Op::Unlink { path }),
            (Phase::Done, _) => Next::Done,
            (Phase::Failed(f), _) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.phase = match (&self.phase, result) {
            // Taken by someone else between the probe and the call: wait again.
            (Phase::Trying, Err(Errno::EEXIST)) => Phase::Trying,
            (Phase::Trying, Ok(Value::Fd(fd))) => Phase::Close(*fd),
            (Phase::Trying, Ok(_)) | (Phase::Close(_), Ok(_)) | (Phase::Releasing, Ok(_)) => {
                Phase::Done
            }
            (Phase::Trying, Err(e)) => {
                let syscall = match self.kind {
                    LockKind::Mkdir => "mkdir",
                    _ => "open",
                };
                Phase::Failed(Failure::new(syscall, *e, &self.path).writing())
            }
            (Phase::Close(_), Err(e)) => Phase::Failed(Failure::new("close", *e, &self.path)),
            (Phase::Releasing, Err(e)) => {
                let syscall = match self.kind {
                    LockKind::Mkdir => "rmdir",
                    _ => "unlink",
                };
                Phase::Failed(Failure::new(syscall, *e, &self.path))
            }
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// A held lock makes the next taker wait for its absence; released,
    /// it can be taken. An ineffective lock takes no op and never waits.
    #[test]
    fn a_held_lock_makes_the_next_taker_wait() {
        for kind in [LockKind::Mkdir, LockKind::ExclusiveFile] {
            let mut fs = model_with(&[]);
            let lock: Arc<str> = ".lock".into();
            let mut first = AdvisoryLock::acquire(&lock, kind);
            assert_eq!(run_on(&mut fs, &mut first).1, Next::Done);
            let mut second = AdvisoryLock::acquire(&lock, kind);
            assert!(matches!(run_on(&mut fs, &mut second).1, Next::Wait(_)));
            let mut release = AdvisoryLock::release(&lock, kind);
            assert_eq!(run_on(&mut fs, &mut release).1, Next::Done);
            assert_eq!(run_on(&mut fs, &mut second).1, Next::Done, "{kind:?}");
        }
        let mut fs = model_with(&[]);
        let mut none = AdvisoryLock::acquire(&".lock".into(), LockKind::Ineffective);
        assert_eq!(run_on(&mut fs, &mut none), (vec![], Next::Done));
    }
}
