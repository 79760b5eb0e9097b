//! A running step of a script: one of the kit's primitives, started from
//! its declaration.

use super::{
    Action, AdvisoryLock, Chmod, CleanupMark, CreateDir, ExchangeIn, GuardKind, LinkFromStore,
    MarkerGuard, MoveFile, Next, Primitive, ReadFile, RemoveTree, Rename, StashDir, SwapIn,
    SymlinkSwap, TempfileWrite, WriteFile, WriteHow,
};
use crate::op::{Kind, OpResult};

/// One primitive in progress, whichever it is.
#[derive(Debug, Clone)]
pub enum Piece {
    /// `makedirs` or `mkdir`.
    CreateDir(CreateDir),
    /// A file write.
    Write(WriteFile),
    /// A `tempfile` write.
    Tempfile(TempfileWrite),
    /// A tree removal.
    Remove(RemoveTree),
    /// A rename.
    Rename(Rename),
    /// npm's move of a directory.
    Move(MoveFile),
    /// A tree swapped in.
    Swap(SwapIn),
    /// An uninstall stash.
    Stash(StashDir),
    /// A symlink swap.
    Symlink(SymlinkSwap),
    /// Taking or releasing a lock.
    Lock(AdvisoryLock),
    /// A completion-marker check.
    Guard(MarkerGuard),
    /// A read.
    Read(ReadFile),
    /// A `chmod`.
    Chmod(Chmod),
    /// A hard link from a store.
    Link(LinkFromStore),
    /// A swap by exchange.
    Exchange(ExchangeIn),
    /// A clean-up armed or disarmed.
    Cleanup(CleanupMark),
}

impl Piece {
    /// Starts `action` for the job labelled `job` (which names its
    /// temporary files).
    pub fn start(action: &Action, job: &str) -> Piece {
        match action {
            Action::Makedirs { dir } => Piece::CreateDir(CreateDir::tolerant(dir)),
            Action::Mkdir { dir } => Piece::CreateDir(CreateDir::strict(dir)),
            Action::EnsureDir { dir } => Piece::CreateDir(CreateDir::pathlib(dir)),
            Action::CreateDirAll { dir } => Piece::CreateDir(CreateDir::create_dir_all(dir)),
            Action::Probe { path } => Piece::Guard(MarkerGuard::new(path, GuardKind::Probe)),
            Action::FailIfExists { path } => {
                Piece::Guard(MarkerGuard::new(path, GuardKind::FailIfExists))
            }
            Action::Chmod { path, mode } => Piece::Chmod(Chmod::new(path, *mode)),
            Action::Write {
                path,
                content,
                how: WriteHow::Tempfile { copy },
            } => Piece::Tempfile(TempfileWrite::new(path, content, *copy, job)),
            Action::Write { path, content, how } => {
                Piece::Write(WriteFile::new(path, content, *how, job))
            }
            Action::Remove { path, style } => Piece::Remove(RemoveTree::new(path, *style)),
            Action::Rename {
                from,
                to,
                missing_ok,
            } => Piece::Rename(Rename::new(from, to, *missing_ok)),
            Action::MoveFile {
                from,
                to,
                replace_existing,
            } => Piece::Move(MoveFile::new(from, to, *replace_existing)),
            Action::SwapIn { new, target } => Piece::Swap(SwapIn::new(new, target, job)),
            Action::Stash { dir } => Piece::Stash(StashDir::new(dir)),
            Action::Symlink { target, link, how } => {
                Piece::Symlink(SymlinkSwap::new(target, link, *how, job))
            }
            Action::Lock { path, kind } => {
                Piece::Lock(AdvisoryLock::acquire(path, *kind).owned_by(job))
            }
            Action::Unlock { path, kind } => Piece::Lock(AdvisoryLock::release(path, *kind)),
            Action::SkipIfExists { path } => {
                Piece::Guard(MarkerGuard::new(path, GuardKind::SkipIfExists))
            }
            Action::WaitFor { path } => Piece::Guard(MarkerGuard::new(path, GuardKind::WaitFor)),
            Action::Read { path } => Piece::Read(ReadFile::new(path)),
            Action::LinkFromStore {
                store,
                target,
                tmp_dir,
            } => Piece::Link(LinkFromStore::new(store, target, tmp_dir)),
            Action::ExchangeIn { new, target } => Piece::Exchange(ExchangeIn::new(new, target)),
            Action::Cleanup { path } | Action::Keep { path } => {
                Piece::Cleanup(CleanupMark::new(path))
            }
        }
    }

    /// The `flock` or `fcntl` lock this step took and holds through a descriptor, once
    /// taken (see [`AdvisoryLock::held`]).
    pub fn held_lock(&self) -> Option<(std::sync::Arc<str>, crate::op::Fd)> {
        match self {
            Piece::Lock(lock) => lock.held(),
            _ => None,
        }
    }

    fn primitive(&mut self) -> &mut dyn Primitive {
        match self {
            Piece::CreateDir(p) => p,
            Piece::Write(p) => p,
            Piece::Tempfile(p) => p,
            Piece::Remove(p) => p,
            Piece::Rename(p) => p,
            Piece::Move(p) => p,
            Piece::Swap(p) => p,
            Piece::Stash(p) => p,
            Piece::Symlink(p) => p,
            Piece::Lock(p) => p,
            Piece::Guard(p) => p,
            Piece::Read(p) => p,
            Piece::Chmod(p) => p,
            Piece::Link(p) => p,
            Piece::Exchange(p) => p,
            Piece::Cleanup(p) => p,
        }
    }
}

impl Primitive for Piece {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        self.primitive().next(probe)
    }

    fn complete(&mut self, result: &OpResult) {
        self.primitive().complete(result)
    }
}
