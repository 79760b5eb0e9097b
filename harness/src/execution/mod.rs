//! Runs one execution: a set of jobs, one step at a time, under a scheduler,
//! against a filesystem. Everything that happened is kept in an
//! [`ExecutionTrace`] for the oracle and the report.
//!
//! This file is the plain executor ([`execute`]): ask every job for its
//! next step, let the scheduler pick one of the jobs that offer an op, run
//! that op, hand the result back. The speed-ups sit beside it and only
//! watch: an [`Observer`] is called at every decision point and after every
//! op, and may end the execution early. [`shortcut`] is the one the
//! explorations use (known tails and the state graph; [`execute_with_tails`]),
//! with its state keys in [`keys`].

pub mod keys;
pub mod shortcut;

use crate::fault::Struck;
use crate::fs::{Fs, Tree};
use crate::job::{Diagnostic, Job, Offer};
use crate::op::{Op, OpResult};
use crate::schedule::{JobId, Schedule, Scheduler};

pub use shortcut::{execute_with_tails, Ends, Ran, Tail, Tails};

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

thread_local! {
    /// How many steps the last execution on this thread took: the next one
    /// reserves its schedule at that length instead of growing it step by
    /// step (explorations run the same jobs over and over). A capacity
    /// only; nothing reads it into a result.
    static LAST_STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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
    match run(jobs, deps, fs, scheduler, record_events, &mut Unobserved) {
        Ended::Complete(trace) => trace,
        Ended::Stopped(_) => unreachable!("nothing observes the execution"),
    }
}

/// Where an execution is, as an [`Observer`] sees it at a decision point.
pub struct Progress {
    /// The jobs, by index.
    pub jobs: Vec<Box<dyn Job>>,
    /// Per job: true while it runs (has not exited or been skipped).
    pub running: Vec<bool>,
    /// How many jobs still run.
    pub running_count: usize,
    /// Per job: how it ended so far, and what it printed.
    pub outcomes: Vec<JobOutcome>,
    /// Per job: whether it offers an op (lent by the job, [`Progress::offered`]).
    pub offering: Vec<bool>,
    /// The jobs that offer an op here, ascending.
    pub runnable: Vec<JobId>,
    /// Jobs whose state may have changed since the previous decision point
    /// (stepped, completed, exited, skipped or stalled), possibly repeated.
    pub touched: Vec<JobId>,
    /// Steps executed so far.
    pub step: usize,
}

/// Whether an execution goes on after an [`Observer`] saw a decision point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Go,
    /// Stop here: the observer knows the rest.
    Stop,
}

/// Watches an execution without changing it: called at every decision point
/// (before the scheduler picks, also where nothing is runnable), after the
/// pick, and after every op.
pub trait Observer {
    /// At a decision point; [`Flow::Stop`] ends the execution there.
    fn decision_point(&mut self, at: &mut Progress, fs: &dyn Fs) -> Flow;
    /// The scheduler picked `job` at the last decision point.
    fn picked(&mut self, job: JobId);
    /// `job`'s op ran and returned `result`.
    fn op_ran(&mut self, job: JobId, result: &OpResult);
    /// The final state of an execution that ran to its end.
    fn final_tree(&mut self, fs: &dyn Fs) -> Tree {
        fs.tree()
    }
    /// Runs job `id`'s offered op struck by a fault instead of letting the
    /// filesystem run it plainly, when this observer injects one there
    /// ([`crate::fault`]); `None`, the default, lets it run. `job` is the
    /// job itself, offering the op.
    fn strike(&mut self, id: JobId, job: &dyn Job, fs: &mut dyn Fs) -> Option<Struck> {
        let _ = (id, job, fs);
        None
    }
}

/// The observer of plain executions: sees nothing.
struct Unobserved;

impl Observer for Unobserved {
    fn decision_point(&mut self, _: &mut Progress, _: &dyn Fs) -> Flow {
        Flow::Go
    }
    fn picked(&mut self, _: JobId) {}
    fn op_ran(&mut self, _: JobId, _: &OpResult) {}
}

/// How [`run`] ended.
pub(crate) enum Ended {
    /// The execution ran to its end.
    Complete(ExecutionTrace),
    /// The observer stopped it; the events so far.
    Stopped(Vec<Event>),
}

/// The executor. `observer` sees every decision point and op.
pub(crate) fn run(
    jobs: Vec<Box<dyn Job>>,
    deps: &[Vec<JobId>],
    fs: &mut dyn Fs,
    scheduler: &mut dyn Scheduler,
    record_events: bool,
    observer: &mut dyn Observer,
) -> Ended {
    let n = jobs.len();
    let outcomes = jobs
        .iter()
        .map(|j| JobOutcome {
            label: j.label().to_string(),
            program: j.program(),
            end: JobEnd::Exited(0),
            diagnostics: Vec::new(),
        })
        .collect();
    let mut at = Progress {
        jobs,
        running: vec![true; n],
        running_count: n,
        outcomes,
        offering: vec![false; n],
        runnable: Vec::with_capacity(n),
        touched: Vec::new(),
        step: 0,
    };
    // The running jobs that offer no op yet, ascending: the only ones the
    // loop asks (a job offers the same op until it is completed, the Job
    // contract, and once its dependencies have ended they stay ended), so a
    // step costs O(those), not O(jobs). `at.runnable` is kept ascending.
    let mut unsettled: Vec<JobId> = (0..n).collect();
    let mut events = Vec::new();
    let mut choices = Vec::with_capacity(LAST_STEPS.get().min(MAX_STEPS));
    let mut waiting: Vec<JobId> = Vec::new();
    // The offers as owned ops, kept only for a scheduler that sees them:
    // the others pick from the runnable jobs alone, and then no op is
    // cloned, moved or dropped per step (the jobs lend theirs).
    let sees_ops = scheduler.sees_ops();
    let mut offers: Vec<Option<Op>> = if sees_ops { vec![None; n] } else { Vec::new() };
    let mut aborted = None;
    loop {
        waiting.clear();
        let mut changed = false;
        let mut settled = false;
        for &j in &unsettled {
            if !at.running[j] {
                continue;
            }
            if deps[j].iter().any(|&d| at.running[d]) {
                continue;
            }
            if deps[j]
                .iter()
                .any(|&d| at.outcomes[d].failed() || at.outcomes[d].end == JobEnd::Skipped)
            {
                at.end(j, JobEnd::Skipped);
                changed = true;
                continue;
            }
            at.touched.push(j);
            let probe = |p: &str| fs.probe(p);
            match at.jobs[j].poll(&probe) {
                Offer::Op => {
                    at.offering[j] = true;
                    if sees_ops {
                        offers[j] = Some(at.jobs[j].offered().clone());
                    }
                    let slot = at.runnable.partition_point(|&r| r < j);
                    at.runnable.insert(slot, j);
                    settled = true;
                }
                Offer::Wait(_) => waiting.push(j),
                Offer::Exit(code) => {
                    at.end(j, JobEnd::Exited(code));
                    changed = true;
                }
            }
        }
        if changed || settled {
            // `retain`, by hand: this runs at almost every step, mostly on
            // one job, where the generic one cost several times as much.
            let mut kept = 0;
            for i in 0..unsettled.len() {
                let j = unsettled[i];
                if at.running[j] && !at.offering[j] {
                    unsettled[kept] = j;
                    kept += 1;
                }
            }
            unsettled.truncate(kept);
        }
        if changed {
            continue;
        }
        let flow = observer.decision_point(&mut at, fs);
        at.touched.clear();
        if flow == Flow::Stop {
            return Ended::Stopped(events);
        }
        if at.runnable.is_empty() {
            if waiting.is_empty() {
                break;
            }
            for &j in &waiting {
                let before = at.jobs[j].diagnostics().len();
                let code = at.jobs[j].stalled();
                for d in &at.jobs[j].diagnostics()[before..] {
                    at.outcomes[j].diagnostics.push((d.clone(), None));
                }
                at.end(j, JobEnd::Exited(code));
            }
            unsettled.retain(|&j| at.running[j]);
            continue;
        }
        if at.step >= MAX_STEPS {
            aborted = Some(format!("execution exceeded {MAX_STEPS} steps"));
            break;
        }
        let Some(chosen) = scheduler.pick_offered(&at.runnable, &offers, at.step) else {
            aborted = Some(format!(
                "the schedule does not fit this scenario at step {}",
                at.step
            ));
            break;
        };
        observer.picked(chosen);
        debug_assert!(at.offering[chosen], "runnable jobs offer an op");
        at.offering[chosen] = false;
        if sees_ops {
            offers[chosen] = None;
        }
        if let Ok(slot) = at.runnable.binary_search(&chosen) {
            at.runnable.remove(slot);
        }
        let slot = unsettled.partition_point(|&u| u < chosen);
        unsettled.insert(slot, chosen);
        let op = at.jobs[chosen].offered();
        // The result stays where `apply` wrote it and is only lent below:
        // a tuple of it and the event's op, built in one arm and taken
        // apart after, copied it through the stack at every step, reading
        // it back wider than `apply` had written it (a stalled load).
        let mut event_op = None;
        let mut handed = None;
        let result = match observer.strike(chosen, &*at.jobs[chosen], fs) {
            None => {
                if record_events {
                    event_op = Some(op.clone());
                }
                fs.apply(op)
            }
            Some(struck) => {
                if record_events {
                    event_op = Some(struck.ran);
                }
                handed = Some(struck.handed);
                struck.result
            }
        };
        scheduler.completed(&result);
        observer.op_ran(chosen, &result);
        let before = at.jobs[chosen].diagnostics().len();
        match &handed {
            None => at.jobs[chosen].complete(&result),
            Some(Some(handed)) => at.jobs[chosen].complete(handed),
            // Not handed anything yet: the job offers its op again.
            Some(None) => {}
        }
        at.touched.push(chosen);
        let event_index = events.len();
        for d in &at.jobs[chosen].diagnostics()[before..] {
            at.outcomes[chosen]
                .diagnostics
                .push((d.clone(), record_events.then_some(event_index)));
        }
        if let Some(op) = event_op {
            events.push(Event {
                job: chosen,
                op,
                result,
            });
        }
        choices.push(chosen);
        at.step += 1;
    }
    LAST_STEPS.set(choices.len());
    Ended::Complete(ExecutionTrace {
        events,
        schedule: Schedule { choices },
        outcomes: at.outcomes,
        tree: observer.final_tree(fs),
        aborted,
    })
}

impl Progress {
    /// The op job `j` offers, lent by the job, if it offers one.
    pub fn offered(&self, j: JobId) -> Option<&Op> {
        self.offering[j].then(|| self.jobs[j].offered())
    }

    /// Job `j` ends as `end`.
    fn end(&mut self, j: JobId, end: JobEnd) {
        self.running[j] = false;
        self.running_count -= 1;
        self.outcomes[j].end = end;
        self.touched.push(j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::ModelFs;
    use crate::job::Offer;
    use crate::op::Kind;
    use crate::schedule::SerialScheduler;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Offers one `lstat` and notes, when its result comes back, how many
    /// references its path has: the job's own only, unless someone cloned
    /// the op it lent.
    #[derive(Clone)]
    struct LendsOnce {
        op: Op,
        done: bool,
        seen_refs: Arc<AtomicUsize>,
    }

    impl Job for LendsOnce {
        fn label(&self) -> &str {
            "lends-once"
        }
        fn program(&self) -> &'static str {
            "test"
        }
        fn poll(&mut self, _: &dyn Fn(&str) -> Option<Kind>) -> Offer {
            if self.done {
                Offer::Exit(0)
            } else {
                Offer::Op
            }
        }
        fn offered(&self) -> &Op {
            &self.op
        }
        fn complete(&mut self, _: &OpResult) {
            let refs = Arc::strong_count(self.op.path());
            self.seen_refs.store(refs, Ordering::SeqCst);
            self.done = true;
        }
        fn diagnostics(&self) -> &[Diagnostic] {
            &[]
        }
    }

    #[test]
    fn the_executor_borrows_offered_ops_and_clones_them_only_for_events() {
        for record_events in [false, true] {
            let seen_refs = Arc::new(AtomicUsize::new(0));
            let job = LendsOnce {
                op: Op::Lstat {
                    path: Arc::from("a"),
                },
                done: false,
                seen_refs: seen_refs.clone(),
            };
            let trace = execute(
                vec![Box::new(job)],
                &[Vec::new()],
                &mut ModelFs::new(),
                &mut SerialScheduler,
                record_events,
            );
            assert_eq!(trace.schedule.choices, vec![0]);
            assert_eq!(trace.events.len(), usize::from(record_events));
            let expected = if record_events { 2 } else { 1 };
            assert_eq!(seen_refs.load(Ordering::SeqCst), expected);
        }
    }
}
