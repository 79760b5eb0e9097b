//! Asking a filesystem, through [`super::Fs::probe`], whether a file is
//! `flock`ed.
//!
//! A job evaluates its wait conditions with nothing but `probe` (the kind
//! at a path), and the executor hands it exactly that. A lock is no entry,
//! so its state is asked for under a path no entry can have: the path
//! prefixed with a NUL byte (a name never holds one). The filesystem
//! answers `Some(Kind::File)` while some descriptor holds a lock on the
//! inode the path leads to, `None` otherwise. [`crate::job::Condition::Unlocked`]
//! is the one user.

/// What prefixes a path to ask for its lock rather than its entry.
const LOCK_PREFIX: &str = "\0flock:";

/// The probe path that asks whether `path` is locked.
pub fn lock_probe_path(path: &str) -> String {
    format!("{LOCK_PREFIX}{path}")
}

/// The path a lock probe asks about, when `probe` is one.
pub fn locked_path(probe: &str) -> Option<&str> {
    probe.strip_prefix(LOCK_PREFIX)
}

/// What prefixes a path to ask for a process's view of its `fcntl` lock.
const RECORD_LOCK_PREFIX: &str = "\0fcntl:";

/// The probe path that asks whether a process other than `asker` holds
/// an `fcntl` lock on `path` (`Some(Kind::File)` while one does). The
/// asker's own lock never stands in its way: it is the process's.
pub fn record_lock_probe_path(asker: &str, path: &str) -> String {
    format!("{RECORD_LOCK_PREFIX}{asker}\0{path}")
}

/// The asker and the path an `fcntl` lock probe asks about, when `probe`
/// is one.
pub fn record_locked_path(probe: &str) -> Option<(&str, &str)> {
    probe.strip_prefix(RECORD_LOCK_PREFIX)?.split_once('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock probe names its path back, and no plain path is one.
    #[test]
    fn a_lock_probe_reads_back_its_path_and_plain_paths_are_not_probes() {
        assert_eq!(locked_path(&lock_probe_path("a/.lock")), Some("a/.lock"));
        assert_eq!(locked_path("a/.lock"), None);
        let probe = record_lock_probe_path("spack-1", "a/.lock");
        assert_eq!(record_locked_path(&probe), Some(("spack-1", "a/.lock")));
        assert_eq!(locked_path(&probe), None);
        assert_eq!(record_locked_path(&lock_probe_path("a/.lock")), None);
    }
}
