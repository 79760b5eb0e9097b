//! Putting a symlink in place: create it, replace it with a window where
//! there is none, or replace it atomically through a temporary link.

use std::sync::Arc;

use super::{Failure, Next, Primitive, SymlinkHow};
use crate::op::{Errno, Kind, Op, OpResult};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    /// `symlink(target, made)`; `retried` after an unlink.
    Create {
        retried: bool,
    },
    /// `unlink(link)` after EEXIST.
    Unlink,
    /// `rename(made, link)` of the temporary link.
    Rename,
    Done,
    Failed(Failure),
}

/// A symlink swap in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SymlinkSwap {
    target: Arc<str>,
    link: Arc<str>,
    /// The link created first: the link itself, or its temporary name.
    made: Arc<str>,
    how: SymlinkHow,
    phase: Phase,
}

impl SymlinkSwap {
    /// Starts putting `link -> target` in place; `job` names a temporary
    /// link.
    pub fn new(target: &Arc<str>, link: &Arc<str>, how: SymlinkHow, job: &str) -> SymlinkSwap {
        let made = match how {
            SymlinkHow::TempThenRename => format!("{link}.tmp.{}", job.replace('/', "_")).into(),
            SymlinkHow::Create | SymlinkHow::UnlinkThenCreate => link.clone(),
        };
        SymlinkSwap {
            target: target.clone(),
            link: link.clone(),
            made,
            how,
            phase: Phase::Create { retried: false },
        }
    }
}

impl Primitive for SymlinkSwap {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match &self.phase {
            Phase::Create { .. } => Next::Op(Op::Symlink {
                target: self.target.clone(),
                path: self.made.clone(),
            }),
            Phase::Unlink => Next::Op(Op::Unlink {
                path: self.link.clone(),
            }),
            Phase::Rename => Next::Op(Op::Rename {
                from: self.made.clone(),
                to: self.link.clone(),
            }),
            Phase::Done => Next::Done,
            Phase::Failed(f) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.phase = match (&self.phase, result) {
            (Phase::Create { .. }, Ok(_)) if self.how == SymlinkHow::TempThenRename => {
                Phase::Rename
            }
            (Phase::Create { .. }, Ok(_)) | (Phase::Rename, Ok(_)) => Phase::Done,
            (Phase::Create { retried: false }, Err(Errno::EEXIST))
                if self.how == SymlinkHow::UnlinkThenCreate =>
            {
                Phase::Unlink
            }
            (Phase::Create { .. }, Err(e)) => {
                Phase::Failed(Failure::between("symlink", *e, &self.target, &self.made))
            }
            (Phase::Unlink, Ok(_)) | (Phase::Unlink, Err(Errno::ENOENT)) => {
                Phase::Create { retried: true }
            }
            (Phase::Unlink, Err(e)) => Phase::Failed(Failure::new("unlink", *e, &self.link)),
            (Phase::Rename, Err(e)) => {
                Phase::Failed(Failure::between("rename", *e, &self.made, &self.link))
            }
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// Replacing an existing link: unlink then create leaves a window
    /// (two ops on the link), the temporary link is one rename.
    #[test]
    fn replacing_a_link_in_place_unlinks_first_and_atomically_renames() {
        let mut fs = model_with(&["v1/x", "v2/x"]);
        let mut first = SymlinkSwap::new(&"v1".into(), &"cur".into(), SymlinkHow::Create, "a");
        assert_eq!(run_on(&mut fs, &mut first).1, Next::Done);
        let mut again = SymlinkSwap::new(&"v2".into(), &"cur".into(), SymlinkHow::Create, "a");
        assert!(matches!(run_on(&mut fs, &mut again).1, Next::Fail(_)));
        let mut swap = SymlinkSwap::new(
            &"v2".into(),
            &"cur".into(),
            SymlinkHow::UnlinkThenCreate,
            "a",
        );
        let (ops, end) = run_on(&mut fs, &mut swap);
        assert_eq!(end, Next::Done);
        assert_eq!(ops, ["symlink cur", "unlink cur", "symlink cur"]);
        let mut atomic =
            SymlinkSwap::new(&"v1".into(), &"cur".into(), SymlinkHow::TempThenRename, "a");
        let (ops, end) = run_on(&mut fs, &mut atomic);
        assert_eq!(end, Next::Done);
        assert_eq!(ops, ["symlink cur.tmp.a", "rename cur.tmp.a"]);
    }
}
