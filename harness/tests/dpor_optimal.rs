//! Optimality of `--scheduler dpor`, checked exactly against the brute-force
//! enumerator on small fixtures: DPOR runs one execution per Mazurkiewicz
//! class, explores exactly the classes brute force finds (same fingerprints),
//! reaches the same outcomes and agrees on whether a failure exists.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use prefixrace::brute_force::enumerate;
use prefixrace::dpor::{explore_with, DporOptions};
use prefixrace::execution::ExecutionTrace;
use prefixrace::fs::FsKind;
use prefixrace::shard::Shard;
use prefixrace::strategy::builtin_strategy;
use prefixrace::{scenario, Oracle, Scenario, Setup};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

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
                budget: u64::MAX,
                shard: Shard::WHOLE,
                race_directed,
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
        let stopping = prefixrace::dpor::explore(&setup, u64::MAX, &fresh, &judge).unwrap();
        assert_eq!(
            stopping.failure.is_some(),
            !brute.failing.is_empty(),
            "{name}/{strategy}: verdict when stopping at the first failure"
        );
    }
}

/// Sharded DPOR: on several fixtures and shard counts, the shards' class
/// fingerprints together are exactly the unsharded run's, every shard is
/// complete, and a shard finds a failure exactly when the unsharded run does.
#[test]
fn dpor_shards_together_explore_every_class() {
    let fresh = || FsKind::Model.fresh();
    let cases = [
        ("dpor-tiny", "direct-install"),
        ("dpor-tiny", "staged-copy"),
        ("dpor-tiny", "locked-staged-copy"),
        ("loom-tiny-race", "direct-install"),
        ("dpor-two-pythons", "direct-install"),
    ];
    for (name, strategy) in cases {
        let setup =
            Setup::new(fixture(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let all = |_: &ExecutionTrace| (Vec::new(), false);
        let stop = |t: &ExecutionTrace| (Vec::new(), oracle.judge(t).failure.is_some());
        let whole = prefixrace::dpor::explore(&setup, u64::MAX, &fresh, &all).unwrap();
        let whole_fails = prefixrace::dpor::explore(&setup, u64::MAX, &fresh, &stop)
            .unwrap()
            .failure
            .is_some();
        let expected: BTreeSet<u128> = whole.coverage.fingerprints.iter().copied().collect();
        for n in 2..=4u64 {
            let mut union = BTreeSet::new();
            let mut executions = 0;
            let mut any_fails = false;
            for i in 1..=n {
                let shard: Shard = format!("{i}/{n}").parse().unwrap();
                let options = DporOptions {
                    budget: u64::MAX,
                    shard,
                    race_directed: true,
                };
                let part = explore_with(&setup, &options, &fresh, &all).unwrap();
                assert!(part.coverage.complete, "{name}/{strategy} {shard}");
                assert_eq!(part.blocked, 0, "{name}/{strategy} {shard}");
                executions += part.executions;
                union.extend(part.coverage.fingerprints.iter().copied());
                any_fails |= explore_with(&setup, &options, &fresh, &stop)
                    .unwrap()
                    .failure
                    .is_some();
            }
            eprintln!(
                "{name}/{strategy}: {} classes unsharded, {n} shards ran {executions} executions",
                expected.len()
            );
            assert_eq!(union, expected, "{name}/{strategy}: {n} shards");
            assert_eq!(any_fails, whole_fails, "{name}/{strategy}: {n} shards");
        }
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
        budget: 2,
        shard: "1/2".parse().unwrap(),
        race_directed: true,
    };
    let all = |_: &ExecutionTrace| (Vec::new(), false);
    let part = explore_with(&setup, &options, &fresh, &all).unwrap();
    assert!(!part.coverage.complete);
    assert!(part.coverage.reason.unwrap().contains("budget of 2"));
}
