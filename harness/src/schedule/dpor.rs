//! The scheduler of one DPOR execution: it follows a forced sequence of
//! choices (the prefix of an explored branch, then a wakeup sequence), then
//! continues without preemption (the job that ran last keeps running while it
//! can), never picking a job in the sleep set. It records, for every step,
//! the runnable jobs, the op each offers and the sleep set, which is what the
//! DPOR driver (`crate::dpor`) analyses afterwards.

use super::dependence::{dependent_as, mutates};

use super::{JobId, Scheduler};
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

/// What the scheduler saw at one step.
#[derive(Debug, Clone)]
pub struct DporStep {
    /// The runnable jobs, ascending.
    pub enabled: Vec<JobId>,
    /// The op each runnable job offered, parallel to `enabled`.
    pub offered: Vec<Op>,
    /// The sleep set before the choice (only maintained from the branch point on).
    pub sleep: Vec<Asleep>,
    /// The job picked.
    pub chosen: JobId,
    /// Whether the op it ran changed anything, judged with its result (see
    /// [`crate::schedule::dependence::mutates`]).
    pub mutates: bool,
}

impl DporStep {
    /// The op job `job` offered at this step, if it was runnable.
    pub fn offered_by(&self, job: JobId) -> Option<&Op> {
        self.enabled
            .iter()
            .position(|&j| j == job)
            .map(|i| &self.offered[i])
    }

    /// The op executed at this step.
    pub fn executed(&self) -> &Op {
        self.offered_by(self.chosen)
            .expect("the chosen job was runnable")
    }

    /// The sleep set after this step: `sleep` without the chosen job and
    /// the jobs whose next op is dependent with the op that ran.
    pub fn sleep_after(&self, sleep: &mut Vec<Asleep>) {
        let op = self.executed();
        sleep.retain(|a| {
            a.job != self.chosen
                && !self
                    .offered_by(a.job)
                    .is_some_and(|o| dependent_as(o, a.mutates, op, self.mutates))
        });
    }
}

/// A scheduler for one DPOR execution.
#[derive(Debug, Clone)]
pub struct DporScheduler {
    forced: Vec<JobId>,
    sleep_from: usize,
    sleep: Vec<Asleep>,
    last: Option<JobId>,
    tracking: bool,
    /// Every step of the execution, as seen by the scheduler.
    pub steps: Vec<DporStep>,
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
            steps: Vec::new(),
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
        let ops: Vec<Op> = runnable
            .iter()
            .map(|&j| offered[j].clone().expect("runnable jobs offer an op"))
            .collect();
        let record = DporStep {
            enabled: runnable.to_vec(),
            offered: ops,
            sleep: if tracking {
                self.sleep.clone()
            } else {
                Vec::new()
            },
            chosen,
            mutates: true,
        };
        self.tracking = tracking;
        self.steps.push(record);
        self.last = Some(chosen);
        Some(chosen)
    }

    fn completed(&mut self, result: &OpResult) {
        let Some(step) = self.steps.last_mut() else {
            return;
        };
        step.mutates = mutates(step.executed(), Some(result));
        if self.tracking {
            step.sleep_after(&mut self.sleep);
        }
    }

    fn sees_ops(&self) -> bool {
        true
    }
}
