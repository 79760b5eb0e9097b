//! Systematic exploration (`--scheduler dpor`): the race found in a couple of
//! executions in the wide and the narrow window, absence proved on a tiny
//! scenario, coverage at least that of random sampling, shrinking, sharding,
//! determinism across thread counts, and the command-line contract.

mod cli_support;

use cli_support::*;

use std::collections::BTreeSet;
use std::sync::Arc;

use prefixrace::internals::schedule::SchedulerKind;
use prefixrace::internals::shard::Shard;
use prefixrace::internals::Oracle;
use prefixrace::strategy::{builtin_strategy, StagedCopy};
use prefixrace::{explore, scenario, ExploreOptions, Scenario, Setup};

fn tiny() -> Arc<Scenario> {
    let path = root().join("harness/tests/fixtures/dpor-tiny.toml");
    Arc::new(scenario::load(&path).unwrap())
}

fn dpor(schedules: u64) -> ExploreOptions {
    ExploreOptions {
        scheduler: SchedulerKind::Dpor,
        schedules,
        ..Default::default()
    }
}

#[test]
fn dpor_finds_the_wide_and_the_narrow_window_within_three_executions() {
    for name in ["sage-32361", "sage-32361-upgrade"] {
        let scenario = Arc::new(scenario::builtin::load(name).unwrap());
        let setup = Setup::new(scenario, &StagedCopy).unwrap();
        let ex = explore(&setup, &dpor(3)).unwrap();
        let failure = ex
            .first_failure
            .unwrap_or_else(|| panic!("{name}: dpor found nothing in 3 executions"));
        assert!(ex.executions <= 3, "{name}: {} executions", ex.executions);
        assert!(
            failure.kind().class() == "job-error",
            "{name}: {:?}",
            failure.kind()
        );
        let coverage = ex.coverage.expect("dpor reports coverage");
        assert!(!coverage.complete);
        // The shrunk token replays to the same failure.
        let replayed = prefixrace::replay(&setup, &failure.token, Default::default()).unwrap();
        assert!(replayed.failure.is_some(), "{name}: token does not replay");
    }
}

#[test]
fn random_sampling_misses_the_narrow_window_that_dpor_finds() {
    let scenario = Arc::new(scenario::builtin::load("sage-32361-upgrade").unwrap());
    let setup = Setup::new(scenario, &StagedCopy).unwrap();
    // Random sampling, named so that the test does not lean on a default.
    let options = ExploreOptions {
        schedules: 40,
        seed: 1,
        scheduler: SchedulerKind::Random,
        ..Default::default()
    };
    let random = explore(&setup, &options).unwrap();
    let systematic = explore(&setup, &dpor(40)).unwrap();
    assert!(
        random.first_failure.is_none(),
        "random (seed 1) hits the one-step window in 40 executions: the docs say it misses it"
    );
    assert_eq!(random.executions, 40);
    let found = systematic.first_failure.expect("dpor finds the race");
    assert!(
        found.execution.is_some_and(|e| e <= 3),
        "{:?}",
        found.execution
    );
}

#[test]
fn dpor_proves_absence_on_a_tiny_scenario() {
    let setup = Setup::new(tiny(), builtin_strategy("direct-install").unwrap().as_ref()).unwrap();
    let ex = explore(&setup, &dpor(10_000)).unwrap();
    assert!(ex.first_failure.is_none());
    let coverage = ex.coverage.unwrap();
    assert!(coverage.complete, "{coverage:?}");
    assert!(coverage.reason.is_none());
    assert!(coverage.classes >= 2 && coverage.classes <= ex.executions);
}

#[test]
fn a_bounded_run_says_it_is_incomplete_and_why() {
    let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
    let direct = builtin_strategy("direct-install").unwrap();
    let setup = Setup::new(scenario, direct.as_ref()).unwrap();
    let ex = explore(&setup, &dpor(4)).unwrap();
    assert!(ex.first_failure.is_none());
    assert_eq!(ex.executions, 4);
    let coverage = ex.coverage.unwrap();
    assert!(!coverage.complete);
    assert!(coverage.reason.unwrap().contains("budget of 4 executions"));
}

/// What an execution ended with: every job's end and diagnostics, and the tree.
fn outcome(trace: &prefixrace::internals::execution::ExecutionTrace) -> String {
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

#[test]
fn dpor_reaches_every_outcome_random_sampling_reaches() {
    for strategy in ["staged-copy", "direct-install", "locked-staged-copy"] {
        let setup = Setup::new(tiny(), builtin_strategy(strategy).unwrap().as_ref()).unwrap();
        let fresh = || prefixrace::internals::fs::FsKind::Model.fresh();
        let seen = std::cell::RefCell::new(BTreeSet::new());
        let judge = |t: &prefixrace::internals::execution::ExecutionTrace| {
            seen.borrow_mut().insert(outcome(t));
            (Vec::new(), false)
        };
        let r = prefixrace::internals::dpor::explore(&setup, 10_000, &fresh, &judge).unwrap();
        assert!(r.coverage.complete, "{strategy}");
        let systematic = seen.into_inner();
        for i in 0..300 {
            let mut scheduler = SchedulerKind::Random.build(7, i, setup.job_count(), 40);
            let mut fs = prefixrace::internals::ModelFs::new();
            let trace = setup.run(&mut fs, scheduler.as_mut(), false);
            let o = outcome(&trace);
            assert!(
                systematic.contains(&o),
                "{strategy}: random execution {i} reached an outcome dpor never did:\n{o}"
            );
        }
    }
}

#[test]
fn dpor_results_do_not_depend_on_threads() {
    let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
    let setup = Setup::new(scenario, &StagedCopy).unwrap();
    let one = explore(
        &setup,
        &ExploreOptions {
            threads: 1,
            ..dpor(5)
        },
    )
    .unwrap();
    let two = explore(
        &setup,
        &ExploreOptions {
            threads: 2,
            ..dpor(5)
        },
    )
    .unwrap();
    assert_eq!(one.executions, two.executions);
    assert_eq!(
        one.first_failure.map(|f| f.token),
        two.first_failure.map(|f| f.token)
    );
}

#[test]
fn shards_together_are_the_unsharded_run() {
    let setup = Setup::new(tiny(), &StagedCopy).unwrap();
    let whole = explore(
        &setup,
        &ExploreOptions {
            schedules: 30,
            seed: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let mut executions = 0;
    let mut failures = Vec::new();
    for s in ["1/3", "2/3", "3/3"] {
        let shard: Shard = s.parse().unwrap();
        let part = explore(
            &setup,
            &ExploreOptions {
                schedules: 30,
                seed: 3,
                shard,
                ..Default::default()
            },
        )
        .unwrap();
        executions += part.executions;
        failures.extend(part.first_failure.and_then(|f| f.execution));
    }
    match whole.first_failure {
        None => assert_eq!(executions, whole.executions),
        Some(f) => assert_eq!(failures.iter().min().copied(), f.execution),
    }
}

#[test]
fn shrinking_leaves_two_switches_for_the_random_failure() {
    let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
    let setup = Setup::new(scenario, &StagedCopy).unwrap();
    let ex = explore(
        &setup,
        &ExploreOptions {
            seed: 1,
            schedules: 200,
            ..Default::default()
        },
    )
    .unwrap();
    let failure = ex.first_failure.expect("random finds the wide window");
    let choices = &failure.trace.schedule.choices;
    let event = match failure.kind() {
        prefixrace::FailureKind::JobFailed { event: Some(e), .. } => *e,
        other => panic!("{other:?}"),
    };
    let upto = prefixrace::internals::Schedule {
        choices: choices[..=event].to_vec(),
    };
    assert_eq!(upto.switches(), 2, "{}", failure.token);
    let _ = Oracle::new(&setup).unwrap();
}

#[test]
fn the_command_line_reports_coverage_and_rejects_bad_shards() {
    let (code, out, _) = run(&[
        "explore",
        "harness/tests/fixtures/dpor-tiny.toml",
        "--strategy",
        "direct-install",
        "--scheduler",
        "dpor",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["coverage"]["complete"], true);
    assert!(json["coverage"]["classes"].as_u64().unwrap() >= 2);
    for bad in ["3/2", "0/1", "x"] {
        let (code, _, err) = run(&[
            "explore",
            "builtin:sage-32361",
            "--strategy",
            "staged-copy",
            "--shard",
            bad,
        ]);
        assert_eq!(code, 2, "{bad}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn dpor_shards_on_the_command_line_report_their_class_fingerprints() {
    let mut union = BTreeSet::new();
    for shard in ["1/2", "2/2"] {
        let (code, out, err) = run(&[
            "explore",
            "harness/tests/fixtures/dpor-tiny.toml",
            "--strategy",
            "staged-copy",
            "--scheduler",
            "dpor",
            "--shard",
            shard,
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["shard"], shard);
        assert_eq!(json["coverage"]["complete"], true);
        let fps = json["coverage"]["class_fingerprints"].as_array().unwrap();
        assert_eq!(
            fps.len() as u64,
            json["coverage"]["classes"].as_u64().unwrap()
        );
        union.extend(fps.iter().map(|f| f.as_str().unwrap().to_string()));
    }
    let (_, out, _) = run(&[
        "explore",
        "harness/tests/fixtures/dpor-tiny.toml",
        "--strategy",
        "staged-copy",
        "--scheduler",
        "dpor",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let whole: BTreeSet<String> = json["coverage"]["class_fingerprints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(union, whole);
}
