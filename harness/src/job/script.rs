//! A job that runs a [`Script`]: an installer composed of the kit's
//! primitives, one after another.

use std::sync::Arc;

use super::held::lend_held_op;
use super::{Diagnostic, HeldOp, Job, Step};
use crate::kit::{
    Action, AdvisoryLock, LockKind, Next, Piece, Primitive, RemoveStyle, RemoveTree, Script, Voice,
};
use crate::op::{Fd, Kind, Op, OpResult};

/// Runs a script's steps in order. The first failing step prints the
/// program's line for it and ends the job with exit 1; a satisfied
/// completion marker ends it with exit 0.
///
/// The `flock`s and `fcntl` locks the script holds are held through open
/// descriptors: an unlock step closes one, and at its exit, whatever the
/// status, the job closes those still open, as the kernel does for a
/// process that exits or dies (so neither, unlike a `mkdir` lock, ever
/// outlives its holder). The job's label is the owner of its `fcntl`
/// locks: the process they belong to.
///
/// Before that, whatever the status, it removes the temporary trees whose
/// clean-up is still armed ([`crate::kit::CleanupMark`]), newest first,
/// ignoring every error, as a `TempDir` going out of scope does.
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
    /// The `flock`s and `fcntl` locks held, by lock path, in the order taken.
    flocks: Vec<(Arc<str>, Fd)>,
    /// The temporary trees removed when the script ends, in the order armed.
    cleanups: Vec<Arc<str>>,
    /// The removal of the newest armed tree, once the script has ended.
    removal: Option<RemoveTree>,
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
            cleanups: Vec::new(),
            removal: None,
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
                match &self.script.steps[self.index].action {
                    Action::Unlock {
                        path,
                        kind: LockKind::Flock | LockKind::Fcntl,
                    } => self.flocks.retain(|(p, _)| p != path),
                    Action::Cleanup { path } => self.cleanups.push(path.clone()),
                    Action::Keep { path } => self.cleanups.retain(|p| p != path),
                    _ => {}
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
                if let Some(op) = self.next_cleanup_op(probe) {
                    return Step::Op(op);
                }
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
                    kind: kind @ (LockKind::Flock | LockKind::Fcntl),
                } => match flocks.iter().find(|(p, _)| p == path) {
                    Some((_, fd)) => Piece::Lock(AdvisoryLock::release_held(path, *fd)),
                    None => Piece::Lock(AdvisoryLock::release(path, *kind)),
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

impl ScriptJob {
    /// The next op removing the newest temporary tree still armed, once
    /// the script has ended; a removal's failure is ignored, as `TempDir`'s
    /// `Drop` ignores it, and the next tree goes.
    fn next_cleanup_op(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Option<Op> {
        while let Some(path) = self.cleanups.last() {
            let removal = self
                .removal
                .get_or_insert_with(|| RemoveTree::new(path, RemoveStyle::RmRf));
            if let Next::Op(op) = removal.next(probe) {
                return Some(op);
            }
            self.removal = None;
            self.cleanups.pop();
        }
        None
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
            match &mut self.removal {
                // A clean-up's op (see `next_cleanup_op`).
                Some(removal) => removal.complete(result),
                // The close at exit (see `next_step`): whatever it
                // returned, the descriptor is gone.
                None => {
                    self.flocks.pop();
                }
            }
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

    /// A holder that dies without unlocking: its `flock` or `fcntl` lock
    /// is released by the kernel at its exit, so the waiter goes on; its
    /// `mkdir` lock stays, so the waiter stalls (exit 1) for good.
    #[test]
    fn an_flock_dies_with_its_holder_and_a_mkdir_lock_does_not() {
        use crate::kit::LockKind;
        for (kind, waiter_end) in [
            (LockKind::Flock, JobEnd::Exited(0)),
            (LockKind::Fcntl, JobEnd::Exited(0)),
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

    /// Runs `script` alone as uv in `/p`: its exit, its first line, and
    /// whether `tmp` is left.
    fn run_alone(script: Script) -> (JobEnd, Option<String>, bool) {
        let jobs: Vec<Box<dyn Job>> =
            vec![Box::new(ScriptJob::new("a".into(), script.shared(), "/p"))];
        let mut fs = ModelFs::new();
        let trace = execute(jobs, &[vec![]], &mut fs, &mut SerialScheduler, false);
        let outcome = &trace.outcomes[0];
        let line = outcome.diagnostics.first().map(|d| d.0.message.clone());
        (outcome.end.clone(), line, fs.inode_of("tmp").is_some())
    }

    /// uv's unzip into a `TempDir`: a tree written under `tmp`, then a
    /// step that fails (a rename from a path that is not there).
    fn unzip_then(script: Script) -> Script {
        script
            .write_tree(
                "tmp",
                &[("a/__init__.py", b"1".as_slice()), ("b.py", b"2")],
                WriteHow::InPlace,
            )
            .rename("gone", "x")
    }

    /// A failing step with a clean-up armed: the tree is removed before
    /// the job exits, and the line printed is still the failing step's.
    /// Without the `cleanup` step, or after `keep`, the tree stays.
    #[test]
    fn an_armed_cleanup_removes_the_tree_when_a_step_fails_and_keep_disarms_it() {
        let armed = run_alone(unzip_then(Script::new("uv").cleanup("tmp")));
        let unarmed = run_alone(unzip_then(Script::new("uv")));
        let kept = run_alone(
            Script::new("uv")
                .cleanup("tmp")
                .write_tree("tmp", &[("b.py", b"2".as_slice())], WriteHow::InPlace)
                .keep("tmp")
                .rename("gone", "x"),
        );
        assert_eq!(armed.0, JobEnd::Exited(1));
        assert!(!armed.2, "the armed tree is removed");
        assert_eq!(armed.1, unarmed.1, "the failing step's line is printed");
        assert!(armed.1.is_some());
        assert_eq!(unarmed.0, JobEnd::Exited(1));
        assert!(unarmed.2, "without a clean-up the tree stays");
        assert_eq!(kept.0, JobEnd::Exited(1));
        assert!(kept.2, "a kept tree stays");
    }

    /// A clean-up goes with the end of the scope, not only with an error:
    /// a script that ends, or stops at a satisfied marker, with the tree
    /// still armed removes it; a removal that fails (the tree was never
    /// made) is ignored and leaves the exit status alone.
    #[test]
    fn an_armed_cleanup_runs_at_every_end_and_its_errors_are_ignored() {
        let ended = run_alone(Script::new("uv").cleanup("tmp").write_tree(
            "tmp",
            &[("b.py", b"2".as_slice())],
            WriteHow::InPlace,
        ));
        assert_eq!((ended.0, ended.2), (JobEnd::Exited(0), false));
        let skipped = run_alone(
            Script::new("uv")
                .write("done", b"1", WriteHow::InPlace)
                .cleanup("tmp")
                .write_tree("tmp", &[("b.py", b"2".as_slice())], WriteHow::InPlace)
                .skip_if_exists("done"),
        );
        assert_eq!((skipped.0, skipped.2), (JobEnd::Exited(0), false));
        let never_made = run_alone(Script::new("uv").cleanup("tmp").makedirs("lib"));
        assert_eq!(never_made, (JobEnd::Exited(0), None, false));
    }
}
