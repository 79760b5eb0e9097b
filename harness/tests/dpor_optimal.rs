//! Optimality of `--scheduler dpor`, checked exactly against the brute-force
//! enumerator on small fixtures: DPOR runs one execution per Mazurkiewicz
//! class, explores exactly the classes brute force finds (same fingerprints),
//! reaches the same outcomes and agrees on whether a failure exists.

mod cli_support;

use cli_support::root;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;

use prefixrace::internals::brute_force::enumerate;
use prefixrace::internals::dpor::{explore_with, DporOptions};
use prefixrace::internals::execution::ExecutionTrace;
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::shard::Shard;
use prefixrace::internals::Oracle;
use prefixrace::strategy::builtin_strategy;
use prefixrace::{scenario, Scenario, Setup};

fn fixture(name: &str) -> Arc<Scenario> {
    let path = root().join(format!("harness/tests/fixtures/{name}.toml"));
    Arc::new(scenario::load(&path).unwrap())
}

/// What an execution ended with: every job's end and diagnostics, and the tree.
fn outcome(trace: &ExecutionTrace) -> String {
    let jobs: Vec<String> = trace
        .outcomes
        .iter()
        .map(|o| {
            let d: Vec<&str> = o
                .diagnostics
                .iter()
                .map(|(d, _)| d.message.as_str())
                .collect();
            format!("{}:{:?}:{d:?}", o.label, o.end)
        })
        .collect();
    format!("{jobs:?}\n{}", trace.tree)
}

/// The fixtures and strategies checked, with the brute-force schedule limit.
const CASES: &[(&str, &str)] = &[
    ("dpor-tiny", "direct-install"),
    ("dpor-tiny", "staged-copy"),
    ("dpor-tiny", "atomic-rename"),
    ("dpor-tiny", "locked-staged-copy"),
    ("loom-tiny-race", "direct-install"),
    ("loom-tiny-safe", "direct-install"),
    ("dpor-two-pythons", "direct-install"),
];

const LIMIT: u64 = 500_000;

#[test]
fn dpor_explores_exactly_the_brute_force_classes_once_each() {
    let fresh = || FsKind::Model.fresh();
    for &(name, strategy) in CASES {
        let setup =
            Setup::new(fixture(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let judge_brute = |t: &ExecutionTrace| (outcome(t), oracle.judge(t).failure.is_some());
        let brute = enumerate(&setup, LIMIT, &fresh, &judge_brute)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}/{strategy}: more than {LIMIT} schedules"));
        assert!(
            brute.inconsistent.is_empty(),
            "{name}/{strategy}: one class, two outcomes: {:?}",
            brute.inconsistent[0]
        );
        for race_directed in [false, true] {
            let outcomes = RefCell::new(BTreeSet::new());
            let failed = RefCell::new(false);
            let judge = |t: &ExecutionTrace| {
                outcomes.borrow_mut().insert(outcome(t));
                *failed.borrow_mut() |= oracle.judge(t).failure.is_some();
                (Vec::new(), false)
            };
            let options = DporOptions {
                budget: None,
                shard: Shard::WHOLE,
                race_directed,
                ..DporOptions::default()
            };
            let r = explore_with(&setup, &options, &fresh, &judge).unwrap();
            let found: BTreeSet<u128> = r.coverage.fingerprints.iter().copied().collect();
            let case = format!("{name}/{strategy} (race-directed: {race_directed})");
            eprintln!(
                "{case}: brute force {} schedules, {} classes ({} failing); dpor {} executions, {} classes, {} blocked, {} redundant",
                brute.schedules,
                brute.classes.len(),
                brute.failing.len(),
                r.executions,
                r.coverage.classes,
                r.blocked,
                r.redundant
            );
            assert!(r.coverage.complete, "{case}");
            assert_eq!(found, brute.fingerprints(), "{case}: class sets");
            assert_eq!(r.blocked, 0, "{case}: blocked executions");
            // Plain optimal DPOR runs one execution per class. The
            // race-directed order may run the first class twice, and says so.
            let expected_redundant = if race_directed { r.redundant } else { 0 };
            assert!(expected_redundant <= 1, "{case}");
            assert_eq!(
                r.executions,
                brute.classes.len() as u64 + expected_redundant,
                "{case}: executions"
            );
            let expected: BTreeSet<String> = brute.classes.values().cloned().collect();
            assert_eq!(outcomes.into_inner(), expected, "{case}: outcomes");
            assert_eq!(
                failed.into_inner(),
                !brute.failing.is_empty(),
                "{case}: verdict"
            );
        }
        // With the real judge DPOR stops at the first failure, if any.
        let judge = |t: &ExecutionTrace| (Vec::new(), oracle.judge(t).failure.is_some());
        let stopping =
            prefixrace::internals::dpor::explore(&setup, u64::MAX, &fresh, &judge).unwrap();
        assert_eq!(
            stopping.failure.is_some(),
            !brute.failing.is_empty(),
            "{name}/{strategy}: verdict when stopping at the first failure"
        );
    }
}

/// The fixture/strategy pairs sharded DPOR is checked on.
const SHARDED: &[(&str, &str)] = &[
    ("dpor-tiny", "direct-install"),
    ("dpor-tiny", "staged-copy"),
    ("dpor-tiny", "locked-staged-copy"),
    ("loom-tiny-race", "direct-install"),
    ("dpor-two-pythons", "direct-install"),
];

/// Sharded DPOR: on several fixtures and shard counts, the shards' class
/// fingerprints together are exactly the unsharded run's, every shard is
/// complete, and a shard finds a failure exactly when the unsharded run does.
#[test]
fn dpor_shards_together_explore_every_class() {
    let fresh = || FsKind::Model.fresh();
    for &(name, strategy) in SHARDED {
        let setup =
            Setup::new(fixture(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let all = |_: &ExecutionTrace| (Vec::new(), false);
        let stop = |t: &ExecutionTrace| (Vec::new(), oracle.judge(t).failure.is_some());
        let whole = prefixrace::internals::dpor::explore(&setup, u64::MAX, &fresh, &all).unwrap();
        let whole_fails = prefixrace::internals::dpor::explore(&setup, u64::MAX, &fresh, &stop)
            .unwrap()
            .failure
            .is_some();
        let expected: BTreeSet<u128> = whole.coverage.fingerprints.iter().copied().collect();
        for n in 2..=4u64 {
            let mut union = BTreeSet::new();
            let mut any_fails = false;
            for i in 1..=n {
                let shard: Shard = format!("{i}/{n}").parse().unwrap();
                let options = DporOptions {
                    budget: None,
                    shard,
                    race_directed: true,
                    ..DporOptions::default()
                };
                let part = explore_with(&setup, &options, &fresh, &all).unwrap();
                assert!(part.coverage.complete, "{name}/{strategy} {shard}");
                assert_eq!(part.blocked, 0, "{name}/{strategy} {shard}");
                union.extend(part.coverage.fingerprints.iter().copied());
                any_fails |= explore_with(&setup, &options, &fresh, &stop)
                    .unwrap()
                    .failure
                    .is_some();
            }
            assert_eq!(union, expected, "{name}/{strategy}: {n} shards");
            assert_eq!(any_fails, whole_fails, "{name}/{strategy}: {n} shards");
        }
    }
}

/// The deal of a sharded DPOR search: every shard runs the whole search
/// (the same executions as the unsharded run) and judges exactly the
/// executions of index I−1 modulo N, so the shards' executions and ops add
/// up to the unsharded run's, none is judged twice, each shard gets a
/// nonempty part when the search has at least N executions, and the
/// earliest failure over the shards is the unsharded run's, at the same
/// index with the same schedule. Fails if shards overlapped or one got
/// nothing (as when only the first execution's branches were dealt).
#[test]
fn dpor_shards_divide_the_executions_of_the_search() {
    let fresh = || FsKind::Model.fresh();
    for &(name, strategy) in SHARDED {
        let setup =
            Setup::new(fixture(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let all = |_: &ExecutionTrace| (Vec::new(), false);
        let stop = |t: &ExecutionTrace| (Vec::new(), oracle.judge(t).failure.is_some());
        let whole = prefixrace::internals::dpor::explore(&setup, u64::MAX, &fresh, &all).unwrap();
        let whole_stop =
            prefixrace::internals::dpor::explore(&setup, u64::MAX, &fresh, &stop).unwrap();
        assert_eq!(
            whole.coverage.searched, whole.executions,
            "{name}/{strategy}"
        );
        for n in 2..=4u64 {
            let case = format!("{name}/{strategy}, {n} shards");
            let mut executions = 0;
            let mut ops = 0;
            let mut failures = Vec::new();
            for i in 1..=n {
                let shard: Shard = format!("{i}/{n}").parse().unwrap();
                let options = DporOptions {
                    budget: None,
                    shard,
                    race_directed: true,
                    ..DporOptions::default()
                };
                let part = explore_with(&setup, &options, &fresh, &all).unwrap();
                // Its part: the executions of index i-1, i-1+n, ... of the search.
                let own = (0..whole.executions).filter(|e| e % n == i - 1).count() as u64;
                assert_eq!(part.executions, own, "{case}: shard {shard}");
                assert_eq!(part.coverage.searched, whole.executions, "{case}: {shard}");
                if whole.coverage.classes >= n {
                    assert!(part.executions > 0, "{case}: shard {shard} got nothing");
                }
                executions += part.executions;
                ops += part.ops_executed;
                let stopped = explore_with(&setup, &options, &fresh, &stop).unwrap();
                failures.extend(stopped.failure);
            }
            eprintln!(
                "{case}: {} executions unsharded, {executions} judged by the shards",
                whole.executions
            );
            assert_eq!(executions, whole.executions, "{case}: executions");
            assert_eq!(ops, whole.ops_executed, "{case}: ops");
            let earliest = failures.into_iter().min_by_key(|f| f.0);
            assert_eq!(earliest, whole_stop.failure, "{case}: first failure");
        }
    }
}

/// A sharded DPOR search judges the same executions for any thread count.
#[test]
fn dpor_shards_do_not_depend_on_threads() {
    let setup = Setup::new(
        fixture("dpor-two-pythons"),
        builtin_strategy("direct-install").unwrap().as_ref(),
    )
    .unwrap();
    let fresh = || FsKind::Model.fresh();
    let analyze = |t: &ExecutionTrace| t.schedule.choices.clone();
    for shard in ["1/3", "2/3", "3/3"] {
        let options = DporOptions {
            budget: None,
            shard: shard.parse().unwrap(),
            race_directed: true,
            ..DporOptions::default()
        };
        let runs: Vec<(Vec<Vec<usize>>, Vec<u128>, u64)> = [1, 2, 4]
            .into_iter()
            .map(|threads| {
                let judged = RefCell::new(Vec::new());
                let commit = |_: &ExecutionTrace, choices: Vec<usize>| {
                    judged.borrow_mut().push(choices);
                    (Vec::new(), false)
                };
                let r = prefixrace::internals::dpor::explore_parallel(
                    &setup, &options, threads, &fresh, &analyze, &commit,
                )
                .unwrap();
                (
                    judged.into_inner(),
                    r.coverage.fingerprints,
                    r.coverage.searched,
                )
            })
            .collect();
        assert!(!runs[0].0.is_empty(), "{shard}");
        assert_eq!(runs[0], runs[1], "{shard}: 1 and 2 threads");
        assert_eq!(runs[0], runs[2], "{shard}: 1 and 4 threads");
    }
}

/// A shard stopped by its budget says it is incomplete.
#[test]
fn a_bounded_shard_is_incomplete() {
    let fresh = || FsKind::Model.fresh();
    let setup = Setup::new(
        fixture("dpor-tiny"),
        builtin_strategy("staged-copy").unwrap().as_ref(),
    )
    .unwrap();
    let options = DporOptions {
        budget: Some(2),
        shard: "1/2".parse().unwrap(),
        race_directed: true,
        ..DporOptions::default()
    };
    let all = |_: &ExecutionTrace| (Vec::new(), false);
    let part = explore_with(&setup, &options, &fresh, &all).unwrap();
    assert!(!part.coverage.complete);
    assert!(part.coverage.reason.unwrap().contains("budget of 2"));
}
