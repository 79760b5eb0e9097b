//! Shrinking a failing schedule before it is reported.
//!
//! The failing execution is re-run recording what every step offered, and
//! its happens-before relation is computed over the filesystem dependence of
//! [`crate::schedule::dependence`]. Only the events that happen before the
//! failing op (for a job failure; every event for a tree that differs)
//! matter: any order of them that respects happens-before gives every one of
//! them the same result. The shrunk schedule runs exactly those events,
//! linearized greedily with the fewest switches (keep running the current job
//! while its next relevant event is ready; otherwise switch to the lowest job
//! that has one ready), then lets the jobs finish without preemption.
//!
//! The candidate is kept only when it fails the same way (same failing job
//! and message, or the same failure class) with no more switches than the
//! original; otherwise the original is reported. Shrinking is deterministic
//! and applies to the failures of every scheduler.

use crate::dpor::HappensBefore;
use crate::error::Result;
use crate::execution::ExecutionTrace;
use crate::fs::FsKind;
use crate::oracle::{FailureKind, Judgement, Oracle};
use crate::schedule::{DporScheduler, DporSteps, ForcedScheduler, JobId, Schedule};
use crate::setup::Setup;

/// A failing execution recorded for shrinking: its trace, with events, and
/// what every step offered (for its happens-before relation).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The execution, events included.
    pub trace: ExecutionTrace,
    /// What every step offered and which job ran.
    pub steps: DporSteps,
}

/// Runs the schedule `choices` of `setup` once on a fresh `fs`, recording
/// events and steps. `None` when the run does not follow `choices` (they
/// belong to another scenario or strategy).
pub fn record(setup: &Setup, fs: FsKind, choices: &[JobId]) -> Result<Option<Recorded>> {
    let mut scheduler = DporScheduler::new(choices.to_vec(), usize::MAX, Vec::new());
    let mut fs = fs.fresh_unkeyed()?;
    let trace = setup.run(fs.as_mut(), &mut scheduler, true);
    let followed = trace.schedule.choices == choices && trace.aborted.is_none();
    Ok(followed.then_some(Recorded {
        trace,
        steps: scheduler.steps,
    }))
}

/// True when two verdicts describe the same failure.
fn same_failure(
    a: &FailureKind,
    b: &FailureKind,
    ta: &ExecutionTrace,
    tb: &ExecutionTrace,
) -> bool {
    match (a, b) {
        (
            FailureKind::JobFailed {
                job: ja,
                message: ma,
                ..
            },
            FailureKind::JobFailed {
                job: jb,
                message: mb,
                ..
            },
        ) => ta.outcomes[*ja].label == tb.outcomes[*jb].label && ma == mb,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// The relevant events of `steps` linearized with few switches, as the job
/// of each; `target` is the last relevant event.
fn linearize(steps: &DporSteps, hb: &HappensBefore, jobs: usize, target: usize) -> Vec<JobId> {
    let relevant: Vec<usize> = (0..=target)
        .filter(|&i| i == target || hb.before(i, target))
        .collect();
    let mut queues: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); jobs];
    for &i in &relevant {
        queues[steps.chosen(i)].push_back(i);
    }
    let mut placed = vec![0u32; jobs];
    let ready = |i: usize, placed: &[u32]| {
        let p = steps.chosen(i);
        hb.clock(i)
            .iter()
            .all(|&(q, n)| q as usize == p || placed[q as usize] >= n)
    };
    let mut out = Vec::with_capacity(relevant.len());
    let mut current: Option<JobId> = None;
    while out.len() < relevant.len() {
        let next = current
            .filter(|&c| queues[c].front().is_some_and(|&i| ready(i, &placed)))
            .or_else(|| (0..jobs).find(|&q| queues[q].front().is_some_and(|&i| ready(i, &placed))));
        let Some(job) = next else {
            // Cannot happen for a downward-closed set; keep the original order.
            return relevant.iter().map(|&i| steps.chosen(i)).collect();
        };
        queues[job].pop_front();
        placed[job] += 1;
        out.push(job);
        current = Some(job);
    }
    out
}

/// Shrinks the failing execution `recorded` of `setup` (see [`record`]),
/// whose verdict is `verdict`; returns the shrunk execution (with events)
/// and its verdict, or `None` when no shorter schedule fails the same way.
pub fn shrink(
    setup: &Setup,
    oracle: &Oracle,
    fs: FsKind,
    recorded: &Recorded,
    verdict: &Judgement,
) -> Result<Option<(ExecutionTrace, Judgement)>> {
    let Some(kind) = &verdict.failure else {
        return Ok(None);
    };
    if matches!(kind, FailureKind::Aborted(_)) {
        return Ok(None);
    }
    let original = &recorded.trace;
    if recorded.steps.is_empty() {
        return Ok(None);
    }
    let target = match kind {
        FailureKind::JobFailed { event: Some(e), .. } if *e < recorded.steps.len() => *e,
        _ => recorded.steps.len() - 1,
    };
    let hb = HappensBefore::new(&recorded.steps, setup.job_count());
    let forced = linearize(&recorded.steps, &hb, setup.job_count(), target);
    let mut best: Option<(ExecutionTrace, Judgement)> = None;
    let mut best_cost = cost(original, verdict);
    let mut forced = forced;
    let mut tries = 0;
    let mut first = true;
    'improve: loop {
        // After an improvement, `forced` is the prefix of the execution just
        // judged up to its failure: running it again would fail the same
        // way at the same op, so only its merges are new.
        let candidates = first
            .then(|| forced.clone())
            .into_iter()
            .chain(merges(&forced));
        first = false;
        for candidate in candidates {
            if tries == MAX_TRIES {
                break 'improve;
            }
            tries += 1;
            let Some((trace, judgement)) = judge_forced(setup, oracle, fs, candidate)? else {
                continue;
            };
            let c = cost(&trace, &judgement);
            let same = judgement
                .failure
                .as_ref()
                .is_some_and(|k| same_failure(kind, k, original, &trace));
            if same && c < best_cost {
                best_cost = c;
                forced = trace.schedule.choices[..c.1].to_vec();
                best = Some((trace, judgement));
                continue 'improve;
            }
        }
        break;
    }
    Ok(best)
}

/// How many candidate schedules shrinking runs at most.
const MAX_TRIES: usize = 64;

/// Runs `forced` then lets the jobs finish without preemption; returns the
/// execution with events and its verdict.
fn judge_forced(
    setup: &Setup,
    oracle: &Oracle,
    fs: FsKind,
    forced: Vec<JobId>,
) -> Result<Option<(ExecutionTrace, Judgement)>> {
    let mut scheduler = ForcedScheduler::new(forced);
    let mut fs = fs.fresh_unkeyed()?;
    let trace = setup.run(fs.as_mut(), &mut scheduler, true);
    if trace.aborted.is_some() {
        return Ok(None);
    }
    let judgement = oracle.judge(&trace);
    Ok(Some((trace, judgement)))
}

/// Schedules with one switch fewer: for blocks `a^x b^y a^z`, `a^(x+z) b^y`
/// and `b^y a^(x+z)`, in order of position.
fn merges(choices: &[JobId]) -> Vec<Vec<JobId>> {
    let mut blocks: Vec<(JobId, usize)> = Vec::new();
    for &c in choices {
        match blocks.last_mut() {
            Some((j, n)) if *j == c => *n += 1,
            _ => blocks.push((c, 1)),
        }
    }
    let expand = |bs: &[(JobId, usize)]| -> Vec<JobId> {
        bs.iter()
            .flat_map(|&(j, n)| std::iter::repeat_n(j, n))
            .collect()
    };
    let mut out = Vec::new();
    for i in 0..blocks.len().saturating_sub(2) {
        if blocks[i].0 != blocks[i + 2].0 {
            continue;
        }
        let (a, x) = blocks[i];
        let (b, y) = blocks[i + 1];
        let z = blocks[i + 2].1;
        for merged in [[(a, x + z), (b, y)], [(b, y), (a, x + z)]] {
            let mut bs = blocks[..i].to_vec();
            bs.extend(merged);
            bs.extend_from_slice(&blocks[i + 3..]);
            out.push(expand(&bs));
        }
    }
    out
}

/// What shrinking minimizes: first the switches up to the failure, then the
/// ops up to it.
fn cost(trace: &ExecutionTrace, verdict: &Judgement) -> (usize, usize) {
    let end = match &verdict.failure {
        Some(FailureKind::JobFailed { event: Some(e), .. }) => *e + 1,
        _ => trace.schedule.choices.len(),
    };
    let upto = Schedule {
        choices: trace.schedule.choices[..end.min(trace.schedule.choices.len())].to_vec(),
    };
    (upto.switches(), end)
}
