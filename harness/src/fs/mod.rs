//! Where ops execute.
//!
//! [`Fs`] is the one interface jobs see. [`ModelFs`] is an in-memory
//! filesystem with errno-exact POSIX semantics; every execution of a schedule
//! gets a fresh one. [`Tree`] is the canonical state of a prefix, compared by
//! the oracle.

mod chunked;
mod dir_cache;
mod fd_table;
pub mod live_roots;
mod lock_probe;
mod model;
mod name_limits;
mod names;
mod path;
mod real;
mod record_locks;
mod tree;

pub use lock_probe::{lock_probe_path, record_lock_probe_path};
pub use model::ModelFs;
pub use path::{
    control_character, control_in_op, normalize_relative, parent_of, split_parent, PathError,
};
pub use real::host_tree;
pub use real::RealFs;
pub use tree::{Entry, Tree, TreeChange, TreeDiff};

use std::fmt;
use std::str::FromStr;

use crate::error::Result;
use crate::op::{Kind, Op, OpResult};

/// Which filesystem executions run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsKind {
    /// The in-memory [`ModelFs`].
    #[default]
    Model,
    /// A real directory under a fresh `tempfile::TempDir`, real syscalls.
    Real,
}

impl FsKind {
    /// A fresh, empty filesystem of this kind for one execution.
    pub fn fresh(self) -> Result<Box<dyn Fs>> {
        match self {
            FsKind::Model => Ok(Box::new(ModelFs::new())),
            FsKind::Real => Ok(Box::new(RealFs::new()?)),
        }
    }

    /// Like [`FsKind::fresh`], for an execution nothing asks the state key
    /// of: the model does not keep it ([`ModelFs::set_keyed`]).
    pub fn fresh_unkeyed(self) -> Result<Box<dyn Fs>> {
        let mut fs = self.fresh()?;
        if let Some(model) = fs.as_model_mut() {
            model.set_keyed(false);
        }
        Ok(fs)
    }
}

impl fmt::Display for FsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FsKind::Model => "model",
            FsKind::Real => "real",
        })
    }
}

impl FromStr for FsKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "model" => Ok(FsKind::Model),
            "real" => Ok(FsKind::Real),
            _ => Err(format!("unknown filesystem {s:?}: expected model or real")),
        }
    }
}

/// A filesystem that executes [`Op`]s against a prefix root.
pub trait Fs {
    /// Executes one op and returns its result, exactly as the kernel would.
    fn apply(&mut self, op: &Op) -> OpResult;

    /// The kind of the entry at `path` (following symlinks), without counting
    /// as an op. Used to evaluate job wait conditions. A path made by
    /// [`lock_probe_path`] asks instead whether the file is `flock`ed
    /// (`Some(Kind::File)` while it is).
    fn probe(&self, path: &str) -> Option<Kind>;

    /// The canonical state of everything under the root.
    fn tree(&self) -> Tree;

    /// [`Fs::tree`], given the tree it is expected to equal: when it does,
    /// `expected` itself (a clone shares its entries), without building
    /// another. The model compares its state with `expected` in place.
    fn tree_like(&self, expected: &Tree) -> Tree {
        let _ = expected;
        self.tree()
    }

    /// The key of the whole state, when this filesystem keeps one (the
    /// model does; a real directory cannot be keyed cheaply).
    fn state_key(&self) -> Option<crate::state_key::StateKey> {
        None
    }

    /// This filesystem as the model, when it is one.
    fn as_model_mut(&mut self) -> Option<&mut ModelFs> {
        None
    }

    /// This filesystem as the model, when it is one (read only).
    fn as_model(&self) -> Option<&ModelFs> {
        None
    }
}
