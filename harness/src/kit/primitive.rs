//! The running form of a primitive: a small state machine that offers one
//! op at a time, like a [`crate::job::Job`] does.

use crate::job::Condition;
use crate::op::{Kind, Op, OpResult};

use super::Failure;

/// What a running primitive wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Run this op, then hand its result to [`Primitive::complete`].
    Op(Op),
    /// Not runnable until the condition holds.
    Wait(Condition),
    /// Finished; the installer goes on with its next step.
    Done,
    /// Finished, and the installer has nothing left to do (a completion
    /// marker says the work is done): it exits 0.
    Skip,
    /// Failed: the installer prints this and exits 1.
    Fail(Failure),
}

/// A primitive in progress.
///
/// Contract, as for jobs: [`Primitive::next`] returns the same op until
/// [`Primitive::complete`] is handed its result; a wait that ends becomes
/// the op that follows it.
pub trait Primitive {
    /// The next step; `probe` tells the kind of the entry at a path
    /// without counting as an op, for wait conditions only.
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next;

    /// Reacts to the result of the op [`Primitive::next`] offered.
    fn complete(&mut self, result: &OpResult);
}
