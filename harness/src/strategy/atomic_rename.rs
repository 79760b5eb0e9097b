//! `atomic-rename`: every file written to a temporary name, then renamed.

use super::{InstallContext, Pipeline, Strategy};
use crate::error::Result;
use crate::job::Job;
use crate::scenario::Package;

/// Installs the wheel straight into the prefix, every file written to a
/// temporary name in its target directory and renamed over the target (see
/// [`crate::job::AtomicWriteJob`]: uv's linker, rsync without `--inplace`);
/// byte-compilation and metadata as pip.
///
/// Weak point: none for a single installer and an importer (a file appears
/// whole or not at all, directories are created with EEXIST ignored). Two
/// installers of different contents for one path still end in whichever
/// renamed last: an order-dependent tree, never an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct AtomicRename;

impl Strategy for AtomicRename {
    fn name(&self) -> &str {
        "atomic-rename"
    }

    fn summary(&self) -> &str {
        "every file written to a temporary name in its directory, then renamed into place (uv, rsync)"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Pipeline::write_job(package, ctx, package.compile, true)
    }
}
