//! npm's move of a directory: `@npmcli/fs`'s `moveFile` as arborist's
//! `_renamePath` calls it, the way npm moves an installed package aside to
//! its retirement name before extracting the new one.
//!
//! Read from npm 11.19.1's `@npmcli/arborist/lib/arborist/reify.js` and
//! recorded under strace on this machine (`tests/pins_npm.rs`):
//! - `moveFile` makes the destination's parent (`fs.mkdir(…, {recursive:
//!   true})`: `mkdir`, then `stat` on EEXIST) and renames;
//! - ENOENT: the parent is made again and the move tried once more; a
//!   second ENOENT is ignored (nothing was there to move);
//! - EEXIST or ENOTEMPTY (something already at the destination): npm 11.7
//!   and later (npm/cli PR 8721) remove the destination with `fs.rm`
//!   and move again, any error of that second move standing; npm before
//!   it gives up with the rename's error
//!   ([`MoveFile::new`]'s `replace_existing`).

use std::sync::Arc;

use super::{CreateDir, Failure, Next, Primitive, RemoveStyle, RemoveTree};
use crate::fs::parent_of;
use crate::op::{Errno, Kind, Op, OpResult};

/// Which move this is: they differ in what errors they forgive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Attempt {
    /// The first move.
    First,
    /// After an ENOENT: another ENOENT is ignored.
    AfterMissing,
    /// After removing what stood at the destination: every error stands.
    AfterRemoval,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Making the destination's parent.
    Parent(CreateDir, Attempt),
    /// The `rename` in flight.
    Rename(Attempt),
    /// Removing what stood at the destination.
    Clear(RemoveTree),
    Done,
    Failed(Failure),
}

/// An npm move in progress.
#[derive(Debug, Clone)]
pub struct MoveFile {
    from: Arc<str>,
    to: Arc<str>,
    replace_existing: bool,
    phase: Phase,
}

impl MoveFile {
    /// Starts moving `from` to `to`. With `replace_existing` (npm 11.7 and
    /// later), a destination that exists already is removed and the move
    /// tried again; without it, that is the move's failure.
    pub fn new(from: &Arc<str>, to: &Arc<str>, replace_existing: bool) -> MoveFile {
        MoveFile {
            from: from.clone(),
            to: to.clone(),
            replace_existing,
            phase: Self::make_parent(to, Attempt::First),
        }
    }

    fn make_parent(to: &Arc<str>, attempt: Attempt) -> Phase {
        Phase::Parent(CreateDir::create_dir_all(&parent_of(to).into()), attempt)
    }
}

impl Primitive for MoveFile {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        loop {
            let step = match &mut self.phase {
                Phase::Parent(dir, _) => dir.next(probe),
                Phase::Clear(rm) => rm.next(probe),
                Phase::Rename(_) => {
                    return Next::Op(Op::Rename {
                        from: self.from.clone(),
                        to: self.to.clone(),
                    })
                }
                Phase::Done => return Next::Done,
                Phase::Failed(f) => return Next::Fail(f.clone()),
            };
            self.phase = match (&self.phase, step) {
                (Phase::Parent(_, attempt), Next::Done) => Phase::Rename(*attempt),
                (Phase::Clear(_), Next::Done) => Self::make_parent(&self.to, Attempt::AfterRemoval),
                (_, other) => return other,
            };
        }
    }

    fn complete(&mut self, result: &OpResult) {
        let attempt = match &mut self.phase {
            Phase::Parent(dir, _) => return dir.complete(result),
            Phase::Clear(rm) => return rm.complete(result),
            Phase::Rename(attempt) => *attempt,
            Phase::Done | Phase::Failed(_) => return,
        };
        self.phase = match (result, attempt) {
            (Ok(_), _) => Phase::Done,
            (Err(Errno::ENOENT), Attempt::First) => {
                Self::make_parent(&self.to, Attempt::AfterMissing)
            }
            (Err(Errno::ENOENT), Attempt::AfterMissing) => Phase::Done,
            (Err(Errno::EEXIST | Errno::ENOTEMPTY), Attempt::First | Attempt::AfterMissing)
                if self.replace_existing =>
            {
                Phase::Clear(RemoveTree::new(&self.to, RemoveStyle::NodeRm))
            }
            (Err(e), _) => Phase::Failed(Failure::between("rename", *e, &self.from, &self.to)),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// The retirement move as recorded: the parent made (EEXIST, then a
    /// `stat`), then the rename.
    #[test]
    fn makes_the_parent_then_renames() {
        let mut fs = model_with(&["nm/acorn/package.json"]);
        let mut mv = MoveFile::new(&"nm/acorn".into(), &"nm/.acorn-H".into(), false);
        let (ops, end) = run_on(&mut fs, &mut mv);
        assert_eq!(end, Next::Done);
        assert_eq!(ops, ["mkdir nm", "stat nm", "rename nm/acorn"]);
        assert!(fs.inode_of("nm/.acorn-H/package.json").is_some());
    }

    /// Nothing to move: the parent made again, the move tried again, and
    /// the second ENOENT ignored.
    #[test]
    fn a_missing_source_is_tried_twice_then_ignored() {
        let mut fs = model_with(&["nm/other"]);
        let mut mv = MoveFile::new(&"nm/acorn".into(), &"nm/.acorn-H".into(), false);
        let (ops, end) = run_on(&mut fs, &mut mv);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "mkdir nm",
                "stat nm",
                "rename nm/acorn",
                "mkdir nm",
                "stat nm",
                "rename nm/acorn"
            ]
        );
    }

    /// A retirement name another npm left full: npm before PR 8721 fails
    /// with ENOTEMPTY; npm 11.7 and later remove it and move again.
    #[test]
    fn an_occupied_destination_fails_old_npm_and_is_cleared_by_new_npm() {
        let mut fs = model_with(&["nm/acorn/new.js", "nm/.acorn-H/old.js"]);
        let mut mv = MoveFile::new(&"nm/acorn".into(), &"nm/.acorn-H".into(), false);
        let (_, end) = run_on(&mut fs, &mut mv);
        let Next::Fail(f) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert_eq!(f.errno, Errno::ENOTEMPTY);

        let mut fs = model_with(&["nm/acorn/new.js", "nm/.acorn-H/old.js"]);
        let mut mv = MoveFile::new(&"nm/acorn".into(), &"nm/.acorn-H".into(), true);
        let (ops, end) = run_on(&mut fs, &mut mv);
        assert_eq!(end, Next::Done);
        assert!(ops.contains(&"unlink nm/.acorn-H/old.js".to_string()));
        assert_eq!(ops.last().map(String::as_str), Some("rename nm/acorn"));
        assert!(fs.inode_of("nm/.acorn-H/new.js").is_some());
        assert!(fs.inode_of("nm/.acorn-H/old.js").is_none());
    }
}
