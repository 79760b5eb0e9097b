//! `uv`: `uv pip install --link-mode copy` straight into the prefix,
//! written on the kit ([`crate::kit`]).
//!
//! uv 0.13.9, recorded under strace on this machine
//! (`tests/pins_uv.rs` compares the calls), copies the wheel's tree out of
//! its cache: `fs::create_dir_all` of site-packages (twice: for the
//! prefix's scheme, and as the root of its walk) and of each directory
//! as it walks in, and for each file a `tempfile` next to the target
//! (`O_EXCL`), filled by `fs::copy` (a second `open(O_TRUNC)`), renamed
//! over the target, then a leftover `unlink` of the temporary name. Then a
//! look for the wheel's `.data` directory, REQUESTED, `direct_url.json`,
//! `uv_cache.json` and INSTALLER through a `tempfile` each, and RECORD
//! rewritten in place. All of it under uv's prefix lock (`.lock` in the
//! prefix, `flock(LOCK_EX)`, taken once site-packages is made and released
//! after RECORD, as in every link mode: recorded with `--link-mode copy`
//! too), which orders two uv processes. Not modelled: the order in which
//! uv walks a directory (the cache's `readdir` order, here the RECORD's).

use std::sync::Arc;

use super::uv_hardlink::UV_PREFIX_LOCK;
use super::{InstallContext, Strategy};
use crate::content::Blob;
use crate::error::Result;
use crate::fs::parent_of;
use crate::job::{Job, ScriptJob};
use crate::kit::{Action, LockKind, Script, WriteHow};
use crate::scenario::{Package, PayloadKind};

/// uv in copy mode: every file through a `tempfile` renamed over it.
#[derive(Debug, Clone, Copy, Default)]
pub struct UvInstall;

impl UvInstall {
    /// The script `uv pip install --link-mode copy` runs for `package`.
    pub fn script(package: &Package, site_packages: &str) -> Script {
        // Once when uv lays out the prefix's scheme, once as the walk's root.
        let mut script = Script::new("uv")
            .create_dir_all(site_packages)
            .lock(UV_PREFIX_LOCK, LockKind::Flock)
            .create_dir_all(site_packages);
        let mut made: Vec<&str> = vec![site_packages];
        let mut record = None;
        for entry in &package.payload {
            let PayloadKind::File(blob) = &entry.kind else {
                continue;
            };
            let dir = parent_of(&entry.path);
            if !made.contains(&dir) {
                script = script.create_dir_all(dir);
                made.push(dir);
            }
            if entry.path.ends_with(".dist-info/RECORD") {
                record = Some(entry.path.clone());
            }
            script = script.then(Action::Write {
                path: entry.path.clone(),
                content: blob.clone(),
                how: WriteHow::Tempfile { copy: true },
            });
        }
        if let Some(record) = record {
            script = finish_dist_info(script, &record);
        }
        script.unlock(UV_PREFIX_LOCK, LockKind::Flock)
    }
}

/// What uv does after the wheel's files, in every link mode: the look for
/// the wheel's `.data`, its four metadata files through a `tempfile`
/// each, and RECORD rewritten in place.
pub(crate) fn finish_dist_info(mut script: Script, record: &Arc<str>) -> Script {
    let dist_info = parent_of(record).to_string();
    script = script.probe(&dist_info.replace(".dist-info", ".data"));
    let metadata: [(&str, &[u8]); 4] = [
        ("REQUESTED", b""),
        (
            "direct_url.json",
            b"{\"url\":\"file:///wheel\",\"archive_info\":{}}",
        ),
        ("uv_cache.json", b"{\"timestamp\":null}"),
        ("INSTALLER", b"uv\n"),
    ];
    for (name, bytes) in metadata {
        script = script.then(Action::Write {
            path: format!("{dist_info}/{name}").into(),
            content: Blob::new(bytes.to_vec()),
            how: WriteHow::Tempfile { copy: false },
        });
    }
    let rewritten = format!("{record} (rewritten by uv)");
    script.write(record, rewritten.as_bytes(), WriteHow::InPlace)
}

impl Strategy for UvInstall {
    fn name(&self) -> &str {
        "uv"
    }

    fn summary(&self) -> &str {
        "uv pip install --link-mode copy writes the wheel straight into the prefix, each file through a tempfile, under uv's flock on the prefix"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        let script = UvInstall::script(package, &ctx.scenario.site_packages);
        Ok(Box::new(ScriptJob::new(
            format!("uv[{}]", package.name),
            Arc::new(script),
            &ctx.scenario.prefix,
        )))
    }
}
