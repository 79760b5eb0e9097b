//! A failed system call, as a kit primitive reports it.

use std::sync::Arc;

use crate::op::Errno;

/// One failed call: which syscall, on which path(s), with which errno.
///
/// A [`super::Voice`] turns it into the line the real tool prints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Failure {
    /// What the primitive was doing, in the syscall's name (`open`,
    /// `mkdir`, `rename`, `unlink`, `rmdir`, `lstat`, `readdir`,
    /// `symlink`, `read`, `write`, `close`).
    pub syscall: &'static str,
    /// For `open`: whether the file was opened to be created or written
    /// (tools word "cannot create" and "cannot open for reading" apart).
    pub writing: bool,
    /// The errno the call returned.
    pub errno: Errno,
    /// The path, relative to the prefix root.
    pub path: Arc<str>,
    /// The second path of a `rename` or `symlink`.
    pub to: Option<Arc<str>>,
}

impl Failure {
    /// A failure of `syscall` on `path`.
    pub fn new(syscall: &'static str, errno: Errno, path: &Arc<str>) -> Failure {
        Failure {
            syscall,
            writing: false,
            errno,
            path: path.clone(),
            to: None,
        }
    }

    /// A failure of a call on two paths (`rename(path, to)`).
    pub fn between(syscall: &'static str, errno: Errno, path: &Arc<str>, to: &Arc<str>) -> Failure {
        Failure {
            to: Some(to.clone()),
            ..Failure::new(syscall, errno, path)
        }
    }

    /// The same failure of an `open` for writing.
    pub fn writing(self) -> Failure {
        Failure {
            writing: true,
            ..self
        }
    }
}
