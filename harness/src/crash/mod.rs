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
//! (`crash/fork.rs`). A new one is forked off the execution and runs on: a
//! lone survivor in the execution's own order, two or more in every order
//! of theirs (`crash/orders.rs`: a DPOR search from the state), then the
//! **recovery**
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
//! on, and the same recovery and oracle follow. A job's fault points are
//! met along the order of the execution that runs each of its ops as
//! early as it can (`crash/eager.rs`), so that the ops of other jobs it
//! does not depend on are all still to run after it. Its token ends in
//! [`FaultPoint::token`]'s `.f<job>.<ops>.<fault>`.

mod eager;
mod ended;
mod faults;
mod fork;
mod inject;
mod kept;
mod op_sequence;
mod orders;
mod point;
mod recovery;
mod verdict;

pub use faults::Faults;
pub use kept::KeptSchedule;
pub use point::{split_token, CrashPoint, FaultPoint, Injection};
pub use recovery::{recover, rerun_of, Recovery};

use std::collections::HashSet;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::dpor::HappensBefore;
use crate::error::{Error, Result};
use crate::execution::{execute, run, Ended, Event, ExecutionTrace, JobOutcome};
use crate::fs::{Fs, ModelFs};
use crate::oracle::{FailureKind, Judgement, Oracle, RecoveryFailure};
use crate::schedule::{DporScheduler, ForcedScheduler, JobId, ReplayScheduler, Schedule};
use crate::setup::Setup;
use crate::state_key::StateKey;
use fork::{Fork, Forker};
use inject::Injector;
use op_sequence::OpSequence;
use verdict::{verdict, RecoveryMemo, Verdict};

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
    /// Of `distinct`, the states after which two or more jobs go on, run
    /// on in every order of theirs (or until one order was not
    /// recovered): their verdict holds for every order.
    pub states_all_orders: u64,
    /// Of `distinct`, the states after which two or more jobs go on, whose
    /// orders were not all run (the time limit came first): their verdict
    /// holds for the orders run only.
    pub states_orders_cut: u64,
    /// The orders (runs to the end) of the states with two or more jobs
    /// going on, over all of them.
    pub orders_run: u64,
    /// True when some state's orders were not all run
    /// (`states_orders_cut` > 0): then even complete counts are a
    /// reduction, not a proof.
    pub one_order_after: bool,
    /// True when some job's fault points were met along the orders the
    /// search chose without faults, because the order that strikes each
    /// of its ops as early as it can run ([`explore_crashes`]) did not
    /// replay the same ops. There, an op of another job that the search
    /// ran before the struck op, independent of it, is not also tried
    /// after it, where it could meet the struck job's reaction, so even
    /// complete counts are a reduction, not a proof. (A crash has no such
    /// gap: a killed job makes no new ops.)
    pub struck_along_search: bool,
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

/// One forked state, run on and judged.
struct Ran {
    /// Its injection.
    point: Injection,
    /// The step it was forked at.
    at_step: usize,
    /// What became of it.
    judged: Judged,
    /// With two or more jobs going on: whether every order of theirs was
    /// run (or one found unrecoverable), and how many were.
    orders: Option<(bool, u64)>,
}

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
///
/// Crash points are met along each execution's own order. Fault points
/// are met, job by job, along the order that runs each of the job's ops
/// as early as it can (`crash/eager.rs`), so that every op of other
/// jobs it does not depend on is still to run after it is struck. When
/// that order does not replay the same ops (a job's choice of op depends
/// on more than the dependence relation sees), that job's fault points are
/// met along the execution's own order instead, and the counts say so
/// ([`FaultCounts::struck_along_search`]).
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
    let mut points = Points {
        setup,
        oracle,
        pool,
        deadline,
        seen: HashSet::default(),
        memo: RecoveryMemo::default(),
        pass,
    };
    let jobs = setup.job_count();
    for (done, (execution, kept)) in executions.iter().enumerate() {
        let choices = kept.choices();
        if deadline.is_some_and(|d| Instant::now() >= d) {
            points.pass.stopped = Some(format!(
                "the time limit was reached after the crash and fault points of {done} of {} executions",
                executions.len()
            ));
            points.pass.counts.complete = false;
            break;
        }
        // The execution's own order: its crash points, and the ops each
        // job ran (and, with two or more jobs, what happens before what).
        // Only with faults beside another job: then the ops each job ran
        // and what happens before what are recorded too.
        let strike_eagerly = jobs >= 2 && faults.strikes_any();
        if !strike_eagerly {
            let mut replay = ReplayScheduler::new(Schedule {
                choices: choices.clone(),
            });
            let own = points.replay(*execution, &choices, faults, None, false, &mut replay);
            does_replay(*execution, own.aborted)?;
        } else {
            let mut scheduler = DporScheduler::new(choices.clone(), usize::MAX, Vec::new());
            let (crashes, record) = (faults.without_strikes(), true);
            let own = points.replay(*execution, &choices, crashes, None, record, &mut scheduler);
            let diverged = scheduler.diverged.then(|| "a pick was not runnable".into());
            does_replay(*execution, own.aborted.or(diverged))?;
            let hb = HappensBefore::new(&scheduler.steps, jobs);
            for job in 0..jobs {
                let eager = eager::eager_order(&hb, job, jobs);
                let mut replay = ReplayScheduler::new(Schedule {
                    choices: eager.clone(),
                });
                let struck = points.replay(
                    *execution,
                    &eager,
                    faults.without_crash(),
                    Some(job),
                    true,
                    &mut replay,
                );
                if struck.aborted.is_some() || struck.sequences != own.sequences {
                    points.pass.counts.struck_along_search = true;
                    let mut replay = ReplayScheduler::new(Schedule {
                        choices: choices.clone(),
                    });
                    points.replay(
                        *execution,
                        &choices,
                        faults.without_crash(),
                        Some(job),
                        false,
                        &mut replay,
                    );
                }
            }
        }
        let pass = &points.pass;
        if pass.first.is_some() && !faults.every_execution && done + 1 < executions.len() {
            points.pass.counts.complete = false;
            break;
        }
    }
    let mut pass = points.pass;
    pass.counts.one_order_after = pass.counts.states_orders_cut > 0;
    Ok(pass)
}

/// An error unless execution `execution` replayed (`aborted` is why not).
fn does_replay(execution: u64, aborted: Option<String>) -> Result<()> {
    match aborted {
        None => Ok(()),
        Some(reason) => Err(Error::Usage(format!(
            "execution {execution} does not replay for its crash and fault points: {reason}"
        ))),
    }
}

/// What the crash and fault pass shares between its replays.
struct Points<'a> {
    setup: &'a Setup,
    oracle: &'a Oracle,
    pool: &'a rayon::ThreadPool,
    deadline: Option<Instant>,
    /// The keys of the states met so far.
    seen: HashSet<StateKey, crate::fast_hash::Fast>,
    memo: RecoveryMemo,
    pass: CrashPass,
}

/// One replay of an execution for its points.
struct Replayed {
    /// Why the replay did not run to its end, if it did not.
    aborted: Option<String>,
    /// Per job, the ops it ran (empty unless recorded).
    sequences: Vec<OpSequence>,
}

impl Points<'_> {
    /// Replays `choices`, an order of execution `execution`, under
    /// `scheduler` (which picks `choices`), meeting `faults`' points
    /// (only `only`'s ops struck, when given); every new state is run on,
    /// recovered, judged and counted. With `record_ops`, the ops each job
    /// ran are recorded ([`Replayed::sequences`]).
    fn replay(
        &mut self,
        execution: u64,
        choices: &[JobId],
        faults: Faults,
        only: Option<JobId>,
        record_ops: bool,
        scheduler: &mut dyn crate::schedule::Scheduler,
    ) -> Replayed {
        let Points {
            setup,
            oracle,
            pool,
            deadline,
            seen,
            memo,
            pass,
        } = self;
        let (setup, oracle, deadline) = (*setup, *oracle, *deadline);
        let counts = &mut pass.counts;
        let first = &mut pass.first;
        let mut sink = |forks: Vec<Fork>| {
            let ran: Vec<Ran> = pool.install(|| {
                forks
                    .into_par_iter()
                    .map(|fork| run_fork(setup, oracle, fork, memo, deadline))
                    .collect()
            });
            for Ran {
                point,
                at_step,
                judged,
                orders,
            } in ran
            {
                if let Some((complete, runs)) = orders {
                    counts.orders_run += runs;
                    match complete {
                        true => counts.states_all_orders += 1,
                        false => counts.states_orders_cut += 1,
                    }
                }
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
                            *first = Some((execution, point, disturbed));
                        }
                    }
                }
            }
        };
        let mut forker = Forker::new(choices, setup.job_count(), faults, seen, &mut sink);
        if let Some(job) = only {
            forker = forker.striking_only(job);
        }
        if record_ops {
            forker = forker.recording_ops();
        }
        let mut fs = ModelFs::new();
        let trace = setup.run_observed(&mut fs, scheduler, &mut forker, false);
        forker.flush();
        let (tried, distinct) = (forker.tried, forker.distinct);
        let sequences = forker.sequences().to_vec();
        pass.counts.tried += tried;
        pass.counts.distinct += distinct;
        Replayed {
            aborted: trace.aborted,
            sequences,
        }
    }
}

/// Runs `fork` on to its end and recovers it: its injection, the step it
/// was forked at, and what became of it. With two or more jobs going on,
/// in every order of theirs (`crash/orders.rs`, until `deadline`); else in
/// the execution's own order (and when the deadline leaves no time for
/// any other).
fn run_fork(
    setup: &Setup,
    oracle: &Oracle,
    fork: Fork,
    memo: &RecoveryMemo,
    deadline: Option<Instant>,
) -> Ran {
    if fork.going_on >= 2 {
        // A state whose search the deadline stopped before its first order
        // runs on in the execution's own order, so that every state is
        // judged on one order at least (and counted as cut).
        let every = orders::every_order(setup, oracle, &fork, memo, deadline);
        if let Some(every) = every.filter(|e| e.runs > 0) {
            return Ran {
                point: fork.point,
                at_step: fork.at_step,
                judged: judged(every.verdict, every.unrecovered.unwrap_or_default()),
                orders: Some((every.complete, every.runs)),
            };
        }
    }
    let Fork {
        point,
        at_step,
        mut fs,
        jobs,
        forced,
        going_on,
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
    let verdict = verdict(setup, oracle, point, &trace, &mut fs, memo);
    Ran {
        point,
        at_step,
        judged: judged(verdict, trace.schedule.choices),
        // Two or more going on, in one order only: cut.
        orders: (going_on >= 2).then_some((false, 1)),
    }
}

/// `verdict` as a [`Judged`], `picks` the run's picks after the fork.
fn judged(verdict: Verdict, picks: Vec<JobId>) -> Judged {
    match verdict {
        Verdict::Survived => Judged::Survived,
        Verdict::Recovered => Judged::Recovered,
        Verdict::Unrecoverable => Judged::Unrecoverable(picks),
    }
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
