//! The canonical state of a prefix and a readable diff between two states.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::content::Digest;
use crate::op::Kind;

/// One entry of a [`Tree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File, directory or symlink.
    pub kind: Kind,
    /// Permission bits (symlinks: 0o777).
    pub mode: u32,
    /// Size in bytes (files only).
    pub size: u64,
    /// SHA-256 of the content (files only).
    pub digest: Option<Digest>,
    /// Target of a symlink.
    pub target: Option<String>,
    /// For a model `.pyc`: the digest of the source it was compiled from.
    pub bytecode_source: Option<Digest>,
}

impl Entry {
    /// A directory entry.
    pub fn dir(mode: u32) -> Entry {
        Entry {
            kind: Kind::Dir,
            mode,
            size: 0,
            digest: None,
            target: None,
            bytecode_source: None,
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Dir => write!(f, "dir {:04o}", self.mode),
            Kind::File => write!(
                f,
                "file {:04o} {} bytes {}",
                self.mode,
                self.size,
                self.digest.map(|d| d.short()).unwrap_or_default()
            ),
            Kind::Symlink => write!(f, "symlink -> {}", self.target.as_deref().unwrap_or("")),
        }
    }
}

/// The state of a prefix: every path under the root, sorted.
///
/// Shared: a clone is a reference count, copied on its first change, and
/// two trees sharing their entries compare equal without a look at them.
/// Most executions end in the reference's own state and take its tree
/// ([`crate::fs::Fs::tree_like`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    entries: Arc<BTreeMap<String, Entry>>,
}

/// One difference between two trees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum TreeChange {
    /// Present in the actual tree only.
    Added {
        /// The path.
        path: String,
        /// The actual entry, rendered.
        actual: String,
    },
    /// Present in the reference tree only.
    Missing {
        /// The path.
        path: String,
        /// The expected entry, rendered.
        expected: String,
    },
    /// Present in both, different.
    Changed {
        /// The path.
        path: String,
        /// The expected entry, rendered.
        expected: String,
        /// The actual entry, rendered.
        actual: String,
    },
}

impl TreeChange {
    /// The path the change concerns.
    pub fn path(&self) -> &str {
        match self {
            TreeChange::Added { path, .. }
            | TreeChange::Missing { path, .. }
            | TreeChange::Changed { path, .. } => path,
        }
    }
}

impl fmt::Display for TreeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeChange::Added { path, actual } => write!(f, "+ {path}  ({actual})"),
            TreeChange::Missing { path, expected } => write!(f, "- {path}  ({expected})"),
            TreeChange::Changed {
                path,
                expected,
                actual,
            } => write!(f, "~ {path}  ({expected} -> {actual})"),
        }
    }
}

/// The differences between an expected and an actual tree, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TreeDiff {
    /// The changes.
    pub changes: Vec<TreeChange>,
}

impl TreeDiff {
    /// True when the trees are equal.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for TreeDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// A tree of `entries`, given in any order (a later entry of the same
    /// path replaces an earlier one). Faster than inserting them one by one.
    pub fn from_entries(entries: Vec<(String, Entry)>) -> Tree {
        Tree {
            entries: Arc::new(entries.into_iter().collect()),
        }
    }

    /// Inserts or replaces the entry at `path`.
    pub fn insert(&mut self, path: impl Into<String>, entry: Entry) {
        Arc::make_mut(&mut self.entries).insert(path.into(), entry);
    }

    /// Removes the entry at `path`.
    pub fn remove(&mut self, path: &str) -> Option<Entry> {
        Arc::make_mut(&mut self.entries).remove(path)
    }

    /// The entry at `path`.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Entries in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the tree has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Entry) -> bool) {
        Arc::make_mut(&mut self.entries).retain(|p, e| keep(p, e));
    }

    /// True when `self` and `other` share their entries (one is a clone
    /// of the other, neither changed since).
    pub fn shares_entries(&self, other: &Tree) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries)
    }

    /// The differences from `expected` to `self`.
    pub fn diff_from(&self, expected: &Tree) -> TreeDiff {
        let mut changes = Vec::new();
        let mut a = expected.entries.iter().peekable();
        let mut b = self.entries.iter().peekable();
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some((pa, ea)), Some((pb, eb))) if pa == pb => {
                    if ea != eb {
                        changes.push(TreeChange::Changed {
                            path: (*pa).clone(),
                            expected: ea.to_string(),
                            actual: eb.to_string(),
                        });
                    }
                    a.next();
                    b.next();
                }
                (Some((pa, ea)), Some((pb, _))) if pa < pb => {
                    changes.push(TreeChange::Missing {
                        path: (*pa).clone(),
                        expected: ea.to_string(),
                    });
                    a.next();
                }
                (Some((pa, ea)), None) => {
                    changes.push(TreeChange::Missing {
                        path: (*pa).clone(),
                        expected: ea.to_string(),
                    });
                    a.next();
                }
                (_, Some((pb, eb))) => {
                    changes.push(TreeChange::Added {
                        path: (*pb).clone(),
                        actual: eb.to_string(),
                    });
                    b.next();
                }
            }
        }
        TreeDiff { changes }
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (p, e) in self.entries.iter() {
            writeln!(f, "{p}  {e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(d: &[u8]) -> Entry {
        Entry {
            kind: Kind::File,
            mode: 0o644,
            size: d.len() as u64,
            digest: Some(Digest::of(d)),
            target: None,
            bytecode_source: None,
        }
    }

    #[test]
    fn diff_lists_missing_added_and_changed_in_path_order() {
        let mut expected = Tree::new();
        expected.insert("a", Entry::dir(0o755));
        expected.insert("a/x", file(b"1"));
        expected.insert("a/y", file(b"2"));
        let mut actual = Tree::new();
        actual.insert("a", Entry::dir(0o700));
        actual.insert("a/y", file(b"3"));
        actual.insert("a/z", file(b"4"));
        let d = actual.diff_from(&expected);
        let paths: Vec<_> = d.changes.iter().map(|c| c.path().to_string()).collect();
        assert_eq!(paths, ["a", "a/x", "a/y", "a/z"]);
        assert!(matches!(d.changes[1], TreeChange::Missing { .. }));
        assert!(matches!(d.changes[3], TreeChange::Added { .. }));
        assert!(actual.diff_from(&actual).is_empty());
    }
}
