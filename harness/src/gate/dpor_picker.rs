//! The picker of one execution of the gate's DPOR (`gate_dpor.rs`): it
//! replays a prefix of job choices, checking that each job offers the call
//! it offered when the prefix was recorded, then goes on with a
//! deterministic default continuation, and records what every step offered.
//!
//! The continuation keeps releasing the job released last, as long as it is
//! runnable, awake and not repeating a call that just failed (a spin loop
//! such as `until [ -e F ]`, which would otherwise never let the others
//! move);
//! otherwise the lowest such job; otherwise the lowest runnable job. A job
//! in the *sleep set* is not picked while another may be: its pending call
//! was already explored at an earlier branch and nothing dependent on it has
//! run since.

use super::call::Call;
use super::dependence::{dependent, footprint, Footprint};
use super::picker::{Offer, Picker};
use super::temp_names::blurred;
use crate::schedule::JobId;

/// A call a job offered at a decision, as the search keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    /// The job.
    pub job: JobId,
    /// Its call, rendered with clock-dependent names blurred.
    pub call: String,
    /// What the call touches, judged without a result.
    pub footprint: Footprint,
}

impl Offered {
    /// The record of `call` offered by `job`.
    pub fn new(job: JobId, call: &Call) -> Offered {
        Offered {
            job,
            call: blurred(&call.to_string()),
            footprint: footprint(call, None),
        }
    }
}

/// Where a replayed prefix parted from the execution it was recorded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The first step that differed.
    pub step: usize,
    /// The job and call the prefix expected there.
    pub expected: String,
    /// What that job offered instead (`not runnable` when nothing).
    pub found: String,
}

/// The picker of one DPOR execution.
#[derive(Debug)]
pub struct DporPicker {
    prefix: Vec<Offered>,
    sleep: Vec<Offered>,
    last: Option<JobId>,
    /// What the runnable jobs offered at each step.
    pub offers: Vec<Vec<Offered>>,
    /// The jobs asleep at each step after the prefix (empty within it).
    pub sleeps: Vec<Vec<JobId>>,
    /// The first step where the commands did not follow the prefix.
    pub diverged: Option<Divergence>,
}

impl DporPicker {
    /// A picker replaying `prefix`, then continuing with `sleep` asleep (the
    /// sleep set after the prefix's last step).
    pub fn new(prefix: Vec<Offered>, sleep: Vec<Offered>) -> DporPicker {
        DporPicker {
            prefix,
            sleep,
            last: None,
            offers: Vec::new(),
            sleeps: Vec::new(),
            diverged: None,
        }
    }

    fn diverge(&mut self, step: usize, expected: &Offered, found: String) {
        if self.diverged.is_none() {
            self.diverged = Some(Divergence {
                step,
                expected: format!("{} {}", super::verdict::label(expected.job), expected.call),
                found,
            });
            // The sleep set was computed for the recorded prefix.
            self.sleep.clear();
        }
    }

    /// The continuation's choice among `offers` (see the module doc).
    fn continuation(&self, offers: &[Offer<'_>]) -> JobId {
        let awake: Vec<&Offer<'_>> = offers
            .iter()
            .filter(|o| !self.sleep.iter().any(|s| s.job == o.job))
            .collect();
        if let Some(o) = awake.iter().find(|o| Some(o.job) == self.last && !o.spins) {
            return o.job;
        }
        awake
            .iter()
            .find(|o| !o.spins)
            .or(awake.first())
            .map_or(offers[0].job, |o| o.job)
    }
}

impl Picker for DporPicker {
    fn pick(&mut self, offers: &[Offer<'_>], step: usize) -> Option<JobId> {
        let offered: Vec<Offered> = offers.iter().map(|o| Offered::new(o.job, o.call)).collect();
        let job = match self.prefix.get(step).cloned() {
            Some(expected) => match offered.iter().find(|o| o.job == expected.job) {
                Some(o) => {
                    if o.call != expected.call {
                        let found = o.call.clone();
                        self.diverge(step, &expected, found);
                    }
                    expected.job
                }
                None => {
                    self.diverge(step, &expected, "not runnable".to_string());
                    self.continuation(offers)
                }
            },
            None => {
                // A sleeping job whose pending call changed is awake.
                self.sleep
                    .retain(|s| offered.iter().any(|o| o.job == s.job && o.call == s.call));
                self.continuation(offers)
            }
        };
        self.sleeps.push(if step < self.prefix.len() {
            Vec::new()
        } else {
            self.sleep.iter().map(|s| s.job).collect()
        });
        let chosen = offered
            .iter()
            .find(|o| o.job == job)
            .cloned()
            .expect("the pick is runnable");
        if step >= self.prefix.len() {
            // What ran wakes every sleeper it depends on.
            self.sleep
                .retain(|s| s.job != job && !dependent(&s.footprint, &chosen.footprint));
        }
        self.last = Some(job);
        self.offers.push(offered);
        Some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &'static str, path: &str) -> Call {
        Call {
            name,
            args: vec![format!("\"{path}\""), "0700".into()],
            in_prefix: true,
        }
    }

    #[test]
    fn the_continuation_keeps_the_last_job_and_leaves_a_spin() {
        let a1 = call("mkdir", "a");
        let a2 = call("mkdir", "a/b");
        let spin = call("newfstatat", "a/b/c");
        let mut p = DporPicker::new(Vec::new(), Vec::new());
        let offer = |job, call, spins| Offer {
            job,
            call,
            index: 0,
            spins,
        };
        assert_eq!(
            p.pick(&[offer(0, &a1, false), offer(1, &spin, false)], 0),
            Some(0)
        );
        assert_eq!(
            p.pick(&[offer(0, &a2, false), offer(1, &spin, false)], 1),
            Some(0)
        );
        // A is parked elsewhere; B polls; when A is back, B's repeated
        // failing call yields to it, but a call that did not fail does not.
        assert_eq!(p.pick(&[offer(1, &spin, false)], 2), Some(1));
        assert_eq!(
            p.pick(&[offer(0, &a2, false), offer(1, &spin, true)], 3),
            Some(0)
        );
        assert_eq!(
            p.pick(&[offer(0, &a2, false), offer(1, &spin, false)], 4),
            Some(0)
        );
        assert_eq!(p.pick(&[offer(1, &spin, false)], 5), Some(1));
        assert_eq!(
            p.pick(&[offer(0, &a2, false), offer(1, &spin, false)], 6),
            Some(1)
        );
    }

    #[test]
    fn a_prefix_is_followed_and_a_different_call_is_a_divergence() {
        let a = call("mkdir", "a");
        let b = call("mkdir", "b");
        let prefix = vec![Offered::new(1, &b), Offered::new(0, &call("mkdir", "x"))];
        let mut p = DporPicker::new(prefix, Vec::new());
        let offer = |job, call| Offer {
            job,
            call,
            index: 0,
            spins: false,
        };
        assert_eq!(p.pick(&[offer(0, &a), offer(1, &b)], 0), Some(1));
        assert!(p.diverged.is_none());
        assert_eq!(p.pick(&[offer(0, &a)], 1), Some(0));
        let d = p.diverged.clone().unwrap();
        assert_eq!(d.step, 1);
        assert_eq!(d.expected, "A mkdir(\"x\", 0700)");
        assert_eq!(d.found, "mkdir(\"a\", 0700)");
    }

    #[test]
    fn a_sleeping_job_waits_until_a_dependent_call_runs() {
        let a = call("mkdir", "c");
        let a_sub = call("mkdir", "a/x");
        let b = call("newfstatat", "a/x");
        // B is asleep (its stat was explored first at the branch).
        let mut p = DporPicker::new(Vec::new(), vec![Offered::new(1, &b)]);
        let offer = |job, call| Offer {
            job,
            call,
            index: 0,
            spins: false,
        };
        assert_eq!(p.pick(&[offer(0, &a), offer(1, &b)], 0), Some(0));
        assert_eq!(p.sleeps[0], vec![1]);
        assert_eq!(p.sleep.len(), 1);
        // A's mkdir of a/x wakes B's stat of a/x.
        assert_eq!(p.pick(&[offer(0, &a_sub), offer(1, &b)], 1), Some(0));
        assert!(p.sleep.is_empty());
    }
}
