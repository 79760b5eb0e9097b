//! A job killed with `SIGKILL` after a given number of its ops.
//!
//! What the program wrote stays; it runs no cleanup, no `atexit` handler,
//! no rollback. The only thing that happens at its death is the kernel's:
//! every descriptor it held is closed, which releases its `flock`s (a
//! `mkdir` or `O_EXCL` lock, being a name, stays). The crash explorer
//! ([`crate::crash`]) runs these.

use std::sync::Arc;

use super::{Diagnostic, Job, Offer};
use crate::op::{Fd, Kind, Op, OpResult};

/// The exit status a shell reports for a process killed by `SIGKILL`
/// (128 + 9).
pub const KILLED_STATUS: i32 = 137;

/// Runs `inner` for `after_ops` ops, then dies: the kernel closes the
/// descriptors it holds ([`Job::open_descriptors`]), one op each, and the
/// job ends with [`KILLED_STATUS`].
#[derive(Clone)]
pub struct KilledJob {
    inner: Box<dyn Job>,
    /// Ops the inner job still runs before it is killed.
    left: usize,
    /// Once killed: the closes the kernel still makes, the next one last.
    closing: Option<Vec<Op>>,
}

impl KilledJob {
    /// `inner`, killed after it has run `after_ops` ops (counted from now).
    pub fn new(inner: Box<dyn Job>, after_ops: usize) -> KilledJob {
        KilledJob {
            inner,
            left: after_ops,
            closing: None,
        }
    }

    /// Dies now: the descriptors to close, in descending order (popped
    /// from the end, so the lowest closes first).
    fn die(&mut self) -> &mut Vec<Op> {
        if self.closing.is_none() {
            let mut closes: Vec<Op> = self
                .inner
                .open_descriptors()
                .into_iter()
                .map(|(fd, path): (Fd, Arc<str>)| Op::Close { fd, path })
                .collect();
            closes.reverse();
            self.closing = Some(closes);
        }
        self.closing.as_mut().expect("set above")
    }
}

impl Job for KilledJob {
    fn label(&self) -> &str {
        self.inner.label()
    }

    fn program(&self) -> &'static str {
        self.inner.program()
    }

    fn poll(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        if self.left > 0 {
            return self.inner.poll(probe);
        }
        match self.die().is_empty() {
            true => Offer::Exit(KILLED_STATUS),
            false => Offer::Op,
        }
    }

    fn offered(&self) -> &Op {
        match &self.closing {
            Some(closes) => closes.last().expect("a close is offered"),
            None => self.inner.offered(),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        match &mut self.closing {
            Some(closes) => {
                closes.pop();
            }
            None => {
                self.inner.complete(result);
                self.left -= 1;
            }
        }
    }

    fn stalled(&mut self) -> i32 {
        self.inner.stalled()
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        self.inner.diagnostics()
    }

    fn open_descriptors(&self) -> Vec<(Fd, Arc<str>)> {
        match &self.closing {
            Some(closes) => closes
                .iter()
                .rev()
                .filter_map(|op| match op {
                    Op::Close { fd, path } => Some((*fd, path.clone())),
                    _ => None,
                })
                .collect(),
            None => self.inner.open_descriptors(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{execute, JobEnd};
    use crate::fs::{Fs, ModelFs};
    use crate::job::ScriptJob;
    use crate::kit::{LockKind, Script, WriteHow};
    use crate::schedule::SerialScheduler;

    fn locked_writer(kind: LockKind) -> ScriptJob {
        let script = Script::new("sh")
            .lock("p/.lock", kind)
            .write("p/a", b"a", WriteHow::InPlace)
            .unlock("p/.lock", kind)
            .shared();
        ScriptJob::new("writer".into(), script, "/p")
    }

    fn run_killed(kind: LockKind, after_ops: usize) -> (ModelFs, JobEnd, Vec<String>) {
        let mut fs = ModelFs::new();
        let made = fs.apply(&Op::Mkdir {
            path: Arc::from("p"),
            mode: 0o755,
        });
        assert!(made.is_ok());
        let job = KilledJob::new(Box::new(locked_writer(kind)), after_ops);
        let trace = execute(
            vec![Box::new(job)],
            &[Vec::new()],
            &mut fs,
            &mut SerialScheduler,
            true,
        );
        let lines = trace.outcomes[0]
            .diagnostics
            .iter()
            .map(|(d, _)| d.message.clone())
            .collect();
        (fs, trace.outcomes[0].end.clone(), lines)
    }

    #[test]
    fn a_killed_job_stops_after_its_ops_with_the_status_of_sigkill() {
        let (fs, end, lines) = run_killed(LockKind::Mkdir, 1);
        assert_eq!(end, JobEnd::Exited(KILLED_STATUS));
        assert!(lines.is_empty(), "{lines:?}");
        // It took the lock and wrote nothing: the lock directory stays.
        assert_eq!(fs.probe("p/.lock"), Some(Kind::Dir));
        assert_eq!(fs.probe("p/a"), None);
    }

    #[test]
    fn the_kernel_releases_a_killed_jobs_flock_and_not_its_mkdir_lock() {
        // Killed holding each lock, halfway through its write.
        for (kind, after_ops) in [(LockKind::Mkdir, 2), (LockKind::Flock, 3)] {
            let (mut fs, end, _) = run_killed(kind, after_ops);
            assert_eq!(end, JobEnd::Exited(KILLED_STATUS));
            let lock = crate::fs::lock_probe_path("p/.lock");
            let held = fs.probe(&lock).is_some() || fs.probe("p/.lock") == Some(Kind::Dir);
            match kind {
                LockKind::Flock => assert!(!held, "the kernel closed the flock's descriptor"),
                _ => assert!(held, "a mkdir lock outlives its holder"),
            }
            // A second writer takes the lock only when it was released.
            let trace = execute(
                vec![Box::new(locked_writer(kind))],
                &[Vec::new()],
                &mut fs,
                &mut SerialScheduler,
                false,
            );
            let expected = if held { 1 } else { 0 };
            assert_eq!(trace.outcomes[0].end, JobEnd::Exited(expected), "{kind:?}");
        }
    }
}
