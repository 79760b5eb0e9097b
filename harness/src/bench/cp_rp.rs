//! `cp -Rp SRC/. DST`, with std::fs: what a staged install runs after staging.
//!
//! Like GNU cp, it lists each directory and visits the entries in inode order
//! (coreutils sorts `savedir` results by inode number), copies a directory
//! before its contents (`stat` the destination, `mkdir` when absent, recurse,
//! then restore its mode and times), copies a regular file's bytes with
//! `std::fs::copy` (`copy_file_range`; it keeps the mode) and then its access
//! and modification times, and recreates symlinks.
//!
//! Where GNU cp fails with `cannot create directory …: File exists` because
//! another writer created the directory between its `stat` and its `mkdir`
//! (SageMath ticket 32361), this copy counts the lost race and goes on, so a
//! benchmark of parallel staged installs measures cost, not luck.

use std::fs::{self, File, FileTimes};
use std::io::ErrorKind;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use crate::error::{Error, Result};

/// What one copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Regular files copied.
    pub files: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Directories this copy created.
    pub dirs_created: u64,
    /// `mkdir`s that found the directory already made by another writer after
    /// `stat` had said it was absent: the races GNU cp would have failed on.
    pub mkdir_races: u64,
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::io(path.display().to_string(), e)
}

/// The access and modification times of `meta`.
fn times_of(meta: &fs::Metadata) -> FileTimes {
    let at = |secs: i64, nanos: i64| {
        UNIX_EPOCH + Duration::new(secs.max(0) as u64, nanos.clamp(0, 999_999_999) as u32)
    };
    FileTimes::new()
        .set_accessed(at(meta.atime(), meta.atime_nsec()))
        .set_modified(at(meta.mtime(), meta.mtime_nsec()))
}

/// Copies the contents of directory `src` into the existing directory `dst`.
pub fn copy_contents(src: &Path, dst: &Path) -> Result<CopyStats> {
    let mut stats = CopyStats::default();
    copy_dir_contents(src, dst, &mut stats)?;
    Ok(stats)
}

fn copy_dir_contents(src: &Path, dst: &Path, stats: &mut CopyStats) -> Result<()> {
    let mut entries = fs::read_dir(src)
        .map_err(|e| io_error(src, &e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| io_error(src, &e))?;
    entries.sort_by_key(|e| e.ino());
    for entry in entries {
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| io_error(&from, &e))?;
        if kind.is_dir() {
            copy_dir(&from, &to, stats)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(|e| io_error(&from, &e))?;
            std::os::unix::fs::symlink(target, &to).map_err(|e| io_error(&to, &e))?;
        } else {
            copy_file(&from, &to, stats)?;
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path, stats: &mut CopyStats) -> Result<()> {
    let created = match fs::symlink_metadata(to) {
        Ok(m) if m.is_dir() => false,
        Ok(_) => {
            return Err(Error::io(
                to.display().to_string(),
                &std::io::Error::from(ErrorKind::AlreadyExists),
            ))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => match fs::create_dir(to) {
            Ok(()) => true,
            Err(e) if e.kind() == ErrorKind::AlreadyExists && to.is_dir() => {
                stats.mkdir_races += 1;
                false
            }
            Err(e) => return Err(io_error(to, &e)),
        },
        Err(e) => return Err(io_error(to, &e)),
    };
    copy_dir_contents(from, to, stats)?;
    if created {
        stats.dirs_created += 1;
        let meta = fs::metadata(from).map_err(|e| io_error(from, &e))?;
        fs::set_permissions(to, meta.permissions()).map_err(|e| io_error(to, &e))?;
        File::open(to)
            .and_then(|d| d.set_times(times_of(&meta)))
            .map_err(|e| io_error(to, &e))?;
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path, stats: &mut CopyStats) -> Result<()> {
    let bytes = fs::copy(from, to).map_err(|e| io_error(to, &e))?;
    let meta = fs::metadata(from).map_err(|e| io_error(from, &e))?;
    File::options()
        .write(true)
        .open(to)
        .and_then(|f| f.set_times(times_of(&meta)))
        .map_err(|e| io_error(to, &e))?;
    stats.files += 1;
    stats.bytes += bytes;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn copies_bytes_modes_times_and_merges_into_existing_dirs() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        fs::create_dir_all(src.path().join("a/b")).unwrap();
        fs::write(src.path().join("a/b/x.so"), b"elf").unwrap();
        fs::set_permissions(
            src.path().join("a/b/x.so"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        fs::set_permissions(src.path().join("a/b"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::create_dir(dst.path().join("a")).unwrap();
        let stats = copy_contents(src.path(), dst.path()).unwrap();
        assert_eq!((stats.files, stats.bytes, stats.dirs_created), (1, 3, 1));
        let copied = dst.path().join("a/b/x.so");
        assert_eq!(fs::read(&copied).unwrap(), b"elf");
        let meta = fs::metadata(&copied).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        let orig = fs::metadata(src.path().join("a/b/x.so")).unwrap();
        assert_eq!(meta.mtime(), orig.mtime());
        let dir_mode = fs::metadata(dst.path().join("a/b"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o750);
    }
}
