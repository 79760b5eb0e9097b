//! [`Writing`]: a file write of the kit ([`WriteFile`]) driven by a job,
//! one op at a time, keyed by its progress alone.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::kit::{Next, Primitive, WriteFile};
use crate::op::{Op, OpResult};

/// A [`WriteFile`] in progress inside a job whose own position (its phase
/// and index) names the file, its content and the way it is written: its
/// state key is the write's progress alone, as the job's own
/// `open`/`write`/`close` states were before it drove the kit's write.
#[derive(Debug, Clone)]
pub struct Writing(WriteFile);

/// How a [`Writing`] went on after an op's result.
pub enum Written {
    /// The write offers this op, and is still in progress.
    Op(Op, Writing),
    /// Finished: the file is written.
    Done,
    /// Failed: this errno on this path (the target, for a failed rename,
    /// as Python's `os.replace` names it in its OSError; else the file
    /// written).
    Failed(crate::op::Errno, Arc<str>),
}

impl Hash for Writing {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.progress_key().hash(state);
    }
}

impl Writing {
    /// Starts `write`: its first op (its `open`).
    pub fn start(write: WriteFile) -> (Op, Writing) {
        match Writing(write).next() {
            Written::Op(op, writing) => (op, writing),
            Written::Done | Written::Failed(..) => {
                unreachable!("a file write starts with its open")
            }
        }
    }

    /// Hands the write the result of the op it offered (whose path is
    /// `done`, moved into the next op), and says what comes next.
    pub fn complete(mut self, done: Arc<str>, result: &OpResult) -> Written {
        let next = self.0.advance(done, result);
        self.then(next)
    }

    fn next(mut self) -> Written {
        let next = self.0.next(&|_| None);
        self.then(next)
    }

    fn then(self, next: Next) -> Written {
        match next {
            Next::Op(op) => Written::Op(op, self),
            Next::Done => Written::Done,
            Next::Fail(failure) => {
                let path = failure.to.unwrap_or(failure.path);
                Written::Failed(failure.errno, path)
            }
            Next::Wait(_) | Next::Skip => unreachable!("a file write neither waits nor skips"),
        }
    }
}
