//! `uv-hardlink` and `uv-clone`: `uv pip install` hard-linking the wheel's
//! files from its cache, under its prefix lock, written on the kit
//! ([`crate::kit`]).
//!
//! uv 0.13.9, recorded under strace on this machine (`tests/pins_uv.rs`
//! compares the calls; `docs/fidelity.md` has the recordings):
//! - `fs::create_dir_all` of site-packages (the prefix's scheme);
//! - the prefix lock: `.lock` in the prefix, opened (created through a
//!   temporary file and `renameat2(RENAME_NOREPLACE)` when missing) and
//!   `flock(LOCK_EX)`ed; a second uv waits for it. Modelled as
//!   `open(O_WRONLY|O_CREAT)` + `flock`: the same one lock file and the
//!   same order whoever comes first;
//! - the walk: `create_dir_all` of site-packages again and of each
//!   directory, and `linkat(cache file, target)` for each file
//!   ([`crate::kit::LinkFromStore`]: on `EEXIST` a link in a temporary
//!   directory renamed over the target); RECORD alone is copied in
//!   place (`open(O_TRUNC)` + `copy_file_range`), since uv rewrites it
//!   and a rewrite through a link would change the cache;
//! - the look for `.data`, REQUESTED, `direct_url.json`, `uv_cache.json`
//!   and INSTALLER through a `tempfile` each, RECORD rewritten in place;
//! - `flock(LOCK_UN)`, modelled as the close that releases it (the
//!   kernel releases it at exit anyway).
//!
//! `--link-mode clone`, and uv's default on Linux, try a reflink first:
//! on this machine's ext4 the first file's `ioctl(FICLONE)` fails with
//! `EOPNOTSUPP`, uv removes the file it made for the clone and links
//! every file instead. `uv-clone` is that: the `O_EXCL` open of the first
//! file, its `unlink`, then `uv-hardlink`'s calls (the `ioctl` itself
//! changes nothing on a filesystem without reflinks and is not an op).
//!
//! The cache is modelled inside the prefix's filesystem, under
//! [`CACHE_DIR`] (one archive per job, made by the job before it takes
//! the lock, as a warm cache stands); it and `.lock` are bookkeeping.

use std::sync::Arc;

use super::{InstallContext, Strategy};
use crate::content::Blob;
use crate::error::Result;
use crate::fs::parent_of;
use crate::job::{Job, ScriptJob};
use crate::kit::{Action, LockKind, Script, WriteHow};
use crate::scenario::{Package, PayloadKind};

/// Where the model keeps uv's cache: a directory of the prefix root.
pub const CACHE_DIR: &str = ".uv-cache";

/// The prefix lock uv takes.
pub const UV_PREFIX_LOCK: &str = ".lock";

/// uv's link mode, as `--link-mode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UvLinkMode {
    /// `--link-mode hardlink`.
    #[default]
    Hardlink,
    /// `--link-mode clone` (and the default on Linux): a reflink tried
    /// on the first file, refused, then hard links.
    CloneThenHardlink,
}

/// uv linking from its cache under its prefix lock.
#[derive(Debug, Clone, Copy, Default)]
pub struct UvHardlink {
    /// Which link mode.
    pub mode: UvLinkMode,
}

impl UvHardlink {
    /// `uv-clone`: `--link-mode clone`, uv's default on Linux.
    pub const CLONE: UvHardlink = UvHardlink {
        mode: UvLinkMode::CloneThenHardlink,
    };

    /// The script uv runs for `package` in this mode, its cache archive
    /// at `archive` (under `CACHE_DIR`).
    pub fn script(&self, package: &Package, site_packages: &str, archive: &str) -> Script {
        let files: Vec<(&Arc<str>, &Arc<Blob>)> = package
            .payload
            .iter()
            .filter_map(|e| match &e.kind {
                PayloadKind::File(blob) => Some((&e.path, blob)),
                _ => None,
            })
            .collect();
        let store = |path: &str| {
            let rel = path
                .strip_prefix(site_packages)
                .unwrap_or(path)
                .trim_start_matches('/');
            format!("{archive}/{rel}")
        };
        // The warm cache: the wheel unpacked into the archive.
        let mut script = Script::new("uv");
        let mut made: Vec<String> = Vec::new();
        for (path, blob) in &files {
            let cached = store(path);
            let dir = parent_of(&cached).to_string();
            if !made.contains(&dir) {
                script = script.create_dir_all(&dir);
                made.push(dir);
            }
            script = script.then(Action::Write {
                path: cached.into(),
                content: (*blob).clone(),
                how: WriteHow::InPlace,
            });
        }
        script = script
            .create_dir_all(site_packages)
            .lock(UV_PREFIX_LOCK, LockKind::Flock)
            .create_dir_all(site_packages);
        let mut made: Vec<&str> = vec![site_packages];
        let mut record = None;
        let tmp_dir = format!("{site_packages}/.tmp-{}", archive_name(archive));
        for (i, (path, blob)) in files.iter().enumerate() {
            let dir = parent_of(path);
            if !made.contains(&dir) {
                script = script.create_dir_all(dir);
                made.push(dir);
            }
            if i == 0 && self.mode == UvLinkMode::CloneThenHardlink {
                // The clone's target, made and removed when FICLONE fails.
                script = script
                    .write(path, b"", WriteHow::Exclusive)
                    .then(Action::Remove {
                        path: (*path).clone(),
                        style: crate::kit::RemoveStyle::Rmtree,
                    });
            }
            if path.ends_with(".dist-info/RECORD") {
                record = Some((*path).clone());
                script = script.then(Action::Write {
                    path: (*path).clone(),
                    content: (*blob).clone(),
                    how: WriteHow::InPlace,
                });
                continue;
            }
            script = script.link_from_store(&store(path), path, &tmp_dir);
        }
        if let Some(record) = record {
            script = super::uv_install::finish_dist_info(script, &record);
        }
        script.unlock(UV_PREFIX_LOCK, LockKind::Flock)
    }
}

/// The archive's own name (its last component).
fn archive_name(archive: &str) -> &str {
    archive.rsplit('/').next().unwrap_or(archive)
}

impl Strategy for UvHardlink {
    fn name(&self) -> &str {
        match self.mode {
            UvLinkMode::Hardlink => "uv-hardlink",
            UvLinkMode::CloneThenHardlink => "uv-clone",
        }
    }

    fn summary(&self) -> &str {
        match self.mode {
            UvLinkMode::Hardlink => {
                "uv pip install --link-mode hardlink links each file from uv's cache, under uv's flock on the prefix"
            }
            UvLinkMode::CloneThenHardlink => {
                "uv pip install --link-mode clone (uv's Linux default): the reflink refused on ext4, then hard links as uv-hardlink"
            }
        }
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        let archive = format!("{CACHE_DIR}/archive-v0/{}", ctx.job_index);
        let script = self.script(package, &ctx.scenario.site_packages, &archive);
        Ok(Box::new(ScriptJob::new(
            format!("{}[{}]", self.name(), package.name),
            Arc::new(script),
            &ctx.scenario.prefix,
        )))
    }

    fn is_bookkeeping(&self, path: &str) -> bool {
        path == UV_PREFIX_LOCK || path == CACHE_DIR || path.starts_with(".uv-cache/")
    }
}
