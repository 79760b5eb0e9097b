//! The race-directed scheduler: one execution aimed at one [`Target`].
//!
//! It follows the run the target was found in up to the hold point (just
//! before or just after the held op), so that the jobs are in the state
//! the conflict was seen in; then it runs the racer until the racer's op
//! has run, then the held job again first, so that its exposed op comes
//! right after the racer's. Jobs run without preemption otherwise, lowest
//! index first. Should the run's schedule stop fitting, it runs the held
//! job first up to the hold point. When the job it wants cannot run
//! (waiting on a condition, or not started), it runs another, keeping the
//! racer back during the lead so that the racer's op does not pass early;
//! if only the held job can run, the aim is given up.

use crate::op::Op;
use crate::schedule::{JobId, Scheduler};

use super::target::{Hold, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The held job runs up to the hold point.
    Lead,
    /// The racer runs up to and including its op.
    Race,
    /// The held job goes on first.
    Release,
}

/// Schedules one execution to exercise one [`Target`].
#[derive(Debug, Clone)]
pub struct DirectedScheduler {
    target: Target,
    phase: Phase,
    /// Ops of the held job with the hold op's shape run so far.
    held_seen: u32,
    /// Ops of the racer with the racer op's shape run so far.
    racer_seen: u32,
    hit: bool,
    /// The lead stopped fitting the run it follows.
    off_lead: bool,
}

impl DirectedScheduler {
    /// A scheduler aiming at `target`.
    pub fn new(target: Target) -> DirectedScheduler {
        DirectedScheduler {
            target,
            phase: Phase::Lead,
            held_seen: 0,
            racer_seen: 0,
            hit: false,
            off_lead: false,
        }
    }

    /// True when the racer's op ran while the held job was held: the
    /// target's conflict was exercised in its aimed order.
    pub fn hit(&self) -> bool {
        self.hit
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Runs `job`, whose op is `op`, counting the ops the plan waits for.
    fn run(&mut self, job: JobId, op: Option<&Op>) -> Option<JobId> {
        let held = self.target.held_job();
        let racer = self.target.racer_job();
        if let Some(op) = op {
            if job == held && self.target.hold.op().shape.matches(op) {
                self.held_seen += 1;
                if let Hold::After(id) = &self.target.hold {
                    if self.phase == Phase::Lead && self.off_lead && self.held_seen == id.occurrence
                    {
                        self.phase = Phase::Race;
                    }
                }
            }
            if job == racer && self.target.racer.shape.matches(op) {
                self.racer_seen += 1;
                if self.racer_seen == self.target.racer.occurrence {
                    self.hit = self.phase == Phase::Race;
                    self.phase = Phase::Release;
                }
            }
        }
        Some(job)
    }
}

/// The first of `runnable` that is none of `avoid`, else the first.
fn first_but(runnable: &[JobId], avoid: &[JobId]) -> JobId {
    runnable
        .iter()
        .copied()
        .find(|j| !avoid.contains(j))
        .unwrap_or(runnable[0])
}

impl Scheduler for DirectedScheduler {
    fn pick(&mut self, runnable: &[JobId], _step: usize) -> Option<JobId> {
        // Without the ops no hold point can be recognised: no preemption.
        Some(runnable[0])
    }

    fn pick_offered(
        &mut self,
        runnable: &[JobId],
        offered: &[Option<Op>],
        step: usize,
    ) -> Option<JobId> {
        let held = self.target.held_job();
        let racer = self.target.racer_job();
        let op_of = |j: JobId| offered.get(j).and_then(Option::as_ref);
        if self.phase == Phase::Lead && !self.off_lead {
            let lead = &self.target.lead;
            if step >= lead.steps {
                if lead.then_held_first {
                    self.off_lead = true;
                } else {
                    self.phase = Phase::Race;
                }
            } else {
                let j = lead.schedule[step];
                if runnable.contains(&j) {
                    return self.run(j, op_of(j));
                }
                self.off_lead = true;
            }
        }
        if self.phase == Phase::Lead {
            if runnable.contains(&held) {
                let at_hold = match &self.target.hold {
                    Hold::Before(id) => op_of(held).is_some_and(|op| {
                        id.shape.matches(op) && self.held_seen + 1 == id.occurrence
                    }),
                    Hold::After(_) => false,
                };
                if !at_hold {
                    return self.run(held, op_of(held));
                }
                self.phase = Phase::Race;
            } else {
                let j = first_but(runnable, &[racer]);
                return self.run(j, op_of(j));
            }
        }
        if self.phase == Phase::Race {
            if runnable.contains(&racer) {
                return self.run(racer, op_of(racer));
            }
            let j = first_but(runnable, &[held]);
            if j != held {
                return self.run(j, op_of(j));
            }
            // Only the held job can go on: the aim is missed.
            self.phase = Phase::Release;
        }
        let j = if runnable.contains(&held) {
            held
        } else {
            runnable[0]
        };
        self.run(j, op_of(j))
    }

    fn sees_ops(&self) -> bool {
        true
    }

    fn aim_met(&self) -> Option<bool> {
        Some(self.hit)
    }
}
