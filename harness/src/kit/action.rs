//! The primitives of the kit, as declared: what an installer does, before
//! it runs.

use std::sync::Arc;

use crate::content::Blob;

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteHow {
    /// `open(O_WRONLY|O_CREAT|O_TRUNC)`, write, close: readers can see a
    /// short file, and two writers interleave (pip 21, npm's lockfile).
    InPlace,
    /// `open(O_WRONLY|O_CREAT|O_EXCL)`: fails with EEXIST when the file is
    /// there (CPython 2's `.pyc` write, cp's copy of a file it saw missing).
    Exclusive,
    /// Write a temporary file, then `rename` it over the target: readers
    /// see the old file or the new one, never half of one.
    Atomic(TmpName),
    /// Rust's `tempfile` persisted over the target, as uv writes: `O_EXCL`
    /// temporary file, filled (`copy`: through `fs::copy`'s own open),
    /// renamed, a leftover `unlink`. See [`super::TempfileWrite`].
    Tempfile {
        /// Whether the bytes are copied in with `fs::copy`.
        copy: bool,
    },
}

/// The temporary name of an atomic write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TmpName {
    /// `TARGET.tmp`, the same for every process (Spack's `sbang.tmp` before
    /// its fix): two writers share, truncate and rename one temporary file.
    Shared,
    /// `TARGET.tmp.JOB`, one per process, as `mkstemp` gives.
    Unique,
}

/// How a tree is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoveStyle {
    /// `rm -rf`: a missing entry is fine; a directory that filled up again
    /// fails with `Directory not empty`.
    RmRf,
    /// Python's `shutil.rmtree` (no `ignore_errors`): any error raises,
    /// a missing entry too.
    Rmtree,
    /// Node's `rimraf`: a missing entry is fine; a directory that filled up
    /// again is emptied again, up to [`RIMRAF_RETRIES`] times.
    Rimraf,
    /// Node's own `fs.rm(path, {recursive: true, force: true})` (what npm
    /// removes its retired packages with, recorded with npm 11.19 and
    /// Node 20): `lstat`, then `rmdir` a directory first and list it only
    /// on ENOTEMPTY; a missing entry is fine; a directory that filled up
    /// again fails with ENOTEMPTY (`maxRetries` is 0).
    NodeRm,
}

/// How many times `rimraf` empties a directory again on `ENOTEMPTY`
/// (its `maxRetries` default).
pub const RIMRAF_RETRIES: u8 = 3;

/// How a symlink is put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymlinkHow {
    /// `symlink(target, link)`: fails with EEXIST when the link is there.
    Create,
    /// Unlink whatever is there, then `symlink`: a window with no link
    /// (`ln -sfn` of coreutils before 8.30, many install scripts).
    UnlinkThenCreate,
    /// `symlink(target, link.tmp)` then `rename` it over the link: atomic.
    TempThenRename,
}

/// An advisory lock, and how it is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// `mkdir(LOCK)`; released by `rmdir` (Sage's and prefixrace's own
    /// prefix lock, `mkdir`-based shell locks).
    Mkdir,
    /// `open(LOCK, O_CREAT|O_EXCL)`; released by `unlink` (conda's and
    /// npm's lock files, Spack's pre-`fcntl` locks).
    ExclusiveFile,
    /// A lock that silently does nothing, as `flock` on a filesystem
    /// without lock support: every taker "holds" it at once.
    Ineffective,
    /// `open(LOCK, O_WRONLY|O_CREAT)` then `flock(LOCK_EX)` (uv's prefix
    /// and cache locks, Homebrew's keg locks); released by closing the
    /// descriptor, which the kernel also does when the holder exits or
    /// dies. Unlike a `mkdir` or `O_EXCL` lock it never outlives its
    /// holder, and the lock file stays behind (deleting it does not
    /// release the lock: a new file of that name is another inode).
    Flock,
    /// `open(LOCK, O_WRONLY|O_CREAT)` then `fcntl(F_SETLK, F_WRLCK)` on
    /// the whole file (Python's `fcntl.lockf`, Spack's prefix and stage
    /// locks): a POSIX record lock. Like `flock` it dies with its holder
    /// and survives the lock file's deletion, but it belongs to the
    /// process (the job), not the open file: the job takes it again
    /// through another descriptor, and closing any of the job's
    /// descriptors it went through releases it.
    Fcntl,
}

/// One primitive of an installer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Python's `os.makedirs(dir, exist_ok=True)`: tolerant of a directory
    /// that appears meanwhile.
    Makedirs {
        /// The directory, relative to the prefix root.
        dir: Arc<str>,
    },
    /// `mkdir(dir)`, strict: EEXIST fails.
    Mkdir {
        /// The directory, relative to the prefix root.
        dir: Arc<str>,
    },
    /// Rust's `fs::create_dir_all(dir)` (uv).
    CreateDirAll {
        /// The directory, relative to the prefix root.
        dir: Arc<str>,
    },
    /// `stat(path)`, whatever it finds: a look the model does not act on.
    Probe {
        /// The path, relative to the prefix root.
        path: Arc<str>,
    },
    /// pypa/installer's `if not exists(dir): Path(dir).mkdir(parents=True,
    /// exist_ok=True)`.
    EnsureDir {
        /// The directory, relative to the prefix root.
        dir: Arc<str>,
    },
    /// Write a file.
    Write {
        /// The file, relative to the prefix root.
        path: Arc<str>,
        /// Its bytes.
        content: Arc<Blob>,
        /// In place, exclusively, or through a temporary file.
        how: WriteHow,
    },
    /// Remove a tree (or a file).
    Remove {
        /// The tree, relative to the prefix root.
        path: Arc<str>,
        /// `rm -rf`, `shutil.rmtree` or `rimraf`.
        style: RemoveStyle,
    },
    /// `rename(from, to)`.
    Rename {
        /// The source, relative to the prefix root.
        from: Arc<str>,
        /// The destination, relative to the prefix root.
        to: Arc<str>,
        /// Whether a missing source is fine (renaming aside a target that
        /// may not exist yet).
        missing_ok: bool,
    },
    /// Move a directory as npm does ([`super::MoveFile`]): make the
    /// destination's parent, rename, again once on ENOENT.
    MoveFile {
        /// The source, relative to the prefix root.
        from: Arc<str>,
        /// The destination, relative to the prefix root.
        to: Arc<str>,
        /// npm 11.7 and later: remove a destination that exists already and
        /// move again, instead of failing.
        replace_existing: bool,
    },
    /// Move an installed directory aside as pip's uninstall does, onto the
    /// first free `~`-named sibling ([`super::StashDir`]).
    Stash {
        /// The directory, relative to the prefix root.
        dir: Arc<str>,
    },
    /// Swap a new tree in over a target: rename the old one aside, rename
    /// the new one in (again, over a target another process put in
    /// meanwhile), remove the old ones.
    SwapIn {
        /// The new tree, relative to the prefix root.
        new: Arc<str>,
        /// The target, relative to the prefix root.
        target: Arc<str>,
    },
    /// Put a symlink in place.
    Symlink {
        /// What the link points to, as written into it.
        target: Arc<str>,
        /// The link, relative to the prefix root.
        link: Arc<str>,
        /// Create, unlink then create, or a temporary link renamed over.
        how: SymlinkHow,
    },
    /// Take an advisory lock; blocks while another job holds it.
    Lock {
        /// The lock's path, relative to the prefix root.
        path: Arc<str>,
        /// How it is taken.
        kind: LockKind,
    },
    /// Release an advisory lock taken by [`Action::Lock`].
    Unlock {
        /// The lock's path, relative to the prefix root.
        path: Arc<str>,
        /// How it was taken.
        kind: LockKind,
    },
    /// Ends the installer successfully when the path exists: the check of
    /// a completion marker ("already installed").
    SkipIfExists {
        /// The marker, relative to the prefix root.
        path: Arc<str>,
    },
    /// Fails the installer when the path exists (EEXIST): pypa/installer's
    /// refusal to overwrite a file.
    FailIfExists {
        /// The path, relative to the prefix root.
        path: Arc<str>,
    },
    /// `chmod(path, mode)`.
    Chmod {
        /// The path, relative to the prefix root.
        path: Arc<str>,
        /// The permission bits.
        mode: u32,
    },
    /// Blocks until the path exists (another process's completion marker).
    WaitFor {
        /// The marker, relative to the prefix root.
        path: Arc<str>,
    },
    /// Swap the tree `new` in over `target` by `RENAME_EXCHANGE`, then
    /// remove the old one ([`super::ExchangeIn`]).
    ExchangeIn {
        /// The new tree, relative to the prefix root.
        new: Arc<str>,
        /// The target it replaces.
        target: Arc<str>,
    },
    /// Hard-link `store` into place at `target` ([`super::LinkFromStore`]):
    /// uv's hardlink mode.
    LinkFromStore {
        /// The file in the content store, relative to the prefix root.
        store: Arc<str>,
        /// Where it is linked, relative to the prefix root.
        target: Arc<str>,
        /// The temporary directory an existing target is replaced through.
        tmp_dir: Arc<str>,
    },
    /// Read a file whole: what a consumer of the installed tree does
    /// (`require`, `import`, a linker).
    Read {
        /// The file, relative to the prefix root.
        path: Arc<str>,
    },
    /// From here on, remove `path` (errors ignored) whenever the script
    /// ends: a `tempfile::TempDir` in scope ([`super::CleanupMark`]).
    /// Makes no syscall.
    Cleanup {
        /// The temporary tree, relative to the prefix root.
        path: Arc<str>,
    },
    /// Disarm the clean-up of `path`: `TempDir::keep`, once the tree is
    /// handed on. Makes no syscall.
    Keep {
        /// The temporary tree, relative to the prefix root.
        path: Arc<str>,
    },
}

/// One step of a [`super::Script`]: a primitive, and the message the tool
/// prints when it fails, if that is not the OS error in the tool's words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scripted {
    /// The primitive.
    pub action: Action,
    /// The tool's own message for a failure of this step, with `{path}`,
    /// `{to}` and `{error}` filled in (see [`super::Voice::say`]).
    pub message: Option<Arc<str>>,
    /// Whether a failure of this step is ignored, as CPython 2 ignores a
    /// `.pyc` it cannot write: the installer goes on with its next step.
    pub ignore_errors: bool,
}
