//! Reusing known tails (`ExploreOptions::reuse_tails`, `harness/src/tail.rs`)
//! changes only speed: on every recorded scenario, under several strategies
//! and both sampling schedulers, with and without counting conflicting
//! pairs, an exploration with reuse reports exactly what the same
//! exploration without it reports, and it does reuse.

use std::sync::Arc;

use prefixrace::scenario::Scenario;
use prefixrace::strategy::{builtin_strategies, scenario_strategy};
use prefixrace::{explore, Exploration, ExploreOptions, SchedulerKind, Setup};

/// What a report is made of; everything but speed.
fn observable(ex: &Exploration) -> String {
    let failure = ex.first_failure.as_ref().map(|f| {
        (
            f.execution,
            f.token.clone(),
            format!("{:?}", f.judgement.failure),
            format!("{:?}", f.judgement.diff),
        )
    });
    format!(
        "{:?} {} {} {:?} {:?} {:?} {:?} {:?}",
        ex.pairs,
        ex.executions,
        ex.ops_executed,
        ex.execution_ops,
        ex.notes,
        ex.note_first_execution,
        ex.pct_bound.as_ref().map(|b| b.bound),
        failure
    )
}

fn load(file: &str) -> Arc<Scenario> {
    let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    Arc::new(prefixrace::scenario::load(std::path::Path::new(&path)).expect(file))
}

fn compare(scenario: &Arc<Scenario>, strategy: &str, schedules: u64) -> u64 {
    let strategy = scenario_strategy(strategy, scenario).expect("a built-in strategy");
    let setup = Setup::new(scenario.clone(), strategy.as_ref()).unwrap();
    let mut reused = 0;
    let cases = [
        (SchedulerKind::Random, 1, false),
        (SchedulerKind::Random, 2, true),
        (SchedulerKind::Pct { depth: 2 }, 2, false),
        (SchedulerKind::Pct { depth: 2 }, 1, true),
    ];
    for (scheduler, threads, count_pairs) in cases {
        {
            let run = |reuse_tails| {
                explore(
                    &setup,
                    &ExploreOptions {
                        scheduler,
                        schedules,
                        seed: 7,
                        threads,
                        reuse_tails,
                        count_pairs,
                        ..Default::default()
                    },
                )
            };
            let (with, without) = match (run(true), run(false)) {
                (Ok(with), Ok(without)) => (with, without),
                // Some strategies cannot even run the scenario serially
                // (image-then-merge refuses shared namespace files).
                (Err(a), Err(b)) if a.to_string() == b.to_string() => return 0,
                (a, b) => panic!("{a:?} / {b:?}"),
            };
            assert_eq!(
                observable(&with),
                observable(&without),
                "{} under {} with {scheduler}, {threads} threads, pairs counted: {count_pairs}",
                scenario.name,
                setup.strategy
            );
            assert_eq!(without.reused_tails, 0);
            assert_eq!(without.walked_executions, 0);
            assert!(with.walked_executions <= with.reused_tails);
            if count_pairs {
                // A walk through the state graph has no events to count.
                assert_eq!(with.walked_executions, 0);
            }
            reused += with.reused_tails;
        }
    }
    reused
}

#[test]
fn reuse_changes_nothing_on_the_cython_scenarios() {
    for file in ["sage-32361.toml", "sage-32361-upgrade.toml"] {
        let scenario = load(file);
        for strategy in ["staged-copy", "direct-install"] {
            let reused = compare(&scenario, strategy, 30);
            if strategy == "direct-install" {
                assert!(reused > 0, "{file} {strategy}: no tail was ever reused");
            }
        }
    }
}

#[test]
fn reuse_changes_nothing_under_any_strategy() {
    let scenario = load("namespace-backports.toml");
    let mut reused = 0;
    for strategy in builtin_strategies() {
        reused += compare(&scenario, strategy.name(), 40);
    }
    assert!(reused > 0, "no tail was ever reused");
}

#[test]
fn reuse_changes_nothing_for_traced_jobs_and_two_installers() {
    // Trace jobs name their state by the results they were handed.
    for file in [
        "sage-33060-two-pips.toml",
        "two-pips.toml",
        "sage-29585-backports.toml",
    ] {
        let scenario = load(file);
        for strategy in ["staged-copy", "direct-install", "atomic-rename"] {
            compare(&scenario, strategy, 30);
        }
    }
}
