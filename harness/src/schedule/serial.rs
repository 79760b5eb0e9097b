//! The serial scheduler: the reference order.

use super::{JobId, Scheduler};

/// Always runs the lowest-numbered runnable job, so jobs run one after another
/// in dependency order (jobs are numbered in a topological order).
#[derive(Debug, Clone, Copy, Default)]
pub struct SerialScheduler;

impl Scheduler for SerialScheduler {
    fn pick(&mut self, runnable: &[JobId], _step: usize) -> Option<JobId> {
        runnable.first().copied()
    }
}
