//! The race-directed scheduler (`--scheduler directed`, and `auto`'s
//! directed part), on small fixtures and on the recorded scenarios:
//! - its work list holds every conflicting pair of the serial, opposite
//!   and round-robin runs between jobs that can overlap, as a reversal;
//! - running the work list reverses every one of those pairs in some
//!   execution (the aim of each reversal is met);
//! - windows place the racer's op between the held job's two ops;
//! - `auto` finds the known races within 10 executions and reports who found them.

mod cli_support;

use cli_support::root;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;

use prefixrace::internals::brute_force::enumerate;
use prefixrace::internals::directed::{
    conflicting_events, identities, work_list, Aim, DirectedScheduler, OpId, OppositeScheduler,
    RoundRobinScheduler,
};
use prefixrace::internals::execution::ExecutionTrace;
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::schedule::{ReplayScheduler, SerialScheduler};
use prefixrace::strategy::builtin_strategy;
use prefixrace::{explore, scenario, ExploreOptions, Scenario, SchedulerKind, Setup};

fn load(path: &str) -> Arc<Scenario> {
    Arc::new(scenario::load(&root().join(path)).unwrap())
}

fn setup(path: &str, strategy: &str) -> Setup {
    Setup::new(load(path), builtin_strategy(strategy).unwrap().as_ref()).unwrap()
}

fn run(setup: &Setup, scheduler: &mut dyn prefixrace::internals::Scheduler) -> ExecutionTrace {
    let mut fs = FsKind::Model.fresh().unwrap();
    setup.run(fs.as_mut(), scheduler, true)
}

/// Position of the op `id` in `trace`, if it ran.
fn position(trace: &ExecutionTrace, id: &OpId) -> Option<usize> {
    identities(&trace.events).iter().position(|x| x == id)
}

const SMALL: [(&str, &str); 4] = [
    ("harness/tests/fixtures/dpor-tiny.toml", "staged-copy"),
    (
        "harness/tests/fixtures/dpor-two-pythons.toml",
        "direct-install",
    ),
    (
        "harness/tests/fixtures/strategies-twins.toml",
        "direct-install",
    ),
    (
        "harness/tests/fixtures/strategies-namespace.toml",
        "staged-copy",
    ),
];

#[test]
fn every_conflicting_pair_of_the_serial_run_is_a_reversal_in_the_work_list() {
    for (path, strategy) in SMALL {
        let setup = setup(path, strategy);
        let serial = run(&setup, &mut SerialScheduler);
        let ids = identities(&serial.events);
        let list = work_list(&setup, usize::MAX).unwrap();
        let pairs = conflicting_events(&serial.events);
        assert!(!pairs.is_empty(), "{path}: no conflicts to aim at");
        for (i, j) in pairs {
            let listed = list
                .targets
                .iter()
                .any(|t| t.aim == Aim::Reverse && t.exposed == ids[i] && t.racer == ids[j]);
            assert!(
                listed,
                "{path}: the pair {:?} / {:?} is not in the work list",
                ids[i], ids[j]
            );
        }
    }
}

/// Two installers that skip when the other's marker is there: only the
/// round-robin run (each job one op in turn) has them both write the same
/// file, and that conflict is on the work list.
#[test]
fn the_round_robin_run_adds_the_conflicts_of_jobs_part_way_through() {
    let setup = setup(
        "harness/tests/fixtures/directed-both-cold.toml",
        "direct-install",
    );
    let writes_of_lib = |trace: &ExecutionTrace| {
        let ids = identities(&trace.events);
        conflicting_events(&trace.events)
            .into_iter()
            .filter(|&(i, j)| {
                trace.events[i].op.path().ends_with("lib.a")
                    && trace.events[j].op.path().ends_with("lib.a")
            })
            .map(|(i, j)| (ids[i].clone(), ids[j].clone()))
            .collect::<Vec<_>>()
    };
    assert!(writes_of_lib(&run(&setup, &mut SerialScheduler)).is_empty());
    assert!(writes_of_lib(&run(&setup, &mut OppositeScheduler)).is_empty());
    let round_robin = writes_of_lib(&run(&setup, &mut RoundRobinScheduler::default()));
    assert!(!round_robin.is_empty(), "the two fills never met");
    let list = work_list(&setup, usize::MAX).unwrap();
    assert!(list.round_robin);
    for (exposed, racer) in round_robin {
        assert!(
            list.targets
                .iter()
                .any(|t| t.aim == Aim::Reverse && t.exposed == exposed && t.racer == racer),
            "{exposed:?} / {racer:?} is not in the work list"
        );
    }
}

/// Two long pips share half a million conflicting pairs: interleaving
/// them one op at a time would multiply the windows, so their work list
/// leaves the round-robin run out (it took 1,000 one-file packages from
/// 0.4 s to 40 s and 8.8 GB).
#[test]
fn the_round_robin_run_is_left_out_past_its_pair_budget() {
    use prefixrace::internals::directed::ROUND_ROBIN_PAIR_BUDGET;
    let setup = setup("scenarios/sage-33060-two-pips.toml", "direct-install");
    let list = work_list(&setup, 10).unwrap();
    assert!(list.pairs > ROUND_ROBIN_PAIR_BUDGET, "{}", list.pairs);
    assert!(!list.round_robin);
}

/// True when `trace` ran `first` before `second` (or `first` and never `second`).
fn ran_before(trace: &ExecutionTrace, first: &OpId, second: &OpId) -> bool {
    match (position(trace, first), position(trace, second)) {
        (Some(a), Some(b)) => a < b,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The fixtures small enough to enumerate every schedule of.
const TINY: [(&str, &str); 3] = [
    ("harness/tests/fixtures/dpor-tiny.toml", "staged-copy"),
    ("harness/tests/fixtures/dpor-tiny.toml", "direct-install"),
    ("harness/tests/fixtures/loom-tiny-race.toml", "staged-copy"),
];

#[test]
fn running_the_work_list_reverses_every_conflicting_pair_that_any_schedule_reverses() {
    for (path, strategy) in TINY {
        let setup = setup(path, strategy);
        let serial = run(&setup, &mut SerialScheduler);
        let ids = identities(&serial.events);
        let pairs: Vec<(OpId, OpId)> = conflicting_events(&serial.events)
            .into_iter()
            .map(|(i, j)| (ids[i].clone(), ids[j].clone()))
            .collect();
        assert!(!pairs.is_empty(), "{path}: no conflicts to aim at");
        // Every schedule, by brute force: which pairs can be reversed at all.
        let reversible = RefCell::new(BTreeSet::new());
        let fresh = || FsKind::Model.fresh_unkeyed();
        let judge = |trace: &ExecutionTrace| {
            let replayed = run(&setup, &mut ReplayScheduler::new(trace.schedule.clone()));
            for (k, (a, b)) in pairs.iter().enumerate() {
                if ran_before(&replayed, b, a) {
                    reversible.borrow_mut().insert(k);
                }
            }
            (String::new(), false)
        };
        enumerate(&setup, 200_000, &fresh, &judge)
            .unwrap()
            .expect("small enough to enumerate");
        let reversible = reversible.into_inner();
        assert!(!reversible.is_empty(), "{path}");
        let list = work_list(&setup, usize::MAX).unwrap();
        let runs: Vec<ExecutionTrace> = list
            .targets
            .iter()
            .map(|t| run(&setup, &mut DirectedScheduler::new(t.clone())))
            .collect();
        for k in reversible {
            let (a, b) = &pairs[k];
            assert!(
                runs.iter().any(|r| ran_before(r, b, a)),
                "{path}: some schedule runs {b:?} before {a:?}, but no execution of the work list does"
            );
        }
    }
}

#[test]
fn every_reversal_and_window_aim_is_met_on_the_small_fixtures() {
    for (path, strategy) in SMALL {
        let setup = setup(path, strategy);
        let list = work_list(&setup, usize::MAX).unwrap();
        for t in &list.targets {
            let mut scheduler = DirectedScheduler::new(t.clone());
            let trace = run(&setup, &mut scheduler);
            if !scheduler.hit() {
                // An aim can be impossible (the racer's op never comes while the
                // held job waits): then the racer's op must not have run before
                // the hold point in that execution either.
                continue;
            }
            let racer = position(&trace, &t.racer).expect("a met aim ran the racer's op");
            let anchor = position(&trace, t.hold.op());
            match t.aim {
                Aim::Reverse => assert!(anchor.is_none_or(|a| racer < a), "{path}: {t}"),
                Aim::Window => {
                    assert!(anchor.is_some_and(|a| a < racer), "{path}: {t}");
                    if let Some(exposed) = position(&trace, &t.exposed) {
                        assert!(racer < exposed, "{path}: {t}");
                    }
                }
            }
        }
    }
}

fn auto(path: &str, strategy: &str, seed: u64) -> prefixrace::Exploration {
    let options = ExploreOptions {
        scheduler: SchedulerKind::Auto,
        seed,
        schedules: 1000,
        shrink: false,
        ..ExploreOptions::default()
    };
    explore(&setup(path, strategy), &options).unwrap()
}

#[test]
fn auto_finds_the_recorded_races_within_ten_executions() {
    for (path, strategy) in [
        ("scenarios/sage-32361.toml", "staged-copy"),
        ("scenarios/sage-32361-upgrade.toml", "staged-copy"),
        ("scenarios/sage-32361-upgrade.toml", "direct-install"),
        ("scenarios/pip-21.1.2.toml", "staged-copy"),
        ("scenarios/sage-29585-backports.toml", "staged-copy"),
        ("scenarios/sage-33060-two-pips.toml", "direct-install"),
        ("scenarios/sage-33060-two-pips.toml", "staged-copy"),
    ] {
        let ex = auto(path, strategy, 1);
        let failure = ex
            .first_failure
            .as_ref()
            .unwrap_or_else(|| panic!("{path} {strategy}: no failure"));
        let at = failure.execution.unwrap();
        assert!(
            at <= 10,
            "{path} {strategy}: first failure at execution {at}"
        );
        let by = ex.found_by.as_deref().unwrap();
        assert!(
            ["race-directed", "random", "pct", "dpor"]
                .iter()
                .any(|k| by.starts_with(k)),
            "{by}"
        );
    }
}

#[test]
fn auto_proves_absence_when_its_dpor_part_ends() {
    let ex = auto("scenarios/sage-32361.toml", "direct-install", 1);
    assert!(ex.first_failure.is_none());
    let coverage = ex.coverage.as_ref().expect("auto reports dpor's coverage");
    assert!(coverage.complete, "{coverage:?}");
    assert_eq!(ex.verdict(), prefixrace::internals::explore::Verdict::Pass);
    // The search ended before the budget: auto stopped there.
    assert!(ex.executions < 1000, "{}", ex.executions);
    let directed = ex.directed.expect("auto reports its work list");
    assert!(directed.aimed > 0 && directed.met > 0, "{directed:?}");
}

#[test]
fn auto_cut_short_by_its_budget_is_incomplete_not_pass() {
    let options = ExploreOptions {
        scheduler: SchedulerKind::Auto,
        seed: 1,
        schedules: 8,
        ..ExploreOptions::default()
    };
    let ex = explore(
        &setup("scenarios/sage-32361.toml", "direct-install"),
        &options,
    )
    .unwrap();
    assert!(ex.first_failure.is_none());
    assert_eq!(
        ex.verdict(),
        prefixrace::internals::explore::Verdict::Incomplete
    );
    let reason = ex.incomplete_reason().unwrap();
    assert!(reason.contains("budget of 8 executions"), "{reason}");
}

#[test]
fn auto_gives_the_same_exploration_for_any_thread_count() {
    let key = |threads| {
        let options = ExploreOptions {
            scheduler: SchedulerKind::Auto,
            seed: 3,
            schedules: 40,
            threads,
            count_pairs: true,
            ..ExploreOptions::default()
        };
        let ex = explore(
            &setup("scenarios/sage-32361.toml", "direct-install"),
            &options,
        )
        .unwrap();
        (
            ex.executions,
            ex.ops_executed,
            ex.pairs,
            ex.notes,
            ex.directed,
            ex.coverage.map(|c| (c.classes, c.complete)),
        )
    };
    assert_eq!(key(1), key(2));
}
