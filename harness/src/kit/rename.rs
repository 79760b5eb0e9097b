//! One `rename(from, to)`, with an optional tolerance for a missing source.

use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::op::{Errno, Kind, Op, OpResult};

/// A rename in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rename {
    from: Arc<str>,
    to: Arc<str>,
    missing_ok: bool,
    outcome: Option<Option<Failure>>,
}

impl Rename {
    /// Starts `rename(from, to)`; with `missing_ok`, ENOENT counts as done
    /// (moving aside a target that is not there yet).
    pub fn new(from: &Arc<str>, to: &Arc<str>, missing_ok: bool) -> Rename {
        Rename {
            from: from.clone(),
            to: to.clone(),
            missing_ok,
            outcome: None,
        }
    }
}

impl Primitive for Rename {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match &self.outcome {
            None => Next::Op(Op::Rename {
                from: self.from.clone(),
                to: self.to.clone(),
            }),
            Some(None) => Next::Done,
            Some(Some(f)) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.outcome = Some(match result {
            Ok(_) => None,
            Err(Errno::ENOENT) if self.missing_ok => None,
            Err(e) => Some(Failure::between("rename", *e, &self.from, &self.to)),
        });
    }
}
