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
    while let Ok(Some(execution)) = search.next_execution() {
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
        return Some((machine.into_root(), prefix));
    }
    let mut root = None;
    let mut at = |m: &mut Machine| {
        if m.step() == prefix.len() && root.is_none() {
            root = m.fork();
        }
    };
    machine.run(setup.deps(), &mut Prefix(&prefix), &mut at);
    root.map(|r| (r.into_root(), prefix))
}

/// Picks `0`'s jobs in turn, then nothing (the run stops there).
struct Prefix<'a>(&'a [JobId]);

impl Scheduler for Prefix<'_> {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        self.0.get(step).copied().filter(|j| runnable.contains(j))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::crash::point::CrashPoint;
    use crate::crash::verdict::RecoveryMemo;
    use crate::fs::ModelFs;
    use crate::job::{Job, KilledJob};
    use crate::strategy::DirectInstall;

    /// `b` of tests/data/crash/survivor-order.toml killed before its first
    /// op: `a` and `c` go on, and their `makedirs` of `done` race.
    fn b_killed_at_once(setup: &Setup) -> Fork {
        let jobs: Vec<Box<dyn Job>> = setup
            .jobs()
            .into_iter()
            .enumerate()
            .map(|(j, job)| -> Box<dyn Job> {
                match j {
                    1 => Box::new(KilledJob::new(job, 0)),
                    _ => job,
                }
            })
            .collect();
        Fork {
            point: Injection::Crash(CrashPoint {
                job: 1,
                after_ops: 0,
            }),
            at_step: 0,
            fs: ModelFs::new(),
            jobs,
            forced: Vec::new(),
            going_on: 2,
        }
    }

    /// Run to its end, the search runs every order of the two jobs going
    /// on (more than one) and says so; stopped by a deadline already
    /// passed, it runs none and says its orders were cut.
    #[test]
    fn a_state_runs_on_in_every_order_unless_the_deadline_cuts_it() {
        let path = std::path::Path::new("tests/data/crash/survivor-order.toml");
        let scenario = crate::scenario::load(path).unwrap();
        let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let fork = b_killed_at_once(&setup);
        let memo = RecoveryMemo::default();
        let every = every_order(&setup, &oracle, &fork, &memo, None).unwrap();
        assert!(every.complete);
        assert!(every.runs > 1, "{}", every.runs);
        assert_eq!(every.verdict, Verdict::Recovered);
        let cut = every_order(&setup, &oracle, &fork, &memo, Some(Instant::now())).unwrap();
        assert!(!cut.complete);
        assert_eq!(cut.runs, 0);
    }

    /// A state whose search the deadline cut before any order is still
    /// judged, on the execution's own order, and counted as cut: it is not
    /// passed off as survived with nothing run.
    #[test]
    fn a_state_cut_before_any_order_is_judged_on_one() {
        let path = std::path::Path::new("tests/data/crash/survivor-order.toml");
        let scenario = crate::scenario::load(path).unwrap();
        let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let memo = RecoveryMemo::default();
        let fork = b_killed_at_once(&setup);
        let ran = super::super::run_fork(&setup, &oracle, fork, &memo, Some(Instant::now()));
        assert!(matches!(ran.judged, super::super::Judged::Recovered));
        assert_eq!(ran.orders, Some((false, 1)));
    }

    /// A `Machine` carrying the injector strikes as the executor does:
    /// the same outcomes and tree as a run of the same forced order with
    /// the injector observing it, for a fault that fails the call, one
    /// that makes the job call again, and a short write whose rest the
    /// job's next call writes.
    #[test]
    fn a_machine_strikes_as_the_executor_does() {
        use crate::crash::point::FaultPoint;
        use crate::fault::Fault;
        use crate::op::Op;
        use crate::schedule::{ForcedScheduler, SerialScheduler};
        let scenario = crate::scenario::builtin::load("sage-32361").unwrap();
        let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
        let mut fs = ModelFs::new();
        let serial = setup.run(&mut fs, &mut SerialScheduler, true);
        let choices = serial.schedule.choices.clone();
        // Job 0's tenth write of two bytes or more.
        let after_ops = serial
            .events
            .iter()
            .filter(|e| e.job == 0)
            .enumerate()
            .filter(|(_, e)| matches!(&e.op, Op::Write { blob, .. } if blob.len() >= 2))
            .nth(10)
            .map(|(n, _)| n)
            .expect("job 0 writes");
        for fault in [Fault::NoSpace, Fault::Interrupted, Fault::ShortWrite] {
            let point = FaultPoint {
                job: 0,
                after_ops,
                fault,
            };
            let mut fs = ModelFs::new();
            let mut injector = Injector::new(point);
            let observed = setup.run_observed(
                &mut fs,
                &mut ForcedScheduler::new(choices.clone()),
                &mut injector,
                false,
            );
            assert!(injector.struck, "{fault}");
            let mut fs = ModelFs::new();
            let mut none = ForcedScheduler::new(Vec::new());
            assert!(setup.lay_down_initial(&mut fs, &mut none, false).is_ok());
            let mut machine =
                Machine::new(setup.jobs(), Box::new(fs)).striking(Box::new(Injector::new(point)));
            machine.run(
                setup.deps(),
                &mut ForcedScheduler::new(choices.clone()),
                &mut |_| {},
            );
            let ran = machine.trace(Vec::new());
            assert_eq!(
                format!("{:?}", ran.outcomes),
                format!("{:?}", observed.outcomes),
                "{fault}"
            );
            assert_eq!(ran.tree, observed.tree, "{fault}");
            assert_eq!(ran.aborted, observed.aborted, "{fault}");
        }
    }
}
