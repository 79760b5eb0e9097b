//! Where ops execute.
//!
//! [`Fs`] is the one interface jobs see. [`ModelFs`] is an in-memory
//! filesystem with errno-exact POSIX semantics; every execution of a schedule
//! gets a fresh one. [`Tree`] is the canonical state of a prefix, compared by
//! the oracle.

mod model;
mod path;
mod tree;

pub use model::ModelFs;
pub use path::{normalize_relative, parent_of, split_parent, PathError};
pub use tree::{Entry, Tree, TreeDiff, TreeChange};

use crate::op::{Kind, Op, OpResult};

/// A filesystem that executes [`Op`]s against a prefix root.
pub trait Fs {
    /// Executes one op and returns its result, exactly as the kernel would.
    fn apply(&mut self, op: &Op) -> OpResult;

    /// The kind of the entry at `path` (following symlinks), without counting
    /// as an op. Used to evaluate job wait conditions.
    fn probe(&self, path: &str) -> Option<Kind>;

    /// The canonical state of everything under the root.
    fn tree(&self) -> Tree;
}
