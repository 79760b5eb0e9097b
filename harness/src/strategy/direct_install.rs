//! `direct-install`: pip straight into the prefix (the fix of ticket 32361).

use super::{InstallContext, Pipeline, Strategy};
use crate::error::Result;
use crate::job::Job;
use crate::scenario::Package;

/// pip straight into the prefix (pip 21.1.2 semantics).
///
/// Weak point: files are unlinked and rewritten in place, so a concurrent
/// importer may read a half-written `.py` (a stale-bytecode note at worst:
/// pip's compile step replaces the importer's `.pyc` atomically).
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectInstall;

impl Strategy for DirectInstall {
    fn name(&self) -> &str {
        "direct-install"
    }

    fn summary(&self) -> &str {
        "pip 21.1.2 installs the wheel straight into the shared prefix"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Pipeline::write_job(package, ctx, package.compile, false)
    }
}
