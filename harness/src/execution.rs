//! Runs one execution: a set of jobs, one step at a time, under a scheduler,
//! against a filesystem. Everything that happened is kept in an
//! [`ExecutionTrace`] for the oracle and the report.

use crate::fs::{Fs, Tree};
use crate::job::{Diagnostic, Job, Step};
use crate::op::{Op, OpResult};
use crate::schedule::{JobId, Schedule, Scheduler};

/// One executed op.
#[derive(Debug, Clone)]
pub struct Event {
    /// The job that ran it.
    pub job: JobId,
    /// The op.
    pub op: Op,
    /// Its result.
    pub result: OpResult,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// The job exited with this status.
    Exited(i32),
    /// The job never ran because a job it depends on failed (make stops there).
    Skipped,
}

/// What one job did in an execution.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// The job's label.
    pub label: String,
    /// The program it models.
    pub program: &'static str,
    /// How it ended.
    pub end: JobEnd,
    /// What it printed, each with the index of the event that caused it
    /// (`None` when printed outside an op, for example on a stall).
    pub diagnostics: Vec<(Diagnostic, Option<usize>)>,
}

impl JobOutcome {
    /// True when the job exited non-zero.
    pub fn failed(&self) -> bool {
        matches!(self.end, JobEnd::Exited(code) if code != 0)
    }
}

/// Everything that happened in one execution.
#[derive(Debug, Clone)]
pub struct ExecutionTrace {
    /// The ops, in order.
    pub events: Vec<Event>,
    /// The scheduler's choices.
    pub schedule: Schedule,
    /// One outcome per job.
    pub outcomes: Vec<JobOutcome>,
    /// The final state of the prefix.
    pub tree: Tree,
    /// Set when the scheduler could not continue (a replay token that does not
    /// fit) or the step limit was hit.
    pub aborted: Option<String>,
}

/// The upper bound on steps of one execution, against runaway jobs.
pub const MAX_STEPS: usize = 20_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Done,
}

/// Runs `jobs` to completion. `deps[j]` lists the jobs that must exit before
/// job `j` may start. When `record_events` is false only the schedule,
/// outcomes and tree are kept (faster for passing executions).
pub fn execute(
    mut jobs: Vec<Box<dyn Job>>,
    deps: &[Vec<JobId>],
    fs: &mut dyn Fs,
    scheduler: &mut dyn Scheduler,
    record_events: bool,
) -> ExecutionTrace {
    let n = jobs.len();
    let mut status = vec![Status::Running; n];
    let mut outcomes: Vec<JobOutcome> = jobs
        .iter()
        .map(|j| JobOutcome {
            label: j.label().to_string(),
            program: j.program(),
            end: JobEnd::Exited(0),
            diagnostics: Vec::new(),
        })
        .collect();
    let mut events = Vec::new();
    let mut choices = Vec::new();
    let mut runnable: Vec<JobId> = Vec::with_capacity(n);
    let mut pending_ops: Vec<Option<Op>> = vec![None; n];
    let mut waiting: Vec<JobId> = Vec::new();
    let mut aborted = None;
    let mut step = 0usize;
    loop {
        runnable.clear();
        waiting.clear();
        let mut changed = false;
        for j in 0..n {
            if status[j] != Status::Running {
                continue;
            }
            if deps[j].iter().any(|&d| status[d] == Status::Running) {
                continue;
            }
            if deps[j]
                .iter()
                .any(|&d| outcomes[d].failed() || outcomes[d].end == JobEnd::Skipped)
            {
                status[j] = Status::Done;
                outcomes[j].end = JobEnd::Skipped;
                changed = true;
                continue;
            }
            let probe = |p: &str| fs.probe(p);
            match jobs[j].step(&probe) {
                Step::Op(op) => {
                    pending_ops[j] = Some(op);
                    runnable.push(j);
                }
                Step::Wait(_) => waiting.push(j),
                Step::Exit(code) => {
                    status[j] = Status::Done;
                    outcomes[j].end = JobEnd::Exited(code);
                    changed = true;
                }
            }
        }
        if changed {
            continue;
        }
        if runnable.is_empty() {
            if waiting.is_empty() {
                break;
            }
            for &j in &waiting {
                let before = jobs[j].diagnostics().len();
                let code = jobs[j].stalled();
                for d in &jobs[j].diagnostics()[before..] {
                    outcomes[j].diagnostics.push((d.clone(), None));
                }
                status[j] = Status::Done;
                outcomes[j].end = JobEnd::Exited(code);
            }
            continue;
        }
        if step >= MAX_STEPS {
            aborted = Some(format!("execution exceeded {MAX_STEPS} steps"));
            break;
        }
        let Some(chosen) = scheduler.pick_offered(&runnable, &pending_ops, step) else {
            aborted = Some(format!(
                "the schedule does not fit this scenario at step {step}"
            ));
            break;
        };
        let op = pending_ops[chosen]
            .take()
            .expect("runnable jobs have a pending op");
        let result = fs.apply(&op);
        scheduler.completed(&result);
        let before = jobs[chosen].diagnostics().len();
        jobs[chosen].complete(&result);
        let event_index = events.len();
        for d in &jobs[chosen].diagnostics()[before..] {
            outcomes[chosen]
                .diagnostics
                .push((d.clone(), record_events.then_some(event_index)));
        }
        if record_events {
            events.push(Event {
                job: chosen,
                op,
                result,
            });
        }
        choices.push(chosen);
        step += 1;
    }
    ExecutionTrace {
        events,
        schedule: Schedule { choices },
        outcomes,
        tree: fs.tree(),
        aborted,
    }
}
