//! A job that has already ended, standing in for it when an execution is
//! continued from the middle (after a crash point).

use crate::job::{Diagnostic, Job, Offer};
use crate::op::{Kind, Op, OpResult};

/// Exits at once with the status the job it stands for ended with.
#[derive(Clone)]
pub(crate) struct EndedJob {
    label: String,
    program: &'static str,
    code: i32,
}

impl EndedJob {
    /// Stands for `job`, which exited with `code`.
    pub(crate) fn new(job: &dyn Job, code: i32) -> EndedJob {
        EndedJob {
            label: job.label().to_string(),
            program: job.program(),
            code,
        }
    }
}

impl Job for EndedJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        self.program
    }

    fn poll(&mut self, _: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        Offer::Exit(self.code)
    }

    fn offered(&self) -> &Op {
        unreachable!("an ended job offers no op")
    }

    fn complete(&mut self, _: &OpResult) {
        unreachable!("an ended job runs no op")
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &[]
    }
}
