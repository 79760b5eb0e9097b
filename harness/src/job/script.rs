//! A job that runs a [`Script`]: an installer composed of the kit's
//! primitives, one after another.

use std::sync::Arc;

use super::{Diagnostic, HeldOp, Job, Offer, Step};
use crate::kit::{Next, Piece, Primitive, Script, Voice};
use crate::op::{Kind, Op, OpResult};

/// Runs a script's steps in order. The first failing step prints the
/// program's line for it and ends the job with exit 1; a satisfied
/// completion marker ends it with exit 0.
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
                return Step::Exit(code);
            }
            let Some(scripted) = self.script.steps.get(self.index) else {
                self.exit = Some(0);
                continue;
            };
            let piece = self
                .piece
                .get_or_insert_with(|| Piece::start(&scripted.action, &self.label));
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

    fn poll(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        if self.held.is_held() {
            return Offer::Op;
        }
        let step = self.next_step(probe);
        self.held.hold(step)
    }

    fn offered(&self) -> &Op {
        self.held.op()
    }

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
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
}
