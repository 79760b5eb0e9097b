//! Parallel DPOR (`--scheduler dpor --jobs N`): the same executions, in the
//! same order, the same classes, coverage, first failure and token for every
//! number of threads.

mod cli_support;

use cli_support::root;

use std::cell::RefCell;
use std::sync::Arc;

use prefixrace::internals::dpor::{explore_parallel, DporOptions};
use prefixrace::internals::execution::ExecutionTrace;
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::schedule::SchedulerKind;
use prefixrace::internals::shard::Shard;
use prefixrace::internals::Oracle;
use prefixrace::strategy::builtin_strategy;
use prefixrace::{explore, scenario, ExploreOptions, Scenario, Setup};

fn load(name: &str) -> Arc<Scenario> {
    match name.strip_prefix("builtin:") {
        Some(builtin) => Arc::new(scenario::builtin::load(builtin).unwrap()),
        None => {
            let path = root().join(format!("harness/tests/fixtures/{name}.toml"));
            Arc::new(scenario::load(&path).unwrap())
        }
    }
}

/// (scenario, strategy, whether the exploration fails).
const CASES: &[(&str, &str, bool)] = &[
    ("dpor-tiny", "direct-install", false),
    ("dpor-tiny", "staged-copy", false),
    ("dpor-two-pythons", "direct-install", false),
    ("builtin:sage-32361", "direct-install", false),
    ("builtin:sage-32361", "staged-copy", true),
    ("builtin:sage-32361-upgrade", "staged-copy", true),
];

const THREADS: [usize; 3] = [1, 2, 4];

/// Everything an exploration reports that must not depend on threads.
fn summary(ex: &prefixrace::Exploration) -> String {
    let coverage = ex.coverage.as_ref().expect("dpor reports coverage");
    let failure = ex
        .first_failure
        .as_ref()
        .map(|f| (f.execution, f.token.clone(), f.kind().class().to_string()));
    format!(
        "executions {} ops {} ops per execution {:?}\nclasses {} complete {} reason {:?}\nfingerprints {:?}\nfailure {:?}\nnotes {:?}\npairs {:?}",
        ex.executions,
        ex.ops_executed,
        ex.execution_ops,
        coverage.classes,
        coverage.complete,
        coverage.reason,
        coverage.fingerprints,
        failure,
        ex.notes,
        ex.pairs,
    )
}

#[test]
fn dpor_explorations_are_the_same_for_every_number_of_threads() {
    for &(name, strategy, fails) in CASES {
        let setup = Setup::new(load(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let mut seen: Option<String> = None;
        for threads in THREADS {
            let options = ExploreOptions {
                scheduler: SchedulerKind::Dpor,
                schedules: 100_000,
                threads,
                count_pairs: true,
                ..Default::default()
            };
            let ex = explore(&setup, &options).unwrap();
            let case = format!("{name}/{strategy} with {threads} threads");
            let coverage = ex.coverage.as_ref().unwrap();
            assert_eq!(ex.first_failure.is_some(), fails, "{case}");
            assert_eq!(coverage.complete, !fails, "{case}");
            if name == "builtin:sage-32361" && strategy == "staged-copy" {
                let at = ex.first_failure.as_ref().unwrap().execution;
                assert_eq!(at, Some(2), "{case}");
            }
            let s = summary(&ex);
            match &seen {
                None => {
                    eprintln!("{name}/{strategy}: {s}");
                    seen = Some(s);
                }
                Some(one) => assert_eq!(&s, one, "{case} differs from 1 thread"),
            }
        }
    }
}

/// The executions themselves, in the order the search takes them: every
/// execution's schedule, with the judge's side effects, for 1, 2 and 4
/// threads, on explorations no failure stops (complete, or bounded for the
/// failing cases), on ones that stop at the first failure, and on a short
/// bounded one.
#[test]
fn dpor_takes_the_same_executions_in_the_same_order_for_every_number_of_threads() {
    let fresh = || FsKind::Model.fresh();
    for &(name, strategy, fails) in CASES {
        let setup = Setup::new(load(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        // Without stopping, a failing case's whole space is too big: bounded.
        let unstopped = if fails { 30 } else { u64::MAX };
        for (stop_at_failure, budget) in [(false, unstopped), (true, u64::MAX), (false, 7)] {
            let mut seen: Option<(Vec<Vec<usize>>, String)> = None;
            for threads in THREADS {
                let order = RefCell::new(Vec::new());
                let analyze = |t: &ExecutionTrace| oracle.judge(t).failure.is_some();
                let commit = |t: &ExecutionTrace, failed: bool| {
                    order.borrow_mut().push(t.schedule.choices.clone());
                    (Vec::new(), failed && stop_at_failure)
                };
                let options = DporOptions {
                    budget: Some(budget),
                    shard: Shard::WHOLE,
                    race_directed: true,
                    ..DporOptions::default()
                };
                let r =
                    explore_parallel(&setup, &options, threads, &fresh, &analyze, &commit).unwrap();
                let order = order.into_inner();
                assert_eq!(order.len() as u64, r.executions);
                let s = format!(
                    "executions {} blocked {} redundant {} ops {} coverage {:?} failure {:?}",
                    r.executions, r.blocked, r.redundant, r.ops_executed, r.coverage, r.failure
                );
                let case = format!(
                    "{name}/{strategy} (stop at failure: {stop_at_failure}, budget {budget}) with {threads} threads"
                );
                match &seen {
                    None => seen = Some((order, s)),
                    Some((o, one)) => {
                        assert_eq!(&s, one, "{case} differs from 1 thread");
                        assert!(&order == o, "{case}: other executions than with 1 thread");
                    }
                }
            }
        }
    }
}

/// Shards are searched the same way with threads.
#[test]
fn dpor_shards_are_the_same_for_every_number_of_threads() {
    let setup = Setup::new(
        load("dpor-tiny"),
        builtin_strategy("staged-copy").unwrap().as_ref(),
    )
    .unwrap();
    for shard in ["1/2", "2/2", "2/3"] {
        let mut seen: Option<String> = None;
        for threads in THREADS {
            let options = ExploreOptions {
                scheduler: SchedulerKind::Dpor,
                schedules: 100_000,
                threads,
                shard: shard.parse().unwrap(),
                ..Default::default()
            };
            let s = summary(&explore(&setup, &options).unwrap());
            match &seen {
                None => seen = Some(s),
                Some(one) => assert_eq!(&s, one, "shard {shard} with {threads} threads"),
            }
        }
    }
}
