//! Crashes × interleavings (`--faults crash`): is the prefix still
//! recoverable when an install is killed at any point of any ordering?
//!
//! Along every execution an exploration runs, each op is a crash point:
//! the job that ran it may be killed right there, with `SIGKILL`
//! semantics ([`crate::job::KilledJob`]: what it wrote stays, no cleanup,
//! only the kernel's closing of its descriptors). Killing a job later,
//! after others ran on, is the same as killing it right after its op and
//! letting them run on, so these are all the crash points there are.
//!
//! A crash state already met (its key: the filesystem, the killed job's
//! open descriptors, every other job's state) is not run again
//! (`crash/fork.rs`). A new one is forked off the execution and runs on: the
//! survivors follow the execution's own order without the killed job
//! (and run freely where that no longer fits), then the **recovery**
//! (`crash/recovery.rs`) reruns, as `make` run again does, every job that did not
//! succeed, serially. The oracle then judges the recovered prefix against
//! the serial reference, with the same `.pyc` rules as any execution: a
//! rerun job that fails, or a prefix that differs, is
//! [`FailureKind::Unrecoverable`]. Recoveries that start from the same
//! state are judged once (a recovery is a function of the filesystem and
//! of the jobs it reruns).
//!
//! A crashed execution's token is its schedule's, with the crash point
//! appended ([`CrashPoint::token`]): replaying it runs the same kill and
//! the same recovery ([`replay`]).
//!
//! Faults (`--faults enospc,eio,eintr,short-write`, [`crate::fault`]) go
//! the same way: before every op, each fault that strikes it is a fault
//! point, keyed by the filesystem, every job's state and the fault; a new
//! one is forked off, the op is struck (`crash/inject.rs`), the jobs run
//! on, and the same recovery and oracle follow. Its token ends in
//! [`FaultPoint::token`]'s `.f<job>.<ops>.<fault>`.

mod ended;
mod faults;
mod fork;
mod inject;
mod kept;
mod point;
mod recovery;

pub use faults::Faults;
pub use kept::KeptSchedule;
pub use point::{split_token, CrashPoint, FaultPoint, Injection};
pub use recovery::{recover, rerun_of, Recovery};

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::execution::{execute, run, Ended, Event, ExecutionTrace, JobOutcome};
use crate::fs::{Fs, ModelFs};
use crate::oracle::{FailureKind, Judgement, Oracle, RecoveryFailure};
use crate::schedule::{ForcedScheduler, JobId, ReplayScheduler, Schedule};
use crate::setup::Setup;
use crate::state_key::StateKey;
use fork::{Fork, Forker};
use inject::Injector;

/// How many crash and fault points an exploration met, and what became
/// of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FaultCounts {
    /// The faults injected, as `--faults` lists them (`crash,enospc`).
    #[serde(serialize_with = "as_listed")]
    pub injected: Faults,
    /// Points met along the executions: one crash point per op, one fault
    /// point per op and fault that strikes it.
    pub tried: u64,
    /// States among them not met before: those run on and judged.
    pub distinct: u64,
    /// Distinct states the rerun recovered, or that needed none.
    pub recovered: u64,
    /// Of `recovered`, the fault states where no job failed and the prefix
    /// came out right without a rerun (the tools survived the fault).
    pub survived: u64,
    /// Distinct states the rerun did not recover.
    pub unrecoverable: u64,
    /// True when the points of every execution explored were tried (false
    /// when the pass stopped after the first execution with an
    /// unrecoverable state, or at a time limit).
    pub complete: bool,
    /// True when two or more jobs go on after the disturbed one: then
    /// each state runs on in one order of theirs (the first execution's
    /// that met it), not in every order, so even complete counts are a
    /// reduction, not a proof.
    pub one_order_after: bool,
}

fn as_listed<S: serde::Serializer>(faults: &Faults, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(faults)
}

/// The outcome of the crash and fault points of an exploration's
/// executions.
#[derive(Debug, Clone, Default)]
pub struct CrashPass {
    /// The counts.
    pub counts: FaultCounts,
    /// The first state not recovered: the 1-based index of the execution
    /// it was forked off, the injection and the disturbed execution's
    /// schedule.
    pub first: Option<(u64, Injection, Vec<JobId>)>,
    /// Set when the pass stopped before the last execution's points.
    pub stopped: Option<String>,
}

/// Recoveries already judged, by the state they start from.
type RecoveryMemo = Mutex<HashMap<(StateKey, Vec<JobId>), bool>>;

/// What became of one forked state.
enum Judged {
    /// No job failed and the prefix is right, with no rerun.
    Survived,
    /// The rerun recovered the prefix.
    Recovered,
    /// The rerun did not: the picks made after the fork.
    Unrecoverable(Vec<JobId>),
}

/// The crash and fault points of `executions` (each its 1-based index and
/// schedule, in order), on the model: every distinct state run on,
/// recovered and judged, on `pool`. Stops at `deadline`, and, unless
/// `faults.every_execution`, after the first execution with a state the
/// rerun does not recover.
pub fn explore_crashes(
    setup: &Setup,
    oracle: &Oracle,
    executions: &[(u64, KeptSchedule)],
    pool: &rayon::ThreadPool,
    deadline: Option<Instant>,
    faults: Faults,
) -> Result<CrashPass> {
    let mut pass = CrashPass::default();
    pass.counts.complete = true;
    pass.counts.injected = faults;
    pass.counts.one_order_after = setup.job_count() >= 3;
    let mut seen = HashSet::default();
    let memo = RecoveryMemo::default();
    for (done, (execution, kept)) in executions.iter().enumerate() {
        let choices = &kept.choices();
        if deadline.is_some_and(|d| Instant::now() >= d) {
            pass.stopped = Some(format!(
                "the time limit was reached after the crash and fault points of {done} of {} executions",
                executions.len()
            ));
            pass.counts.complete = false;
            break;
        }
        let counts = &mut pass.counts;
        let first = &mut pass.first;
        let mut sink = |forks: Vec<Fork>| {
            let judged: Vec<(Injection, usize, Judged)> = pool.install(|| {
                forks
                    .into_par_iter()
                    .map(|fork| run_fork(setup, oracle, fork, &memo))
                    .collect()
            });
            for (point, at_step, judged) in judged {
                match judged {
                    Judged::Survived => {
                        counts.recovered += 1;
                        counts.survived += 1;
                    }
                    Judged::Recovered => counts.recovered += 1,
                    Judged::Unrecoverable(rest) => {
                        counts.unrecoverable += 1;
                        if first.is_none() {
                            let mut disturbed = choices[..at_step].to_vec();
                            disturbed.extend(rest);
                            *first = Some((*execution, point, disturbed));
                        }
                    }
                }
            }
        };
        let mut forker = Forker::new(choices, setup.job_count(), faults, &mut seen, &mut sink);
        let mut fs = ModelFs::new();
        let trace = setup.run_observed(
            &mut fs,
            &mut ReplayScheduler::new(Schedule {
                choices: choices.clone(),
            }),
            &mut forker,
            false,
        );
        if let Some(reason) = trace.aborted {
            return Err(Error::Usage(format!(
                "execution {execution} does not replay for its crash and fault points: {reason}"
            )));
        }
        forker.flush();
        let (tried, distinct) = (forker.tried, forker.distinct);
        pass.counts.tried += tried;
        pass.counts.distinct += distinct;
        if pass.first.is_some() && !faults.every_execution && done + 1 < executions.len() {
            pass.counts.complete = false;
            break;
        }
    }
    Ok(pass)
}

/// Runs `fork` on to its end and recovers it: its injection, the step it
/// was forked at, and what became of it.
fn run_fork(
    setup: &Setup,
    oracle: &Oracle,
    fork: Fork,
    memo: &RecoveryMemo,
) -> (Injection, usize, Judged) {
    let Fork {
        point,
        at_step,
        mut fs,
        jobs,
        forced,
    } = fork;
    let mut scheduler = ForcedScheduler::new(forced);
    let trace = match point {
        Injection::Crash(_) => execute(jobs, setup.deps(), &mut fs, &mut scheduler, false),
        Injection::Fault(fault) => {
            let mut injector = Injector::resuming(fault, fault.after_ops);
            match run(
                jobs,
                setup.deps(),
                &mut fs,
                &mut scheduler,
                false,
                &mut injector,
            ) {
                Ended::Complete(trace) => trace,
                Ended::Stopped(_) => unreachable!("the injector never stops an execution"),
            }
        }
    };
    let ends: Vec<_> = trace.outcomes.iter().map(|o| o.end.clone()).collect();
    let rerun = rerun_of(setup.scenario.recovery.rerun, &ends);
    if matches!(point, Injection::Fault(_))
        && trace.aborted.is_none()
        && !trace.outcomes.iter().any(JobOutcome::failed)
    {
        // Nothing failed: the prefix itself is judged. A rerun of no job
        // would leave it as it is, so its verdict is this one.
        match oracle.judge(&trace).failure {
            None => return (point, at_step, Judged::Survived),
            Some(_) if rerun.is_empty() => {
                return (
                    point,
                    at_step,
                    Judged::Unrecoverable(trace.schedule.choices),
                )
            }
            Some(_) => {}
        }
    }
    let start = (fs.state_key(), rerun);
    // Nothing asks the recovery's key.
    fs.set_keyed(false);
    let known = memo
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&start)
        .copied();
    let recovered = trace.aborted.is_none()
        && known.unwrap_or_else(|| {
            let recovery = recover(setup, &mut fs, &ends, false);
            let recovered = oracle.judge(&recovery.trace).failure.is_none();
            memo.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(start, recovered);
            recovered
        });
    let judged = match recovered {
        true => Judged::Recovered,
        false => Judged::Unrecoverable(trace.schedule.choices),
    };
    (point, at_step, judged)
}

/// A crashed execution told in full: the run with `point`'s kill, then
/// its recovery, as one trace (the rerun jobs follow the crashed run's,
/// labelled `(rerun)`), and the verdict on it.
#[derive(Debug, Clone)]
pub struct Crashed {
    /// The crashed run and its recovery.
    pub trace: ExecutionTrace,
    /// The verdict: [`FailureKind::Unrecoverable`] unless recovered.
    pub judgement: Judgement,
}

/// Runs `schedule` with `point`'s kill or fault on `fs`, then the
/// recovery, and judges the recovered prefix.
pub fn replay(
    setup: &Setup,
    oracle: &Oracle,
    point: Injection,
    schedule: Schedule,
    fs: &mut dyn Fs,
) -> Result<Crashed> {
    if point.job() >= setup.job_count() {
        return Err(Error::Usage(format!(
            "--token: the injection names job {}, but {} under {} has {} jobs",
            point.job(),
            setup.scenario.name,
            setup.strategy,
            setup.job_count()
        )));
    }
    let mut scheduler = ReplayScheduler::new(schedule);
    let crashed = match point {
        Injection::Crash(crash) => match setup.killing(crash) {
            Some(killing) => killing.run(fs, &mut scheduler, true),
            None => unreachable!("the job was checked to exist"),
        },
        Injection::Fault(fault) => {
            let mut injector = Injector::new(fault);
            let trace = setup.run_observed(fs, &mut scheduler, &mut injector, true);
            if trace.aborted.is_none() && !injector.struck {
                return Err(Error::Usage(format!(
                    "--token: the fault point strikes nothing: {fault}, but {} cannot strike that op (or the job ran fewer ops)",
                    fault.fault
                )));
            }
            trace
        }
    };
    let ends: Vec<_> = crashed.outcomes.iter().map(|o| o.end.clone()).collect();
    let recovery = recover(setup, fs, &ends, true);
    let judged = oracle.judge(&recovery.trace);
    let offset_events = crashed.events.len();
    let offset_jobs = crashed.outcomes.len();
    let failure = match (&crashed.aborted, judged.failure) {
        (Some(reason), _) => Some(FailureKind::Aborted(reason.clone())),
        (None, None) => None,
        (None, Some(FailureKind::Aborted(reason))) => Some(FailureKind::Aborted(reason)),
        (None, Some(kind)) => Some(FailureKind::Unrecoverable {
            killed: point.job(),
            after_ops: point.after_ops(),
            fault: match point {
                Injection::Crash(_) => None,
                Injection::Fault(f) => Some(f.fault),
            },
            // The killed job's last op, or the struck op.
            kill_event: crashed
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.job == point.job())
                .nth(match point {
                    Injection::Crash(c) => c.after_ops.wrapping_sub(1),
                    Injection::Fault(f) => f.after_ops,
                })
                .map(|(i, _)| i),
            failed: match kind {
                FailureKind::JobFailed {
                    job,
                    exit,
                    message,
                    event,
                } => Some(RecoveryFailure {
                    job: offset_jobs + job,
                    exit,
                    message,
                    event: event.map(|e| offset_events + e),
                }),
                _ => None,
            },
        }),
    };
    let mut events = crashed.events;
    events.extend(recovery.trace.events.into_iter().map(|e| Event {
        job: offset_jobs + e.job,
        ..e
    }));
    let mut outcomes = crashed.outcomes;
    outcomes.extend(recovery.trace.outcomes.into_iter().map(|o| {
        JobOutcome {
            label: format!("{} (rerun)", o.label),
            diagnostics: o
                .diagnostics
                .into_iter()
                .map(|(d, e)| (d, e.map(|e| offset_events + e)))
                .collect(),
            ..o
        }
    }));
    Ok(Crashed {
        trace: ExecutionTrace {
            events,
            schedule: crashed.schedule,
            outcomes,
            tree: recovery.trace.tree,
            aborted: crashed.aborted.or(recovery.trace.aborted),
        },
        judgement: Judgement {
            failure,
            diff: judged.diff,
            notes: judged.notes,
        },
    })
}
