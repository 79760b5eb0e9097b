//! A forced prefix, then no preemption.

use super::{JobId, Scheduler};

/// Picks the choices of a forced prefix while they are runnable, then runs
/// without preemption: the job that ran last keeps running while it can,
/// otherwise the lowest runnable job. The same picks as a
/// [`super::DporScheduler`] with that prefix and no sleep set, without
/// recording what every step offered (shrinking runs many such executions
/// and needs only their traces).
#[derive(Debug, Clone)]
pub struct ForcedScheduler {
    forced: Vec<JobId>,
    /// False once a forced choice was not runnable: from there on, free.
    following: bool,
    last: Option<JobId>,
}

impl ForcedScheduler {
    /// A scheduler forcing `forced`, then running without preemption.
    pub fn new(forced: Vec<JobId>) -> ForcedScheduler {
        ForcedScheduler {
            forced,
            following: true,
            last: None,
        }
    }
}

impl Scheduler for ForcedScheduler {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        let forced = self
            .forced
            .get(step)
            .copied()
            .filter(|_| self.following)
            .filter(|j| runnable.contains(j));
        if forced.is_none() && step < self.forced.len() {
            self.following = false;
        }
        let chosen = forced
            .or(self.last.filter(|l| runnable.contains(l)))
            .unwrap_or(*runnable.first()?);
        self.last = Some(chosen);
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::DporScheduler;

    #[test]
    fn picks_what_dpor_picks_with_no_sleep_set() {
        let runnable_at = |step: usize| -> Vec<JobId> {
            match step % 5 {
                0 => vec![0, 1, 2],
                1 => vec![1, 2],
                2 => vec![0, 2],
                3 => vec![2],
                _ => vec![0, 1],
            }
        };
        for forced in [vec![], vec![1, 1, 0], vec![2, 0, 2, 2, 1, 0], vec![0, 0, 0]] {
            let mut ours = ForcedScheduler::new(forced.clone());
            let mut dpor = DporScheduler::new(forced.clone(), usize::MAX, Vec::new());
            for step in 0..40 {
                let runnable = runnable_at(step);
                let offered: Vec<Option<crate::op::Op>> = (0..3)
                    .map(|_| Some(crate::op::Op::Readdir { path: "d".into() }))
                    .collect();
                assert_eq!(
                    ours.pick(&runnable, step),
                    dpor.pick_offered(&runnable, &offered, step),
                    "forced {forced:?}, step {step}"
                );
            }
        }
    }
}
