//! The round-robin job order.

use crate::schedule::{JobId, Scheduler};

/// Runs the runnable jobs in turn, one op each: the cheapest look at the
/// states where every job is part-way through, which neither the serial
/// nor the opposite order (each running a job to its end) passes through.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundRobinScheduler {
    last: Option<JobId>,
}

impl Scheduler for RoundRobinScheduler {
    fn pick(&mut self, runnable: &[JobId], _step: usize) -> Option<JobId> {
        let next = match self.last {
            Some(last) => runnable
                .iter()
                .copied()
                .find(|&j| j > last)
                .or_else(|| runnable.first().copied()),
            None => runnable.first().copied(),
        };
        self.last = next;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each runnable job in turn, wrapping around, skipping those that
    /// cannot run.
    #[test]
    fn takes_the_runnable_jobs_in_turn() {
        let mut rr = RoundRobinScheduler::default();
        let picks: Vec<_> = [&[0, 1, 2][..], &[0, 1, 2], &[0, 2], &[0, 1, 2], &[1]]
            .iter()
            .map(|r| rr.pick(r, 0).unwrap())
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1]);
    }
}
