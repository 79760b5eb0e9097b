//! `staged-merge`: the staged copy with a cp that merges and replaces.

use super::{InstallContext, Pipeline, Strategy};
use crate::error::Result;
use crate::job::{CpOnExist, Job};
use crate::scenario::Package;

/// The staged copy with `cp -Rp --remove-destination STAGE/. PREFIX`, patched
/// so that `mkdir` EEXIST on what `lstat` then shows to be a directory merges
/// into it (what rsync's generator and `mkdir -p` do).
///
/// The model follows GNU coreutils `copy.c` for everything else: an existing
/// destination file, found by `stat` under a pre-existing (or merged)
/// directory, is unlinked (ENOENT ignored) and created again with
/// `O_WRONLY|O_CREAT|O_EXCL`; under a directory cp created itself there is no
/// `stat` and the file is opened `O_EXCL` directly. Unpatched GNU cp with
/// `--remove-destination` still fails ticket 32361 exactly like plain
/// `cp -Rp`: the `__pycache__` mkdir happens under a directory cp created,
/// where it never looks first.
///
/// What it implies for 32361: the importer's `__pycache__` is merged into
/// and its `.pyc` files are replaced by the staged ones; but between cp's
/// `stat`/`unlink` and its `open(O_EXCL)` the importer may `rename` its
/// `.pyc` into place, and then cp fails with `cannot create regular file`.
/// A narrower window than the mkdir race, not a closed one.
#[derive(Debug, Clone, Copy, Default)]
pub struct StagedMerge;

impl Strategy for StagedMerge {
    fn name(&self) -> &str {
        "staged-merge"
    }

    fn summary(&self) -> &str {
        "staged copy with `cp -Rp --remove-destination`, patched to merge into directories that appeared meanwhile"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Pipeline::copy_job(package, ctx, package.compile, CpOnExist::Replace)
    }
}
