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
