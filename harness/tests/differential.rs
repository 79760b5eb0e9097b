//! Differential tests: the model filesystem against the kernel.
//!
//! Two properties, both with proptest:
//! - random raw op sequences over a tiny name alphabet (so names collide,
//!   symlinks loop and escape) give the same result op by op, and the same
//!   final tree, on [`ModelFs`] and [`RealFs`];
//! - random scenarios (packages sharing directories, random importers) under
//!   both built-in strategies and random schedules give the same events, the
//!   same job outcomes and the same final tree on both.
//!
//! Case counts: by default 700 raw sequences and 350 scenarios per
//! `cargo test` (1,050 cases). `PREFIXRACE_PROPTEST_CASES=N` runs N of each.
//!
//! Modes are drawn from values with owner read/write(/search) permission, so
//! the properties hold for non-root users too (the model has no permission
//! checks). Paths never end in `/`: the model does not model trailing-slash
//! rules, and jobs never produce such paths.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use prefixrace::internals::content::Blob;
use prefixrace::internals::fs::{lock_probe_path, record_lock_probe_path, Fs, ModelFs, RealFs};
use prefixrace::internals::op::{Errno, LockCall, Op, OpenFlags};
use prefixrace::scenario::{Activity, Package, PayloadEntry, PayloadKind, Scenario};
use prefixrace::strategy::{DirectInstall, StagedCopy};
use prefixrace::Strategy as InstallStrategy;
use prefixrace::{SchedulerKind, Setup};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per property: `PREFIXRACE_PROPTEST_CASES`, or the given default.
fn cases(default: u32) -> u32 {
    std::env::var("PREFIXRACE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------- raw ops

const COMPONENTS: &[&str] = &["a", "b", "l", "m", "..", "."];
const TARGETS: &[&str] = &[
    "a", "b", "l", "m", "a/b", "..", "../..", ".", "/etc", "/tmp", "l/x", "../a",
];
const DIR_MODES: &[u32] = &[0o700, 0o755, 0o777, 0o1777, 0o750];
const FILE_MODES: &[u32] = &[0o600, 0o644, 0o666, 0o700, 0o755, 0o4755];
const CHMOD_MODES: &[u32] = &[0o700, 0o755, 0o777, 0o1777, 0o750, 0o711];

fn path() -> impl Strategy<Value = Arc<str>> {
    prop::collection::vec(prop::sample::select(COMPONENTS), 1..=3)
        .prop_map(|c| Arc::from(c.join("/")))
        .prop_filter("not only dots", |p: &Arc<str>| {
            p.split('/').any(|c| c != "." && c != "..") || p.contains("..")
        })
}

fn flags() -> impl Strategy<Value = OpenFlags> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(write, create, excl, trunc)| OpenFlags {
            write,
            create,
            excl,
            trunc,
        },
    )
}

/// An `fcntl` lock taken by the one process the harness is: every job's
/// lock on the real filesystem is this process's.
fn fcntl() -> LockCall {
    LockCall::Fcntl {
        owner: "harness".into(),
    }
}

fn blob() -> impl Strategy<Value = Arc<Blob>> {
    prop::sample::select(vec![&b""[..], b"x", b"hello", b"0123456789abcdef"])
        .prop_map(|b| Blob::new(b.to_vec()))
}

fn raw_op() -> impl Strategy<Value = Op> {
    let fd = 3u32..=6;
    prop_oneof![
        3 => (path(), prop::sample::select(DIR_MODES)).prop_map(|(path, mode)| Op::Mkdir { path, mode }),
        4 => (path(), flags(), prop::sample::select(FILE_MODES))
            .prop_map(|(path, flags, mode)| Op::Open { path, flags, mode }),
        3 => (fd.clone(), blob()).prop_map(|(fd, blob)| Op::Write { fd, path: "-".into(), blob }),
        2 => fd.clone().prop_map(|fd| Op::Read { fd, path: "-".into() }),
        2 => fd.clone().prop_map(|fd| Op::Close { fd, path: "-".into() }),
        2 => fd.clone().prop_map(|fd| Op::Flock { fd, path: "-".into(), call: LockCall::Flock }),
        2 => fd.prop_map(|fd| Op::Flock { fd, path: "-".into(), call: fcntl() }),
        2 => (path(), path()).prop_map(|(from, to)| Op::Link { from, to }),
        1 => (path(), path()).prop_map(|(a, b)| Op::RenameExchange { a, b }),
        2 => (path(), path()).prop_map(|(from, to)| Op::Rename { from, to }),
        1 => path().prop_map(|path| Op::Unlink { path }),
        1 => path().prop_map(|path| Op::Rmdir { path }),
        2 => (prop::sample::select(TARGETS), path())
            .prop_map(|(t, path)| Op::Symlink { target: t.into(), path }),
        1 => (path(), prop::sample::select(CHMOD_MODES)).prop_map(|(path, mode)| Op::Chmod { path, mode }),
        1 => path().prop_map(|path| Op::Stat { path }),
        1 => path().prop_map(|path| Op::Lstat { path }),
        1 => path().prop_map(|path| Op::Readdir { path }),
    ]
}

/// Ops that succeeded on both filesystems, over the whole run: proof that the
/// generator reaches real states, not only ENOENT.
static SUCCEEDED: AtomicUsize = AtomicUsize::new(0);

/// Runs `ops` on both filesystems; the first disagreement, described.
fn disagreement(ops: &[Op]) -> Option<String> {
    let mut model = ModelFs::new();
    let mut real = RealFs::new().expect("a temporary directory");
    for (i, op) in ops.iter().enumerate() {
        let m = model.apply(op);
        let r = real.apply(op);
        if m != r {
            return Some(format!("op #{i} {op}: model {m:?}, kernel {r:?}"));
        }
        if m.is_ok() && op.is_mutation() {
            SUCCEEDED.fetch_add(1, Ordering::Relaxed);
        }
        let probe = op.path();
        if model.probe(probe) != real.probe(probe) {
            return Some(format!("probe after op #{i} {op} disagrees"));
        }
        let lock = lock_probe_path(probe);
        if model.probe(&lock) != real.probe(&lock) {
            return Some(format!("lock probe after op #{i} {op} disagrees"));
        }
        if model.state_key() != model.state_key_from_scratch() {
            return Some(format!(
                "after op #{i} {op} the model's incremental state key is stale"
            ));
        }
    }
    let (m, r) = (model.tree(), real.tree());
    (m != r).then(|| format!("final trees differ:\n{}", r.diff_from(&m)))
}

#[test]
fn raw_op_sequences_agree_with_the_kernel() {
    let mut runner = TestRunner::new(config(700));
    runner
        .run(&prop::collection::vec(raw_op(), 1..40), |ops| {
            if let Some(d) = disagreement(&ops) {
                let listing: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
                return Err(TestCaseError::fail(format!(
                    "{d}\nops:\n  {}",
                    listing.join("\n  ")
                )));
            }
            Ok(())
        })
        .unwrap();
    let total = SUCCEEDED.load(Ordering::Relaxed);
    let cases = cases(700) as usize;
    assert!(
        total >= cases,
        "only {total} successful mutations in {cases} cases: the generator is too weak"
    );
}

/// Hand-picked sequences the generator reaches only rarely; each one once
/// showed (or would show) a model bug.
#[test]
fn known_corner_cases_agree_with_the_kernel() {
    let p = |s: &str| -> Arc<str> { s.into() };
    let open = |s: &str, flags: OpenFlags| Op::Open {
        path: p(s),
        flags,
        mode: 0o644,
    };
    let rd = OpenFlags::READ;
    let cases: Vec<Vec<Op>> = vec![
        // A directory opened read-only with O_CREAT.
        vec![
            Op::Mkdir {
                path: p("a"),
                mode: 0o755,
            },
            open("a", OpenFlags { create: true, ..rd }),
        ],
        // O_RDONLY|O_TRUNC truncates on Linux.
        vec![
            open("f", OpenFlags::CREATE_NEW),
            Op::Write {
                fd: 3,
                path: p("f"),
                blob: Blob::new(b"abc".to_vec()),
            },
            open("f", OpenFlags { trunc: true, ..rd }),
        ],
        // Reading a write-only descriptor.
        vec![
            open("f", OpenFlags::CREATE_NEW),
            Op::Read {
                fd: 3,
                path: p("f"),
            },
        ],
        // A dangling absolute symlink under a directory, opened with O_CREAT.
        vec![
            Op::Mkdir {
                path: p("a"),
                mode: 0o755,
            },
            Op::Symlink {
                target: p("/tmp/prefixrace-escape"),
                path: p("a/l"),
            },
            open("a/l", OpenFlags::CREATE_TRUNC),
        ],
        // Absolute paths given directly.
        vec![
            Op::Mkdir {
                path: p("/x"),
                mode: 0o755,
            },
            open("/x", OpenFlags::CREATE_TRUNC),
        ],
        // Names longer than NAME_MAX, paths longer than PATH_MAX.
        vec![
            Op::Mkdir {
                path: p(&"n".repeat(256)),
                mode: 0o755,
            },
            Op::Mkdir {
                path: p(&"n".repeat(255)),
                mode: 0o755,
            },
            open(&format!("{}/f", "n".repeat(255)), OpenFlags::CREATE_NEW),
            open(&format!("{}/f", "m".repeat(256)), OpenFlags::CREATE_NEW),
            Op::Stat {
                path: p(&"a/".repeat(2100)),
            },
            Op::Mkdir {
                path: p(&"a/".repeat(2100)),
                mode: 0o755,
            },
        ],
        // Symlink loops and escapes.
        vec![
            Op::Symlink {
                target: p("l"),
                path: p("l"),
            },
            Op::Stat { path: p("l") },
            open("l", OpenFlags::CREATE_TRUNC),
            Op::Symlink {
                target: p("../.."),
                path: p("up"),
            },
            Op::Mkdir {
                path: p("up/x"),
                mode: 0o755,
            },
            Op::Readdir { path: p("up") },
        ],
        // Two names of one inode: a write in place through one is read
        // through the other; link refuses an existing name, a missing
        // source and a directory, in the kernel's order.
        vec![
            open("f", OpenFlags::CREATE_NEW),
            Op::Link {
                from: p("f"),
                to: p("g"),
            },
            Op::Write {
                fd: 3,
                path: p("f"),
                blob: Blob::new(b"abc".to_vec()),
            },
            open("g", rd),
            Op::Read {
                fd: 4,
                path: p("g"),
            },
            Op::Link {
                from: p("f"),
                to: p("g"),
            },
            Op::Link {
                from: p("missing"),
                to: p("g"),
            },
            Op::Mkdir {
                path: p("d"),
                mode: 0o755,
            },
            Op::Link {
                from: p("d"),
                to: p("e"),
            },
            Op::Link {
                from: p("d"),
                to: p("g"),
            },
            Op::Rename {
                from: p("f"),
                to: p("g"),
            },
        ],
        // flock: a second open file cannot take it (EAGAIN) until the
        // holder closes; unlinking the locked file does not release it,
        // but a new file of that name is another inode (Homebrew #1155).
        vec![
            open("l", OpenFlags::CREATE_NEW),
            open("l", rd),
            Op::Flock {
                fd: 3,
                path: p("l"),
                call: LockCall::Flock,
            },
            Op::Flock {
                fd: 3,
                path: p("l"),
                call: LockCall::Flock,
            },
            Op::Flock {
                fd: 4,
                path: p("l"),
                call: LockCall::Flock,
            },
            Op::Close {
                fd: 3,
                path: p("l"),
            },
            Op::Flock {
                fd: 4,
                path: p("l"),
                call: LockCall::Flock,
            },
            Op::Unlink { path: p("l") },
            open("l", OpenFlags::CREATE_NEW),
            Op::Flock {
                fd: 3,
                path: p("l"),
                call: LockCall::Flock,
            },
            Op::Flock {
                fd: 9,
                path: p("l"),
                call: LockCall::Flock,
            },
        ],
        // fcntl: the lock is the process's. A write lock needs a
        // descriptor open for writing (EBADF); the process takes it again
        // through a second descriptor; closing either releases it (seen
        // by another process only: `an_fcntl_lock_is_the_processs_and_any_close_of_the_file_releases_it`).
        vec![
            open("l", OpenFlags::CREATE_NEW),
            open("l", rd),
            Op::Flock {
                fd: 4,
                path: p("l"),
                call: fcntl(),
            },
            Op::Flock {
                fd: 3,
                path: p("l"),
                call: fcntl(),
            },
            open("l", OpenFlags::CREATE),
            Op::Flock {
                fd: 5,
                path: p("l"),
                call: fcntl(),
            },
            Op::Close {
                fd: 5,
                path: p("l"),
            },
            Op::Flock {
                fd: 3,
                path: p("l"),
                call: fcntl(),
            },
            Op::Flock {
                fd: 9,
                path: p("l"),
                call: fcntl(),
            },
        ],
        // RENAME_EXCHANGE: both must exist; a file and a directory swap;
        // a directory cannot swap with what lies in it.
        vec![
            open("f", OpenFlags::CREATE_NEW),
            Op::Mkdir {
                path: p("d"),
                mode: 0o700,
            },
            open("d/x", OpenFlags::CREATE_NEW),
            Op::RenameExchange {
                a: p("f"),
                b: p("missing"),
            },
            Op::RenameExchange {
                a: p("missing"),
                b: p("f"),
            },
            Op::RenameExchange {
                a: p("f"),
                b: p("d"),
            },
            Op::Stat { path: p("f/x") },
            Op::RenameExchange {
                a: p("f"),
                b: p("f/x"),
            },
            Op::RenameExchange {
                a: p("f/x"),
                b: p("f"),
            },
            Op::RenameExchange {
                a: p("d"),
                b: p("d"),
            },
        ],
    ];
    for ops in cases {
        if let Some(d) = disagreement(&ops) {
            panic!("{d}");
        }
    }
}

/// Whether another process can take an `fcntl` write lock on `path` now:
/// Python's `fcntl.lockf(f, LOCK_EX | LOCK_NB)` in a child process (its
/// exit status 0 when it could, 1 when refused).
fn another_process_can_lock(path: &std::path::Path) -> bool {
    let script = "import fcntl, sys\n\
                  f = open(sys.argv[1], 'r+')\n\
                  try:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n\
                  except OSError:\n    sys.exit(1)\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .status()
        .expect("python3 runs");
    match status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!("the child failed otherwise: {other:?}"),
    }
}

/// The two properties that make an `fcntl` lock differ from an `flock`,
/// on the kernel and on the model alike: the lock belongs to the process,
/// so (a) the process takes it again through a second descriptor, and (b)
/// closing any descriptor it has on the file (here the second one, not
/// the one that took it) releases it. A child process is the other
/// process: refused while the lock is held, let in after the close. The
/// model is asked the same through another owner's probe.
#[test]
fn an_fcntl_lock_is_the_processs_and_any_close_of_the_file_releases_it() {
    let mut model = ModelFs::new();
    let mut real = RealFs::new().expect("a temporary directory");
    let lock: Arc<str> = "l".into();
    let held_elsewhere = |model: &ModelFs, real: &RealFs| {
        let model_held = model
            .probe(&record_lock_probe_path("another", &lock))
            .is_some();
        let real_held = !another_process_can_lock(&real.root_path().join("l"));
        assert_eq!(model_held, real_held, "model and kernel disagree");
        real_held
    };
    let apply = |model: &mut ModelFs, real: &mut RealFs, op: Op| {
        let (m, r) = (model.apply(&op), real.apply(&op));
        assert_eq!(m, r, "{op}");
        m
    };
    let open = Op::Open {
        path: lock.clone(),
        flags: OpenFlags::CREATE,
        mode: 0o644,
    };
    let take = |fd| Op::Flock {
        fd,
        path: lock.clone(),
        call: fcntl(),
    };
    assert!(matches!(
        apply(&mut model, &mut real, open.clone()),
        Ok(prefixrace::internals::op::Value::Fd(3))
    ));
    assert!(!held_elsewhere(&model, &real));
    assert!(apply(&mut model, &mut real, take(3)).is_ok());
    assert!(
        held_elsewhere(&model, &real),
        "held: another process is refused"
    );
    // (a) The same process, through a second descriptor: taken at once.
    apply(&mut model, &mut real, open).unwrap();
    assert!(apply(&mut model, &mut real, take(4)).is_ok());
    assert!(held_elsewhere(&model, &real));
    // (b) Closing the second descriptor releases the process's lock,
    // though the first is still open.
    apply(
        &mut model,
        &mut real,
        Op::Close {
            fd: 4,
            path: lock.clone(),
        },
    )
    .unwrap();
    assert!(
        !held_elsewhere(&model, &real),
        "any close of the file released it"
    );
    // A flock is different: the second open file is refused (EAGAIN).
    let flock = |fd| Op::Flock {
        fd,
        path: lock.clone(),
        call: LockCall::Flock,
    };
    assert!(apply(&mut model, &mut real, flock(3)).is_ok());
    let second = Op::Open {
        path: lock.clone(),
        flags: OpenFlags::CREATE,
        mode: 0o644,
    };
    apply(&mut model, &mut real, second).unwrap();
    assert_eq!(apply(&mut model, &mut real, flock(4)), Err(Errno::EAGAIN));
}

// ---------------------------------------------------------------- scenarios

const SP: &str = "lib/python3.9/site-packages";
const TOP: &[&str] = &["ns", "pkga", "pkgb"];
const SUB: &[&str] = &["", "sub"];
const STEM: &[&str] = &["__init__", "m", "n"];

#[derive(Debug, Clone)]
struct RawEntry {
    top: usize,
    sub: usize,
    stem: usize,
    text: u8,
    exec: bool,
}

fn raw_entry() -> impl Strategy<Value = RawEntry> {
    (
        0..TOP.len(),
        0..SUB.len(),
        0..STEM.len(),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(top, sub, stem, text, exec)| RawEntry {
            top,
            sub,
            stem,
            text,
            exec,
        })
}

fn rel_of(e: &RawEntry) -> String {
    let sub = SUB[e.sub];
    if sub.is_empty() {
        format!("{}/{}.py", TOP[e.top], STEM[e.stem])
    } else {
        format!("{}/{sub}/{}.py", TOP[e.top], STEM[e.stem])
    }
}

fn module_of(rel: &str) -> String {
    let dotted = rel.trim_end_matches(".py").replace('/', ".");
    dotted.trim_end_matches(".__init__").to_string()
}

#[derive(Debug, Clone)]
struct RawScenario {
    packages: Vec<(Vec<RawEntry>, bool)>,
    imports: Vec<Vec<usize>>,
    staged: bool,
    seed: u64,
}

fn raw_scenario() -> impl Strategy<Value = RawScenario> {
    (
        prop::collection::vec(
            (prop::collection::vec(raw_entry(), 1..6), any::<bool>()),
            1..=3,
        ),
        prop::collection::vec(prop::collection::vec(0usize..64, 1..=2), 0..=2),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(packages, imports, staged, seed)| RawScenario {
            packages,
            imports,
            staged,
            seed,
        })
}

fn build(raw: &RawScenario) -> Scenario {
    let mut s = Scenario::new("differential");
    let mut modules = Vec::new();
    for (i, (entries, compile)) in raw.packages.iter().enumerate() {
        let mut seen = std::collections::BTreeSet::new();
        let mut payload = Vec::new();
        for e in entries {
            let rel = rel_of(e);
            if !seen.insert(rel.clone()) {
                continue;
            }
            modules.push(module_of(&rel));
            payload.push(PayloadEntry {
                path: format!("{SP}/{rel}").into(),
                kind: PayloadKind::File(Blob::new(format!("# {rel} {}\n", e.text).into_bytes())),
                mode: if e.exec { 0o755 } else { 0o644 },
            });
        }
        s.packages.push(Package {
            name: format!("p{i}"),
            version: "1.0".into(),
            payload,
            after: Vec::new(),
            compile: *compile,
            scripts: Vec::new(),
        });
    }
    modules.sort();
    modules.dedup();
    for (i, picks) in raw.imports.iter().enumerate() {
        let chosen: Vec<String> = picks
            .iter()
            .map(|k| modules[k % modules.len()].clone())
            .collect();
        s.activities.push(Activity::Import {
            name: format!("import-{i}"),
            modules: chosen,
            after: Vec::new(),
        });
    }
    s
}

#[test]
fn random_scenarios_under_random_schedules_agree_with_the_kernel() {
    let mut runner = TestRunner::new(config(350));
    runner
        .run(&raw_scenario(), |raw| {
            let scenario = build(&raw);
            // An import of a namespace without __init__.py is not importable:
            // rejected, so that proptest generates another case in its place.
            prop_assume!(scenario.check().is_ok(), "not importable");
            let strategy: &dyn InstallStrategy = if raw.staged {
                &StagedCopy
            } else {
                &DirectInstall
            };
            let setup = Setup::new(Arc::new(scenario), strategy).expect("a valid setup");
            let run = |fs: &mut dyn Fs| {
                let mut sched = SchedulerKind::Random.build(raw.seed, 0, setup.job_count(), 100);
                setup.run(fs, sched.as_mut(), true)
            };
            let m = run(&mut ModelFs::new());
            let r = run(&mut RealFs::new().expect("a temporary directory"));
            prop_assert_eq!(&m.schedule.choices, &r.schedule.choices);
            prop_assert_eq!(m.events.len(), r.events.len());
            for (i, (a, b)) in m.events.iter().zip(&r.events).enumerate() {
                prop_assert_eq!(a.job, b.job, "event {}", i);
                prop_assert_eq!(&a.op, &b.op, "event {}", i);
                prop_assert_eq!(&a.result, &b.result, "event {}: {}", i, a.op);
            }
            for (a, b) in m.outcomes.iter().zip(&r.outcomes) {
                prop_assert_eq!(&a.end, &b.end, "{}", a.label);
                prop_assert_eq!(&a.diagnostics, &b.diagnostics, "{}", a.label);
            }
            prop_assert!(
                m.tree == r.tree,
                "trees differ:\n{}",
                r.tree.diff_from(&m.tree)
            );
            Ok(())
        })
        .unwrap();
}
