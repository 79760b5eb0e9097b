//! The run's own directory, `$TMPDIR/prefixrace-run-HASH` (HASH from the
//! canonical prefix path): the snapshot of the prefix, and one fresh
//! directory per execution holding the commands' `TMPDIR`, their captured
//! output and the stand-in for `/dev/urandom`. It is locked with `flock`
//! while the run lives and removed when it ends, whatever the exit path short
//! of SIGKILL.
//!
//! After a SIGKILL the directory stays, unlocked. The next run on the same
//! prefix finds it: when its snapshot was complete the prefix is restored
//! from it (the killed run may have left it half-installed) and a one-line
//! notice says so; an incomplete snapshot means the prefix was not touched
//! yet, and the leftover is just removed. A directory still locked belongs
//! to a live run: the new one refuses.

use std::fs::{self, File};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::snapshot::Snapshot;
use super::GateError;

/// Name of the marker written once the snapshot is complete.
const COMPLETE: &str = "snapshot.complete";

/// The run's directory, locked.
#[derive(Debug)]
pub struct WorkDir {
    root: PathBuf,
    /// Holds the `flock` while the run lives.
    _lock: File,
}

/// The directory a run on `prefix` uses, under `tmp`.
pub fn location(tmp: &Path, prefix: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let digest = Sha256::digest(prefix.as_os_str().as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    tmp.join(format!("prefixrace-run-{hex}"))
}

fn io(path: &Path, e: &std::io::Error) -> GateError {
    GateError::os(&path.display().to_string(), e)
}

fn lock(dir: &Path) -> Result<Option<File>, GateError> {
    let f = File::open(dir).map_err(|e| io(dir, &e))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        Ok(Some(f))
    } else {
        Ok(None)
    }
}

impl WorkDir {
    /// Opens the directory of a run on the canonical `prefix` under `tmp`,
    /// dealing with a leftover first. Returns it and, when a leftover
    /// snapshot was restored, a one-line notice.
    pub fn open(tmp: &Path, prefix: &Path) -> Result<(WorkDir, Option<String>), GateError> {
        let root = location(tmp, prefix);
        let mut notice = None;
        if root.exists() {
            let Some(_held) = lock(&root)? else {
                return Err(GateError::Busy(format!(
                    "another prefixrace run is using {} (its directory {} is locked)",
                    prefix.display(),
                    root.display()
                )));
            };
            let recorded = fs::read_to_string(root.join("prefix")).unwrap_or_default();
            if root.join(COMPLETE).exists() && Path::new(&recorded) == prefix {
                Snapshot::adopt(prefix, root.join("snapshot")).restore()?;
                notice = Some(format!(
                    "prefixrace: restored {} from the snapshot of a run that was killed ({})",
                    prefix.display(),
                    root.display()
                ));
            }
            remove_all(&root)?;
        }
        fs::create_dir_all(&root).map_err(|e| io(&root, &e))?;
        let lock = lock(&root)?
            .ok_or_else(|| GateError::Busy(format!("{}: locked by another run", root.display())))?;
        use std::os::unix::ffi::OsStrExt;
        fs::write(root.join("prefix"), prefix.as_os_str().as_bytes()).map_err(|e| io(&root, &e))?;
        Ok((WorkDir { root, _lock: lock }, notice))
    }

    /// The directory the snapshot goes to.
    pub fn snapshot_dir(&self) -> PathBuf {
        self.root.join("snapshot")
    }

    /// Records that the snapshot is complete: from now on a leftover of this
    /// run is restored from it.
    pub fn snapshot_complete(&self) -> Result<(), GateError> {
        let p = self.root.join(COMPLETE);
        fs::write(&p, b"").map_err(|e| io(&p, &e))
    }

    /// A fresh, empty directory for one execution (always the same path, so
    /// names under it repeat from run to run), with an empty `tmp/` inside.
    pub fn fresh_execution(&self) -> Result<PathBuf, GateError> {
        let dir = self.root.join("exec");
        if dir.exists() {
            remove_all(&dir)?;
        }
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp).map_err(|e| io(&tmp, &e))?;
        Ok(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.root
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = remove_all(&self.root);
    }
}

/// Removes `dir` and everything in it, making directories writable first
/// (a command may leave read-only directories in its `TMPDIR`).
pub fn remove_all(dir: &Path) -> Result<(), GateError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir, &e)),
    };
    if !meta.is_dir() {
        return fs::remove_file(dir).map_err(|e| io(dir, &e));
    }
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    for entry in fs::read_dir(dir).map_err(|e| io(dir, &e))? {
        let path = entry.map_err(|e| io(dir, &e))?.path();
        remove_all(&path)?;
    }
    fs::remove_dir(dir).map_err(|e| io(dir, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leftover_snapshot_is_restored_and_a_live_run_refuses() {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = tempfile::tempdir().unwrap();
        let p = prefix.path();
        fs::write(p.join("kept"), b"1").unwrap();
        {
            let (w, notice) = WorkDir::open(tmp.path(), p).unwrap();
            assert!(notice.is_none());
            assert!(WorkDir::open(tmp.path(), p).is_err(), "a live run refuses");
            let snap = Snapshot::take_into(p, w.snapshot_dir()).unwrap();
            w.snapshot_complete().unwrap();
            fs::write(p.join("installed"), b"2").unwrap();
            // As if killed: neither the restore nor the removal happens.
            std::mem::forget(snap);
            std::mem::forget(w);
        }
        // The forgotten lock file descriptor still holds the lock in this
        // process; a killed process's would be gone. Release it by hand.
        let leftover = location(tmp.path(), p);
        for fd in fs::read_dir("/proc/self/fd").unwrap() {
            let fd = fd.unwrap();
            if fs::read_link(fd.path()).ok().as_deref() == Some(leftover.as_path()) {
                let n: i32 = fd.file_name().to_str().unwrap().parse().unwrap();
                // SAFETY: closing a descriptor nothing else uses.
                unsafe { libc::close(n) };
            }
        }
        let (w, notice) = WorkDir::open(tmp.path(), p).unwrap();
        assert!(notice.unwrap().contains("restored"));
        assert!(p.join("kept").exists());
        assert!(!p.join("installed").exists());
        let root = w.path().to_path_buf();
        drop(w);
        assert!(!root.exists());
    }
}
