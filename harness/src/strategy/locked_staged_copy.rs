//! `locked-staged-copy`: the staged copy under an exclusive prefix lock.

use super::{InstallContext, Pipeline, Strategy};
use crate::error::Result;
use crate::job::{CpOnExist, Job};
use crate::scenario::Package;

/// The staged copy (`cp -Rp`), each copy holding an exclusive lock on the
/// prefix, as `sage-flock` would give it (modelled by
/// [`crate::job::LockedJob`]: an atomic `mkdir` lock directory).
///
/// What the lock protects: two installers never interleave, so two staged
/// copies sharing a directory (`backports/`, ticket 29585) run one after the
/// other and the second merges into the first's tree.
/// What it does not: an importer takes no lock, so ticket 32361 happens
/// exactly as without it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LockedStagedCopy;

impl Strategy for LockedStagedCopy {
    fn name(&self) -> &str {
        "locked-staged-copy"
    }

    fn summary(&self) -> &str {
        "staged copy with `cp -Rp` under an exclusive prefix lock (sage-flock); importers take no lock"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Ok(Pipeline::locked(Pipeline::copy_job(
            package,
            ctx,
            package.compile,
            CpOnExist::Fail,
        )?))
    }
}
