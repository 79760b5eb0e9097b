//! One `chmod(path, mode)`: an executable made executable after it was
//! written.

use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::op::{Kind, Op, OpResult};

/// A `chmod` in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chmod {
    path: Arc<str>,
    mode: u32,
    outcome: Option<Option<Failure>>,
}

impl Chmod {
    /// Starts `chmod(path, mode)`.
    pub fn new(path: &Arc<str>, mode: u32) -> Chmod {
        Chmod {
            path: path.clone(),
            mode,
            outcome: None,
        }
    }
}

impl Primitive for Chmod {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match &self.outcome {
            None => Next::Op(Op::Chmod {
                path: self.path.clone(),
                mode: self.mode,
            }),
            Some(None) => Next::Done,
            Some(Some(f)) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.outcome = Some(
            result
                .as_ref()
                .err()
                .map(|e| Failure::new("chmod", *e, &self.path)),
        );
    }
}
