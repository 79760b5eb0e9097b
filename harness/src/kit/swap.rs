//! Swapping a new tree in over a target with no window where the target
//! is missing for long: rename the old target aside, rename the new tree
//! in, remove the old one. When another process put a target in between
//! (the rename in fails with ENOTEMPTY or EEXIST), move that one aside too
//! and try again: the `rename-overwrite` loop pnpm's fix (PR 10896) uses.

use std::sync::Arc;

use super::{Next, Primitive, RemoveStyle, RemoveTree, Rename};
use crate::op::{Errno, Kind, OpResult};

/// How many times the rename in is tried before the failure stands.
pub const SWAP_ATTEMPTS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    /// Moving the current target aside, to the `attempt`th aside name.
    Aside(Rename),
    /// Renaming the new tree in.
    In(Rename),
    /// Removing the asides, the `n`th of `attempts`.
    RemoveOld(RemoveTree, u32),
}

/// A swap in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SwapIn {
    new: Arc<str>,
    target: Arc<str>,
    job: Arc<str>,
    attempt: u32,
    phase: Phase,
    /// The last failure of the rename in, kept while retrying.
    last: Option<Errno>,
}

impl SwapIn {
    /// Starts swapping `new` in over `target`; `job` names the asides.
    pub fn new(new: &Arc<str>, target: &Arc<str>, job: &str) -> SwapIn {
        let job: Arc<str> = job.replace('/', "_").into();
        SwapIn {
            phase: Phase::Aside(Rename::new(target, &aside(target, &job, 0), true)),
            new: new.clone(),
            target: target.clone(),
            job,
            attempt: 0,
            last: None,
        }
    }
}

/// The `n`th aside name of `target` for `job`.
fn aside(target: &str, job: &str, n: u32) -> Arc<str> {
    format!("{target}.old.{job}.{n}").into()
}

impl Primitive for SwapIn {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        loop {
            let next = match &mut self.phase {
                Phase::Aside(r) | Phase::In(r) => r.next(probe),
                Phase::RemoveOld(rm, _) => rm.next(probe),
            };
            match (&self.phase, next) {
                (Phase::Aside(_), Next::Done) => {
                    self.phase = Phase::In(Rename::new(&self.new, &self.target, false));
                }
                (Phase::In(_), Next::Done) => {
                    let first = aside(&self.target, &self.job, 0);
                    self.phase = Phase::RemoveOld(RemoveTree::new(&first, RemoveStyle::RmRf), 0);
                }
                (Phase::RemoveOld(_, n), Next::Done) if *n < self.attempt => {
                    let n = n + 1;
                    let next = aside(&self.target, &self.job, n);
                    self.phase = Phase::RemoveOld(RemoveTree::new(&next, RemoveStyle::RmRf), n);
                }
                (Phase::In(_), Next::Fail(f))
                    if matches!(f.errno, Errno::ENOTEMPTY | Errno::EEXIST)
                        && self.attempt + 1 < SWAP_ATTEMPTS =>
                {
                    self.attempt += 1;
                    self.last = Some(f.errno);
                    let to = aside(&self.target, &self.job, self.attempt);
                    self.phase = Phase::Aside(Rename::new(&self.target, &to, true));
                }
                (_, other) => return other,
            }
        }
    }

    fn complete(&mut self, result: &OpResult) {
        match &mut self.phase {
            Phase::Aside(r) | Phase::In(r) => r.complete(result),
            Phase::RemoveOld(rm, _) => rm.complete(result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{create_file, model_with, run_on};

    /// Over an existing target: aside, in, remove the old one. Over a
    /// target another process put in after the aside: aside again, in.
    #[test]
    fn swaps_in_and_moves_a_late_target_aside_too() {
        let mut fs = model_with(&["new/index.js", "t/old.js"]);
        let mut swap = SwapIn::new(&"new".into(), &"t".into(), "a");
        let (ops, end) = run_on(&mut fs, &mut swap);
        assert_eq!(end, Next::Done);
        assert_eq!(&ops[..2], ["rename t", "rename new"]);
        assert!(fs.inode_of("t/index.js").is_some());
        assert!(fs.inode_of("t.old.a.0").is_none());

        let mut fs = model_with(&["new/index.js"]);
        let mut swap = SwapIn::new(&"new".into(), &"t".into(), "a");
        let mut ops = Vec::new();
        let end = loop {
            match swap.next(&|_| None) {
                Next::Op(op) => {
                    if ops.len() == 1 {
                        create_file(&mut fs, "t/other.js");
                    }
                    ops.push(format!("{} {}", op.syscall(), op.path()));
                    let r = crate::fs::Fs::apply(&mut fs, &op);
                    swap.complete(&r);
                }
                other => break other,
            }
        };
        assert_eq!(end, Next::Done);
        assert_eq!(
            &ops[..4],
            ["rename t", "rename new", "rename t", "rename new"]
        );
        assert!(fs.inode_of("t/index.js").is_some());
        assert!(fs.inode_of("t.old.a.1").is_none());
    }
}
