//! Reusing known tails (`ExploreOptions::reuse_tails`, `harness/src/tail.rs`)
//! changes only speed: on every recorded scenario, under several strategies
//! and both sampling schedulers, with and without counting conflicting
//! pairs, an exploration with reuse reports exactly what the same
//! exploration without it reports, and it does reuse. Not seeking tails
//! at all (a memo that does not pay) changes nothing either, and an
//! execution ending in the reference's state takes the reference's tree.

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

/// Tails that are not worth seeking: the execution must not ask for one.
struct NotWorthSeeking;

impl prefixrace::internals::execution::Tails for NotWorthSeeking {
    fn known(&self, _: prefixrace::internals::state_key::StateKey) -> bool {
        panic!("a tail was sought")
    }
    fn worth_seeking(&self) -> bool {
        false
    }
}

/// An execution that seeks no tail runs to the same end as one that does
/// (the same picks, outcomes and tree), keys no tail, and takes the
/// expected tree when it ends there.
#[test]
fn an_execution_that_seeks_no_tail_ends_the_same_and_takes_the_expected_tree() {
    use prefixrace::internals::execution::Ran;
    use prefixrace::internals::fs::FsKind;
    use prefixrace::internals::tail::TailMemo;
    use prefixrace::internals::Oracle;
    let scenario = load("sage-33060-two-pips.toml");
    let strategy = scenario_strategy("atomic-rename", &scenario).expect("built in");
    let setup = Setup::new(scenario, strategy.as_ref()).unwrap();
    let oracle = Oracle::new(&setup).unwrap();
    let expected = oracle.raw_reference();
    for i in 0..3 {
        let run = |tails: &dyn prefixrace::internals::execution::Tails| {
            let mut scheduler =
                SchedulerKind::Random.build(5, i, setup.job_count(), oracle.reference_steps());
            let mut fs = FsKind::Model.fresh().unwrap();
            setup.run_with_tails(
                fs.as_mut(),
                scheduler.as_mut(),
                tails,
                None,
                Some(expected),
                false,
            )
        };
        let (
            Ran::Complete {
                trace: sought,
                tail,
            },
            Ran::Complete { trace, tail: none },
        ) = (run(&TailMemo::default()), run(&NotWorthSeeking))
        else {
            panic!("nothing is known, so both run to their end");
        };
        assert!(tail.is_some(), "a memo worth asking was asked");
        assert!(none.is_none(), "no tail keyed");
        assert_eq!(trace.schedule.choices, sought.schedule.choices);
        assert_eq!(
            format!("{:?}", trace.outcomes),
            format!("{:?}", sought.outcomes)
        );
        assert_eq!(trace.tree, sought.tree);
        if trace.tree == *expected {
            assert!(trace.tree.shares_entries(expected), "execution {i}");
            assert!(sought.tree.shares_entries(expected), "execution {i}");
        }
    }
}
