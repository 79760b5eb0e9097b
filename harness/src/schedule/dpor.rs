//! The scheduler of one DPOR execution: it follows a forced sequence of
//! choices (the prefix of an explored branch, then a wakeup sequence), then
//! continues without preemption (the job that ran last keeps running while it
//! can), never picking a job in the sleep set. It records, for every step,
//! the runnable jobs, the op each offers and the sleep set ([`DporSteps`]),
//! which is what the DPOR driver (`crate::dpor`) analyses afterwards.

use super::dependence::mutates;

use super::{DporSteps, JobId, Scheduler};
use crate::op::{Op, OpResult};

/// A job in the sleep set: its branch was explored before, and the op it
/// offers is not run until a dependent op wakes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asleep {
    /// The job.
    pub job: JobId,
    /// Whether its next op mutated where it was explored (its result there
    /// stays the same while it sleeps).
    pub mutates: bool,
}

/// A scheduler for one DPOR execution.
#[derive(Debug, Clone)]
pub struct DporScheduler {
    forced: Vec<JobId>,
    sleep_from: usize,
    sleep: Vec<Asleep>,
    last: Option<JobId>,
    tracking: bool,
    /// Whether the step being run is recorded (not when it was recorded
    /// before: see [`DporScheduler::continuing`]).
    recording: bool,
    /// Every step of the execution, as seen by the scheduler.
    pub steps: DporSteps,
    /// Set when every runnable job was asleep at some step: the execution is
    /// equivalent to one explored before (sleep-set blocked).
    pub blocked: bool,
    /// Set when a forced choice was not runnable (the wakeup sequence did not fit).
    pub diverged: bool,
}

impl DporScheduler {
    /// Follows `forced`, maintains the sleep set `sleep` from step `sleep_from`
    /// on, and continues without preemption.
    pub fn new(forced: Vec<JobId>, sleep_from: usize, sleep: Vec<Asleep>) -> DporScheduler {
        DporScheduler {
            forced,
            sleep_from,
            sleep,
            last: None,
            tracking: false,
            recording: false,
            steps: DporSteps::new(),
            blocked: false,
            diverged: false,
        }
    }

    /// Makes the scheduler continue an execution whose step before the
    /// first one it is asked about ran `last` (`None` at the start): it
    /// keeps running that job when it is free to choose.
    pub fn resume_after(&mut self, last: Option<JobId>) {
        self.last = last;
    }

    /// Makes the scheduler continue `steps`, the first steps of this
    /// execution recorded before: when it is resumed from a state at or
    /// before their end, the steps it is asked about before their end are
    /// not recorded again.
    pub fn continuing(&mut self, steps: DporSteps) {
        self.steps = steps;
    }

    fn free_choice(&mut self, runnable: &[JobId]) -> JobId {
        let awake = |j: &JobId| !self.sleep.iter().any(|a| a.job == *j);
        if let Some(last) = self.last.filter(|l| runnable.contains(l) && awake(l)) {
            return last;
        }
        if let Some(j) = runnable.iter().copied().find(awake) {
            return j;
        }
        self.blocked = true;
        self.last
            .filter(|l| runnable.contains(l))
            .unwrap_or(runnable[0])
    }
}

impl Scheduler for DporScheduler {
    fn pick(&mut self, runnable: &[JobId], _step: usize) -> Option<JobId> {
        Some(self.free_choice(runnable))
    }

    fn pick_offered(
        &mut self,
        runnable: &[JobId],
        offered: &[Option<Op>],
        step: usize,
    ) -> Option<JobId> {
        let tracking = step >= self.sleep_from;
        if tracking {
            self.sleep.retain(|a| runnable.contains(&a.job));
        }
        let chosen = match self.forced.get(step) {
            Some(&j) if runnable.contains(&j) => j,
            Some(_) => {
                self.diverged = true;
                self.forced.truncate(step);
                self.free_choice(runnable)
            }
            None => self.free_choice(runnable),
        };
        self.recording = step >= self.steps.len();
        if self.recording {
            debug_assert_eq!(step, self.steps.len(), "steps are recorded in order");
            let sleep = if tracking {
                self.sleep.clone()
            } else {
                Vec::new()
            };
            self.steps.record(runnable, offered, chosen, sleep);
        }
        self.tracking = tracking;
        self.last = Some(chosen);
        Some(chosen)
    }

    fn completed(&mut self, result: &OpResult) {
        if !self.recording {
            return;
        }
        let k = self.steps.len() - 1;
        let m = mutates(self.steps.executed(k), Some(result));
        self.steps.set_mutates(k, m);
        if self.tracking {
            self.steps.sleep_after(k, &mut self.sleep);
        }
    }

    fn sees_ops(&self) -> bool {
        true
    }
}
