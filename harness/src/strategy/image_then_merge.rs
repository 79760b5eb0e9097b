//! `image-then-merge`: Gentoo portage's image build and collision-checked merge.

use super::{InstallContext, Pipeline, Strategy};
use crate::error::Result;
use crate::job::{Collision, Job};
use crate::scenario::Package;

/// Builds the package into an image (the staging root, bytecode compiled as
/// `python_optimize` does), then merges it the way portage's
/// `dblink.treewalk` does, under the package-database lock: a
/// `FEATURES=protect-owned` collision check against the other packages'
/// `CONTENTS`, then directories created with an unguarded `os.mkdir` and
/// files replaced atomically via `DEST#new` (see
/// [`crate::job::ImageMergeJob`]).
///
/// Weak points: a file two packages both ship is a collision and the second
/// package is refused in every order, serial too (Gentoo moves such files,
/// like `backports/__init__.py`, into a package of their own). And the
/// unguarded `os.mkdir` races an importer that creates `__pycache__` between
/// portage's `lstat` and its `mkdir`: `OSError: [Errno 17] File exists`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageThenMerge;

impl Strategy for ImageThenMerge {
    fn name(&self) -> &str {
        "image-then-merge"
    }

    fn summary(&self) -> &str {
        "portage: build an image, check collisions against other packages' CONTENTS, merge file by file under the vdb lock"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Ok(Pipeline::locked(Pipeline::merge_job(
            package,
            ctx,
            package.compile,
            Collision::ProtectOwned,
        )?))
    }

    fn is_bookkeeping(&self, path: &str) -> bool {
        path == "var/db/pkg" || path.starts_with("var/db/pkg/") || path == "var/db" || path == "var"
    }
}
