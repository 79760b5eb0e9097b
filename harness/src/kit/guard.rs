//! Checks of a path before acting: skip the install when a completion
//! marker exists, wait for another process's marker, or refuse to
//! overwrite a file that is there (pypa/installer's `File already exists`).

use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::job::Condition;
use crate::op::{Errno, Kind, Op, OpResult};

/// What a guard does with the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuardKind {
    /// `lstat(marker)`: present ends the installer successfully.
    SkipIfExists,
    /// Blocks until the marker exists as a file.
    WaitFor,
    /// `stat(path)`: present fails the installer (EEXIST), as
    /// pypa/installer refuses to overwrite a file.
    FailIfExists,
    /// `stat(path)`, and on whatever it finds: a look the model does not
    /// act on (uv's check for a wheel's `.data` directory it has none of).
    Probe,
}

/// A marker check in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MarkerGuard {
    path: Arc<str>,
    kind: GuardKind,
    /// The `lstat` result: whether the marker was there.
    found: Option<bool>,
}

impl MarkerGuard {
    /// Starts a guard on the marker at `path`.
    pub fn new(path: &Arc<str>, kind: GuardKind) -> MarkerGuard {
        MarkerGuard {
            path: path.clone(),
            kind,
            found: None,
        }
    }
}

impl Primitive for MarkerGuard {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match (self.kind, self.found) {
            (GuardKind::SkipIfExists, None) => Next::Op(Op::Lstat {
                path: self.path.clone(),
            }),
            (GuardKind::SkipIfExists, Some(true)) => Next::Skip,
            (GuardKind::SkipIfExists, Some(false)) => Next::Done,
            (GuardKind::FailIfExists, None) => Next::Op(Op::Stat {
                path: self.path.clone(),
            }),
            (GuardKind::FailIfExists, Some(true)) => {
                Next::Fail(Failure::new("stat", Errno::EEXIST, &self.path))
            }
            (GuardKind::FailIfExists, Some(false)) => Next::Done,
            (GuardKind::Probe, None) => Next::Op(Op::Stat {
                path: self.path.clone(),
            }),
            (GuardKind::Probe, Some(_)) => Next::Done,
            (GuardKind::WaitFor, _) if probe(&self.path) == Some(Kind::File) => Next::Done,
            (GuardKind::WaitFor, _) => Next::Wait(Condition::Exists {
                path: self.path.to_string(),
                kind: Kind::File,
            }),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.found = Some(result.is_ok());
    }
}
