//! An exclusive lock on the prefix around another job.
//!
//! Real installers serialize with `flock(2)`: SageMath's `sage-flock` (a
//! wrapper around `fcntl.flock` on `$SAGE_LOCAL/var/lock/...`), portage's
//! `portage.locks.lockfile` on the package database. prefixrace has no lock
//! op on purpose (every op must also run on a real filesystem), so the lock
//! is built from ops every filesystem has: an atomic `mkdir` of a lock
//! directory in the prefix root, `rmdir` on release. A job that finds the
//! lock taken waits on [`Condition::Absent`] — it blocks like `flock`, it
//! does not spin — and tries again once the holder has released it.
//!
//! The lock only orders jobs that take it. An importer takes no lock, so a
//! locked installer still races it (ticket 32361 survives a lock).

use std::sync::Arc;

use super::held::lend_held_op;
use super::{Condition, Diagnostic, HeldOp, Job, Step};
use crate::op::{Errno, Kind, Op, OpResult};

/// The lock directory, relative to the prefix root. It exists only while a
/// job holds the lock, so it never shows in a final tree.
pub const PREFIX_LOCK: &str = ".prefixrace-install.lock";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the lock to be free, or about to try `mkdir`.
    Waiting,
    /// `mkdir(lock)` offered.
    Acquiring,
    /// The lock is held; the inner job runs.
    Held,
    /// The inner job exited with this status; `rmdir(lock)` offered.
    Releasing(i32),
    /// Done, with this status.
    Done(i32),
}

/// Runs its inner job while holding the exclusive prefix lock.
#[derive(Clone)]
pub struct LockedJob {
    /// The op offered, held until its result comes back.
    held: HeldOp,
    inner: Box<dyn Job>,
    lock: Arc<str>,
    state: State,
    /// Diagnostics of the inner job copied so far, followed by the lock's own.
    diagnostics: Vec<Diagnostic>,
    synced: usize,
}

impl LockedJob {
    /// Wraps `inner` in the lock at [`PREFIX_LOCK`].
    pub fn new(inner: Box<dyn Job>) -> LockedJob {
        LockedJob {
            held: HeldOp::default(),
            inner,
            lock: PREFIX_LOCK.into(),
            state: State::Waiting,
            diagnostics: Vec::new(),
            synced: 0,
        }
    }

    fn sync(&mut self) {
        let inner = self.inner.diagnostics();
        if inner.len() > self.synced {
            self.diagnostics
                .extend(inner[self.synced..].iter().cloned());
            self.synced = inner.len();
        }
    }

    fn acquire_op(&self) -> Op {
        Op::Mkdir {
            path: self.lock.clone(),
            mode: 0o700,
        }
    }
}

impl LockedJob {
    /// The next step, worked out from the job's state; [`Job::poll`] holds
    /// its op until the result comes back.
    fn next_step(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        match self.state {
            State::Waiting => {
                let free = Condition::Absent {
                    path: self.lock.to_string(),
                };
                if !free.holds(probe) {
                    return Step::Wait(free);
                }
                self.state = State::Acquiring;
                Step::Op(self.acquire_op())
            }
            State::Acquiring => Step::Op(self.acquire_op()),
            State::Held => match self.inner.step(probe) {
                Step::Exit(code) => {
                    self.state = State::Releasing(code);
                    Step::Op(Op::Rmdir {
                        path: self.lock.clone(),
                    })
                }
                other => other,
            },
            State::Releasing(_) => Step::Op(Op::Rmdir {
                path: self.lock.clone(),
            }),
            State::Done(code) => Step::Exit(code),
        }
    }
}

impl Job for LockedJob {
    fn label(&self) -> &str {
        self.inner.label()
    }

    fn program(&self) -> &'static str {
        self.inner.program()
    }

    lend_held_op!();

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
        match self.state {
            State::Acquiring => match result {
                Ok(_) => self.state = State::Held,
                Err(Errno::EEXIST) => self.state = State::Waiting,
                Err(e) => {
                    self.diagnostics.push(Diagnostic {
                        message: format!(
                            "cannot take the prefix lock '{}': {}",
                            self.lock,
                            e.message()
                        ),
                        fatal: true,
                    });
                    self.state = State::Done(1);
                }
            },
            State::Held => {
                self.inner.complete(result);
                self.sync();
            }
            State::Releasing(code) => self.state = State::Done(code),
            State::Waiting | State::Done(_) => {}
        }
    }

    fn stalled(&mut self) -> i32 {
        if self.state == State::Held {
            let code = self.inner.stalled();
            self.sync();
            return code;
        }
        self.diagnostics.push(Diagnostic {
            message: format!("the prefix lock '{}' was never released", self.lock),
            fatal: true,
        });
        1
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::execute;
    use crate::fs::{Fs, ModelFs};
    use crate::job::Offer;
    use crate::schedule::Scheduler;

    /// A job that creates one directory (and fails on EEXIST, like cp).
    #[derive(Clone)]
    struct MkdirOnce {
        path: Arc<str>,
        mkdir: Op,
        done: Option<i32>,
        diagnostics: Vec<Diagnostic>,
    }

    impl Job for MkdirOnce {
        fn label(&self) -> &str {
            &self.path
        }
        fn program(&self) -> &'static str {
            "mkdir"
        }
        fn poll(&mut self, _: &dyn Fn(&str) -> Option<Kind>) -> Offer {
            match self.done {
                Some(c) => Offer::Exit(c),
                None => Offer::Op,
            }
        }
        fn offered(&self) -> &Op {
            &self.mkdir
        }
        fn complete(&mut self, r: &OpResult) {
            self.done = Some(i32::from(r.is_err()));
        }
        fn diagnostics(&self) -> &[Diagnostic] {
            &self.diagnostics
        }
    }

    struct Alternate(usize);
    impl Scheduler for Alternate {
        fn pick(&mut self, runnable: &[usize], _: usize) -> Option<usize> {
            self.0 += 1;
            Some(runnable[self.0 % runnable.len()])
        }
    }

    fn mkdir_job(p: &str) -> Box<dyn Job> {
        Box::new(MkdirOnce {
            path: p.into(),
            mkdir: Op::Mkdir {
                path: p.into(),
                mode: 0o755,
            },
            done: None,
            diagnostics: vec![],
        })
    }

    #[test]
    fn a_second_locker_waits_until_the_first_releases() {
        let jobs: Vec<Box<dyn Job>> = vec![
            Box::new(LockedJob::new(mkdir_job("a"))),
            Box::new(LockedJob::new(mkdir_job("b"))),
        ];
        let mut fs = ModelFs::new();
        let trace = execute(jobs, &[vec![], vec![]], &mut fs, &mut Alternate(0), true);
        // Successful acquisitions, and releases, by event index.
        let acquired: Vec<usize> = (0..trace.events.len())
            .filter(|&i| {
                let e = &trace.events[i];
                matches!(&e.op, Op::Mkdir { path, .. } if **path == *PREFIX_LOCK)
                    && e.result.is_ok()
            })
            .collect();
        let released: Vec<usize> = (0..trace.events.len())
            .filter(|&i| matches!(trace.events[i].op, Op::Rmdir { .. }))
            .collect();
        assert_eq!(acquired.len(), 2);
        assert_eq!(released.len(), 2);
        // The schedule alternates, yet the second holder only gets the lock
        // after the first released it, and nobody else runs in between but
        // the holder (a failed attempt to take the lock aside).
        assert!(acquired[1] > released[0]);
        for (a, r) in acquired.iter().zip(&released) {
            let holder = trace.events[*a].job;
            for e in &trace.events[*a..=*r] {
                assert!(
                    e.job == holder || matches!(e.op, Op::Mkdir { .. }) && e.result.is_err(),
                    "{} ran while {holder} held the lock",
                    e.job
                );
            }
        }
        assert!(
            trace.events.iter().any(|e| e.result == Err(Errno::EEXIST)),
            "the alternating schedule makes one job find the lock taken"
        );
        assert!(trace.outcomes.iter().all(|o| !o.failed()));
        assert!(fs.probe(PREFIX_LOCK).is_none(), "lock left behind");
    }

    #[test]
    fn a_held_lock_makes_the_job_wait_on_its_absence() {
        let mut job = LockedJob::new(mkdir_job("a"));
        let held = |p: &str| (p == PREFIX_LOCK).then_some(Kind::Dir);
        assert_eq!(
            job.step(&held),
            Step::Wait(Condition::Absent {
                path: PREFIX_LOCK.into()
            })
        );
        let free = |_: &str| None;
        assert!(matches!(job.step(&free), Step::Op(Op::Mkdir { .. })));
        // Somebody else won the race for the mkdir: back to waiting.
        job.complete(&Err(Errno::EEXIST));
        assert!(matches!(job.step(&held), Step::Wait(_)));
    }
}
