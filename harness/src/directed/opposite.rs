//! The opposite job order.

use crate::schedule::{JobId, Scheduler};

/// Runs the highest runnable job, without preemption: the serial order
/// turned around, the cheapest first look at the other side of every
/// conflict between two jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OppositeScheduler;

impl Scheduler for OppositeScheduler {
    fn pick(&mut self, runnable: &[JobId], _step: usize) -> Option<JobId> {
        runnable.last().copied()
    }
}
