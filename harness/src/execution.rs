//! Runs one execution: a set of jobs, one step at a time, under a scheduler,
//! against a filesystem. Everything that happened is kept in an
//! [`ExecutionTrace`] for the oracle and the report.
//!
//! [`execute_with_tails`] also watches for the moment only one job is left.
//! From there on the scheduler has no choice, so the rest of the execution
//! is a function of the state: the filesystem's [`StateKey`] and what every
//! job has seen. When the caller already knows the rest from that state
//! ([`Tails`]), the execution stops there.

use std::hash::Hash;

use crate::fs::{Fs, Tree};
use crate::job::{Diagnostic, Job, Step};
use crate::op::{Op, OpResult};
use crate::schedule::{JobId, Schedule, Scheduler};
use crate::state_graph::StateGraph;
use crate::state_key::{hash_result, StateHasher, StateKey};

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

/// What the caller knows about the rests of executions.
pub trait Tails {
    /// True when the rest of an execution from the state `key` is known.
    fn known(&self, key: StateKey) -> bool;
}

/// The point of an execution where only one job was left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// The state there: the filesystem, how every finished job ended and
    /// what it printed, the last job's own state (or the results it was
    /// handed), and the step it offers.
    pub key: StateKey,
    /// Steps executed before it.
    pub at_step: usize,
}

/// How [`execute_with_tails`] ended.
#[derive(Debug)]
pub enum Ran {
    /// The execution ran to its end; `tail` is where one job was left, if
    /// that happened on a keyed filesystem.
    Complete {
        /// Everything that happened.
        trace: ExecutionTrace,
        /// Where one job was left.
        tail: Option<Tail>,
    },
    /// The execution stopped where one job was left, in a state whose rest
    /// the caller knows.
    Known {
        /// Where it stopped.
        tail: Tail,
        /// The events before it (empty unless events were recorded).
        events: Vec<Event>,
        /// True when it got there by walking the
        /// [`StateGraph`], without running anything.
        walked: bool,
    },
}

/// Runs `jobs` to completion. `deps[j]` lists the jobs that must exit before
/// job `j` may start. When `record_events` is false only the schedule,
/// outcomes and tree are kept (faster for passing executions).
pub fn execute(
    jobs: Vec<Box<dyn Job>>,
    deps: &[Vec<JobId>],
    fs: &mut dyn Fs,
    scheduler: &mut dyn Scheduler,
    record_events: bool,
) -> ExecutionTrace {
    match run(jobs, deps, fs, scheduler, record_events, None, None) {
        Ran::Complete { trace, .. } => trace,
        Ran::Known { .. } => unreachable!("no tails were offered"),
    }
}

/// Like [`execute`], but stops as soon as only one job is left in a state
/// `tails` knows. Needs a filesystem with a state key (the model); on others
/// it always runs to the end. With a `graph`, every decision point before
/// that is recorded in it ([`StateGraph::record`]).
///
/// Sound because jobs are deterministic: a job's state is a function of the
/// results it was handed and of the step it offers (see [`Job`]), so two
/// executions that agree on the filesystem, on every job's results and on
/// the last job's next step continue identically.
pub fn execute_with_tails(
    jobs: Vec<Box<dyn Job>>,
    deps: &[Vec<JobId>],
    fs: &mut dyn Fs,
    scheduler: &mut dyn Scheduler,
    tails: &dyn Tails,
    graph: Option<&mut StateGraph>,
    record_events: bool,
) -> Ran {
    run(jobs, deps, fs, scheduler, record_events, Some(tails), graph)
}

/// The key of a decision point: the filesystem, and for every job whether
/// it still runs, how it ended, what it printed, and, while it runs, its own
/// state (or the results it has been handed) and the op it offers. What
/// follows a decision point is a function of it and of the pick.
fn decision_key(
    fs: StateKey,
    status: &[Status],
    outcomes: &[JobOutcome],
    jobs: &[Box<dyn Job>],
    histories: &[StateHasher],
    pending_ops: &[Option<Op>],
) -> StateKey {
    let mut h = StateHasher::default();
    fs.hash(&mut h);
    for (j, outcome) in outcomes.iter().enumerate() {
        let running = status[j] == Status::Running;
        running.hash(&mut h);
        match outcome.end {
            JobEnd::Exited(code) => (0u8, code).hash(&mut h),
            JobEnd::Skipped => 1u8.hash(&mut h),
        }
        for (diagnostic, _event) in &outcome.diagnostics {
            diagnostic.hash(&mut h);
        }
        if running {
            match jobs[j].state_key() {
                Some(own) => own.hash(&mut h),
                None => histories[j].finish128().hash(&mut h),
            }
            pending_ops[j].hash(&mut h);
        }
    }
    h.finish128()
}

/// The key of the state where only `last` is left: the filesystem, what
/// every finished job ended with, and the last job's own state (or, when it
/// cannot name one, the results it has been handed) and next step.
fn tail_key(
    fs: StateKey,
    histories: &[StateHasher],
    outcomes: &[JobOutcome],
    last: &dyn Job,
    last_id: JobId,
    next: &Step,
) -> StateKey {
    let mut h = StateHasher::default();
    fs.hash(&mut h);
    for (j, outcome) in outcomes.iter().enumerate() {
        match outcome.end {
            JobEnd::Exited(code) => (0u8, code).hash(&mut h),
            JobEnd::Skipped => 1u8.hash(&mut h),
        }
        if j != last_id {
            // What the job printed, not when: the event index of a line
            // depends on the interleaving and does not change what follows.
            for (diagnostic, _event) in &outcome.diagnostics {
                diagnostic.hash(&mut h);
            }
        }
    }
    last_id.hash(&mut h);
    match last.state_key() {
        Some(own) => own.hash(&mut h),
        None => histories[last_id].finish128().hash(&mut h),
    }
    next.hash(&mut h);
    h.finish128()
}

fn run(
    mut jobs: Vec<Box<dyn Job>>,
    deps: &[Vec<JobId>],
    fs: &mut dyn Fs,
    scheduler: &mut dyn Scheduler,
    record_events: bool,
    tails: Option<&dyn Tails>,
    graph: Option<&mut StateGraph>,
) -> Ran {
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
    let watch = tails.filter(|_| fs.state_key().is_some());
    let mut histories = vec![StateHasher::default(); if watch.is_some() { n } else { 0 }];
    let mut graph = graph.filter(|_| watch.is_some());
    // The decision point the last pick was made at, and the pick.
    let mut came_from: Option<(StateKey, JobId)> = None;
    let mut tail = None;
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
            if pending_ops[j].is_some() {
                // A job offers the same op until it is completed (the Job
                // contract): no need to ask again.
                runnable.push(j);
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
        let mut decision = None;
        let mut one_left = None;
        if let (Some(tails), None) = (watch, tail) {
            let fs_key = fs.state_key().expect("watched filesystems are keyed");
            let mut left = (0..n).filter(|&j| status[j] == Status::Running);
            if let (Some(last), None) = (left.next(), left.next()) {
                let next = match pending_ops[last].clone() {
                    Some(op) => Step::Op(op),
                    None => jobs[last].step(&|p: &str| fs.probe(p)),
                };
                let key = tail_key(
                    fs_key,
                    &histories,
                    &outcomes,
                    jobs[last].as_ref(),
                    last,
                    &next,
                );
                one_left = Some((tails, Tail { key, at_step: step }));
            }
            if let Some(graph) = graph.as_deref_mut() {
                let key = decision_key(fs_key, &status, &outcomes, &jobs, &histories, &pending_ops);
                graph.record(came_from, key, &runnable, one_left.map(|(_, t)| t.key));
                decision = Some(key);
            }
        }
        if let Some((tails, here)) = one_left {
            if tails.known(here.key) {
                return Ran::Known {
                    tail: here,
                    events,
                    walked: false,
                };
            }
            tail = Some(here);
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
        came_from = decision.map(|key| (key, chosen));
        let op = pending_ops[chosen]
            .take()
            .expect("runnable jobs have a pending op");
        let result = fs.apply(&op);
        scheduler.completed(&result);
        if let Some(history) = histories.get_mut(chosen) {
            hash_result(history, &result);
        }
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
    Ran::Complete {
        trace: ExecutionTrace {
            events,
            schedule: Schedule { choices },
            outcomes,
            tree: fs.tree(),
            aborted,
        },
        tail,
    }
}
