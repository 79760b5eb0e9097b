//! Advisory locks: `mkdir` of a lock directory, an `O_EXCL` lock file, an
//! `flock` or an `fcntl` record lock on a lock file. A job that finds the lock taken waits until
//! it is released (it blocks, as `flock` does; it does not spin), then
//! tries again. An ineffective lock takes no op at all.
//!
//! An `flock` is held by a descriptor: taking it leaves the descriptor
//! open ([`AdvisoryLock::held`]), and the script that runs the lock
//! closes it to release it, or at its exit (see [`crate::job::ScriptJob`]).
//! So is an `fcntl` lock, which belongs to the job ([`AdvisoryLock::owned_by`]):
//! another job waits for it, the job itself never does.

use std::sync::Arc;

use super::{Failure, LockKind, Next, Primitive};
use crate::job::Condition;
use crate::op::{Errno, Fd, Kind, LockCall, Op, OpResult, OpenFlags, Value};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    /// About to try, or waiting for the holder to release.
    Trying,
    /// The lock file was created; close it.
    Close(Fd),
    /// `flock`: the lock file is open; lock it, or wait for its holder.
    Locking(Fd),
    /// `flock`: locked through this descriptor, kept open.
    Held(Fd),
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
    /// The process taking it (the job's label): whom an `fcntl` lock
    /// belongs to.
    owner: Arc<str>,
    phase: Phase,
}

/// `O_WRONLY|O_CREAT`: an `flock` or `fcntl` lock file is opened whether
/// or not it is there already (an `fcntl` write lock needs it open for
/// writing; Spack opens it `O_RDWR`, which the model spells `O_WRONLY`).
const OPEN_LOCK_FILE: OpenFlags = OpenFlags::CREATE;

impl AdvisoryLock {
    /// Starts taking the lock at `path`.
    pub fn acquire(path: &Arc<str>, kind: LockKind) -> AdvisoryLock {
        let phase = match kind {
            LockKind::Ineffective => Phase::Done,
            LockKind::Mkdir | LockKind::ExclusiveFile | LockKind::Flock | LockKind::Fcntl => {
                Phase::Trying
            }
        };
        AdvisoryLock {
            path: path.clone(),
            kind,
            owner: "".into(),
            phase,
        }
    }

    /// The same lock, taken by the process `owner` (the job's label).
    pub fn owned_by(mut self, owner: &str) -> AdvisoryLock {
        self.owner = owner.into();
        self
    }

    /// Starts releasing the lock at `path`. An `flock` is released by
    /// closing its descriptor: see [`AdvisoryLock::release_held`]; without
    /// one there is nothing to release.
    pub fn release(path: &Arc<str>, kind: LockKind) -> AdvisoryLock {
        let phase = match kind {
            LockKind::Ineffective | LockKind::Flock | LockKind::Fcntl => Phase::Done,
            LockKind::Mkdir | LockKind::ExclusiveFile => Phase::Releasing,
        };
        AdvisoryLock {
            path: path.clone(),
            kind,
            owner: "".into(),
            phase,
        }
    }

    /// Releases an `flock` or `fcntl` lock held through `fd`: `close(fd)`.
    pub fn release_held(path: &Arc<str>, fd: Fd) -> AdvisoryLock {
        AdvisoryLock {
            path: path.clone(),
            kind: LockKind::Flock,
            owner: "".into(),
            phase: Phase::Close(fd),
        }
    }

    /// Whether the lock is taken through a descriptor kept open.
    fn held_through_descriptor(&self) -> bool {
        matches!(self.kind, LockKind::Flock | LockKind::Fcntl)
    }

    /// The descriptor an `flock` or `fcntl` lock taken by this step is held through, once
    /// it is taken.
    pub fn held(&self) -> Option<(Arc<str>, Fd)> {
        match self.phase {
            Phase::Held(fd) => Some((self.path.clone(), fd)),
            _ => None,
        }
    }
}

impl Primitive for AdvisoryLock {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        let path = self.path.clone();
        match (&self.phase, self.kind) {
            (Phase::Trying, LockKind::Flock | LockKind::Fcntl) => Next::Op(Op::Open {
                path,
                flags: OPEN_LOCK_FILE,
                mode: 0o644,
            }),
            (Phase::Trying, _) if probe(&path).is_some() => Next::Wait(Condition::Absent {
                path: path.to_string(),
            }),
            (Phase::Trying, LockKind::Mkdir) => Next::Op(Op::Mkdir { path, mode: 0o700 }),
            (Phase::Trying, _) => Next::Op(Op::Open {
                path,
                flags: OpenFlags::CREATE_NEW,
                mode: 0o644,
            }),
            (Phase::Locking(_), LockKind::Fcntl)
                if probe(&crate::fs::record_lock_probe_path(&self.owner, &path)).is_some() =>
            {
                Next::Wait(Condition::RecordUnlocked {
                    path: path.to_string(),
                    owner: self.owner.to_string(),
                })
            }
            (Phase::Locking(fd), LockKind::Fcntl) => Next::Op(Op::Flock {
                fd: *fd,
                path,
                call: LockCall::Fcntl {
                    owner: self.owner.clone(),
                },
            }),
            (Phase::Locking(_), _) if probe(&crate::fs::lock_probe_path(&path)).is_some() => {
                Next::Wait(Condition::Unlocked {
                    path: path.to_string(),
                })
            }
            (Phase::Locking(fd), _) => Next::Op(Op::Flock {
                fd: *fd,
                path,
                call: LockCall::Flock,
            }),
            (Phase::Close(fd), _) => Next::Op(Op::Close { fd: *fd, path }),
            (Phase::Releasing, LockKind::Mkdir) => Next::Op(Op::Rmdir { path }),
            (Phase::Releasing, _) => Next::Op(Op::Unlink { path }),
            (Phase::Done | Phase::Held(_), _) => Next::Done,
            (Phase::Failed(f), _) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.phase = match (&self.phase, result) {
            (Phase::Trying, Ok(Value::Fd(fd))) if self.held_through_descriptor() => {
                Phase::Locking(*fd)
            }
            // Taken by someone else between the probe and the call: wait again.
            (Phase::Trying, Err(Errno::EEXIST)) if !self.held_through_descriptor() => Phase::Trying,
            // `fcntl` answers EACCES or EAGAIN, as POSIX allows either.
            (Phase::Locking(fd), Err(Errno::EAGAIN | Errno::EACCES))
                if self.kind == LockKind::Fcntl =>
            {
                Phase::Locking(*fd)
            }
            (Phase::Locking(fd), Err(Errno::EAGAIN)) => Phase::Locking(*fd),
            (Phase::Locking(fd), Ok(_)) => Phase::Held(*fd),
            (Phase::Locking(_), Err(e)) => {
                let syscall = match self.kind {
                    LockKind::Fcntl => "fcntl",
                    _ => "flock",
                };
                Phase::Failed(Failure::new(syscall, *e, &self.path))
            }
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

    /// An `flock`: the first taker opens the lock file and locks it,
    /// keeping the descriptor; the second opens it too and waits until
    /// the holder's descriptor is closed, then takes it. The lock file
    /// stays.
    #[test]
    fn an_flock_waits_for_its_holder_to_close() {
        let mut fs = model_with(&[]);
        let lock: Arc<str> = ".lock".into();
        let mut first = AdvisoryLock::acquire(&lock, LockKind::Flock);
        let (ops, next) = run_on(&mut fs, &mut first);
        assert_eq!(next, Next::Done);
        assert!(
            ops.last().is_some_and(|o| o.starts_with("flock")),
            "{ops:?}"
        );
        let (_, held) = first.held().expect("held through its descriptor");
        let mut second = AdvisoryLock::acquire(&lock, LockKind::Flock);
        let (ops, next) = run_on(&mut fs, &mut second);
        assert_eq!(ops.len(), 1, "opened, not locked: {ops:?}");
        assert!(matches!(next, Next::Wait(Condition::Unlocked { .. })));
        let mut release = AdvisoryLock::release_held(&lock, held);
        assert_eq!(run_on(&mut fs, &mut release).1, Next::Done);
        assert_eq!(run_on(&mut fs, &mut second).1, Next::Done);
        assert!(second.held().is_some());
        assert!(crate::fs::Fs::probe(&fs, ".lock").is_some());
    }

    /// An `fcntl` lock belongs to its job: another job opens the lock
    /// file and waits until the holder closes its descriptor; the holder
    /// itself takes it again through a second descriptor at once, and
    /// closing that second descriptor releases the lock (the pitfall).
    #[test]
    fn an_fcntl_lock_is_the_jobs_and_any_close_of_it_releases_it() {
        let mut fs = model_with(&[]);
        let lock: Arc<str> = ".lock".into();
        let take = |job: &str| AdvisoryLock::acquire(&lock, LockKind::Fcntl).owned_by(job);
        let mut first = take("spack-1");
        let (ops, next) = run_on(&mut fs, &mut first);
        assert_eq!(next, Next::Done);
        assert!(
            ops.last().is_some_and(|o| o.starts_with("fcntl")),
            "{ops:?}"
        );
        let mut other = take("spack-2");
        let (ops, next) = run_on(&mut fs, &mut other);
        assert_eq!(ops.len(), 1, "opened, not locked: {ops:?}");
        assert!(matches!(next, Next::Wait(Condition::RecordUnlocked { .. })));
        let mut again = take("spack-1");
        assert_eq!(run_on(&mut fs, &mut again).1, Next::Done, "its own lock");
        let (_, second_fd) = again.held().expect("held through the second descriptor");
        let mut close_second = AdvisoryLock::release_held(&lock, second_fd);
        assert_eq!(run_on(&mut fs, &mut close_second).1, Next::Done);
        assert!(first.held().is_some(), "the first descriptor is still open");
        assert_eq!(
            run_on(&mut fs, &mut other).1,
            Next::Done,
            "closing the second descriptor released the job's lock"
        );
    }
}
