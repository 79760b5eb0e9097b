//! Install strategies: how a package's payload reaches the prefix.
//!
//! A [`Strategy`] turns a package into the job that installs it. Built in:
//! [`StagedCopy`] (pip into a private staging root, then GNU `cp -Rp`, as
//! SageMath did before ticket 32361) and [`DirectInstall`] (pip straight into
//! the prefix, the fix). Users add their own by implementing the trait.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::execution::execute;
use crate::fs::{Fs, ModelFs};
use crate::job::{CpJob, CpPlan, Job, PipFile, PipJob, PipPlan};
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
}

/// How a payload reaches the prefix.
pub trait Strategy: Send + Sync {
    /// The name used on the command line, e.g. `staged-copy`.
    fn name(&self) -> &str;

    /// One line saying what the strategy does.
    fn summary(&self) -> &str;

    /// The job that installs `package`.
    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>>;
}

/// The temporary-name id pip and CPython use for a job (stands in for `id(path)`).
pub fn python_object_id(job_index: usize) -> u64 {
    139_942_233_284_656 + job_index as u64 * 4_096
}

/// The pip plan for installing `package` into the prefix of `ctx`.
pub fn pip_plan(package: &Package, ctx: &InstallContext<'_>) -> PipPlan {
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
    let dist_info = package.dist_info();
    PipPlan::new(
        files,
        &ctx.scenario.python_tag,
        python_object_id(ctx.job_index),
        dist_info.as_deref(),
        &ctx.scenario.prefix,
        package.compile,
    )
}

/// pip straight into the prefix (pip 21.1.2 semantics).
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
        let plan = Arc::new(pip_plan(package, ctx));
        Ok(Box::new(PipJob::new(
            format!("pip[{}]", package.name),
            plan,
        )))
    }
}

/// pip into a private staging root, then `cp -Rp STAGE/. PREFIX` (GNU cp semantics).
#[derive(Debug, Clone, Copy, Default)]
pub struct StagedCopy;

/// Builds the private staging tree of `package`: pip runs alone, serially, so
/// the staged tree holds compiled bytecode and pip's inode order (sources
/// first, `__pycache__` last). Payload directories and symlinks are added after.
pub fn build_stage(package: &Package, ctx: &InstallContext<'_>) -> Result<ModelFs> {
    let plan = Arc::new(pip_plan(package, ctx));
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

impl StagedCopy {
    /// How the staging root is printed: `$SAGE_BUILD_DIR/<pkg>/inst$SAGE_LOCAL/.`.
    pub fn stage_display(package: &Package, scenario: &Scenario) -> String {
        let pkg = if package.version.is_empty() {
            package.name.clone()
        } else {
            format!("{}-{}", package.name, package.version)
        };
        format!(
            "{}/var/tmp/sage/build/{pkg}/inst{}/.",
            scenario.prefix, scenario.prefix
        )
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
        let stage = build_stage(package, ctx)?;
        let plan = CpPlan::from_stage(
            &stage,
            &format!("{}/.", ctx.scenario.prefix),
            &Self::stage_display(package, ctx.scenario),
        );
        Ok(Box::new(CpJob::new(
            format!("cp[{}]", package.name),
            Arc::new(plan),
        )))
    }
}

/// The built-in strategies, in the order `--strategy all` runs them.
pub fn builtin_strategies() -> Vec<Arc<dyn Strategy>> {
    vec![Arc::new(StagedCopy), Arc::new(DirectInstall)]
}

/// Looks up a built-in strategy by name.
pub fn builtin_strategy(name: &str) -> Result<Arc<dyn Strategy>> {
    builtin_strategies()
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            let names: Vec<String> = builtin_strategies()
                .iter()
                .map(|s| s.name().to_string())
                .collect();
            Error::Usage(format!(
                "unknown strategy {name:?}: expected {} or all",
                names.join(", ")
            ))
        })
}
