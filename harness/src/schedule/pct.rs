//! Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).
//!
//! Each job gets a random distinct priority above `depth`; `depth - 1` change
//! points are drawn among the expected steps. The highest-priority runnable
//! job always runs; when step `k_i` is reached, the running job's priority
//! drops to `i`. A bug of depth d is found with probability at least
//! 1 / (n k^(d-1)).

use super::{JobId, Scheduler, SplitMix64};

/// The PCT scheduler.
#[derive(Debug, Clone)]
pub struct PctScheduler {
    priorities: Vec<u64>,
    change_points: Vec<usize>,
}

impl PctScheduler {
    /// PCT over `jobs` jobs and about `steps` steps, with bug depth `depth`.
    pub fn new(mut rng: SplitMix64, jobs: usize, steps: usize, depth: usize) -> PctScheduler {
        let mut order: Vec<u64> = (0..jobs as u64).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let priorities = order.into_iter().map(|p| p + depth as u64).collect();
        let steps = steps.max(1) as u64;
        let change_points = (1..depth).map(|_| rng.below(steps) as usize).collect();
        PctScheduler {
            priorities,
            change_points,
        }
    }
}

impl Scheduler for PctScheduler {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        let best = |prio: &[u64]| {
            runnable
                .iter()
                .copied()
                .max_by_key(|j| prio.get(*j).copied().unwrap_or(0))
        };
        let chosen = best(&self.priorities)?;
        for (i, cp) in self.change_points.iter().enumerate() {
            if *cp == step {
                if let Some(p) = self.priorities.get_mut(chosen) {
                    *p = i as u64;
                }
                return best(&self.priorities);
            }
        }
        Some(chosen)
    }
}
