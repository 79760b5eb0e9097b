//! `pip`: pip 23 straight into the prefix, with its uninstall of what is
//! already there: the stash, the install, the commit.
//!
//! Recorded with pip 23.2.1 (`pip install --force-reinstall` of a wheel
//! into a venv that holds it, docs/fidelity.md): pip moves each top-level
//! directory of the installed distribution aside onto a `~`-named sibling
//! (the kit's `stash`), installs as the pip model does (pinned against the
//! same pip by `tests/pins_pip.rs`), then removes the stash
//! (`shutil.rmtree`). When the install fails it renames the stash back.
//! Nothing installed is nothing to stash. The directories are the new
//! wheel's top-level ones, the `.dist-info` first, as recorded.

use std::sync::Arc;

use super::{pip_plan, InstallContext, Strategy};
use crate::error::Result;
use crate::job::{Job, PipJob, ScriptJob, SequenceJob};
use crate::kit::{stash_names, RemoveStyle, Script};
use crate::scenario::Package;

/// pip 23: uninstall (stash), install, commit; rollback on failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct PipReinstall;

/// The top-level directories of `package` under `site_packages`, the
/// `.dist-info` first.
fn top_level_dirs(package: &Package, site_packages: &str) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for entry in &package.payload {
        let Some(rest) = entry.path.strip_prefix(site_packages) else {
            continue;
        };
        let rest = rest.trim_start_matches('/');
        if let Some((top, _)) = rest.split_once('/') {
            let dir = format!("{site_packages}/{top}");
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs.sort_by_key(|d| !d.ends_with(".dist-info"));
    dirs
}

impl Strategy for PipReinstall {
    fn name(&self) -> &str {
        "pip"
    }

    fn summary(&self) -> &str {
        "pip 23 straight into the prefix: stash what is installed, install, remove the stash"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        let dirs = top_level_dirs(package, &ctx.scenario.site_packages);
        let label = format!("pip[{}]", package.name);
        let prefix = &ctx.scenario.prefix;
        let stashes: Vec<String> = dirs
            .iter()
            .map(|d| {
                stash_names(d)
                    .first()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            })
            .collect();
        let mut uninstall = Script::new("pip");
        let mut commit = Script::new("pip");
        let mut rollback = Script::new("pip");
        for (dir, stash) in dirs.iter().zip(&stashes) {
            uninstall = uninstall.stash(dir);
            commit = commit.remove(stash, RemoveStyle::Rmtree).ignoring_errors();
            rollback = rollback
                .remove(dir, RemoveStyle::Rmtree)
                .ignoring_errors()
                .rename(stash, dir)
                .ignoring_errors();
        }
        let part = |script: Script| -> Box<dyn Job> {
            Box::new(ScriptJob::new(label.clone(), Arc::new(script), prefix))
        };
        let install = Box::new(PipJob::new(label.clone(), Arc::new(pip_plan(package, ctx))));
        Ok(Box::new(SequenceJob::new(
            label.clone(),
            "pip",
            vec![part(uninstall), install, part(commit)],
            Some(part(rollback)),
        )))
    }
}
