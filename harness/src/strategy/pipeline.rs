//! The building blocks every strategy is made of, and their composition.
//!
//! A [`Pipeline`] is what a declarative strategy compiles to: optionally a
//! prefix lock, optionally a private staging root, optionally byte
//! compilation, and one way of delivering the files ([`Delivery`]). The
//! built-in strategies call the same constructors ([`Pipeline::write_job`],
//! [`Pipeline::copy_job`], [`Pipeline::merge_job`], [`Pipeline::locked`]), so a
//! declared twin of a built-in strategy runs exactly the same jobs.

use std::sync::Arc;

use super::{build_stage_compiling, package_id, pip_plan_compiling, stage_display, InstallContext};
use crate::error::Result;
use crate::fs::{Fs, ModelFs, Tree};
use crate::job::{
    vdb_dir, AtomicWriteJob, Collision, CpJob, CpKind, CpOnExist, CpPlan, ImageMergeJob,
    ImageMergePlan, Job, LockedJob, PipJob,
};
use crate::op::Kind;
use crate::scenario::Package;

/// How the files reach the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// pip writes the wheel's files straight into the prefix: in place
    /// (pip 21.1.2) or, with `atomic`, each via a temporary name and `rename`.
    Write {
        /// Temporary name + rename instead of unlink + write in place.
        atomic: bool,
    },
    /// `cp -Rp STAGE/. PREFIX` with a policy for existing destinations.
    Copy {
        /// What cp does when a destination exists.
        on_exist: CpOnExist,
    },
    /// Portage's collision check and file-by-file merge of the staged image.
    Merge {
        /// What counts as a collision.
        collision: Collision,
    },
}

impl Delivery {
    /// True when the files come from a staging root.
    pub fn needs_stage(self) -> bool {
        !matches!(self, Delivery::Write { .. })
    }
}

/// A strategy as a composition of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    /// Hold the exclusive prefix lock for the whole install.
    pub lock: bool,
    /// Byte-compile (into the stage, or in the prefix after writing).
    pub compile: bool,
    /// How the files reach the prefix.
    pub delivery: Delivery,
}

impl Pipeline {
    /// The job installing `package` under this composition.
    pub fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        let compile = self.compile && package.compile;
        let job = match self.delivery {
            Delivery::Write { atomic } => Self::write_job(package, ctx, compile, atomic)?,
            Delivery::Copy { on_exist } => Self::copy_job(package, ctx, compile, on_exist)?,
            Delivery::Merge { collision } => Self::merge_job(package, ctx, compile, collision)?,
        };
        Ok(if self.lock { Self::locked(job) } else { job })
    }

    /// pip into the prefix, in place or atomically.
    pub fn write_job(
        package: &Package,
        ctx: &InstallContext<'_>,
        compile: bool,
        atomic: bool,
    ) -> Result<Box<dyn Job>> {
        let plan = Arc::new(pip_plan_compiling(package, ctx, compile));
        Ok(if atomic {
            Box::new(AtomicWriteJob::new(
                format!("install[{}]", package.name),
                plan,
                ctx.object_id(),
            ))
        } else {
            Box::new(PipJob::new(format!("pip[{}]", package.name), plan))
        })
    }

    /// pip into a staging root, then `cp -Rp` with the `on_exist` policy.
    pub fn copy_job(
        package: &Package,
        ctx: &InstallContext<'_>,
        compile: bool,
        on_exist: CpOnExist,
    ) -> Result<Box<dyn Job>> {
        let stage = build_stage_compiling(package, ctx, compile)?;
        let plan = CpPlan::from_stage(
            &stage,
            &format!("{}/.", ctx.scenario.prefix),
            &stage_display(package, ctx.scenario),
        )
        .with_on_exist(on_exist);
        Ok(Box::new(CpJob::new(
            format!("cp[{}]", package.name),
            Arc::new(plan),
        )))
    }

    /// Build an image (the staging root), then merge it the way portage does.
    pub fn merge_job(
        package: &Package,
        ctx: &InstallContext<'_>,
        compile: bool,
        collision: Collision,
    ) -> Result<Box<dyn Job>> {
        let stage = build_stage_compiling(package, ctx, compile)?;
        let image = CpPlan::from_ordered(
            name_ordered(&stage),
            &ctx.scenario.prefix,
            &stage_display(package, ctx.scenario),
        );
        let others = ctx
            .scenario
            .packages
            .iter()
            .filter(|p| p.name != package.name)
            .map(|p| format!("{}/CONTENTS", vdb_dir(&p.name)).into())
            .collect();
        let plan = ImageMergePlan {
            package: package_id(package),
            image,
            vdb_dir: vdb_dir(&package.name).into(),
            others,
            collision,
            prefix_display: ctx.scenario.prefix.clone(),
        };
        Ok(Box::new(ImageMergeJob::new(
            format!("merge[{}]", package.name),
            Arc::new(plan),
        )))
    }

    /// `job` under the exclusive prefix lock.
    pub fn locked(job: Box<dyn Job>) -> Box<dyn Job> {
        Box::new(LockedJob::new(job))
    }
}

/// The staged tree, pre-order, the entries of each directory in name order.
fn name_ordered(stage: &ModelFs) -> Vec<(Arc<str>, CpKind, u32)> {
    fn visit(stage: &ModelFs, tree: &Tree, dir: &str, out: &mut Vec<(Arc<str>, CpKind, u32)>) {
        for (name, _) in stage.children(dir) {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            let Some(entry) = tree.get(&path) else {
                continue;
            };
            let kind = match entry.kind {
                Kind::Dir => CpKind::Dir,
                Kind::File => CpKind::File(crate::content::Blob::new(
                    stage
                        .content(&path)
                        .map(|c| c.to_bytes())
                        .unwrap_or_default(),
                )),
                Kind::Symlink => CpKind::Symlink(entry.target.clone().unwrap_or_default().into()),
            };
            out.push((path.as_str().into(), kind, entry.mode));
            if entry.kind == Kind::Dir {
                visit(stage, tree, &path, out);
            }
        }
    }
    let tree = stage.tree();
    let mut out = Vec::new();
    visit(stage, &tree, "", &mut out);
    out
}
