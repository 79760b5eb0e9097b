//! GNU `cp -Rp STAGE/. PREFIX` (coreutils 8.32 to 9.1).
//!
//! The rules, from `src/copy.c` and the recorded traces:
//! - depth-first, pre-order; each source directory is read whole and its
//!   entries visited in inode order ([`CpOrder::Inode`]), so pip's compiled
//!   `__pycache__` comes last in its directory;
//! - an entry whose destination parent cp itself created in this run is not
//!   stat'ed: cp goes straight to `mkdir` or `open(O_CREAT|O_EXCL)`;
//! - entries under a pre-existing directory are stat'ed first (`lstat` for
//!   directories and symlinks, `stat` for files); ENOENT makes them new;
//! - directories are created with `mode & 0700` and get their real mode back
//!   after their contents are copied (`-p`);
//! - new files are opened `O_WRONLY|O_CREAT|O_EXCL, 0600`, existing ones
//!   `O_WRONLY|O_TRUNC` (retried with `O_CREAT` on ENOENT), written in place;
//! - a symlink replaces an existing non-directory by unlinking it first;
//! - every error is printed with cp's own wording, its subtree is skipped, the
//!   copy goes on, and cp exits 1 at the end.
//!
//! The copy itself is the kit's [`crate::kit::CopyTree`]; this file holds
//! its plan ([`CpPlan`], built from a staging filesystem or a recorded
//! order) and [`CpJob`], the job that runs it as `cp`.
//!
//! [`CpOnExist`] selects the variants a maintainer may propose instead of
//! plain GNU cp (see `docs/strategies.md`): a cp patched to merge into a
//! directory that appeared after all (`mkdir` EEXIST, then `lstat` shows a
//! directory), optionally with `--remove-destination` for files.

use std::sync::Arc;

use super::held::lend_held_op;
use super::{Diagnostic, HeldOp, Job, Step};
use crate::content::Blob;
use crate::fs::{Fs, ModelFs, Tree};
use crate::kit::{CopyTree, Next, Primitive};
use crate::op::{Kind, OpResult};
use crate::state_key::{StateHasher, StateKey};

/// How cp orders the entries of a source directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpOrder {
    /// Ascending inode number, as gnulib's `savedir(SAVEDIR_SORT_FASTREAD)`.
    #[default]
    Inode,
    /// The order the entries were recorded in (for example a traced copy).
    Recorded,
}

/// What cp does when a destination turns out to exist already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpOnExist {
    /// GNU `cp -Rp`: `mkdir` EEXIST and `open(O_EXCL)` EEXIST are errors;
    /// existing files found by `stat` are truncated and written in place.
    #[default]
    Fail,
    /// A cp patched to merge: `mkdir` EEXIST is followed by `lstat`, and an
    /// existing directory is merged into (its children are then stat'ed, as
    /// under any pre-existing directory), the way rsync's generator and
    /// `mkdir -p` ignore EEXIST. `open(O_EXCL)` EEXIST falls back to opening
    /// the existing file `O_WRONLY|O_TRUNC`. Files are written in place.
    Merge,
    /// The same directory merge, and files handled like GNU
    /// `cp --remove-destination`: an existing destination file is unlinked
    /// (ENOENT ignored) and created again with `O_CREAT|O_EXCL`; EEXIST on
    /// that open (somebody recreated it in between) is an error, as in GNU cp.
    Replace,
}

impl CpOnExist {
    /// The name used in declarative strategies: `fail`, `merge` or `replace`.
    pub fn name(self) -> &'static str {
        match self {
            CpOnExist::Fail => "fail",
            CpOnExist::Merge => "merge",
            CpOnExist::Replace => "replace",
        }
    }

    /// Parses [`CpOnExist::name`].
    pub fn from_name(name: &str) -> Option<CpOnExist> {
        [CpOnExist::Fail, CpOnExist::Merge, CpOnExist::Replace]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// What one source entry is.
#[derive(Debug, Clone)]
pub enum CpKind {
    /// A directory.
    Dir,
    /// A regular file with these bytes.
    File(Arc<Blob>),
    /// A symlink with this target.
    Symlink(Arc<str>),
}

/// One entry of the staged tree, in traversal order.
#[derive(Debug, Clone)]
pub struct CpEntry {
    /// Destination path relative to the prefix root.
    pub path: Arc<str>,
    /// Kind and content.
    pub kind: CpKind,
    /// The mode in the staged tree.
    pub mode: u32,
    /// Index of the parent directory entry, `None` for top-level entries.
    pub parent: Option<usize>,
    /// Index one past the last entry of this entry's subtree.
    pub subtree_end: usize,
}

/// The whole copy: the staged tree in traversal order, and how to print paths.
#[derive(Debug, Clone)]
pub struct CpPlan {
    /// Entries in traversal order.
    pub entries: Vec<CpEntry>,
    /// The destination argument as cp prints it, e.g. `/sage/local/.`.
    pub dst_display: String,
    /// The source argument as cp prints it, e.g. `/sage/build/Cython/inst/sage/local/.`.
    pub src_display: String,
    /// What to do when a destination exists already (GNU cp: fail).
    pub on_exist: CpOnExist,
}

impl CpPlan {
    /// Builds the plan from a staging filesystem, visiting each directory's
    /// entries in inode order.
    pub fn from_stage(stage: &ModelFs, dst_display: &str, src_display: &str) -> CpPlan {
        let tree = stage.tree();
        let mut entries = Vec::new();
        Self::visit(stage, &tree, "", None, &mut entries);
        CpPlan {
            entries,
            dst_display: dst_display.to_string(),
            src_display: src_display.to_string(),
            on_exist: CpOnExist::Fail,
        }
    }

    fn visit(
        stage: &ModelFs,
        tree: &Tree,
        dir: &str,
        parent: Option<usize>,
        out: &mut Vec<CpEntry>,
    ) {
        let mut children = stage.children(dir);
        children.sort_by_key(|(_, ino)| *ino);
        for (name, _) in children {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            let Some(entry) = tree.get(&path) else {
                continue;
            };
            let kind = match entry.kind {
                Kind::Dir => CpKind::Dir,
                Kind::File => CpKind::File(stage_blob(stage, &path)),
                Kind::Symlink => CpKind::Symlink(entry.target.clone().unwrap_or_default().into()),
            };
            let index = out.len();
            out.push(CpEntry {
                path: path.as_str().into(),
                kind,
                mode: entry.mode,
                parent,
                subtree_end: index + 1,
            });
            if entry.kind == Kind::Dir {
                Self::visit(stage, tree, &path, Some(index), out);
                out[index].subtree_end = out.len();
            }
        }
    }

    /// Builds the plan from entries already in traversal order (recorded order).
    /// Each entry's parent must precede it.
    pub fn from_ordered(
        list: Vec<(Arc<str>, CpKind, u32)>,
        dst_display: &str,
        src_display: &str,
    ) -> CpPlan {
        let mut entries: Vec<CpEntry> = Vec::with_capacity(list.len());
        for (path, kind, mode) in list {
            let parent_path = crate::fs::parent_of(&path);
            let parent = entries.iter().rposition(|e| &*e.path == parent_path);
            entries.push(CpEntry {
                path,
                kind,
                mode,
                parent,
                subtree_end: 0,
            });
        }
        for i in (0..entries.len()).rev() {
            let end = (i + 1..entries.len())
                .find(|&j| !is_below(&entries[j].path, &entries[i].path))
                .unwrap_or(entries.len());
            entries[i].subtree_end = end;
        }
        CpPlan {
            entries,
            dst_display: dst_display.to_string(),
            src_display: src_display.to_string(),
            on_exist: CpOnExist::Fail,
        }
    }

    /// The same plan with another [`CpOnExist`] policy.
    pub fn with_on_exist(mut self, on_exist: CpOnExist) -> CpPlan {
        self.on_exist = on_exist;
        self
    }

    /// Number of ops a clean copy makes (for schedulers that need an estimate).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is nothing to copy.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn is_below(path: &str, dir: &str) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

fn stage_blob(stage: &ModelFs, path: &str) -> Arc<Blob> {
    let content = stage.content(path).cloned().unwrap_or_default();
    Blob::new(content.to_bytes())
}

/// A running `cp -Rp`: the kit's [`CopyTree`] as a job.
#[derive(Debug, Clone)]
pub struct CpJob {
    /// The op offered, held until its result comes back.
    held: HeldOp,
    label: String,
    copy: CopyTree,
}

impl CpJob {
    /// A copy job that will execute `plan`.
    pub fn new(label: impl Into<String>, plan: Arc<CpPlan>) -> CpJob {
        CpJob {
            held: HeldOp::default(),
            label: label.into(),
            copy: CopyTree::new(plan),
        }
    }

    /// The next step, worked out from the job's state; [`Job::poll`] holds
    /// its op until the result comes back.
    fn next_step(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        match self.copy.next(probe) {
            Next::Op(op) => Step::Op(op),
            Next::Done | Next::Skip => Step::Exit(0),
            Next::Fail(_) => Step::Exit(1),
            Next::Wait(_) => unreachable!("a copy never waits"),
        }
    }
}

impl Job for CpJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        "cp"
    }

    lend_held_op!();

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
        self.copy.complete(result);
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        self.copy.diagnostics()
    }

    fn state_key(&self) -> Option<StateKey> {
        // Destructured whole, so that a new field cannot be forgotten here.
        let CpJob {
            label: _,
            // The op offered: the decision point keys it beside the job.
            held: _,
            copy,
        } = self;
        let mut h = StateHasher::default();
        copy.hash_state(&mut h);
        Some(h.finish128())
    }
}
