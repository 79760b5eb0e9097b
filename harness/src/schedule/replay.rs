//! The replay scheduler: follows a recorded schedule exactly.

use super::{JobId, Schedule, Scheduler};

/// Replays the choices of a [`Schedule`]. Fails (returns `None`) as soon as a
/// recorded choice is not runnable, which means the token belongs to another
/// scenario or strategy.
#[derive(Debug, Clone)]
pub struct ReplayScheduler {
    schedule: Schedule,
}

impl ReplayScheduler {
    /// A scheduler replaying `schedule`.
    pub fn new(schedule: Schedule) -> ReplayScheduler {
        ReplayScheduler { schedule }
    }
}

impl Scheduler for ReplayScheduler {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        let choice = *self.schedule.choices.get(step)?;
        runnable.contains(&choice).then_some(choice)
    }
}
