//! A temporary tree's clean-up: what a Rust `tempfile::TempDir` or a
//! Python `tempfile.TemporaryDirectory` does when it goes out of scope.
//!
//! A script arms the clean-up of a path with [`super::Action::Cleanup`]
//! and disarms it with [`super::Action::Keep`] (`TempDir::keep`, once the
//! tree has been handed on). Both steps make no syscall: they change what
//! the script does when it ends. Whenever it ends while a clean-up is
//! armed (a failing step, a satisfied marker, its last step), the job
//! removes the path before it exits, newest first, and ignores every
//! error, as `TempDir`'s `Drop` does. A job killed with `SIGKILL` runs no
//! clean-up ([`crate::job::KilledJob`]).

use std::sync::Arc;

use super::{Next, Primitive};
use crate::op::{Kind, OpResult};

/// The step that arms or disarms a clean-up: it offers no op and is done
/// at once; the script job reads its action when it settles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CleanupMark {
    path: Arc<str>,
}

impl CleanupMark {
    /// The mark for `path`.
    pub fn new(path: &Arc<str>) -> CleanupMark {
        CleanupMark { path: path.clone() }
    }

    /// The path whose clean-up the step arms or disarms.
    pub fn path(&self) -> &Arc<str> {
        &self.path
    }
}

impl Primitive for CleanupMark {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        Next::Done
    }

    fn complete(&mut self, result: &OpResult) {
        unreachable!("a clean-up mark offers no op, yet was handed {result:?}")
    }
}
