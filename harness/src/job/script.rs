//! A job that runs a [`Script`]: an installer composed of the kit's
//! primitives, one after another.

use std::sync::Arc;

use super::held::lend_held_op;
use super::{Diagnostic, HeldOp, Job, Step};
use crate::kit::{Action, AdvisoryLock, LockKind, Next, Piece, Primitive, Script, Voice};
use crate::op::{Fd, Kind, Op, OpResult};

/// Runs a script's steps in order. The first failing step prints the
/// program's line for it and ends the job with exit 1; a satisfied
/// completion marker ends it with exit 0.
///
/// The `flock`s the script holds are held through open descriptors: an
/// unlock step closes one, and at its exit, whatever the status, the job
/// closes those still open, as the kernel does for a process that exits
/// or dies (so an `flock`, unlike a `mkdir` lock, never outlives its
/// holder).
#[derive(Clone)]
pub struct ScriptJob {
    /// The op offered, held until its result comes back.
    held: HeldOp,
    label: String,
    script: Arc<Script>,
    voice: Arc<Voice>,
    /// The prefix as the program prints it.
    prefix: Arc<str>,
    /// The step running, and its state.
    index: usize,
    piece: Option<Piece>,
    /// The `flock`s held, by lock path, in the order taken.
    flocks: Vec<(Arc<str>, Fd)>,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
}

impl ScriptJob {
    /// A job labelled `label` running `script` in the prefix printed as
    /// `prefix`.
    pub fn new(label: String, script: Arc<Script>, prefix: &str) -> ScriptJob {
        ScriptJob {
            held: HeldOp::default(),
            label,
            voice: Arc::new(Voice::of(&script.program)),
            script,
            prefix: prefix.into(),
            index: 0,
            piece: None,
            flocks: Vec::new(),
            exit: None,
            diagnostics: Vec::new(),
        }
    }
}

impl ScriptJob {
    /// Acts on a step that offers no op: done goes on to the next step,
    /// skip ends the job with 0, a failure prints and ends it with 1.
    fn settle(&mut self, next: Next) {
        match next {
            Next::Done => {
                if let Some(held) = self.piece.as_ref().and_then(Piece::held_lock) {
                    self.flocks.push(held);
                }
                if let Action::Unlock {
                    path,
                    kind: LockKind::Flock,
                } = &self.script.steps[self.index].action
                {
                    self.flocks.retain(|(p, _)| p != path);
                }
                self.piece = None;
                self.index += 1;
            }
            Next::Skip => self.exit = Some(0),
            Next::Fail(_) if self.script.steps[self.index].ignore_errors => {
                self.piece = None;
                self.index += 1;
            }
            Next::Fail(failure) => {
                let custom = self.script.steps[self.index].message.as_deref();
                let message = self.voice.say(&failure, &self.prefix, custom);
                self.diagnostics.push(Diagnostic {
                    message,
                    fatal: true,
                });
                self.exit = Some(1);
            }
            Next::Op(_) | Next::Wait(_) => unreachable!("settle is for steps without an op"),
        }
    }
}

impl ScriptJob {
    /// The next step, worked out from the job's state; [`Job::poll`] holds
    /// its op until the result comes back.
    fn next_step(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        loop {
            if let Some(code) = self.exit {
                // The kernel closes what the process left open at exit.
                if let Some((path, fd)) = self.flocks.last() {
                    return Step::Op(Op::Close {
                        fd: *fd,
                        path: path.clone(),
                    });
                }
                return Step::Exit(code);
            }
            let Some(scripted) = self.script.steps.get(self.index) else {
                self.exit = Some(0);
                continue;
            };
            let flocks = &self.flocks;
            let piece = self.piece.get_or_insert_with(|| match &scripted.action {
                Action::Unlock {
                    path,
                    kind: LockKind::Flock,
                } => match flocks.iter().find(|(p, _)| p == path) {
                    Some((_, fd)) => Piece::Lock(AdvisoryLock::release_held(path, *fd)),
                    None => Piece::Lock(AdvisoryLock::release(path, LockKind::Flock)),
                },
                action => Piece::start(action, &self.label),
            });
            match piece.next(probe) {
                Next::Op(op) => return Step::Op(op),
                Next::Wait(condition) => return Step::Wait(condition),
                other => self.settle(other),
            }
        }
    }
}

impl Job for ScriptJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        self.voice.program_name()
    }

    lend_held_op!();

    fn open_descriptors(&self) -> Vec<(Fd, Arc<str>)> {
        self.flocks
            .iter()
            .map(|(path, fd)| (*fd, path.clone()))
            .collect()
    }

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
        if self.exit.is_some() {
            // The close at exit (see `next_step`): whatever it returned,
            // the descriptor is gone.
            self.flocks.pop();
            return;
        }
        if let Some(piece) = &mut self.piece {
            piece.complete(result);
            // The outcome is known now, with no probe needed: print a
            // failure with the op that caused it.
            match piece.next(&|_| None) {
                Next::Op(_) | Next::Wait(_) => {}
                other => self.settle(other),
            }
        }
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{execute, JobEnd};
    use crate::fs::ModelFs;
    use crate::kit::{RemoveStyle, WriteHow};
    use crate::schedule::SerialScheduler;

    /// A script runs its steps in order and exits 0; a step that fails
    /// ends it with exit 1 and the program's own line.
    #[test]
    fn runs_in_order_and_fails_with_the_programs_line() {
        let ok = Script::new("pnpm")
            .write_tree(
                "node_modules/.tmp",
                &[("index.js", b"1".as_slice())],
                WriteHow::InPlace,
            )
            .remove("node_modules/x", RemoveStyle::Rimraf)
            .rename("node_modules/.tmp", "node_modules/x")
            .shared();
        let broken = Script::new("pnpm")
            .rename("node_modules/.gone", "node_modules/y")
            .shared();
        let jobs: Vec<Box<dyn Job>> = vec![
            Box::new(ScriptJob::new("a".into(), ok, "/p")),
            Box::new(ScriptJob::new("b".into(), broken, "/p")),
        ];
        let mut fs = ModelFs::new();
        let trace = execute(
            jobs,
            &[vec![], vec![]],
            &mut fs,
            &mut SerialScheduler,
            false,
        );
        assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
        assert!(fs.inode_of("node_modules/x/index.js").is_some());
        assert_eq!(trace.outcomes[1].end, JobEnd::Exited(1));
        assert_eq!(
            trace.outcomes[1].diagnostics[0].0.message,
            " ERR_PNPM_ENOENT  ENOENT: no such file or directory, rename \
             '/p/node_modules/.gone' -> '/p/node_modules/y'"
        );
    }

    /// A holder that dies without unlocking: its `flock` is released by
    /// the kernel at its exit, so the waiter goes on; its `mkdir` lock
    /// stays, so the waiter stalls (exit 1) for good.
    #[test]
    fn an_flock_dies_with_its_holder_and_a_mkdir_lock_does_not() {
        use crate::kit::LockKind;
        for (kind, waiter_end) in [
            (LockKind::Flock, JobEnd::Exited(0)),
            (LockKind::Mkdir, JobEnd::Exited(1)),
        ] {
            let dying = Script::new("uv")
                .lock(".lock", kind)
                .rename("gone", "x")
                .shared();
            let waiter = Script::new("uv")
                .lock(".lock", kind)
                .write("x", b"2", WriteHow::InPlace)
                .unlock(".lock", kind)
                .shared();
            let jobs: Vec<Box<dyn Job>> = vec![
                Box::new(ScriptJob::new("a".into(), dying, "/p")),
                Box::new(ScriptJob::new("b".into(), waiter, "/p")),
            ];
            let mut fs = ModelFs::new();
            let trace = execute(
                jobs,
                &[vec![], vec![]],
                &mut fs,
                &mut SerialScheduler,
                false,
            );
            assert_eq!(trace.outcomes[0].end, JobEnd::Exited(1), "{kind:?}");
            assert_eq!(trace.outcomes[1].end, waiter_end, "{kind:?}");
        }
    }
}
