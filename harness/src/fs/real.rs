//! A real filesystem: a fresh `tempfile::TempDir` per instance, real syscalls.
//!
//! [`RealFs`] executes every [`Op`] as the matching Linux syscall relative to
//! its own temporary root, so the kernel, not the model, decides each result.
//! It is the ground truth [`super::ModelFs`] is checked against.
//!
//! Containment: every path is resolved with `openat2(RESOLVE_BENEATH)` from a
//! descriptor of the root. An absolute path, a `..` above the root or a
//! symlink whose target leaves the root fails with `EXDEV`, exactly as in the
//! model; nothing is ever created, changed or read outside the root. Ops that
//! act on a final name (`mkdir`, `unlink`, `rmdir`, `rename`, `symlink`) first
//! resolve the parent directory that way and then call the `*at` syscall on a
//! plain name, which never follows a final symlink. A final name of `.`/`..`
//! and any absolute path are refused before the kernel sees them, with the
//! same errno the model gives.
//!
//! Determinism: descriptors are virtualized like the model's (the lowest free
//! number from 3), directory listings are sorted by name, and directory sizes
//! are reported as 0, so no host detail leaks into a result.
//!
//! Modes: the model applies the umask [`super::model::UMASK`] (022). Creating a
//! `RealFs` sets the process umask to that same value (`umask(2)` is
//! process-wide; the harness never wants another one), so the kernel applies
//! it to `mkdir` and `open(O_CREAT)`.
//!
//! The temporary root is removed when the `RealFs` is dropped, also when an
//! execution fails or panics.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};

use super::model::UMASK;
use super::tree::{Entry, Tree};
use super::Fs;
use crate::content::{self, Blob, Content, Digest};
use crate::error::{Error, Result};
use crate::op::{Errno, Fd, Kind, LockCall, Meta, Op, OpResult, OpenFlags, Value};

/// A real directory under a fresh `tempfile::TempDir`, driven by real syscalls.
pub struct RealFs {
    /// Kept open for the lifetime of the instance; every path resolves from it.
    root: OwnedFd,
    /// Open files by virtual descriptor number.
    files: BTreeMap<Fd, File>,
    /// Taken by `drop`, which removes it under the live-roots lock.
    dir: Option<tempfile::TempDir>,
}

impl Drop for RealFs {
    fn drop(&mut self) {
        self.files.clear();
        if let Some(dir) = self.dir.take() {
            super::live_roots::remove(dir);
        }
    }
}

impl std::fmt::Debug for RealFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealFs")
            .field("root", &self.dir().path())
            .field("open_fds", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The kernel's errno of a failed syscall.
fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// The errno of a failed std I/O call.
fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(raw_eio()))
}

/// `EIO`, for the (never expected) std error without an OS code.
fn raw_eio() -> i32 {
    rustix::io::Errno::IO.raw_os_error()
}

/// How an op names a path to the kernel: `.` for the root itself.
fn kernel_path(path: &str) -> &str {
    if path.is_empty() {
        "."
    } else {
        path
    }
}

impl RealFs {
    /// A fresh, empty root under the system temporary directory (`$TMPDIR`).
    pub fn new() -> Result<RealFs> {
        rustix::process::umask(Mode::from_raw_mode(UMASK));
        let dir = super::live_roots::create(|| {
            let dir = tempfile::Builder::new().prefix("prefixrace-").tempdir()?;
            let path = dir.path().to_path_buf();
            Ok((dir, path))
        })
        .map_err(|e| Error::io("temporary directory", &e))?;
        let root = rustix::fs::open(
            dir.path(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(dir.path().display().to_string(), &e.into()))?;
        Ok(RealFs {
            root,
            files: BTreeMap::new(),
            dir: Some(dir),
        })
    }

    fn dir(&self) -> &tempfile::TempDir {
        self.dir.as_ref().expect("the root lives until drop")
    }

    /// The host path of the root (for tests and diagnostics only).
    pub fn root_path(&self) -> &Path {
        self.dir().path()
    }

    /// Resolves `path` beneath the root, following every symlink (also a
    /// final one unless `nofollow`), and opens it with `flags`.
    fn resolve(&self, path: &str, flags: OFlags, mode: u32) -> std::result::Result<OwnedFd, Errno> {
        if path.starts_with('/') {
            return Err(Errno::EXDEV);
        }
        loop {
            match rustix::fs::openat2(
                &self.root,
                kernel_path(path),
                flags | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
                ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
            ) {
                // With RESOLVE_BENEATH the kernel fails a `..` with EAGAIN when
                // any rename happened anywhere on the system during the walk,
                // and asks the caller to retry: not a result of this op.
                Err(rustix::io::Errno::AGAIN) => continue,
                other => return other.map_err(errno),
            }
        }
    }

    /// An `O_PATH` descriptor of `path`.
    fn locate(&self, path: &str, follow_last: bool) -> std::result::Result<OwnedFd, Errno> {
        let nofollow = if follow_last {
            OFlags::empty()
        } else {
            OFlags::NOFOLLOW
        };
        self.resolve(path, OFlags::PATH | nofollow, 0)
    }

    /// The parent directory of `path` (resolved beneath the root) and the
    /// final name, which is always a plain name. Mirrors the model's rules
    /// for a trailing `/`, `.` and `..`.
    fn parent<'p>(&self, path: &'p str) -> std::result::Result<(OwnedFd, &'p str), Errno> {
        if path.starts_with('/') {
            return Err(Errno::EXDEV);
        }
        let path = path.trim_end_matches('/');
        let (dir, name) = super::path::split_parent(path);
        if name.is_empty() || name == "." {
            return Err(Errno::EEXIST);
        }
        if name == ".." {
            return Err(Errno::EXDEV);
        }
        let fd = self.resolve(dir, OFlags::PATH | OFlags::DIRECTORY, 0)?;
        Ok((fd, name))
    }

    fn meta(fd: &OwnedFd) -> std::result::Result<Meta, Errno> {
        let st = rustix::fs::fstat(fd).map_err(errno)?;
        let kind = kind_of(st.st_mode);
        Ok(Meta {
            kind,
            mode: if kind == Kind::Symlink {
                0o777
            } else {
                st.st_mode & 0o7777
            },
            size: if kind == Kind::Dir {
                0
            } else {
                st.st_size as u64
            },
        })
    }

    fn next_fd(&self) -> Fd {
        let mut fd = 3;
        for used in self.files.keys() {
            if *used == fd {
                fd += 1;
            } else if *used > fd {
                break;
            }
        }
        fd
    }

    fn open(&mut self, path: &str, flags: OpenFlags, mode: u32) -> OpResult {
        let mut oflags = if flags.write {
            OFlags::WRONLY
        } else {
            OFlags::RDONLY
        };
        if flags.create {
            oflags |= OFlags::CREATE;
        }
        if flags.excl {
            oflags |= OFlags::EXCL;
        }
        if flags.trunc {
            oflags |= OFlags::TRUNC;
        }
        if flags.create {
            // The model refuses these final names before looking anything up.
            self.parent(path)?;
        }
        // openat2 rejects a mode without O_CREAT (EINVAL); open(2) ignores it.
        let mode = if flags.create { mode & 0o7777 } else { 0 };
        let fd = self.resolve(path, oflags, mode)?;
        let number = self.next_fd();
        self.files.insert(number, File::from(fd));
        Ok(Value::Fd(number))
    }

    fn write(&mut self, fd: Fd, blob: &Arc<Blob>) -> OpResult {
        let file = self.files.get_mut(&fd).ok_or(Errno::EBADF)?;
        // One write(2) even for an empty blob: the kernel still checks the
        // descriptor (EBADF on a read-only one), `write_all` would skip it.
        let mut rest = blob.bytes();
        loop {
            let n = rustix::io::write(&*file, rest).map_err(errno)?;
            rest = &rest[n..];
            if rest.is_empty() || n == 0 {
                break;
            }
        }
        Ok(Value::Written(blob.len()))
    }

    fn read(&mut self, fd: Fd) -> OpResult {
        let file = self.files.get_mut(&fd).ok_or(Errno::EBADF)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io_errno(&e))?;
        Ok(Value::Data(Content::from_blob(Blob::new(bytes))))
    }

    fn mkdir(&self, path: &str, mode: u32) -> OpResult {
        let (dir, name) = self.parent(path)?;
        rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(mode & 0o7777)).map_err(errno)?;
        Ok(Value::Unit)
    }

    fn rename(&self, from: &str, to: &str) -> OpResult {
        let (fdir, fname) = self.parent(from)?;
        let (tdir, tname) = self.parent(to)?;
        rustix::fs::renameat(&fdir, fname, &tdir, tname).map_err(errno)?;
        Ok(Value::Unit)
    }

    fn remove(&self, path: &str, flags: AtFlags) -> OpResult {
        if flags.contains(AtFlags::REMOVEDIR)
            && path.trim_end_matches('/').rsplit('/').next() == Some(".")
        {
            return Err(Errno::EINVAL);
        }
        let (dir, name) = self.parent(path)?;
        rustix::fs::unlinkat(&dir, name, flags).map_err(errno)?;
        Ok(Value::Unit)
    }

    /// `linkat(from, to, 0)`: both names resolved beneath the root; a final
    /// symlink `from` is linked itself, never followed out of the root.
    fn hard_link(&self, from: &str, to: &str) -> OpResult {
        let (fdir, fname) = self.parent(from)?;
        let (tdir, tname) = self.parent(to)?;
        rustix::fs::linkat(&fdir, fname, &tdir, tname, AtFlags::empty()).map_err(errno)?;
        Ok(Value::Unit)
    }

    /// `flock(fd, LOCK_EX|LOCK_NB)` on an open descriptor; `EWOULDBLOCK`
    /// is `EAGAIN` on Linux.
    fn flock(&self, fd: Fd) -> OpResult {
        let file = self.files.get(&fd).ok_or(Errno::EBADF)?;
        rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            .map_err(errno)?;
        Ok(Value::Unit)
    }

    /// `fcntl(fd, F_SETLK, {F_WRLCK, SEEK_SET, 0, 0})`: a POSIX write lock
    /// on the whole file, non-blocking (EAGAIN or EACCES while another
    /// process holds it). The lock belongs to the process, and this
    /// harness is ONE process for every job: on the real filesystem two
    /// jobs' `fcntl` locks never conflict (each takes it again, a no-op),
    /// and a job's close of any descriptor on the file releases every
    /// job's. Only the model, whose owners are its jobs, shows two
    /// processes contending; `tests/differential.rs` compares what one
    /// process can show and asks a child process for the rest.
    fn fcntl_lock(&self, fd: Fd) -> OpResult {
        use std::os::fd::AsRawFd;
        let file = self.files.get(&fd).ok_or(Errno::EBADF)?;
        // SAFETY: `flock` is plain old data; all zeroes is a valid value
        // (l_start 0 and l_len 0: from the start to the end of the file).
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        // SAFETY: `file` is an open descriptor this filesystem owns, and
        // F_SETLK reads the `flock` it is handed and nothing else.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) };
        if rc == -1 {
            let raw = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            return Err(Errno::from_raw(raw));
        }
        Ok(Value::Unit)
    }

    /// True when an open file holds a `flock` on what `path` leads to:
    /// a fresh open file cannot take it (and releases it at once when it can).
    fn is_locked(&self, path: &str) -> bool {
        let Ok(fd) = self.resolve(path, OFlags::RDONLY, 0) else {
            return false;
        };
        rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            == Err(rustix::io::Errno::WOULDBLOCK)
    }

    /// `renameat2(a, b, RENAME_EXCHANGE)`. A filesystem without it answers
    /// `EINVAL` (and a kernel before 3.15 `ENOSYS`): passed on as the
    /// kernel gave it.
    fn rename_exchange(&self, a: &str, b: &str) -> OpResult {
        let (adir, aname) = self.parent(a)?;
        let (bdir, bname) = self.parent(b)?;
        rustix::fs::renameat_with(
            &adir,
            aname,
            &bdir,
            bname,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .map_err(errno)?;
        Ok(Value::Unit)
    }

    fn symlink(&self, target: &str, path: &str) -> OpResult {
        let (dir, name) = self.parent(path)?;
        rustix::fs::symlinkat(target, &dir, name).map_err(errno)?;
        Ok(Value::Unit)
    }

    fn chmod(&self, path: &str, mode: u32) -> OpResult {
        let fd = self.locate(path, true)?;
        // An O_PATH descriptor cannot be fchmod'ed; its /proc magic link can be
        // chmod'ed, and it names exactly the inode resolved beneath the root.
        let link = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        rustix::fs::chmodat(
            rustix::fs::CWD,
            link.as_str(),
            Mode::from_raw_mode(mode & 0o7777),
            AtFlags::empty(),
        )
        .map_err(errno)?;
        Ok(Value::Unit)
    }

    fn readdir(&self, path: &str) -> OpResult {
        let fd = self.resolve(path, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::new(fd).map_err(errno)? {
            let entry = entry.map_err(errno)?;
            let name = entry.file_name().to_string_lossy();
            if name != "." && name != ".." {
                names.push(name.into_owned());
            }
        }
        names.sort();
        Ok(Value::Names(names))
    }
}

/// The [`Kind`] of a raw `st_mode`.
fn kind_of(st_mode: u32) -> Kind {
    match st_mode & 0o170000 {
        0o040000 => Kind::Dir,
        0o120000 => Kind::Symlink,
        _ => Kind::File,
    }
}

/// The tree entry of the host path `path`, not following a symlink.
/// The tree under the host directory `root` (the root itself is not an
/// entry), walked in name order so the host's readdir order never leaks.
pub fn host_tree(root: &Path) -> std::io::Result<Tree> {
    let mut tree = Tree::new();
    let mut stack: Vec<(String, PathBuf)> = vec![(String::new(), root.into())];
    while let Some((rel, host)) = stack.pop() {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&host)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        for name in names {
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let child_host = host.join(&name);
            let entry = host_entry(&child_host)?;
            if entry.kind == Kind::Dir {
                stack.push((child_rel.clone(), child_host));
            }
            tree.insert(child_rel, entry);
        }
    }
    Ok(tree)
}

fn host_entry(path: &Path) -> std::io::Result<Entry> {
    let md = std::fs::symlink_metadata(path)?;
    let ft = md.file_type();
    Ok(if ft.is_symlink() {
        Entry {
            kind: Kind::Symlink,
            mode: 0o777,
            size: 0,
            digest: None,
            target: Some(std::fs::read_link(path)?.to_string_lossy().into_owned()),
            bytecode_source: None,
        }
    } else if ft.is_dir() {
        Entry::dir(md.permissions().mode() & 0o7777)
    } else {
        let bytes = std::fs::read(path)?;
        Entry {
            kind: Kind::File,
            mode: md.mode() & 0o7777,
            size: bytes.len() as u64,
            digest: Some(Digest::of(&bytes)),
            target: None,
            bytecode_source: content::bytecode_source(&bytes),
        }
    })
}

impl Fs for RealFs {
    fn apply(&mut self, op: &Op) -> OpResult {
        // The kernel would judge the whole path; `parent` hands it only the
        // parent's part, so the lengths are judged here, as on the model.
        if let Some(errno) = super::name_limits::refused_arguments(op) {
            return Err(errno);
        }
        match op {
            Op::Lstat { path } => Self::meta(&self.locate(path, false)?).map(Value::Meta),
            Op::Stat { path } => Self::meta(&self.locate(path, true)?).map(Value::Meta),
            Op::Mkdir { path, mode } => self.mkdir(path, *mode),
            Op::Open { path, flags, mode } => self.open(path, *flags, *mode),
            Op::Write { fd, blob, .. } => self.write(*fd, blob),
            Op::Read { fd, .. } => self.read(*fd),
            Op::Close { fd, .. } => self
                .files
                .remove(fd)
                .map(|_| Value::Unit)
                .ok_or(Errno::EBADF),
            Op::Rename { from, to } => self.rename(from, to),
            Op::Unlink { path } => self.remove(path, AtFlags::empty()),
            Op::Rmdir { path } => self.remove(path, AtFlags::REMOVEDIR),
            Op::Symlink { target, path } => self.symlink(target, path),
            Op::Chmod { path, mode } => self.chmod(path, *mode),
            Op::Readdir { path } => self.readdir(path),
            Op::Link { from, to } => self.hard_link(from, to),
            Op::Flock {
                fd,
                call: LockCall::Flock,
                ..
            } => self.flock(*fd),
            Op::Flock { fd, .. } => self.fcntl_lock(*fd),
            Op::RenameExchange { a, b } => self.rename_exchange(a, b),
        }
    }

    fn probe(&self, path: &str) -> Option<Kind> {
        if let Some(locked) = super::lock_probe::locked_path(path) {
            return self.is_locked(locked).then_some(Kind::File);
        }
        if super::lock_probe::record_locked_path(path).is_some() {
            // One process for every job: no job's `fcntl` lock is ever
            // another process's (see `fcntl_lock`).
            return None;
        }
        let fd = self.locate(path, true).ok()?;
        Self::meta(&fd).ok().map(|m| m.kind)
    }

    fn tree(&self) -> Tree {
        host_tree(self.dir().path()).expect("a RealFs root stays readable while the RealFs lives")
    }
}
