//! pip's uninstall stash: a directory moved aside to a `~`-named sibling
//! before the new files are written, so that the old install can be
//! restored (rolled back) or removed (committed).
//!
//! Recorded with pip 23.2.1 (docs/fidelity.md): pip claims the first free
//! name of `AdjacentTempDirectory` (`~` over the first character, then
//! `~` and one of `-~.=%0123456789` over the first two, …) with `mkdir`,
//! releases it with `rmdir`, and renames the directory onto it. Nothing
//! installed (ENOENT on the first `lstat`) is nothing to stash.

use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::fs::split_parent;
use crate::op::{Errno, Kind, Op, OpResult};

/// The characters pip's `AdjacentTempDirectory` puts after the `~`.
const LEADING_CHARS: &str = "-~.=%0123456789";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Look,
    Claim(usize),
    Release(usize),
    Move(usize),
    Done,
    Failed(Failure),
}

/// A stash in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StashDir {
    dir: Arc<str>,
    names: Arc<[Arc<str>]>,
    phase: Phase,
    /// Where the directory went, once moved.
    moved_to: Option<Arc<str>>,
}

/// The names pip tries for a stash of `dir`, in its order (the first 16).
pub fn stash_names(dir: &str) -> Vec<Arc<str>> {
    let (parent, name) = split_parent(dir);
    let join = |n: String| -> Arc<str> {
        match parent {
            "" => n.into(),
            p => format!("{p}/{n}").into(),
        }
    };
    let mut names = Vec::new();
    if name.chars().count() > 1 {
        let rest: String = name.chars().skip(1).collect();
        names.push(join(format!("~{rest}")));
    }
    if name.chars().count() > 2 {
        let rest: String = name.chars().skip(2).collect();
        for c in LEADING_CHARS.chars() {
            names.push(join(format!("~{c}{rest}")));
        }
    }
    names
}

impl StashDir {
    /// Starts stashing `dir`.
    pub fn new(dir: &Arc<str>) -> StashDir {
        StashDir {
            dir: dir.clone(),
            names: stash_names(dir).into(),
            phase: Phase::Look,
            moved_to: None,
        }
    }

    /// The `~`-named sibling the directory was moved onto, once it was;
    /// `None` while running, or when nothing was there to stash.
    pub fn stashed_at(&self) -> Option<Arc<str>> {
        self.moved_to.clone()
    }

    fn name(&self, k: usize) -> Arc<str> {
        self.names[k].clone()
    }
}

impl Primitive for StashDir {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        Next::Op(match &self.phase {
            Phase::Look => Op::Lstat {
                path: self.dir.clone(),
            },
            Phase::Claim(k) => Op::Mkdir {
                path: self.name(*k),
                mode: 0o777,
            },
            Phase::Release(k) => Op::Rmdir {
                path: self.name(*k),
            },
            Phase::Move(k) => Op::Rename {
                from: self.dir.clone(),
                to: self.name(*k),
            },
            Phase::Done => return Next::Done,
            Phase::Failed(f) => return Next::Fail(f.clone()),
        })
    }

    fn complete(&mut self, result: &OpResult) {
        self.phase = match (&self.phase, result) {
            (Phase::Look, Err(Errno::ENOENT)) => Phase::Done,
            (Phase::Look, _) if self.names.is_empty() => Phase::Done,
            (Phase::Look, _) => Phase::Claim(0),
            (Phase::Claim(k), Err(Errno::EEXIST)) if k + 1 < self.names.len() => {
                Phase::Claim(k + 1)
            }
            (Phase::Claim(k), Ok(_)) => Phase::Release(*k),
            (Phase::Release(k), Ok(_)) => Phase::Move(*k),
            (Phase::Move(k), Ok(_)) => {
                self.moved_to = Some(self.name(*k));
                Phase::Done
            }
            (Phase::Claim(k), Err(e)) | (Phase::Release(k), Err(e)) => {
                Phase::Failed(Failure::new("mkdir", *e, &self.name(*k)))
            }
            (Phase::Move(k), Err(e)) => {
                Phase::Failed(Failure::between("rename", *e, &self.dir, &self.name(*k)))
            }
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// pip 23.2.1's stash of `idna/`, as recorded: claim `~dna`, release
    /// it, rename onto it; a taken name moves on to the next; nothing
    /// installed is nothing to do.
    #[test]
    fn stashes_onto_the_first_free_adjacent_name() {
        let mut fs = model_with(&["sp/idna/core.py"]);
        let (ops, end) = run_on(&mut fs, &mut StashDir::new(&"sp/idna".into()));
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "lstat sp/idna",
                "mkdir sp/~dna",
                "rmdir sp/~dna",
                "rename sp/idna"
            ]
        );
        assert!(fs.inode_of("sp/~dna/core.py").is_some());
        let mut stash = StashDir::new(&"sp/~dna".into());
        run_on(&mut fs, &mut stash);
        assert_eq!(stash.stashed_at().as_deref(), Some("sp/~-na"));

        let mut fs = model_with(&["sp/idna/core.py", "sp/~dna/x"]);
        let (ops, _) = run_on(&mut fs, &mut StashDir::new(&"sp/idna".into()));
        assert_eq!(&ops[1..3], ["mkdir sp/~dna", "mkdir sp/~-na"]);
        assert!(fs.inode_of("sp/~-na/core.py").is_some());

        let mut fs = model_with(&["x"]);
        let (ops, end) = run_on(&mut fs, &mut StashDir::new(&"sp/idna".into()));
        assert_eq!((ops.len(), end), (1, Next::Done));
    }
}
