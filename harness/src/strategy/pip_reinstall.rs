//! `pip`: pip 23 straight into the prefix, with its uninstall of what is
//! already there: the uninstall, the install, the commit.
//!
//! Recorded with pip 23.2.1 (`pip install --force-reinstall` of a wheel
//! into a venv that holds it, docs/fidelity.md): pip finds the installed
//! distribution (a listing of site-packages, the `METADATA` of each
//! `.dist-info`), reads its `RECORD`, and moves what it owns aside: whole
//! directories onto `~`-named siblings, single files into a temporary
//! directory (the kit's [`crate::kit::PipUninstall`], pinned by
//! `tests/pins_pip_reinstall.rs`). It then installs as the pip model does
//! (pinned against the same pip by `tests/pins_pip.rs`), then removes the
//! stash (`shutil.rmtree`). When the install fails it moves the stash back.
//! No `.dist-info` of the name is nothing to uninstall; one without
//! `RECORD` is pip's refusal, before anything is installed.

use std::sync::Arc;

use super::{pip_plan, InstallContext, Strategy};
use crate::error::Result;
use crate::job::{Job, PipJob, UninstallFirstJob};
use crate::kit::PipUninstall;
use crate::scenario::Package;

/// The distribution's name as its `.dist-info` spells it
/// (`{name}-{version}.dist-info`), else the package's.
fn distribution_name(package: &Package) -> String {
    package
        .dist_info()
        .and_then(|dir| {
            let (_, name) = crate::fs::split_parent(&dir);
            name.split_once('-').map(|(n, _)| n.to_string())
        })
        .unwrap_or_else(|| package.name.clone())
}

/// pip 23: uninstall (stash), install, commit; rollback on failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct PipReinstall;

impl Strategy for PipReinstall {
    fn name(&self) -> &str {
        "pip"
    }

    fn summary(&self) -> &str {
        "pip 23 straight into the prefix: stash what is installed, install, remove the stash"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        let label = format!("pip[{}]", package.name);
        let scenario = ctx.scenario;
        let uninstall = PipUninstall::new(
            &scenario.site_packages,
            &distribution_name(package),
            &scenario.python_tag,
            &match ctx.rerun {
                false => format!("{label}#{}", ctx.job_index),
                true => format!("{label}#{}/rerun", ctx.job_index),
            },
        );
        let plan = pip_plan(package, ctx).recording_metadata();
        let install = Box::new(PipJob::new(label.clone(), Arc::new(plan)));
        Ok(Box::new(UninstallFirstJob::new(
            label,
            &scenario.prefix,
            uninstall,
            install,
        )))
    }
}
