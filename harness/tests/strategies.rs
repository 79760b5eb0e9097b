//! The semantics of each built-in strategy, pinned on tiny scenarios by a
//! bounded systematic search: every schedule that runs job A for `n` steps,
//! job B for `k` steps, then everything else in job order. Small enough to
//! try all of them, and every assertion is about what the real tool would do.

use std::path::Path;
use std::sync::Arc;

use prefixrace::internals::fs::ModelFs;
use prefixrace::internals::op::Op;
use prefixrace::internals::schedule::{JobId, Scheduler};
use prefixrace::internals::Oracle;
use prefixrace::scenario::{self, Scenario};
use prefixrace::strategy::{
    builtin_strategy, scenario_strategy, AtomicRename, ImageThenMerge, LockedStagedCopy,
    StagedCopy, StagedMerge,
};
use prefixrace::{ExploreOptions, FailureKind, Setup, Strategy};

fn fixture(name: &str) -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Arc::new(scenario::load(&path).expect("fixture loads"))
}

/// Prefers job `a` for the first `n` steps, job `b` for the next `k`, then
/// the lowest runnable job.
struct TwoSwitch {
    a: JobId,
    n: usize,
    b: JobId,
    k: usize,
}

impl Scheduler for TwoSwitch {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        let want = if step < self.n {
            self.a
        } else if step < self.n + self.k {
            self.b
        } else {
            runnable[0]
        };
        Some(if runnable.contains(&want) {
            want
        } else {
            runnable[0]
        })
    }
}

/// One explored schedule and its verdict.
struct Run {
    n: usize,
    k: usize,
    failure: Option<FailureKind>,
    notes: Vec<String>,
    ops: Vec<Op>,
}

impl Run {
    fn message(&self) -> Option<&str> {
        match &self.failure {
            Some(FailureKind::JobFailed { message, .. }) => Some(message),
            _ => None,
        }
    }
}

/// Every two-switch schedule between jobs `a` and `b` with `n`, `k` below 48.
fn two_switch_runs(setup: &Setup, a: JobId, b: JobId) -> Vec<Run> {
    let oracle = Oracle::new(setup).expect("serial reference passes");
    let mut runs = Vec::new();
    for n in 0..48 {
        for k in 1..48 {
            let trace = setup.run(&mut ModelFs::new(), &mut TwoSwitch { a, n, b, k }, true);
            let judgement = oracle.judge(&trace);
            let (failure, notes) = (judgement.failure, judgement.notes);
            runs.push(Run {
                n,
                k,
                failure,
                notes,
                ops: trace.events.into_iter().map(|e| e.op).collect(),
            });
        }
    }
    runs
}

fn setup(scenario: &Arc<Scenario>, strategy: &dyn Strategy) -> Setup {
    Setup::new(scenario.clone(), strategy).expect("setup builds")
}

const INSTALLER: JobId = 0;
const IMPORTER: JobId = 1;

#[test]
fn staged_copy_fails_when_the_importer_creates_pycache_first() {
    let s = fixture("strategies-small.toml");
    let runs = two_switch_runs(&setup(&s, &StagedCopy), INSTALLER, IMPORTER);
    let hit = runs
        .iter()
        .find(|r| r.message().is_some())
        .expect("the 32361 race");
    assert_eq!(
        hit.message(),
        Some("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/m/__pycache__': File exists"),
        "n={} k={}",
        hit.n,
        hit.k
    );
}

#[test]
fn staged_merge_merges_into_the_importers_pycache_but_can_lose_the_pyc_race() {
    let s = fixture("strategies-small.toml");
    let copy = two_switch_runs(&setup(&s, &StagedCopy), INSTALLER, IMPORTER);
    let merge = two_switch_runs(&setup(&s, &StagedMerge), INSTALLER, IMPORTER);
    let mut mkdir_races = 0;
    for (c, m) in copy.iter().zip(&merge) {
        if c.message()
            .is_some_and(|e| e.contains("cannot create directory"))
        {
            mkdir_races += 1;
            // Where plain cp dies on the importer's __pycache__, the patched cp
            // merges: it never reports the directory.
            assert!(
                !m.message()
                    .is_some_and(|e| e.contains("cannot create directory")),
                "n={} k={}: {:?}",
                m.n,
                m.k,
                m.message()
            );
        }
    }
    assert!(mkdir_races > 0);
    // It replaces the importer's .pyc: unlink, then O_EXCL.
    assert!(merge.iter().any(|r| r.failure.is_none()
        && r.ops.iter().any(
            |op| matches!(op, Op::Unlink { path } if path.ends_with("__init__.cpython-39.pyc"))
        )));
    // The window GNU --remove-destination leaves open: the importer renames
    // its .pyc in between cp's stat/unlink and cp's open(O_EXCL).
    let window = merge
        .iter()
        .find(|r| r.message().is_some())
        .expect("the stat/open window");
    let msg = window.message().unwrap();
    assert!(
        msg.starts_with("cp: cannot create regular file '")
            && msg.ends_with(".cpython-39.pyc': File exists"),
        "{msg}"
    );
}

#[test]
fn atomic_rename_never_fails_and_never_exposes_a_partial_file() {
    let s = fixture("strategies-small.toml");
    let runs = two_switch_runs(&setup(&s, &AtomicRename), INSTALLER, IMPORTER);
    for r in &runs {
        assert!(r.failure.is_none(), "n={} k={}: {:?}", r.n, r.k, r.failure);
    }
    // Every payload file reaches its final name by rename only.
    let ops = &runs[0].ops;
    for target in ["m/__init__.py", "m/a.py"] {
        let full = format!("lib/python3.9/site-packages/{target}");
        assert!(ops
            .iter()
            .any(|op| matches!(op, Op::Rename { to, .. } if **to == *full)));
        assert!(
            !ops.iter().any(
                |op| matches!(op, Op::Open { path, flags, .. } if **path == *full && flags.write)
            ),
            "{target} opened for writing in place"
        );
    }
}

#[test]
fn direct_install_never_errors_but_lets_the_importer_read_a_half_written_source() {
    let s = fixture("strategies-small.toml");
    let direct = builtin_strategy("direct-install").unwrap();
    let runs = two_switch_runs(&setup(&s, direct.as_ref()), INSTALLER, IMPORTER);
    for r in &runs {
        assert!(
            r.message().is_none(),
            "n={} k={}: {:?}",
            r.n,
            r.k,
            r.failure
        );
    }
    // pip opens O_TRUNC and writes in place: an importer that reads in
    // between compiles the empty file, and its rename lands after pip's own
    // compile step, leaving stale bytecode. A stale .pyc is a note, not a
    // failure: CPython recompiles it on the next import.
    assert!(runs.iter().all(|r| r.failure.is_none()));
    assert!(runs
        .iter()
        .any(|r| r.notes.iter().any(|n| n.starts_with("stale bytecode"))));
}

#[test]
fn a_lock_orders_installers_sharing_a_directory() {
    let s = fixture("strategies-namespace.toml");
    let unlocked = two_switch_runs(&setup(&s, &StagedCopy), 0, 1);
    assert!(
        unlocked.iter().any(|r| r.failure.is_some()),
        "two unlocked staged copies of ns/ collide"
    );
    for r in two_switch_runs(&setup(&s, &LockedStagedCopy), 0, 1) {
        assert!(r.failure.is_none(), "n={} k={}: {:?}", r.n, r.k, r.failure);
        // The lock is taken with mkdir and released with rmdir, twice.
        let takes = r
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Mkdir { path, .. } if path.ends_with(".lock")))
            .count();
        let releases = r
            .ops
            .iter()
            .filter(|op| matches!(op, Op::Rmdir { .. }))
            .count();
        assert!(takes >= 2 && releases == 2, "{takes} {releases}");
    }
}

#[test]
fn a_lock_does_not_protect_against_an_importer() {
    let s = fixture("strategies-small.toml");
    let runs = two_switch_runs(&setup(&s, &LockedStagedCopy), INSTALLER, IMPORTER);
    let hit = runs
        .iter()
        .find_map(|r| r.message())
        .expect("32361 under a lock");
    assert!(hit.contains("cannot create directory") && hit.contains("__pycache__"));
}

#[test]
fn portage_refuses_a_file_owned_by_another_package_even_serially() {
    let s = fixture("strategies-namespace.toml");
    let err = Oracle::new(&setup(&s, &ImageThenMerge))
        .expect_err("collision")
        .to_string();
    assert!(
        err.contains("merge[ns.two]")
            && err.contains(
                "Detected file collision: /sage/local/lib/python3.9/site-packages/ns/__init__.py"
            ),
        "{err}"
    );
}

#[test]
fn portage_overwrites_unowned_pyc_but_its_unguarded_mkdir_races_the_importer() {
    let s = fixture("strategies-small.toml");
    let runs = two_switch_runs(&setup(&s, &ImageThenMerge), INSTALLER, IMPORTER);
    // protect-owned: the importer's .pyc belongs to nobody and is replaced.
    assert!(runs.iter().any(|r| r.failure.is_none()
        && r.ops.iter().any(
            |op| matches!(op, Op::Rename { to, .. } if to.ends_with("__init__.cpython-39.pyc"))
        )
        && r.ops
            .iter()
            .any(|op| matches!(op, Op::Rename { from, .. } if from.ends_with("#new")))));
    let hit = runs
        .iter()
        .find_map(|r| r.message())
        .expect("lstat/mkdir race");
    assert_eq!(
        hit,
        "OSError: [Errno 17] File exists: '/sage/local/lib/python3.9/site-packages/m/__pycache__'"
    );
}

#[test]
fn collision_protect_also_refuses_files_nobody_owns() {
    let toml = r#"
name = "unowned-pyc"
[[package]]
name = "m"
compile = false
[[package.file]]
path = "m/__init__.py"
text = "x = 1\n"
[[package]]
name = "m-bytecode"
compile = false
after = ["import-m"]
[[package.file]]
path = "m/__pycache__/__init__.cpython-39.pyc"
text = "prebuilt"
[[activity]]
name = "import-m"
kind = "import"
modules = ["m"]
[[strategy]]
name = "strict"
steps = ["lock", "stage", { step = "merge", collision = "collision-protect" }]
[[strategy]]
name = "owned-only"
steps = ["lock", "stage", { step = "merge", collision = "protect-owned" }]
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unowned.toml");
    std::fs::write(&path, toml).unwrap();
    let s = Arc::new(scenario::load(&path).unwrap());
    // The importer's .pyc belongs to no package: protect-owned overwrites it...
    let owned_only = scenario_strategy("owned-only", &s).unwrap();
    assert!(Oracle::new(&setup(&s, owned_only.as_ref())).is_ok());
    // ...collision-protect refuses the package that ships it.
    let strict = scenario_strategy("strict", &s).unwrap();
    let err = Oracle::new(&setup(&s, strict.as_ref()))
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("merge[m-bytecode]")
            && err.contains("Detected file collision: /sage/local/lib/python3.9/site-packages/m/__pycache__/__init__.cpython-39.pyc"),
        "{err}"
    );
}

#[test]
fn every_builtin_strategy_is_found_by_name_and_passes_serially() {
    let s = fixture("strategies-small.toml");
    for name in [
        "staged-copy",
        "direct-install",
        "staged-merge",
        "atomic-rename",
        "locked-staged-copy",
        "image-then-merge",
    ] {
        let st = builtin_strategy(name).unwrap();
        assert_eq!(st.name(), name);
        let ex = prefixrace::explore(
            &setup(&s, st.as_ref()),
            &ExploreOptions {
                scheduler: prefixrace::SchedulerKind::Serial,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(ex.first_failure.is_none(), "{name}");
    }
}

#[test]
fn copy_on_exist_merge_merges_directories_and_truncates_existing_files_in_place() {
    let toml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/strategies-small.toml"),
    )
    .unwrap()
        + "\n[[strategy]]\nname = \"merge-in-place\"\nsteps = [\"stage\", \"compile\", { step = \"copy\", on-exist = \"merge\" }]\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("merge.toml");
    std::fs::write(&path, toml).unwrap();
    let s = Arc::new(scenario::load(&path).unwrap());
    let merge = scenario_strategy("merge-in-place", &s).unwrap();
    let copy = two_switch_runs(&setup(&s, &StagedCopy), INSTALLER, IMPORTER);
    let runs = two_switch_runs(&setup(&s, merge.as_ref()), INSTALLER, IMPORTER);
    let mut merged = 0;
    let mut truncated = 0;
    for (c, m) in copy.iter().zip(&runs) {
        if c.message()
            .is_some_and(|e| e.contains("cannot create directory"))
        {
            merged += 1;
            assert!(
                m.message().is_none(),
                "n={} k={}: {:?}",
                m.n,
                m.k,
                m.message()
            );
            if m.ops.iter().any(|op| matches!(op,
                Op::Open { path, flags, .. } if path.ends_with("__init__.cpython-39.pyc") && flags.trunc && !flags.create))
            {
                truncated += 1;
            }
            // Existing files are never unlinked (that is `replace`).
            assert!(!m
                .ops
                .iter()
                .any(|op| matches!(op, Op::Unlink { path } if path.ends_with(".pyc"))));
        }
    }
    assert!(merged > 0);
    // Where the importer's .pyc was already there, cp opened it O_TRUNC.
    assert!(truncated > 0);
}
