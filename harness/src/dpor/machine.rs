//! A resumable execution: the executor's loop ([`crate::execution::execute`]
//! without known tails, state graph or recorded events) over state that
//! can be copied between steps.
//!
//! The DPOR driver runs every execution as a forced prefix followed by
//! free choices, and consecutive executions share long prefixes. On the
//! model filesystem a [`Machine`] can be copied at a step ([`Machine::fork`]:
//! the model's inodes are shared until changed, jobs are small), so an
//! execution starts from the copy taken at the deepest step its prefix
//! shares with the execution before, instead of from step 0.
//!
//! It must behave exactly like `execute` (same picks asked in the same
//! order, same results, outcomes, diagnostics and tree):
//! `tests/dpor_resume.rs` compares the two on every fixture, and on
//! executions resumed from copies taken at every step.

use crate::execution::{ExecutionTrace, JobEnd, JobOutcome, MAX_STEPS};
use crate::fault::Struck;
use crate::fs::Fs;
use crate::job::{Job, Step};
use crate::op::Op;
use crate::schedule::{JobId, Schedule, Scheduler};

/// Whether a job still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Done,
}

/// Strikes some ops of a [`Machine`]'s execution with a fault instead of
/// letting the filesystem run them (the fault explorer's injector), and is
/// copied with the machine.
pub(crate) trait Strike: Send {
    /// Runs job `id`'s offered op struck, or `None` to let it run plainly
    /// (as [`crate::execution::Observer::strike`]).
    fn strike(&mut self, id: JobId, job: &dyn Job, fs: &mut dyn Fs) -> Option<Struck>;
    /// A copy, in the same state.
    fn copy(&self) -> Box<dyn Strike>;
}

/// The state of an execution between two steps.
pub(crate) struct Machine {
    jobs: Vec<Box<dyn Job>>,
    status: Vec<Status>,
    outcomes: Vec<JobOutcome>,
    pending: Vec<Option<Op>>,
    fs: Box<dyn Fs>,
    /// Ops executed so far.
    step: usize,
    /// Set when the execution was cut short.
    aborted: Option<String>,
    /// True once the execution has ended.
    ended: bool,
    /// Strikes ops with a fault (an execution forked off at a fault point).
    strike: Option<Box<dyn Strike>>,
}

impl Machine {
    /// An execution of `jobs` about to start on `fs` (the initial prefix
    /// already laid down).
    pub(crate) fn new(jobs: Vec<Box<dyn Job>>, fs: Box<dyn Fs>) -> Machine {
        let outcomes = jobs
            .iter()
            .map(|j| JobOutcome {
                label: j.label().to_string(),
                program: j.program(),
                end: JobEnd::Exited(0),
                diagnostics: Vec::new(),
            })
            .collect();
        let n = jobs.len();
        Machine {
            jobs,
            status: vec![Status::Running; n],
            outcomes,
            pending: vec![None; n],
            fs,
            step: 0,
            aborted: None,
            ended: false,
            strike: None,
        }
    }

    /// This machine with `strike` striking its ops from now on.
    pub(crate) fn striking(mut self, strike: Box<dyn Strike>) -> Machine {
        self.strike = Some(strike);
        self
    }

    /// This state as the start of a search: its step count restarts at 0
    /// (the steps before it are not the search's).
    pub(crate) fn into_root(mut self) -> Machine {
        self.step = 0;
        self
    }

    /// The filesystem, once the execution has run.
    pub(crate) fn into_fs(self) -> Box<dyn Fs> {
        self.fs
    }

    /// Ops executed so far.
    pub(crate) fn step(&self) -> usize {
        self.step
    }

    /// A copy of this state, when the filesystem can be copied (the model).
    pub(crate) fn fork(&mut self) -> Option<Machine> {
        let fs: Box<dyn Fs> = Box::new(self.fs.as_model_mut()?.clone());
        Some(Machine {
            jobs: self.jobs.clone(),
            status: self.status.clone(),
            outcomes: self.outcomes.clone(),
            pending: self.pending.clone(),
            fs,
            step: self.step,
            aborted: self.aborted.clone(),
            ended: self.ended,
            strike: self.strike.as_ref().map(|s| s.copy()),
        })
    }

    /// Runs to the end under `scheduler`, with `deps[j]` the jobs that
    /// must exit before job `j` starts. `at` is called once at every step
    /// reached (`machine.step()` ops executed, before the jobs are asked
    /// for their next step), where the caller may [`Machine::fork`] it.
    pub(crate) fn run(
        &mut self,
        deps: &[Vec<JobId>],
        scheduler: &mut dyn Scheduler,
        at: &mut dyn FnMut(&mut Machine),
    ) {
        let n = self.jobs.len();
        let mut runnable: Vec<JobId> = Vec::with_capacity(n);
        let mut waiting: Vec<JobId> = Vec::new();
        let mut seen = None;
        while !self.ended {
            if seen != Some(self.step) {
                seen = Some(self.step);
                at(self);
            }
            runnable.clear();
            waiting.clear();
            let mut changed = false;
            for (j, needs) in deps.iter().enumerate().take(n) {
                if self.status[j] != Status::Running {
                    continue;
                }
                if needs.iter().any(|&d| self.status[d] == Status::Running) {
                    continue;
                }
                if needs
                    .iter()
                    .any(|&d| self.outcomes[d].failed() || self.outcomes[d].end == JobEnd::Skipped)
                {
                    self.status[j] = Status::Done;
                    self.outcomes[j].end = JobEnd::Skipped;
                    changed = true;
                    continue;
                }
                if self.pending[j].is_some() {
                    runnable.push(j);
                    continue;
                }
                let fs = &self.fs;
                let probe = |p: &str| fs.probe(p);
                match self.jobs[j].step(&probe) {
                    Step::Op(op) => {
                        self.pending[j] = Some(op);
                        runnable.push(j);
                    }
                    Step::Wait(_) => waiting.push(j),
                    Step::Exit(code) => {
                        self.status[j] = Status::Done;
                        self.outcomes[j].end = JobEnd::Exited(code);
                        changed = true;
                    }
                }
            }
            if changed {
                continue;
            }
            if runnable.is_empty() {
                if waiting.is_empty() {
                    self.ended = true;
                    break;
                }
                for &j in &waiting {
                    let before = self.jobs[j].diagnostics().len();
                    let code = self.jobs[j].stalled();
                    for d in &self.jobs[j].diagnostics()[before..] {
                        self.outcomes[j].diagnostics.push((d.clone(), None));
                    }
                    self.status[j] = Status::Done;
                    self.outcomes[j].end = JobEnd::Exited(code);
                }
                continue;
            }
            if self.step >= MAX_STEPS {
                self.aborted = Some(format!("execution exceeded {MAX_STEPS} steps"));
                self.ended = true;
                break;
            }
            let Some(chosen) = scheduler.pick_offered(&runnable, &self.pending, self.step) else {
                self.aborted = Some(format!(
                    "the schedule does not fit this scenario at step {}",
                    self.step
                ));
                self.ended = true;
                break;
            };
            let op = self.pending[chosen]
                .take()
                .expect("runnable jobs have a pending op");
            let struck = match self.strike.as_mut() {
                Some(strike) => strike.strike(chosen, &*self.jobs[chosen], self.fs.as_mut()),
                None => None,
            };
            let (result, handed) = match struck {
                None => (self.fs.apply(&op), None),
                Some(struck) => (struck.result, Some(struck.handed)),
            };
            scheduler.completed(&result);
            let before = self.jobs[chosen].diagnostics().len();
            match &handed {
                None => self.jobs[chosen].complete(&result),
                Some(Some(handed)) => self.jobs[chosen].complete(handed),
                // Not handed anything yet: the job offers its op again.
                Some(None) => {}
            }
            for d in &self.jobs[chosen].diagnostics()[before..] {
                self.outcomes[chosen].diagnostics.push((d.clone(), None));
            }
            self.step += 1;
        }
    }

    /// The trace of the ended execution whose choices were `choices`.
    pub(crate) fn trace(&self, choices: Vec<JobId>) -> ExecutionTrace {
        ExecutionTrace {
            events: Vec::new(),
            schedule: Schedule { choices },
            outcomes: self.outcomes.clone(),
            tree: self.fs.tree(),
            aborted: self.aborted.clone(),
        }
    }
}
