//! The bridge between the model's ops and the gate's real calls: both are
//! reduced to a [`CallKey`] (which job, what kind of call, which path), so a
//! model execution can be followed on the real commands (`guide.rs`).
//!
//! Real tools make more prefix calls than a model records (CPython's start-up
//! stats, cp's `newfstatat` of the destination), and the model makes some that
//! the gate never stops (`write`, `close` on a descriptor). The key is coarse
//! on purpose: the `n`-th real call of a job with a given key is matched to
//! the `n`-th model op of that job with the same key, and everything else runs
//! freely around the matched calls.

use crate::execution::Event;
use crate::op::{Errno, Op, OpResult, ResultDisplay};
use crate::schedule::JobId;

use super::call::{Call, Outcome};

/// What a call does, as far as following a model is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallClass {
    /// `stat`, `lstat`, `newfstatat`, `statx`.
    Stat,
    /// `open`, `openat`, `openat2`, `creat`.
    Open,
    /// `mkdir`, `mkdirat`.
    Mkdir,
    /// `rename`, `renameat`, `renameat2` (keyed by the source path).
    Rename,
    /// `unlink`, `unlinkat` without `AT_REMOVEDIR`.
    Unlink,
    /// `rmdir`, `unlinkat` with `AT_REMOVEDIR`.
    Rmdir,
    /// `symlink`, `symlinkat` (keyed by the link's path).
    Symlink,
    /// `chmod`, `fchmod`, `fchmodat`, `fchmodat2`.
    Chmod,
    /// `getdents64` (the model's `getdents` of a directory).
    Readdir,
}

/// Which job makes what kind of call on which prefix-relative path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey {
    /// The job (command index on the gate, job index in the model).
    pub job: JobId,
    /// The kind of call.
    pub class: CallClass,
    /// The path, relative to the prefix (`.` for the prefix itself).
    pub path: String,
}

/// One model op the gate can stop: its key, how the report shows it, and
/// the result the model gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStep {
    /// The op's key.
    pub key: CallKey,
    /// Its position among all the model execution's ops (0-based).
    pub op_index: usize,
    /// Strace-style, with its result: `mkdir("M/__pycache__", 0700) = -1 EEXIST (File exists)`.
    pub shown: String,
    /// The errno the model gave it, or `None` for a success.
    pub errno: Option<Errno>,
}

/// The model steps of an execution's events, in execution order: every op
/// the gate would stop, that is every op but `write`, `read` and `close`.
pub fn model_steps(events: &[Event]) -> Vec<ModelStep> {
    events
        .iter()
        .enumerate()
        .filter_map(|(op_index, e)| {
            let (class, path) = op_key(&e.op)?;
            Some(ModelStep {
                key: CallKey {
                    job: e.job,
                    class,
                    path,
                },
                op_index,
                shown: format!("{} {}", e.op, ResultDisplay(&e.result)),
                errno: errno_of(&e.result),
            })
        })
        .collect()
}

fn errno_of(result: &OpResult) -> Option<Errno> {
    result.as_ref().err().copied()
}

fn relative(path: &str) -> String {
    if path.is_empty() {
        ".".to_string()
    } else {
        path.to_string()
    }
}

/// The class and path of a model op, or `None` for ops on a descriptor that
/// the gate does not stop.
pub fn op_key(op: &Op) -> Option<(CallClass, String)> {
    let (class, path) = match op {
        Op::Lstat { path } | Op::Stat { path } => (CallClass::Stat, path),
        Op::Mkdir { path, .. } => (CallClass::Mkdir, path),
        Op::Open { path, .. } => (CallClass::Open, path),
        Op::Rename { from, .. } | Op::RenameExchange { a: from, .. } => (CallClass::Rename, from),
        Op::Unlink { path } => (CallClass::Unlink, path),
        Op::Rmdir { path } => (CallClass::Rmdir, path),
        Op::Symlink { path, .. } => (CallClass::Symlink, path),
        Op::Chmod { path, .. } => (CallClass::Chmod, path),
        Op::Readdir { path } => (CallClass::Readdir, path),
        Op::Write { .. }
        | Op::Read { .. }
        | Op::Close { .. }
        | Op::Link { .. }
        | Op::Flock { .. } => return None,
    };
    Some((class, relative(path)))
}

/// The class and path of a real call inside the prefix, or `None` for a call
/// the model has no counterpart for (`access`, `readlink`, `utimensat`, ...).
pub fn call_key(call: &Call) -> Option<(CallClass, String)> {
    let class = match call.name {
        "stat" | "lstat" | "newfstatat" | "statx" => CallClass::Stat,
        "open" | "openat" | "openat2" | "creat" => CallClass::Open,
        "mkdir" | "mkdirat" => CallClass::Mkdir,
        "rename" | "renameat" | "renameat2" => CallClass::Rename,
        "unlink" | "unlinkat" if call.args.iter().any(|a| a.contains("AT_REMOVEDIR")) => {
            CallClass::Rmdir
        }
        "unlink" | "unlinkat" => CallClass::Unlink,
        "rmdir" => CallClass::Rmdir,
        "symlink" | "symlinkat" => CallClass::Symlink,
        "chmod" | "fchmod" | "fchmodat" | "fchmodat2" => CallClass::Chmod,
        "getdents64" => CallClass::Readdir,
        _ => return None,
    };
    let paths = call.relative_paths();
    let path = if class == CallClass::Symlink {
        paths.last()
    } else {
        paths.first()
    };
    Some((class, path?.to_string()))
}

/// True when a real outcome agrees with the model's: both succeeded, or both
/// failed with the same errno. A call its process died in agrees with nothing.
pub fn agrees(model: Option<Errno>, real: Option<Outcome>) -> bool {
    let Some(real) = real else {
        return false;
    };
    let real_errno = (-4095..0).contains(&real.0).then(|| (-real.0) as i32);
    match (model, real_errno) {
        (None, None) => true,
        (Some(m), Some(r)) => errno_number(m) == Some(r),
        _ => false,
    }
}

/// The number of a model errno on Linux.
fn errno_number(e: Errno) -> Option<i32> {
    Some(match e {
        Errno::ENOENT => libc::ENOENT,
        Errno::EEXIST => libc::EEXIST,
        Errno::ENOTDIR => libc::ENOTDIR,
        Errno::EISDIR => libc::EISDIR,
        Errno::ENOTEMPTY => libc::ENOTEMPTY,
        Errno::EINVAL => libc::EINVAL,
        Errno::EBADF => libc::EBADF,
        Errno::ELOOP => libc::ELOOP,
        Errno::EACCES => libc::EACCES,
        Errno::EPERM => libc::EPERM,
        Errno::EXDEV => libc::EXDEV,
        Errno::ENAMETOOLONG => libc::ENAMETOOLONG,
        Errno::EAGAIN => libc::EAGAIN,
        Errno::ENOSPC => libc::ENOSPC,
        Errno::EIO => libc::EIO,
        Errno::EINTR => libc::EINTR,
        Errno::Other(n) => n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_calls_and_model_ops_meet_on_the_same_key() {
        let real = Call::in_prefix("mkdirat", &["\"M/__pycache__\"", "0777"]);
        let model = Op::Mkdir {
            path: "M/__pycache__".into(),
            mode: 0o777,
        };
        assert_eq!(call_key(&real), op_key(&model));
        let real = Call::in_prefix("newfstatat", &["\"M/__init__.py\"", "0x0"]);
        let model = Op::Stat {
            path: "M/__init__.py".into(),
        };
        assert_eq!(call_key(&real), op_key(&model));
        let real = Call::in_prefix("unlinkat", &["\"M\"", "AT_REMOVEDIR"]);
        assert_eq!(call_key(&real).map(|k| k.0), Some(CallClass::Rmdir));
        let real = Call::in_prefix("symlinkat", &["\"../x\"", "\"M/link\""]);
        assert_eq!(call_key(&real), Some((CallClass::Symlink, "M/link".into())));
        let real = Call::in_prefix("fchmod", &["<M/a.py>", "0644"]);
        assert_eq!(call_key(&real), Some((CallClass::Chmod, "M/a.py".into())));
    }

    #[test]
    fn calls_the_model_does_not_make_have_no_key() {
        assert_eq!(
            call_key(&Call::in_prefix("access", &["\"M\"", "F_OK"])),
            None
        );
        assert_eq!(
            call_key(&Call::in_prefix("openat", &["\"/usr/lib/x\"", "O_RDONLY"])),
            None
        );
        let close = Op::Close {
            fd: 3,
            path: "M/a.py".into(),
        };
        assert_eq!(op_key(&close), None);
    }

    #[test]
    fn outcomes_agree_by_errno() {
        assert!(agrees(None, Some(Outcome(0))));
        assert!(agrees(None, Some(Outcome(3))));
        assert!(agrees(
            Some(Errno::EEXIST),
            Some(Outcome(-(libc::EEXIST as i64)))
        ));
        assert!(!agrees(Some(Errno::EEXIST), Some(Outcome(0))));
        assert!(!agrees(None, Some(Outcome(-(libc::ENOENT as i64)))));
        assert!(!agrees(None, None));
    }
}
