//! The installer kit: the primitives installers are made of, each a small
//! state machine pinned by its own tests, and [`Script`], an installer
//! composed of them.
//!
//! Every installer in the package ecosystem is made of the same few moves:
//! make directories ([`CreateDir`], [`Makedirs`]), write files in place or
//! through a temporary name ([`WriteFile`]), copy a staged tree as GNU
//! `cp -Rp` does ([`CopyTree`]), remove trees the way `rm -rf`,
//! `shutil.rmtree`, `rimraf` or Node's `fs.rm` do ([`RemoveTree`]), rename
//! ([`Rename`], npm's [`MoveFile`]), swap symlinks ([`SymlinkSwap`]),
//! hard-link from a content store ([`LinkFromStore`]), swap by
//! `RENAME_EXCHANGE` ([`ExchangeIn`]), take advisory locks ([`AdvisoryLock`]),
//! write and check completion markers ([`MarkerGuard`]), read what
//! others installed ([`ReadFile`]), and clean up a temporary tree as it
//! goes out of scope ([`CleanupMark`]); [`PipUninstall`] is pip's uninstall of
//! an installed distribution, decided from its `METADATA` and `RECORD`. A
//! [`Script`] lists them in order; a
//! [`crate::job::ScriptJob`] runs it as a job, and a failing step prints
//! the line the real program prints ([`Voice`]). A scenario declares one
//! with `[[activity]] kind = "script"`; `docs/installers.md` shows how.

mod action;
mod chmod;
mod cleanup;
mod copy_tree;
mod directory;
mod exchange;
mod failure;
mod guard;
mod installed;
mod link;
mod lock;
mod makedirs;
mod move_file;
mod piece;
mod primitive;
mod read;
mod remove;
mod rename;
mod script;
mod stash;
mod swap;
mod symlink;
mod tempfile;
#[cfg(test)]
mod test_support;
mod uninstall;
mod voice;
mod write;

pub use action::{
    Action, LockKind, RemoveStyle, Scripted, SymlinkHow, TmpName, WriteHow, RIMRAF_RETRIES,
};
pub use chmod::Chmod;
pub use cleanup::CleanupMark;
pub use copy_tree::CopyTree;
pub use directory::CreateDir;
pub use exchange::ExchangeIn;
pub use failure::Failure;
pub use guard::{GuardKind, MarkerGuard};
pub use installed::{
    cache_from_source, canonical_name, compact, metadata_field, record_entries, resolve_entry,
    uninstallation_paths, walk_roots,
};
pub use link::LinkFromStore;
pub use lock::AdvisoryLock;
pub use makedirs::{Makedirs, MakedirsStep};
pub use move_file::MoveFile;
pub use piece::Piece;
pub use primitive::{Next, Primitive};
pub use read::ReadFile;
pub use remove::RemoveTree;
pub use rename::Rename;
pub use script::Script;
pub use stash::{stash_names, StashDir};
pub use swap::{SwapIn, SWAP_ATTEMPTS};
pub use symlink::SymlinkSwap;
pub use tempfile::TempfileWrite;
pub use uninstall::{PipUninstall, Stashed};
pub use voice::{Dialect, Voice};
pub use write::{WriteErrors, WriteFile};
