//! Every order of the jobs that go on after a crash or a fault.
//!
//! A crash of job `j` after its `k`-th op is the program with `j` cut at
//! `k`. Every Mazurkiewicz class of that program is the projection of a
//! class of the whole program with `j`'s later ops last, which the
//! exploration covers, so the crash states met along its executions are
//! all there are. What their dedup by state loses is the other orders of
//! the jobs that go on: a later execution that reaches the same state and
//! then orders them differently is not run. So a state where two or more
//! jobs go on is run on here in every order: a DPOR search
//! ([`DporSearch::from_root`]) from the state itself, stateful up to it
//! (the steps before it are fixed, not branched on) and stateless after
//! it. The kernel's closes of a killed job's descriptors, or the struck
//! op, run first, as they do on a single order; then the search starts.
//! Each continuation is judged (recovery and oracle) until one is not
//! recovered; a state whose search reaches the deadline first is counted
//! as cut, and its verdict then covers the orders run.

use std::time::Instant;

use super::fork::Fork;
use super::inject::Injector;
use super::point::Injection;
use super::verdict::{verdict, RecoveryMemo, Verdict};
use crate::dpor::{DporOptions, DporSearch, Machine};
use crate::oracle::Oracle;
use crate::schedule::{JobId, Scheduler};
use crate::setup::Setup;

/// What became of one state run on in every order.
pub(crate) struct EveryOrder {
    /// The verdict over the orders run: unrecoverable when one was.
    pub verdict: Verdict,
    /// The picks from the fork of the first order not recovered.
    pub unrecovered: Option<Vec<JobId>>,
    /// True when every order was run, or one was not recovered.
    pub complete: bool,
    /// The orders (continuations) run.
    pub runs: u64,
}

/// Runs `fork` on in every order of the jobs that go on, judging each,
/// until `deadline`; `None` when the fork's first steps (the closes, the
/// struck op) cannot be run as forced.
pub(crate) fn every_order(
    setup: &Setup,
    oracle: &Oracle,
    fork: &Fork,
    memo: &RecoveryMemo,
    deadline: Option<Instant>,
) -> Option<EveryOrder> {
    let (root, prefix) = root(setup, fork)?;
    let options = DporOptions {
        budget: None,
        race_directed: false,
        deadline,
        ..DporOptions::default()
    };
    let mut search = DporSearch::from_root(setup, &options, root);
    let mut out = EveryOrder {
        verdict: Verdict::Survived,
        unrecovered: None,
        complete: false,
        runs: 0,
    };
    loop {
        let Ok(Some(execution)) = search.next_execution() else {
            break;
        };
        out.runs += 1;
        let mut end = search.take_end()?;
        let fs = end.as_model_mut()?;
        match verdict(setup, oracle, fork.point, &execution.trace, fs, memo) {
            Verdict::Unrecoverable => {
                let mut picks = prefix;
                picks.extend(execution.trace.schedule.choices);
                out.verdict = Verdict::Unrecoverable;
                out.unrecovered = Some(picks);
                out.complete = true;
                return Some(out);
            }
            Verdict::Recovered => out.verdict = Verdict::Recovered,
            Verdict::Survived => {}
        }
    }
    out.complete = search.is_complete();
    Some(out)
}

/// The state the search starts from: the fork with its first steps run
/// (the killed job's closes, or the struck op), and those steps' picks.
fn root(setup: &Setup, fork: &Fork) -> Option<(Machine, Vec<JobId>)> {
    let prefix: Vec<JobId> = match fork.point {
        Injection::Crash(crash) => fork
            .forced
            .iter()
            .take_while(|&&j| j == crash.job)
            .copied()
            .collect(),
        Injection::Fault(fault) => vec![fault.job],
    };
    let mut machine = Machine::new(fork.jobs.clone(), Box::new(fork.fs.clone()));
    if let Injection::Fault(fault) = fork.point {
        machine = machine.striking(Box::new(Injector::resuming(fault, fault.after_ops)));
    }
    if prefix.is_empty() {
        return Some((machine.as_root(), prefix));
    }
    let mut root = None;
    let mut at = |m: &mut Machine| {
        if m.step() == prefix.len() && root.is_none() {
            root = m.fork();
        }
    };
    machine.run(setup.deps(), &mut Prefix(&prefix), &mut at);
    root.map(|r| (r.as_root(), prefix))
}

/// Picks `0`'s jobs in turn, then nothing (the run stops there).
struct Prefix<'a>(&'a [JobId]);

impl Scheduler for Prefix<'_> {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        self.0.get(step).copied().filter(|j| runnable.contains(j))
    }
}
