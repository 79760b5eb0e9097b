//! A scheduler resumed after some of its picks were already made elsewhere.

use super::{JobId, Scheduler};
use crate::op::{Op, OpResult};

/// Gives back the picks `made` (what a scheduler already answered for the
/// first steps, while an execution was walked through the
/// [`crate::state_graph::StateGraph`]), then hands every later step to the
/// scheduler that made them. The execution run with it is the one the
/// scheduler alone would have produced: it answers each step exactly once.
pub struct Resumed<'a> {
    made: &'a [Option<JobId>],
    inner: &'a mut dyn Scheduler,
}

impl<'a> Resumed<'a> {
    /// Replays `made` (one answer per step; `None` where the scheduler
    /// could not continue), then defers to `inner`.
    pub fn new(made: &'a [Option<JobId>], inner: &'a mut dyn Scheduler) -> Resumed<'a> {
        Resumed { made, inner }
    }
}

impl Scheduler for Resumed<'_> {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        match self.made.get(step) {
            Some(&made) => made,
            None => self.inner.pick(runnable, step),
        }
    }

    fn pick_offered(
        &mut self,
        runnable: &[JobId],
        offered: &[Option<Op>],
        step: usize,
    ) -> Option<JobId> {
        match self.made.get(step) {
            Some(&made) => made,
            None => self.inner.pick_offered(runnable, offered, step),
        }
    }

    fn completed(&mut self, result: &OpResult) {
        // Only schedulers that do not see results are ever walked, so the
        // replayed steps have nothing to tell; later ones do.
        self.inner.completed(result);
    }

    fn sees_ops(&self) -> bool {
        self.inner.sees_ops()
    }
}
