//! The prefix snapshot: taken once before the first execution, restored
//! before each one (wipe the prefix's contents, copy the snapshot back), and
//! removed when dropped. The run
//! keeps it in its own directory (see `workdir.rs`), where a run that was
//! killed leaves it for the next one. Modes, symlinks and modification times are kept, so
//! Python judges `.pyc` files in the restored prefix as it did in the original.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use super::GateError;

/// A copy of the prefix taken aside.
#[derive(Debug)]
pub struct Snapshot {
    prefix: PathBuf,
    aside: PathBuf,
}

impl Snapshot {
    /// Copies `prefix` into the new directory `aside`.
    pub fn take_into(prefix: &Path, aside: PathBuf) -> Result<Snapshot, GateError> {
        fs::create_dir(&aside).map_err(|e| io(&aside, &e))?;
        let snapshot = Snapshot {
            prefix: prefix.to_path_buf(),
            aside,
        };
        copy_contents(prefix, &snapshot.aside)?;
        Ok(snapshot)
    }

    /// The snapshot of `prefix` a killed run left in `aside`.
    pub fn adopt(prefix: &Path, aside: PathBuf) -> Snapshot {
        Snapshot {
            prefix: prefix.to_path_buf(),
            aside,
        }
    }

    /// Puts the prefix back as it was when the snapshot was taken.
    pub fn restore(&self) -> Result<(), GateError> {
        wipe_contents(&self.prefix)?;
        copy_contents(&self.aside, &self.prefix)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = super::workdir::remove_all(&self.aside);
    }
}

fn io(path: &Path, e: &std::io::Error) -> GateError {
    GateError::os(&path.display().to_string(), e)
}

/// Removes everything inside `dir`, making directories writable first.
fn wipe_contents(dir: &Path) -> Result<(), GateError> {
    for entry in fs::read_dir(dir).map_err(|e| io(dir, &e))? {
        let path = entry.map_err(|e| io(dir, &e))?.path();
        let meta = fs::symlink_metadata(&path).map_err(|e| io(&path, &e))?;
        if meta.is_dir() {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o700))
                .map_err(|e| io(&path, &e))?;
            wipe_contents(&path)?;
            fs::remove_dir(&path).map_err(|e| io(&path, &e))?;
        } else {
            fs::remove_file(&path).map_err(|e| io(&path, &e))?;
        }
    }
    Ok(())
}

/// Copies the contents of `from` into the existing directory `to`, then gives
/// `to` the mode and times of `from`.
fn copy_contents(from: &Path, to: &Path) -> Result<(), GateError> {
    let mut names: Vec<_> = fs::read_dir(from)
        .map_err(|e| io(from, &e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| io(from, &e))?;
    names.sort();
    for name in names {
        let src = from.join(&name);
        let dst = to.join(&name);
        let meta = fs::symlink_metadata(&src).map_err(|e| io(&src, &e))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = fs::read_link(&src).map_err(|e| io(&src, &e))?;
            symlink(target, &dst).map_err(|e| io(&dst, &e))?;
        } else if kind.is_dir() {
            fs::create_dir(&dst).map_err(|e| io(&dst, &e))?;
            copy_contents(&src, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst).map_err(|e| io(&dst, &e))?;
            copy_attributes(&meta, &dst)?;
        } else {
            return Err(GateError::Os(format!(
                "{}: only files, directories and symlinks can be snapshotted",
                src.display()
            )));
        }
    }
    let meta = fs::metadata(from).map_err(|e| io(from, &e))?;
    copy_attributes(&meta, to)
}

fn copy_attributes(meta: &fs::Metadata, dst: &Path) -> Result<(), GateError> {
    fs::set_permissions(dst, meta.permissions()).map_err(|e| io(dst, &e))?;
    let times = fs::FileTimes::new()
        .set_accessed(meta.accessed().map_err(|e| io(dst, &e))?)
        .set_modified(meta.modified().map_err(|e| io(dst, &e))?);
    fs::File::open(dst)
        .and_then(|f| f.set_times(times))
        .map_err(|e| io(dst, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_brings_back_contents_modes_and_times() {
        let prefix = tempfile::tempdir().unwrap();
        let p = prefix.path();
        fs::create_dir(p.join("d")).unwrap();
        fs::write(p.join("d/f"), b"one").unwrap();
        fs::set_permissions(p.join("d/f"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("d/f", p.join("l")).unwrap();
        let mtime = fs::metadata(p.join("d/f")).unwrap().modified().unwrap();
        let aside = tempfile::tempdir().unwrap();
        let snap = Snapshot::take_into(p, aside.path().join("s")).unwrap();
        fs::write(p.join("d/f"), b"two").unwrap();
        fs::create_dir_all(p.join("new/deep")).unwrap();
        fs::set_permissions(p.join("new"), fs::Permissions::from_mode(0o500)).unwrap();
        snap.restore().unwrap();
        assert_eq!(fs::read(p.join("d/f")).unwrap(), b"one");
        let meta = fs::metadata(p.join("d/f")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        assert_eq!(meta.modified().unwrap(), mtime);
        assert_eq!(fs::read_link(p.join("l")).unwrap(), Path::new("d/f"));
        assert!(!p.join("new").exists());
    }
}
