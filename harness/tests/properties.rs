//! Properties over generated scenarios: direct install is order-independent
//! on random payload trees with random importers; a token replays exactly;
//! explore is independent of the thread count and of reusing known tails.

use std::sync::Arc;

use proptest::prelude::*;

use prefixrace::internals::content::Blob;
use prefixrace::scenario::{Activity, Package, PayloadEntry, PayloadKind, Scenario};
use prefixrace::strategy::{DirectInstall, StagedCopy};
use prefixrace::{explore, replay, ExploreOptions, SchedulerKind, Setup};

fn cases() -> u32 {
    std::env::var("PREFIXRACE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// A package: a top-level package dir `pkgN` with `__init__.py`, files in
/// subdirectories drawn from a small shared alphabet, and files in a shared
/// namespace directory `ns/` (distinct names per package).
fn package(index: usize) -> impl Strategy<Value = Package> {
    let sub = prop::sample::select(vec!["", "a", "b", "a/c"]);
    let file = (
        sub,
        prop::sample::select(vec!["x", "y", "z", "util"]),
        prop::bool::ANY,
        0u64..300,
    );
    (prop::collection::vec(file, 0..6), 0usize..3).prop_map(move |(files, ns_files)| {
        let sp = prefixrace::scenario::DEFAULT_SITE_PACKAGES;
        let mut entries = Vec::new();
        let mut push = |rel: String, size: u64| {
            let path = format!("{sp}/{rel}");
            if !entries.iter().any(|e: &PayloadEntry| *e.path == *path) {
                entries.push(PayloadEntry {
                    path: path.as_str().into(),
                    kind: PayloadKind::File(Blob::synthetic(path.as_bytes(), size)),
                    mode: 0o644,
                });
            }
        };
        push(format!("pkg{index}/__init__.py"), 10);
        for (dir, name, py, size) in files {
            let ext = if py { "py" } else { "txt" };
            let rel = if dir.is_empty() {
                format!("pkg{index}/{name}.{ext}")
            } else {
                format!("pkg{index}/{dir}/{name}.{ext}")
            };
            push(rel, size);
        }
        for k in 0..ns_files {
            push(format!("ns/p{index}_{k}.py"), 20);
        }
        Package {
            name: format!("pkg{index}"),
            version: "1".into(),
            payload: entries,
            after: vec![],
            compile: true,
            scripts: Vec::new(),
        }
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (1usize..4)
        .prop_flat_map(|n| {
            let packages: Vec<_> = (0..n).map(package).collect();
            (
                packages,
                prop::collection::vec((0..n, prop::bool::ANY), 0..3),
            )
        })
        .prop_map(|(packages, importers)| {
            let mut s = Scenario::new("generated");
            s.packages = packages;
            for (i, (target, sub)) in importers.into_iter().enumerate() {
                let mut modules = vec![format!("pkg{target}")];
                let sp = prefixrace::scenario::DEFAULT_SITE_PACKAGES;
                let x = format!("{sp}/pkg{target}/x.py");
                if sub && s.packages[target].payload.iter().any(|e| *e.path == *x) {
                    modules.push(format!("pkg{target}.x"));
                }
                s.activities.push(Activity::Import {
                    name: format!("import-{i}"),
                    modules,
                    after: vec![],
                });
            }
            s.check().expect("generated scenarios are valid");
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn direct_install_is_order_independent(s in scenario(), seed in any::<u64>(), pct in any::<bool>()) {
        let setup = Setup::new(Arc::new(s), &DirectInstall).unwrap();
        let scheduler = if pct { SchedulerKind::Pct { depth: 3 } } else { SchedulerKind::Random };
        let ex = explore(&setup, &ExploreOptions { scheduler, schedules: 24, seed, ..Default::default() }).unwrap();
        if let Some(f) = &ex.first_failure {
            prop_assert!(false, "direct install failed: {:?} {:?}", f.judgement.failure, f.judgement.diff);
        }
    }

    #[test]
    fn a_token_replays_exactly(s in scenario(), seed in any::<u64>()) {
        let setup = Setup::new(Arc::new(s), &StagedCopy).unwrap();
        let mut scheduler = SchedulerKind::Random.build(seed, 0, setup.job_count(), 100);
        let original = setup.run(&mut prefixrace::internals::ModelFs::new(), scheduler.as_mut(), true);
        let replayed = replay(&setup, &original.schedule.token(), prefixrace::internals::fs::FsKind::Model).unwrap();
        prop_assert_eq!(&replayed.trace.schedule, &original.schedule);
        prop_assert_eq!(replayed.trace.tree, original.tree);
        let a: Vec<String> = original.events.iter().map(|e| prefixrace::internals::story::render_event(e, "")).collect();
        let b: Vec<String> = replayed.trace.events.iter().map(|e| prefixrace::internals::story::render_event(e, "")).collect();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn reusing_known_tails_changes_nothing(s in scenario(), seed in any::<u64>(), staged in any::<bool>(), pct in any::<bool>()) {
        let setup = if staged {
            Setup::new(Arc::new(s), &StagedCopy).unwrap()
        } else {
            Setup::new(Arc::new(s), &DirectInstall).unwrap()
        };
        let scheduler = if pct { SchedulerKind::Pct { depth: 2 } } else { SchedulerKind::Random };
        let run = |reuse_tails| explore(&setup, &ExploreOptions { scheduler, schedules: 40, seed, reuse_tails, ..Default::default() }).unwrap();
        let (with, without) = (run(true), run(false));
        prop_assert_eq!(with.executions, without.executions);
        prop_assert_eq!(&with.execution_ops, &without.execution_ops);
        prop_assert_eq!(&with.notes, &without.notes);
        prop_assert_eq!(
            with.first_failure.map(|f| (f.execution, f.token, format!("{:?}", f.judgement.failure))),
            without.first_failure.map(|f| (f.execution, f.token, format!("{:?}", f.judgement.failure)))
        );
    }

    #[test]
    fn exploration_does_not_depend_on_the_thread_count(s in scenario(), seed in any::<u64>()) {
        let setup = Setup::new(Arc::new(s), &StagedCopy).unwrap();
        let run = |threads| explore(&setup, &ExploreOptions { schedules: 40, seed, threads, ..Default::default() }).unwrap();
        let (one, two) = (run(1), run(2));
        prop_assert_eq!(one.executions, two.executions);
        prop_assert_eq!(one.ops_executed, two.ops_executed);
        prop_assert_eq!(one.first_failure.map(|f| f.token), two.first_failure.map(|f| f.token));
    }
}
