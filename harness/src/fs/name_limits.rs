//! The kernel's limits on path arguments, checked before an op looks
//! anything up, the same way on the model and on the real filesystem.
//!
//! Linux copies every path argument in with `getname`, which refuses one of
//! [`PATH_MAX`] bytes or more (NUL included) with `ENAMETOOLONG` and an
//! empty one with `ENOENT`, before the walk starts: an absolute path, a
//! missing parent or a final `.` only matter after that. `symlink(2)`
//! copies its target first, then the new path; `rename(2)` both paths.
//! [`super::RealFs`] splits a path into its parent and final name before it
//! calls the kernel (for containment), so the kernel alone would see a
//! shorter path there: it checks here first as well. A component longer
//! than [`crate::limits::NAME_MAX`] is refused where the walk looks it up
//! (`ModelFs::walk`), as the kernel's lookup does.
//!
//! Measured on Linux 6.18, ext4 (`/tmp`), with the `*at` calls and the
//! `openat2(RESOLVE_BENEATH)` of `fs/real.rs`: a 255-byte name works and
//! 256 is `ENAMETOOLONG` for every op; a 4,095-byte path works and 4,096 is
//! `ENAMETOOLONG` for every op, even absolute; a 4,095-byte symlink target
//! works and 4,096 is `ENAMETOOLONG`.

use crate::limits::{PATH_MAX, SYMLINK_TARGET_MAX};
use crate::op::{Errno, Op};

/// The errno the kernel gives `op` for its path arguments alone (their
/// lengths), before it looks anything up; `None` when they pass.
pub(crate) fn refused_arguments(op: &Op) -> Option<Errno> {
    let too_long = |path: &str| path.len() >= PATH_MAX;
    match op {
        Op::Symlink { target, path } => {
            if target.len() >= SYMLINK_TARGET_MAX {
                Some(Errno::ENAMETOOLONG)
            } else if target.is_empty() {
                Some(Errno::ENOENT)
            } else {
                too_long(path).then_some(Errno::ENAMETOOLONG)
            }
        }
        Op::Rename { from, to } | Op::Link { from, to } | Op::RenameExchange { a: from, b: to } => {
            (too_long(from) || too_long(to)).then_some(Errno::ENAMETOOLONG)
        }
        Op::Lstat { path }
        | Op::Stat { path }
        | Op::Mkdir { path, .. }
        | Op::Open { path, .. }
        | Op::Unlink { path }
        | Op::Rmdir { path }
        | Op::Chmod { path, .. }
        | Op::Readdir { path } => too_long(path).then_some(Errno::ENAMETOOLONG),
        Op::Write { .. } | Op::Read { .. } | Op::Close { .. } | Op::Flock { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn symlink(target: usize, path: usize) -> Op {
        Op::Symlink {
            target: Arc::from("t".repeat(target)),
            path: Arc::from("p".repeat(path)),
        }
    }

    #[test]
    fn limits_fall_exactly_where_the_kernels_do() {
        let mkdir = |n: usize| Op::Mkdir {
            path: Arc::from("a/".repeat(n / 2) + &"a".repeat(n % 2)),
            mode: 0o755,
        };
        assert_eq!(refused_arguments(&mkdir(4095)), None);
        assert_eq!(refused_arguments(&mkdir(4096)), Some(Errno::ENAMETOOLONG));
        assert_eq!(refused_arguments(&symlink(4095, 1)), None);
        assert_eq!(
            refused_arguments(&symlink(4096, 1)),
            Some(Errno::ENAMETOOLONG)
        );
        assert_eq!(refused_arguments(&symlink(0, 1)), Some(Errno::ENOENT));
        assert_eq!(
            refused_arguments(&symlink(1, 4096)),
            Some(Errno::ENAMETOOLONG)
        );
    }
}
