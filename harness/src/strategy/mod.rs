//! Install strategies: how a package's payload reaches the prefix.
//!
//! A [`Strategy`] turns a package into the job that installs it. Built in,
//! one file each, in the order `--strategy all` runs them:
//! - [`StagedCopy`]: pip into a private staging root, then GNU `cp -Rp`, as
//!   SageMath did before ticket 32361;
//! - [`DirectInstall`]: pip straight into the prefix, the fix;
//! - [`StagedMerge`]: the staged copy with a cp patched to merge into
//!   directories that appeared meanwhile and to replace files
//!   (`--remove-destination`);
//! - [`AtomicRename`]: every file written to a temporary name in its
//!   directory, then renamed into place (uv, rsync);
//! - [`LockedStagedCopy`]: the staged copy under an exclusive prefix lock;
//! - [`ImageThenMerge`]: Gentoo portage's image build, collision check and
//!   file-by-file merge under its database lock.
//!
//! Maintainers compose variants without Rust in a scenario's `[[strategy]]`
//! tables ([`DeclaredStrategy`], built from the same steps as a
//! [`Pipeline`]), or from typed [`Step`]s in code
//! ([`DeclaredStrategy::from_steps`], checked by the same rules); anything
//! else implements the trait.

mod atomic_rename;
mod declarative;
mod direct_install;
mod image_then_merge;
mod locked_staged_copy;
mod pip_reinstall;
mod pipeline;
mod pypa_installer;
mod registry;
mod staged_copy;
mod staged_merge;
mod step;
mod uv_hardlink;
mod uv_install;

/// The options of the `copy` and `merge` steps.
pub use crate::job::{Collision, CpOnExist};
pub use atomic_rename::AtomicRename;
pub use declarative::{parse_declared, DeclaredStrategy};
pub use direct_install::DirectInstall;
pub use image_then_merge::ImageThenMerge;
pub use locked_staged_copy::LockedStagedCopy;
pub use pip_reinstall::PipReinstall;
pub use pipeline::{Delivery, Pipeline};
pub use pypa_installer::PypaInstaller;
pub use registry::{
    builtin_strategies, builtin_strategy, named_strategies, reserved_names, scenario_strategies,
    scenario_strategy,
};
pub use staged_copy::StagedCopy;
pub use staged_merge::StagedMerge;
pub use step::{Step, STEP_NAMES};
pub use uv_hardlink::{UvHardlink, UvLinkMode};
pub use uv_install::UvInstall;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::execution::execute;
use crate::fs::{Fs, ModelFs};
use crate::job::{Job, PipFile, PipJob, PipPlan};
use crate::op::Op;
use crate::scenario::{Package, PayloadKind, Scenario};
use crate::schedule::SerialScheduler;

/// Where and as what a package is installed.
#[derive(Debug, Clone, Copy)]
pub struct InstallContext<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The index of the job being built, unique within the execution.
    pub job_index: usize,
    /// True when the job is built for the rerun after a crash
    /// ([`crate::crash`]): another process, so other random temporary
    /// names (see [`InstallContext::object_id`]).
    pub rerun: bool,
}

impl InstallContext<'_> {
    /// The temporary-name id pip and CPython use in this job's process
    /// ([`python_object_id`]); a rerun is a new process, with another one.
    pub fn object_id(&self) -> u64 {
        python_object_id(self.job_index) + if self.rerun { RERUN_ID_OFFSET } else { 0 }
    }
}

/// How far a rerun's object ids lie from the first run's: an id is an
/// address, and a new process puts its objects elsewhere.
const RERUN_ID_OFFSET: u64 = 1 << 32;

/// How a payload reaches the prefix.
pub trait Strategy: Send + Sync {
    /// The name used on the command line, e.g. `staged-copy`.
    fn name(&self) -> &str;

    /// One line saying what the strategy does.
    fn summary(&self) -> &str;

    /// The job that installs `package`.
    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>>;

    /// True for a path the strategy keeps for its own bookkeeping (portage's
    /// package database). Such paths are left out when the reference trees
    /// of different strategies are compared; they still count within one.
    fn is_bookkeeping(&self, _path: &str) -> bool {
        false
    }
}

/// The temporary-name id pip and CPython use for a job (stands in for `id(path)`).
pub fn python_object_id(job_index: usize) -> u64 {
    139_942_233_284_656 + job_index as u64 * 4_096
}

/// The pip plan for installing `package` into the prefix of `ctx`,
/// byte-compiling when the package asks for it (pip's default).
pub fn pip_plan(package: &Package, ctx: &InstallContext<'_>) -> PipPlan {
    pip_plan_compiling(package, ctx, package.compile)
}

/// The job that lays `package` down in the initial prefix: pip 21.1.2
/// straight into it (as `direct-install`), its `RECORD` listing the
/// metadata files and itself as a real pip's does, so that a later pip 23
/// uninstall ([`PipReinstall`]) finds every file of the `.dist-info` in it.
pub fn seed_job(package: &Package, ctx: &InstallContext<'_>) -> Box<dyn Job> {
    let plan = pip_plan(package, ctx).recording_metadata();
    Box::new(crate::job::PipJob::new(
        format!("pip[{}]", package.name),
        Arc::new(plan),
    ))
}

/// The pip plan for `package`, byte-compiling only when `compile` is true.
pub fn pip_plan_compiling(package: &Package, ctx: &InstallContext<'_>, compile: bool) -> PipPlan {
    let files: Vec<PipFile> = package
        .payload
        .iter()
        .filter_map(|e| match &e.kind {
            PayloadKind::File(blob) => Some(PipFile {
                path: e.path.clone(),
                blob: blob.clone(),
                executable: e.is_executable(),
            }),
            _ => None,
        })
        .collect();
    let scripts = console_scripts(package, ctx.scenario);
    let dist_info = package.dist_info();
    PipPlan::new(
        files,
        scripts,
        &ctx.scenario.python_tag,
        ctx.object_id(),
        dist_info.as_deref(),
        &ctx.scenario.prefix,
        compile,
    )
}

/// The console scripts pip writes for `package` under the prefix's `bin/`,
/// with the shebang of the prefix's interpreter (`PREFIX/bin/pythonX.Y`, the
/// version of the scenario's bytecode tag).
pub fn console_scripts(package: &Package, scenario: &Scenario) -> Vec<PipFile> {
    let version = crate::scenario::PythonVersion::from_tag(&scenario.python_tag)
        .map_or_else(|| "3".to_string(), |v| v.to_string());
    let python = format!(
        "{}/bin/python{version}",
        scenario.prefix.trim_end_matches('/')
    );
    package
        .scripts
        .iter()
        .map(|entry| PipFile {
            path: format!("bin/{}", entry.name).into(),
            blob: crate::content::Blob::new(entry.script(&python)),
            executable: true,
        })
        .collect()
}

/// Builds the private staging tree of `package`: pip runs alone, serially, so
/// the staged tree holds compiled bytecode and pip's inode order (sources
/// first, `__pycache__` last). Payload directories and symlinks are added after.
pub fn build_stage(package: &Package, ctx: &InstallContext<'_>) -> Result<ModelFs> {
    build_stage_compiling(package, ctx, package.compile)
}

/// [`build_stage`], byte-compiling into the stage only when `compile` is true.
pub fn build_stage_compiling(
    package: &Package,
    ctx: &InstallContext<'_>,
    compile: bool,
) -> Result<ModelFs> {
    let plan = Arc::new(pip_plan_compiling(package, ctx, compile));
    let job: Box<dyn Job> = Box::new(PipJob::new(
        format!("pip[{}] (staging)", package.name),
        plan,
    ));
    let mut stage = ModelFs::new();
    let trace = execute(
        vec![job],
        &[vec![]],
        &mut stage,
        &mut SerialScheduler,
        false,
    );
    if let Some(outcome) = trace.outcomes.iter().find(|o| o.failed()) {
        let msg = outcome
            .diagnostics
            .first()
            .map(|(d, _)| d.message.clone())
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "staging {} failed: {msg}",
            package.name
        )));
    }
    for e in &package.payload {
        let op = match &e.kind {
            PayloadKind::Dir => Op::Mkdir {
                path: e.path.clone(),
                mode: e.mode,
            },
            PayloadKind::Symlink(target) => Op::Symlink {
                target: target.clone(),
                path: e.path.clone(),
            },
            PayloadKind::File(_) => continue,
        };
        let mut parents = Vec::new();
        let mut p = crate::fs::parent_of(&e.path);
        while !p.is_empty() {
            parents.push(p);
            p = crate::fs::parent_of(p);
        }
        for dir in parents.into_iter().rev() {
            let _ = stage.apply(&Op::Mkdir {
                path: dir.into(),
                mode: 0o755,
            });
        }
        stage.apply(&op).map_err(|errno| {
            Error::Usage(format!("staging {}: {op} failed: {errno}", package.name))
        })?;
        if matches!(e.kind, PayloadKind::Dir) {
            let _ = stage.apply(&Op::Chmod {
                path: e.path.clone(),
                mode: e.mode,
            });
        }
    }
    Ok(stage)
}

/// How the staging root is printed: `$SAGE_BUILD_DIR/<pkg>/inst$SAGE_LOCAL/.`.
pub fn stage_display(package: &Package, scenario: &Scenario) -> String {
    format!(
        "{}/var/tmp/sage/build/{}/inst{}/.",
        scenario.prefix,
        package_id(package),
        scenario.prefix
    )
}

/// `NAME-VERSION`, or `NAME` when the version is unknown.
pub fn package_id(package: &Package) -> String {
    if package.version.is_empty() {
        package.name.clone()
    } else {
        format!("{}-{}", package.name, package.version)
    }
}
