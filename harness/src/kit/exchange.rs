//! Swapping a new tree in over a target with no window at all:
//! `renameat2(new, target, RENAME_EXCHANGE)` swaps the two names
//! atomically, then the old tree, now under the new tree's name, is
//! removed. A reader sees the old target or the new one, never none
//! (the rename-aside swap of [`super::SwapIn`] has a short window).
//! When there is no target yet (`ENOENT`), a plain `rename` puts the new
//! tree in place.

use std::sync::Arc;

use super::{Failure, Next, Primitive, RemoveStyle, RemoveTree, Rename};
use crate::op::{Errno, Kind, Op, OpResult};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Exchange,
    /// No target: rename the new tree in.
    RenameIn(Rename),
    /// Exchanged: remove the old tree, now at the new tree's name.
    RemoveOld(RemoveTree),
    Failed(Failure),
}

/// An exchange in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExchangeIn {
    new: Arc<str>,
    target: Arc<str>,
    phase: Phase,
}

impl ExchangeIn {
    /// Starts exchanging `new` in over `target`.
    pub fn new(new: &Arc<str>, target: &Arc<str>) -> ExchangeIn {
        ExchangeIn {
            new: new.clone(),
            target: target.clone(),
            phase: Phase::Exchange,
        }
    }
}

impl Primitive for ExchangeIn {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match &mut self.phase {
            Phase::Exchange => Next::Op(Op::RenameExchange {
                a: self.new.clone(),
                b: self.target.clone(),
            }),
            Phase::RenameIn(rename) => rename.next(probe),
            Phase::RemoveOld(remove) => remove.next(probe),
            Phase::Failed(f) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        match (&mut self.phase, result) {
            (Phase::Exchange, Ok(_)) => {
                self.phase = Phase::RemoveOld(RemoveTree::new(&self.new, RemoveStyle::Rmtree))
            }
            (Phase::Exchange, Err(Errno::ENOENT)) => {
                self.phase = Phase::RenameIn(Rename::new(&self.new, &self.target, false))
            }
            (Phase::Exchange, Err(e)) => {
                self.phase = Phase::Failed(Failure::between("rename", *e, &self.new, &self.target))
            }
            (Phase::RenameIn(rename), result) => rename.complete(result),
            (Phase::RemoveOld(remove), result) => remove.complete(result),
            (Phase::Failed(_), _) => unreachable!("a failed exchange offers no op"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Fs;
    use crate::kit::test_support::{model_with, run_on};

    /// Over an existing target: one exchange, then the old tree removed
    /// from the new tree's name; the target is never missing. With no
    /// target: a rename.
    #[test]
    fn exchanges_over_a_target_and_renames_when_there_is_none() {
        let mut fs = model_with(&["pkg/old.js", "new/new.js"]);
        let mut swap = ExchangeIn::new(&"new".into(), &"pkg".into());
        let (ops, next) = run_on(&mut fs, &mut swap);
        assert_eq!(next, Next::Done);
        assert_eq!(ops[0], "renameat2 new");
        assert!(ops[1..].iter().all(|o| o.contains(" new")), "{ops:?}");
        assert!(fs.probe("pkg/new.js").is_some() && fs.probe("pkg/old.js").is_none());
        assert_eq!(fs.probe("new"), None);
        let mut fs = model_with(&["new/new.js"]);
        let mut fresh = ExchangeIn::new(&"new".into(), &"pkg".into());
        let (ops, next) = run_on(&mut fs, &mut fresh);
        assert_eq!(next, Next::Done);
        assert_eq!(ops, ["renameat2 new", "rename new"]);
        let mut gone = ExchangeIn::new(&"missing".into(), &"pkg".into());
        assert!(matches!(run_on(&mut fs, &mut gone).1, Next::Fail(f) if f.errno == Errno::ENOENT));
    }
}
