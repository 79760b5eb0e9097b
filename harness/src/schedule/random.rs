//! The random scheduler.

use super::{JobId, Scheduler, SplitMix64};

/// Picks uniformly among the runnable jobs at every step.
#[derive(Debug, Clone)]
pub struct RandomScheduler {
    rng: SplitMix64,
}

impl RandomScheduler {
    /// A random scheduler drawing from `rng`.
    pub fn new(rng: SplitMix64) -> RandomScheduler {
        RandomScheduler { rng }
    }
}

impl Scheduler for RandomScheduler {
    fn pick(&mut self, runnable: &[JobId], _step: usize) -> Option<JobId> {
        if runnable.len() == 1 {
            return Some(runnable[0]);
        }
        Some(runnable[self.rng.below(runnable.len() as u64) as usize])
    }
}
