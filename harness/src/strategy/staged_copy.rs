//! `staged-copy`: pip into a private staging root, then `cp -Rp STAGE/. PREFIX`.

use super::{InstallContext, Pipeline, Strategy};
use crate::error::Result;
use crate::job::{CpOnExist, Job};
use crate::scenario::{Package, Scenario};

/// pip into a private staging root, then `cp -Rp STAGE/. PREFIX` (GNU cp
/// semantics), as SageMath's `sage-spkg` did before ticket 32361.
///
/// Weak point: cp does not stat entries under a directory it created, so a
/// `__pycache__` an importer creates meanwhile makes cp's `mkdir` fail with
/// EEXIST and cp exit 1.
#[derive(Debug, Clone, Copy, Default)]
pub struct StagedCopy;

impl StagedCopy {
    /// How the staging root is printed: `$SAGE_BUILD_DIR/<pkg>/inst$SAGE_LOCAL/.`.
    pub fn stage_display(package: &Package, scenario: &Scenario) -> String {
        super::stage_display(package, scenario)
    }
}

impl Strategy for StagedCopy {
    fn name(&self) -> &str {
        "staged-copy"
    }

    fn summary(&self) -> &str {
        "pip installs into a private staging root (bytecode compiled), then `cp -Rp STAGE/. PREFIX`"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Pipeline::copy_job(package, ctx, package.compile, CpOnExist::Fail)
    }
}
