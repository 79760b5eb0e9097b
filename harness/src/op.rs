//! Filesystem operations, their results and their strace-style rendering.
//!
//! An [`Op`] is one atomic step a job asks the filesystem to perform. Paths
//! are relative to the prefix root and always use `/` separators. Results are
//! errno-exact: [`OpResult`] carries either a value or an [`Errno`].

use std::fmt;
use std::sync::Arc;

use crate::content::{Blob, Content};

/// The errno values the model and the real filesystem can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Errno {
    /// No such file or directory.
    ENOENT,
    /// File exists.
    EEXIST,
    /// Not a directory.
    ENOTDIR,
    /// Is a directory.
    EISDIR,
    /// Directory not empty.
    ENOTEMPTY,
    /// Invalid argument (for example renaming a directory into itself).
    EINVAL,
    /// Bad file descriptor.
    EBADF,
    /// Too many levels of symbolic links.
    ELOOP,
    /// Permission denied.
    EACCES,
    /// Operation not permitted.
    EPERM,
    /// Cross-device link or an escape attempt out of the sandbox.
    EXDEV,
    /// File name too long.
    ENAMETOOLONG,
    /// Resource temporarily unavailable (`EWOULDBLOCK`): a non-blocking
    /// `flock` on a file another open file holds locked.
    EAGAIN,
    /// No space left on device (`--faults enospc`).
    ENOSPC,
    /// Input/output error (`--faults eio`).
    EIO,
    /// Interrupted system call (`--faults eintr`).
    EINTR,
    /// Any other errno, by number.
    Other(i32),
}

impl Errno {
    /// The C name of the errno, as strace prints it.
    pub fn name(self) -> String {
        match self {
            Errno::ENOENT => "ENOENT".into(),
            Errno::EEXIST => "EEXIST".into(),
            Errno::ENOTDIR => "ENOTDIR".into(),
            Errno::EISDIR => "EISDIR".into(),
            Errno::ENOTEMPTY => "ENOTEMPTY".into(),
            Errno::EINVAL => "EINVAL".into(),
            Errno::EBADF => "EBADF".into(),
            Errno::ELOOP => "ELOOP".into(),
            Errno::EACCES => "EACCES".into(),
            Errno::EPERM => "EPERM".into(),
            Errno::EXDEV => "EXDEV".into(),
            Errno::ENAMETOOLONG => "ENAMETOOLONG".into(),
            Errno::EAGAIN => "EAGAIN".into(),
            Errno::ENOSPC => "ENOSPC".into(),
            Errno::EIO => "EIO".into(),
            Errno::EINTR => "EINTR".into(),
            Errno::Other(n) => format!("E{n}"),
        }
    }

    /// The message `strerror(3)` gives on glibc, which is what cp and Python print.
    pub fn message(self) -> &'static str {
        match self {
            Errno::ENOENT => "No such file or directory",
            Errno::EEXIST => "File exists",
            Errno::ENOTDIR => "Not a directory",
            Errno::EISDIR => "Is a directory",
            Errno::ENOTEMPTY => "Directory not empty",
            Errno::EINVAL => "Invalid argument",
            Errno::EBADF => "Bad file descriptor",
            Errno::ELOOP => "Too many levels of symbolic links",
            Errno::EACCES => "Permission denied",
            Errno::EPERM => "Operation not permitted",
            Errno::EXDEV => "Invalid cross-device link",
            Errno::ENAMETOOLONG => "File name too long",
            Errno::EAGAIN => "Resource temporarily unavailable",
            Errno::ENOSPC => "No space left on device",
            Errno::EIO => "Input/output error",
            Errno::EINTR => "Interrupted system call",
            Errno::Other(_) => "Unknown error",
        }
    }

    /// The numeric errno value on Linux.
    pub fn number(self) -> i32 {
        match self {
            Errno::EPERM => 1,
            Errno::ENOENT => 2,
            Errno::EBADF => 9,
            Errno::EAGAIN => 11,
            Errno::EINTR => 4,
            Errno::EIO => 5,
            Errno::ENOSPC => 28,
            Errno::EACCES => 13,
            Errno::EEXIST => 17,
            Errno::EXDEV => 18,
            Errno::ENAMETOOLONG => 36,
            Errno::ENOTDIR => 20,
            Errno::EISDIR => 21,
            Errno::EINVAL => 22,
            Errno::ENOTEMPTY => 39,
            Errno::ELOOP => 40,
            Errno::Other(n) => n,
        }
    }

    /// Maps a raw OS errno to an [`Errno`].
    pub fn from_raw(n: i32) -> Errno {
        match n {
            1 => Errno::EPERM,
            2 => Errno::ENOENT,
            9 => Errno::EBADF,
            11 => Errno::EAGAIN,
            4 => Errno::EINTR,
            5 => Errno::EIO,
            28 => Errno::ENOSPC,
            13 => Errno::EACCES,
            17 => Errno::EEXIST,
            18 => Errno::EXDEV,
            36 => Errno::ENAMETOOLONG,
            20 => Errno::ENOTDIR,
            21 => Errno::EISDIR,
            22 => Errno::EINVAL,
            39 => Errno::ENOTEMPTY,
            40 => Errno::ELOOP,
            n => Errno::Other(n),
        }
    }

    /// Parses a C errno name such as `EEXIST`.
    pub fn from_name(name: &str) -> Option<Errno> {
        Some(match name {
            "ENOENT" => Errno::ENOENT,
            "EEXIST" => Errno::EEXIST,
            "ENOTDIR" => Errno::ENOTDIR,
            "EISDIR" => Errno::EISDIR,
            "ENOTEMPTY" => Errno::ENOTEMPTY,
            "EINVAL" => Errno::EINVAL,
            "EBADF" => Errno::EBADF,
            "ELOOP" => Errno::ELOOP,
            "EACCES" => Errno::EACCES,
            "EPERM" => Errno::EPERM,
            "EXDEV" => Errno::EXDEV,
            "ENAMETOOLONG" => Errno::ENAMETOOLONG,
            "EAGAIN" | "EWOULDBLOCK" => Errno::EAGAIN,
            "ENOSPC" => Errno::ENOSPC,
            "EIO" => Errno::EIO,
            "EINTR" => Errno::EINTR,
            _ => return None,
        })
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.message())
    }
}

/// Flags of an `open` call, the subset the install tools use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenFlags {
    /// Open for writing (`O_WRONLY`); otherwise read-only.
    pub write: bool,
    /// Create the file if it is missing (`O_CREAT`).
    pub create: bool,
    /// Fail with EEXIST if the file exists (`O_EXCL`, with `O_CREAT`).
    pub excl: bool,
    /// Truncate an existing file (`O_TRUNC`).
    pub trunc: bool,
}

impl OpenFlags {
    /// `O_RDONLY`.
    pub const READ: OpenFlags = OpenFlags {
        write: false,
        create: false,
        excl: false,
        trunc: false,
    };
    /// `O_WRONLY|O_CREAT|O_EXCL`: create a new file, fail if it exists.
    pub const CREATE_NEW: OpenFlags = OpenFlags {
        write: true,
        create: true,
        excl: true,
        trunc: false,
    };
    /// `O_WRONLY|O_CREAT|O_TRUNC`: create or truncate.
    pub const CREATE_TRUNC: OpenFlags = OpenFlags {
        write: true,
        create: true,
        excl: false,
        trunc: true,
    };
    /// `O_WRONLY|O_TRUNC`: truncate an existing file.
    pub const TRUNC: OpenFlags = OpenFlags {
        write: true,
        create: false,
        excl: false,
        trunc: true,
    };
    /// `O_WRONLY|O_CREAT|O_TRUNC` minus truncation: cp's retry after ENOENT.
    pub const CREATE: OpenFlags = OpenFlags {
        write: true,
        create: true,
        excl: false,
        trunc: false,
    };
}

impl fmt::Display for OpenFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.write { "O_WRONLY" } else { "O_RDONLY" })?;
        if self.create {
            f.write_str("|O_CREAT")?;
        }
        if self.excl {
            f.write_str("|O_EXCL")?;
        }
        if self.trunc {
            f.write_str("|O_TRUNC")?;
        }
        Ok(())
    }
}

/// A file descriptor number handed out by an [`crate::fs::Fs`].
pub type Fd = u32;

/// Which call takes an advisory lock ([`Op::Flock`]), and so whom the
/// lock belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LockCall {
    /// `flock(2)`: the lock belongs to the open file description.
    Flock,
    /// `fcntl(F_SETLK)` (POSIX record locks, Python's `fcntl.lockf`): the
    /// lock belongs to the process, named by `owner` (in the model, the
    /// job's label; the real filesystem is one process for every job).
    Fcntl {
        /// The process taking the lock.
        owner: Arc<str>,
    },
}

/// One atomic filesystem step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// `lstat(path)`: metadata without following a final symlink.
    Lstat { path: Arc<str> },
    /// `stat(path)`: metadata following symlinks.
    Stat { path: Arc<str> },
    /// `mkdir(path, mode)`.
    Mkdir { path: Arc<str>, mode: u32 },
    /// `open(path, flags, mode)`; returns a descriptor.
    Open {
        path: Arc<str>,
        flags: OpenFlags,
        mode: u32,
    },
    /// `write(fd, blob)`: appends the whole blob at the descriptor's offset.
    Write {
        fd: Fd,
        path: Arc<str>,
        blob: Arc<Blob>,
    },
    /// `read(fd)`: reads everything from the descriptor's offset to the end.
    Read { fd: Fd, path: Arc<str> },
    /// `close(fd)`.
    Close { fd: Fd, path: Arc<str> },
    /// `rename(from, to)`: atomic replace.
    Rename { from: Arc<str>, to: Arc<str> },
    /// `unlink(path)`.
    Unlink { path: Arc<str> },
    /// `rmdir(path)`.
    Rmdir { path: Arc<str> },
    /// `symlink(target, path)`.
    Symlink { target: Arc<str>, path: Arc<str> },
    /// `chmod(path, mode)`.
    Chmod { path: Arc<str>, mode: u32 },
    /// `getdents(path)`: the names in a directory, sorted.
    Readdir { path: Arc<str> },
    /// `link(from, to)` (`linkat` without `AT_SYMLINK_FOLLOW`): a second
    /// name `to` for the inode `from` names; both then share one inode, so
    /// a later in-place write through either is seen through the other.
    Link { from: Arc<str>, to: Arc<str> },
    /// An exclusive, non-blocking advisory lock on the inode `fd` is open
    /// on (`path` is the name it was opened as); `call` says which:
    ///
    /// - [`LockCall::Flock`], `flock(fd, LOCK_EX|LOCK_NB)`: the lock
    ///   belongs to the open file, held until that descriptor is closed
    ///   (also by the process's exit);
    /// - [`LockCall::Fcntl`], `fcntl(fd, F_SETLK, {F_WRLCK, whole file})`:
    ///   the lock belongs to the process (`owner`), so the same process
    ///   takes it again through any descriptor, and closing *any* of its
    ///   descriptors on that file releases it.
    ///
    /// Neither is released by unlinking or renaming the file. (One
    /// variant for both, not an `Fcntl` of its own: the two differ only
    /// in whom the lock belongs to, and every reader of ops that does not
    /// apply them treats them alike.)
    Flock {
        fd: Fd,
        path: Arc<str>,
        call: LockCall,
    },
    /// `renameat2(a, b, RENAME_EXCHANGE)`: atomically swaps the entries
    /// `a` and `b`; both must exist.
    RenameExchange { a: Arc<str>, b: Arc<str> },
}

impl Op {
    /// The syscall name, as strace prints it.
    pub fn syscall(&self) -> &'static str {
        match self {
            Op::Lstat { .. } => "lstat",
            Op::Stat { .. } => "stat",
            Op::Mkdir { .. } => "mkdir",
            Op::Open { .. } => "open",
            Op::Write { .. } => "write",
            Op::Read { .. } => "read",
            Op::Close { .. } => "close",
            Op::Rename { .. } => "rename",
            Op::Unlink { .. } => "unlink",
            Op::Rmdir { .. } => "rmdir",
            Op::Symlink { .. } => "symlink",
            Op::Chmod { .. } => "chmod",
            Op::Readdir { .. } => "getdents",
            Op::Link { .. } => "link",
            Op::Flock {
                call: LockCall::Flock,
                ..
            } => "flock",
            Op::Flock { .. } => "fcntl",
            Op::RenameExchange { .. } => "renameat2",
        }
    }

    /// The path this op acts on (for descriptor ops, the path it was opened as).
    pub fn path(&self) -> &Arc<str> {
        match self {
            Op::Lstat { path }
            | Op::Stat { path }
            | Op::Mkdir { path, .. }
            | Op::Open { path, .. }
            | Op::Write { path, .. }
            | Op::Read { path, .. }
            | Op::Close { path, .. }
            | Op::Unlink { path }
            | Op::Rmdir { path }
            | Op::Symlink { path, .. }
            | Op::Chmod { path, .. }
            | Op::Readdir { path }
            | Op::Flock { path, .. } => path,
            Op::Rename { from, .. } | Op::Link { from, .. } => from,
            Op::RenameExchange { a, .. } => a,
        }
    }

    /// The op's [`Op::path`], taken out of it (no reference count touched).
    pub fn into_path(self) -> Arc<str> {
        match self {
            Op::Lstat { path }
            | Op::Stat { path }
            | Op::Mkdir { path, .. }
            | Op::Open { path, .. }
            | Op::Write { path, .. }
            | Op::Read { path, .. }
            | Op::Close { path, .. }
            | Op::Unlink { path }
            | Op::Rmdir { path }
            | Op::Symlink { path, .. }
            | Op::Chmod { path, .. }
            | Op::Readdir { path }
            | Op::Flock { path, .. } => path,
            Op::Rename { from, .. } | Op::Link { from, .. } => from,
            Op::RenameExchange { a, .. } => a,
        }
    }

    /// The second path of a rename.
    pub fn path2(&self) -> Option<&Arc<str>> {
        match self {
            Op::Rename { to, .. } | Op::Link { to, .. } => Some(to),
            Op::RenameExchange { b, .. } => Some(b),
            _ => None,
        }
    }

    /// True when the op can change the namespace or file contents.
    pub fn is_mutation(&self) -> bool {
        !matches!(
            self,
            Op::Lstat { .. } | Op::Stat { .. } | Op::Read { .. } | Op::Readdir { .. }
        )
    }

    /// Renders the op with `prefix` joined before its paths.
    pub fn display_with<'a>(&'a self, prefix: &'a str) -> OpDisplay<'a> {
        OpDisplay { op: self, prefix }
    }
}

/// Joins a display prefix and a relative path the way the report prints them.
pub fn join_display(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        if path.is_empty() {
            ".".to_string()
        } else {
            path.to_string()
        }
    } else if path.is_empty() {
        prefix.to_string()
    } else {
        format!("{}/{}", prefix.trim_end_matches('/'), path)
    }
}

/// Strace-style rendering of an [`Op`], with paths shown under a prefix.
pub struct OpDisplay<'a> {
    op: &'a Op,
    prefix: &'a str,
}

impl fmt::Display for OpDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = |path: &str| join_display(self.prefix, path);
        match self.op {
            Op::Lstat { path } => write!(f, "lstat({:?})", p(path)),
            Op::Stat { path } => write!(f, "stat({:?})", p(path)),
            Op::Mkdir { path, mode } => write!(f, "mkdir({:?}, {:04o})", p(path), mode),
            Op::Open { path, flags, mode } => {
                if flags.create {
                    write!(f, "open({:?}, {}, {:04o})", p(path), flags, mode)
                } else {
                    write!(f, "open({:?}, {})", p(path), flags)
                }
            }
            Op::Write { fd, blob, .. } => {
                write!(f, "write({fd}, <{}>, {})", blob.short_digest(), blob.len())
            }
            Op::Read { fd, .. } => write!(f, "read({fd})"),
            Op::Close { fd, .. } => write!(f, "close({fd})"),
            Op::Rename { from, to } => write!(f, "rename({:?}, {:?})", p(from), p(to)),
            Op::Unlink { path } => write!(f, "unlink({:?})", p(path)),
            Op::Rmdir { path } => write!(f, "rmdir({:?})", p(path)),
            Op::Symlink { target, path } => write!(f, "symlink({:?}, {:?})", target, p(path)),
            Op::Chmod { path, mode } => write!(f, "chmod({:?}, {:04o})", p(path), mode),
            Op::Readdir { path } => write!(f, "getdents({:?})", p(path)),
            Op::Link { from, to } => write!(f, "link({:?}, {:?})", p(from), p(to)),
            Op::Flock {
                fd,
                call: LockCall::Flock,
                ..
            } => write!(f, "flock({fd}, LOCK_EX|LOCK_NB)"),
            Op::Flock { fd, .. } => write!(f, "fcntl({fd}, F_SETLK, {{F_WRLCK, 0, 0}})"),
            Op::RenameExchange { a, b } => write!(
                f,
                "renameat2(AT_FDCWD, {:?}, AT_FDCWD, {:?}, RENAME_EXCHANGE)",
                p(a),
                p(b)
            ),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with("").fmt(f)
    }
}

/// The kind of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
        })
    }
}

/// Metadata returned by `stat` and `lstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Entry kind.
    pub kind: Kind,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes for files; 0 otherwise.
    pub size: u64,
}

/// The successful value of an op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The call returned 0.
    Unit,
    /// `open` returned a descriptor.
    Fd(Fd),
    /// `stat`/`lstat` metadata.
    Meta(Meta),
    /// `read` returned these bytes.
    Data(Content),
    /// `write` wrote this many bytes.
    Written(u64),
    /// `getdents` listed these names, sorted.
    Names(Vec<String>),
}

/// The result of one op: a value or an errno.
pub type OpResult = Result<Value, Errno>;

/// Strace-style rendering of a result: `= 0`, `= 3`, `= -1 EEXIST (File exists)`.
pub struct ResultDisplay<'a>(pub &'a OpResult);

impl fmt::Display for ResultDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(Value::Unit) => f.write_str("= 0"),
            Ok(Value::Fd(fd)) => write!(f, "= {fd}"),
            Ok(Value::Meta(m)) => write!(f, "= 0 {{{}, {:04o}, {}}}", m.kind, m.mode, m.size),
            Ok(Value::Data(c)) => write!(f, "= {}", c.len()),
            Ok(Value::Written(n)) => write!(f, "= {n}"),
            Ok(Value::Names(n)) => write!(f, "= {} entries", n.len()),
            Err(e) => write!(f, "= -1 {e}"),
        }
    }
}
