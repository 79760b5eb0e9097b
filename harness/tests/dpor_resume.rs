//! The DPOR driver's resumed executions and its stepping and stopping API:
//! an execution resumed from a copy of the state at its branch point is the
//! execution a run from scratch gives (trace and class fingerprint);
//! `DporSearch` yields exactly the executions `explore_with` judges; capped,
//! stopped and timed-out searches end `complete: false` with the branches
//! left and the reason; an uncapped search runs to completion.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prefixrace::internals::dpor::{
    explore_with, fingerprint, run_once, DporOptions, DporSearch, HappensBefore,
};
use prefixrace::internals::execution::ExecutionTrace;
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::Oracle;
use prefixrace::strategy::builtin_strategy;
use prefixrace::{scenario, Scenario, Setup};

fn load(name: &str) -> Arc<Scenario> {
    match name.strip_prefix("builtin:") {
        Some(builtin) => Arc::new(scenario::builtin::load(builtin).unwrap()),
        None => {
            let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
            let path = root.join(format!("tests/fixtures/{name}.toml"));
            Arc::new(scenario::load(&path).unwrap())
        }
    }
}

fn setup(name: &str, strategy: &str) -> Setup {
    Setup::new(load(name), builtin_strategy(strategy).unwrap().as_ref()).unwrap()
}

/// Everything an execution's judging sees.
fn summary(trace: &ExecutionTrace) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{}",
        trace.schedule, trace.outcomes, trace.aborted, trace.tree
    )
}

const CASES: &[(&str, &str, u64)] = &[
    ("dpor-tiny", "staged-copy", 100),
    ("dpor-tiny", "locked-staged-copy", 100),
    ("dpor-two-pythons", "direct-install", 100),
    ("loom-tiny-race", "direct-install", 100),
    ("builtin:sage-32361", "direct-install", 40),
    ("builtin:sage-32361", "staged-copy", 20),
    ("builtin:sage-32361-upgrade", "staged-copy", 20),
    ("builtin:sage-32361-upgrade", "direct-install", 20),
];

/// Every execution the search hands out, resumed from a copy of the state
/// taken along an earlier execution, is the one running its schedule from
/// scratch gives: same trace, same class fingerprint.
#[test]
fn resumed_executions_are_the_executions_run_from_scratch() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    for &(name, strategy, budget) in CASES {
        let setup = setup(name, strategy);
        let options = DporOptions {
            budget: Some(budget),
            ..DporOptions::default()
        };
        let mut search = DporSearch::new(&setup, &options, &fresh);
        let mut n = 0;
        while let Some(e) = search.next_execution().unwrap() {
            n += 1;
            assert_eq!(e.index, n);
            let choices = e.trace.schedule.choices.clone();
            let scratch = run_once(&setup, &fresh, choices, usize::MAX, Vec::new()).unwrap();
            assert_eq!(
                summary(&e.trace),
                summary(&scratch.trace),
                "{name}/{strategy}: execution {n}"
            );
            let hb = HappensBefore::new(&scratch.steps, setup.job_count());
            assert_eq!(
                e.fingerprint,
                fingerprint(&hb, setup.job_count()),
                "{name}/{strategy}: execution {n}'s fingerprint"
            );
        }
        assert!(n > 1, "{name}/{strategy}: {n} executions");
    }
}

/// The step API yields exactly the executions the callback API judges, in
/// the same order, and ends with the same counts and coverage.
#[test]
fn the_step_api_yields_exactly_the_executions_of_the_callback_api() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    for &(name, strategy, budget) in CASES {
        let setup = setup(name, strategy);
        for budget in [Some(budget), Some(3), None] {
            if budget.is_none() && name.starts_with("builtin:") {
                continue; // the whole space of the SageMath scenarios is long
            }
            let options = DporOptions {
                budget,
                ..DporOptions::default()
            };
            let judged = RefCell::new(Vec::new());
            let judge = |t: &ExecutionTrace| {
                judged.borrow_mut().push(summary(t));
                (Vec::new(), false)
            };
            let whole = explore_with(&setup, &options, &fresh, &judge).unwrap();
            let mut search = DporSearch::new(&setup, &options, &fresh);
            let mut stepped = Vec::new();
            while let Some(e) = search.next_execution().unwrap() {
                stepped.push(summary(&e.trace));
            }
            assert_eq!(search.is_complete(), whole.coverage.complete);
            let r = search.finish();
            let case = format!("{name}/{strategy} with budget {budget:?}");
            assert!(stepped == *judged.borrow(), "{case}: other executions");
            assert_eq!(r.executions, whole.executions, "{case}");
            assert_eq!(r.ops_executed, whole.ops_executed, "{case}");
            assert_eq!(r.coverage, whole.coverage, "{case}");
        }
    }
}

/// A search capped by its budget ends incomplete with branches left, and
/// says so; an uncapped one runs to completion with none left.
#[test]
fn a_capped_search_is_incomplete_with_branches_left() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    let setup = setup("dpor-tiny", "staged-copy");
    let judge = |_: &ExecutionTrace| (Vec::new(), false);
    let capped = DporOptions {
        budget: Some(5),
        ..DporOptions::default()
    };
    let r = explore_with(&setup, &capped, &fresh, &judge).unwrap();
    assert_eq!(r.executions, 5);
    assert!(!r.coverage.complete);
    assert!(r.coverage.branches_left > 0, "{:?}", r.coverage);
    let reason = r.coverage.reason.unwrap();
    assert!(
        reason.contains(&format!("{} branches", r.coverage.branches_left)),
        "{reason}"
    );
    let uncapped = explore_with(&setup, &DporOptions::default(), &fresh, &judge).unwrap();
    assert!(uncapped.coverage.complete);
    assert_eq!(uncapped.coverage.branches_left, 0);
    assert_eq!(uncapped.coverage.reason, None);
    assert_eq!(uncapped.executions, 20);
}

/// A stop callback stops the search cleanly between executions: no
/// failure, incomplete, the branches left and why.
#[test]
fn a_stop_callback_stops_the_search() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    let setup = setup("dpor-tiny", "staged-copy");
    let judged = Cell::new(0u64);
    let judge = |_: &ExecutionTrace| {
        judged.set(judged.get() + 1);
        (Vec::new(), false)
    };
    let stop = || judged.get() >= 4;
    let options = DporOptions {
        stop: Some(&stop),
        ..DporOptions::default()
    };
    let r = explore_with(&setup, &options, &fresh, &judge).unwrap();
    assert_eq!(r.executions, 4);
    assert!(r.failure.is_none());
    assert!(!r.coverage.complete);
    assert!(r.coverage.branches_left > 0);
    assert_eq!(
        r.coverage.reason.as_deref(),
        Some(
            format!(
                "stopped after 4 executions with {} branches still to explore",
                r.coverage.branches_left
            )
            .as_str()
        )
    );
}

/// A deadline already past stops the search before its first execution;
/// a far one does not change it.
#[test]
fn a_deadline_stops_the_search() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    let setup = setup("dpor-tiny", "staged-copy");
    let judge = |_: &ExecutionTrace| (Vec::new(), false);
    let past = DporOptions {
        deadline: Some(Instant::now()),
        ..DporOptions::default()
    };
    let r = explore_with(&setup, &past, &fresh, &judge).unwrap();
    assert_eq!(r.executions, 0);
    assert!(!r.coverage.complete);
    assert!(r
        .coverage
        .reason
        .unwrap()
        .starts_with("time limit reached after 0 executions"));
    let far = DporOptions {
        deadline: Some(Instant::now() + Duration::from_secs(24 * 3600)),
        ..DporOptions::default()
    };
    let r = explore_with(&setup, &far, &fresh, &judge).unwrap();
    assert!(r.coverage.complete);
    assert_eq!(r.executions, 20);
}

/// A caller that stops stepping gets an incomplete result that counts what
/// it took; stepping to the end gives the complete search.
#[test]
fn stepping_can_stop_at_any_execution() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    let setup = setup("dpor-tiny", "staged-copy");
    let options = DporOptions::default();
    let mut search = DporSearch::new(&setup, &options, &fresh);
    for _ in 0..3 {
        assert!(search.next_execution().unwrap().is_some());
    }
    let left = search.branches_left();
    assert!(left > 0);
    let r = search.finish();
    assert_eq!(r.executions, 3);
    assert!(!r.coverage.complete);
    assert_eq!(r.coverage.branches_left, left);
    assert!(r
        .coverage
        .reason
        .unwrap()
        .starts_with("stopped after 3 executions"));
}

/// The oracle finds the SageMath 32361 race at the second execution when
/// the step API is driven by hand, as with the callback API.
#[test]
fn stepping_finds_the_staged_copy_race_at_the_second_execution() {
    let fresh = || FsKind::Model.fresh_unkeyed();
    for name in ["builtin:sage-32361", "builtin:sage-32361-upgrade"] {
        let setup = setup(name, "staged-copy");
        let oracle = Oracle::new(&setup).unwrap();
        let options = DporOptions::default();
        let mut search = DporSearch::new(&setup, &options, &fresh);
        let failing = std::iter::from_fn(|| search.next_execution().unwrap())
            .find(|e| oracle.judge(&e.trace).failure.is_some())
            .map(|e| e.index);
        assert_eq!(failing, Some(2), "{name}");
    }
}
