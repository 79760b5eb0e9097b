//! Declarative strategies: each built-in strategy declared again from steps
//! in `tests/fixtures/strategies-twins.toml` must behave exactly like it —
//! the same schedule token, the same verdict and the same final tree — over
//! 1,000 random schedules. And the comparison must be able to tell two
//! different strategies apart, or it proves nothing.

use std::path::Path;
use std::sync::Arc;

use prefixrace::internals::fs::ModelFs;
use prefixrace::internals::Oracle;
use prefixrace::scenario::{self, Scenario};
use prefixrace::strategy::{builtin_strategies, scenario_strategies, scenario_strategy};
use prefixrace::{SchedulerKind, Setup, Strategy};

const SCHEDULES: u64 = 1_000;
const SEED: u64 = 32361;

fn twins() -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/strategies-twins.toml");
    Arc::new(scenario::load(&path).expect("fixture loads"))
}

/// What one execution did, as far as a user can see it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    token: String,
    verdict: String,
    tree: String,
}

fn observe(scenario: &Arc<Scenario>, strategy: &dyn Strategy) -> Vec<Seen> {
    let setup = Setup::new(scenario.clone(), strategy).expect("setup builds");
    let oracle = Oracle::new(&setup);
    let jobs = setup.job_count();
    (0..SCHEDULES)
        .map(|i| {
            let mut scheduler = SchedulerKind::Random.build(SEED, i, jobs, 64);
            let trace = setup.run(&mut ModelFs::new(), scheduler.as_mut(), false);
            let verdict = match &oracle {
                Ok(o) => match o.judge(&trace).failure {
                    Some(f) => format!("{f:?}"),
                    None => "pass".to_string(),
                },
                Err(e) => format!("reference fails: {e}"),
            };
            Seen {
                token: trace.schedule.token(),
                verdict,
                tree: format!("{:?}", trace.tree.iter().collect::<Vec<_>>()),
            }
        })
        .collect()
}

#[test]
fn every_declared_twin_matches_its_builtin_over_1000_random_schedules() {
    let s = twins();
    for builtin in builtin_strategies() {
        let twin = scenario_strategy(&format!("twin-{}", builtin.name()), &s).expect("declared");
        let a = observe(&s, builtin.as_ref());
        let b = observe(&s, twin.as_ref());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(
                x,
                y,
                "{} vs {} at execution {i}",
                builtin.name(),
                twin.name()
            );
        }
        // The twins are exercised: at least one schedule is not a plain pass
        // for the strategies that race the importer.
        if builtin.name() == "staged-copy" {
            assert!(a.iter().any(|x| x.verdict != "pass"));
        }
    }
}

#[test]
fn the_comparison_tells_different_strategies_apart() {
    let s = twins();
    let pairs = [
        ("staged-copy", "twin-staged-merge"),
        ("staged-copy", "twin-locked-staged-copy"),
        ("direct-install", "twin-atomic-rename"),
        ("staged-merge", "twin-image-then-merge"),
    ];
    for (a, b) in pairs {
        let x = observe(&s, scenario_strategy(a, &s).unwrap().as_ref());
        let y = observe(&s, scenario_strategy(b, &s).unwrap().as_ref());
        assert!(x != y, "{a} and {b} look identical");
    }
}

#[test]
fn all_lists_builtins_then_declared_strategies_in_order() {
    let names: Vec<String> = scenario_strategies(&twins())
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "staged-copy",
            "direct-install",
            "staged-merge",
            "atomic-rename",
            "locked-staged-copy",
            "image-then-merge",
            "twin-staged-copy",
            "twin-direct-install",
            "twin-staged-merge",
            "twin-atomic-rename",
            "twin-locked-staged-copy",
            "twin-image-then-merge",
        ]
    );
}
