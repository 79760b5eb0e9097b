//! Pins every rule of ../shared/reference/install-semantics.md on the job
//! models: GNU `cp -Rp`, pip 21.1.2 and CPython's import, plus the seed race
//! of ticket 32361 step by step.

mod common;

use std::sync::Arc;

use common::{p, put_file, rendered, run_alone, Injecting};
use prefixrace::internals::content::{Blob, Digest};
use prefixrace::internals::execution::JobEnd;
use prefixrace::internals::fs::{Fs, ModelFs};
use prefixrace::internals::job::{
    CpJob, CpKind, CpPlan, ImportJob, ImportModule, Job, PipFile, PipJob, PipPlan, Step,
};
use prefixrace::internals::op::{Errno, Op, OpenFlags};
use prefixrace::internals::schedule::{JobId, Scheduler};
use prefixrace::internals::Oracle;
use prefixrace::strategy::{build_stage, InstallContext};
use prefixrace::{scenario, Setup};

fn cp_job(stage: &ModelFs) -> Box<dyn Job> {
    Box::new(CpJob::new(
        "cp",
        Arc::new(CpPlan::from_stage(stage, "/p/.", "/s/.")),
    ))
}

fn stage_m() -> ModelFs {
    let mut stage = ModelFs::new();
    put_file(&mut stage, "M/__init__.py", b"from .a import *\n");
    put_file(&mut stage, "M/a.py", b"x = 1\n");
    put_file(&mut stage, "M/__pycache__/__init__.cpython-39.pyc", b"pyc");
    put_file(&mut stage, "N/x.py", b"y = 2\n");
    stage
}

fn messages(trace: &prefixrace::internals::execution::ExecutionTrace, job: usize) -> Vec<String> {
    trace.outcomes[job]
        .diagnostics
        .iter()
        .map(|(d, _)| d.message.clone())
        .collect()
}

// ---------------------------------------------------------------- GNU cp -Rp

#[test]
fn cp_never_stats_entries_under_a_directory_it_created() {
    let stage = stage_m();
    let mut fs = ModelFs::new();
    let trace = run_alone(cp_job(&stage), &mut fs);
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
    for e in &trace.events {
        if matches!(e.op, Op::Stat { .. } | Op::Lstat { .. }) {
            assert!(
                !e.op.path().contains('/'),
                "cp stat'ed {} under a directory it created",
                e.op
            );
        }
    }
    let ops = rendered(&trace.events);
    assert_eq!(
        ops[0], "lstat(\"M\") = -1 ENOENT (No such file or directory)",
        "top-level entries are stat'ed first"
    );
    assert_eq!(ops[1], "mkdir(\"M\", 0700) = 0");
    assert_eq!(
        fs.tree(),
        stage.tree(),
        "a clean copy reproduces the stage, modes included"
    );
}

#[test]
fn cp_opens_new_files_with_o_excl_and_mode_0600() {
    let trace = run_alone(cp_job(&stage_m()), &mut ModelFs::new());
    let opens: Vec<_> = trace
        .events
        .iter()
        .filter(|e| matches!(e.op, Op::Open { .. }))
        .collect();
    assert_eq!(opens.len(), 4);
    for e in opens {
        assert!(
            matches!(
                e.op,
                Op::Open {
                    flags: OpenFlags::CREATE_NEW,
                    mode: 0o600,
                    ..
                }
            ),
            "{}",
            e.op
        );
    }
}

#[test]
fn cp_mkdir_eexist_prints_cps_words_skips_the_subtree_and_goes_on() {
    let stage = stage_m();
    let mut fs = Injecting::new(
        ModelFs::new(),
        |op| matches!(op, Op::Mkdir { path, .. } if &**path == "M/__pycache__"),
        vec![Op::Mkdir {
            path: p("M/__pycache__"),
            mode: 0o777,
        }],
    );
    let trace = run_alone(cp_job(&stage), &mut fs);
    assert_eq!(
        messages(&trace, 0),
        ["cp: cannot create directory '/p/./M/__pycache__': File exists"]
    );
    assert_eq!(
        trace.outcomes[0].end,
        JobEnd::Exited(1),
        "cp exits 1 at the end"
    );
    assert!(
        !trace
            .events
            .iter()
            .any(|e| e.op.path().starts_with("M/__pycache__/")),
        "the subtree is skipped"
    );
    assert!(
        fs.tree().get("N/x.py").is_some(),
        "the copy goes on after the error"
    );
}

#[test]
fn cp_o_excl_on_an_existing_file_is_cannot_create_regular_file() {
    let mut fs = Injecting::new(
        ModelFs::new(),
        |op| matches!(op, Op::Open { path, .. } if path.ends_with(".pyc")),
        vec![Op::Open {
            path: p("M/__pycache__/__init__.cpython-39.pyc"),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o644,
        }],
    );
    let trace = run_alone(cp_job(&stage_m()), &mut fs);
    assert_eq!(messages(&trace, 0), ["cp: cannot create regular file '/p/./M/__pycache__/__init__.cpython-39.pyc': File exists"]);
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(1));
}

#[test]
fn cp_merges_into_an_existing_directory_and_stats_each_child() {
    let mut stage = ModelFs::new();
    put_file(&mut stage, "M/__init__.py", b"new");
    put_file(&mut stage, "M/sub/y.py", b"y");
    let mut fs = ModelFs::new();
    put_file(&mut fs, "M/__init__.py", b"old");
    let trace = run_alone(cp_job(&stage), &mut fs);
    let ops = rendered(&trace.events);
    assert!(ops[0].starts_with("lstat(\"M\") = 0 {dir"), "{}", ops[0]);
    assert!(
        ops[1].starts_with("stat(\"M/__init__.py\") = 0 {file"),
        "files are stat'ed: {}",
        ops[1]
    );
    assert_eq!(
        ops[2], "open(\"M/__init__.py\", O_WRONLY|O_TRUNC) = 3",
        "existing files are truncated in place"
    );
    assert!(
        ops.contains(&"lstat(\"M/sub\") = -1 ENOENT (No such file or directory)".to_string()),
        "directories are lstat'ed"
    );
    assert!(
        !ops.iter().any(|o| o.starts_with("stat(\"M/sub/y.py\")")),
        "but not below a directory cp created"
    );
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
}

#[test]
fn cp_cannot_overwrite_a_non_directory_with_a_directory() {
    let mut fs = ModelFs::new();
    put_file(&mut fs, "M", b"a file");
    let trace = run_alone(cp_job(&stage_m()), &mut fs);
    assert_eq!(
        messages(&trace, 0)[0],
        "cp: cannot overwrite non-directory '/p/./M' with directory '/s/./M'"
    );
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(1));
    assert!(fs.tree().get("N/x.py").is_some());
}

#[test]
fn cp_retries_a_vanished_existing_file_with_o_creat() {
    let mut stage = ModelFs::new();
    put_file(&mut stage, "M/f.py", b"new");
    let mut base = ModelFs::new();
    put_file(&mut base, "M/f.py", b"old");
    let mut fs = Injecting::new(
        base,
        |op| matches!(op, Op::Open { flags, .. } if *flags == OpenFlags::TRUNC),
        vec![Op::Unlink { path: p("M/f.py") }],
    );
    let trace = run_alone(cp_job(&stage), &mut fs);
    let ops = rendered(&trace.events);
    assert!(ops.contains(
        &"open(\"M/f.py\", O_WRONLY|O_TRUNC) = -1 ENOENT (No such file or directory)".to_string()
    ));
    assert!(
        ops.contains(&"open(\"M/f.py\", O_WRONLY|O_CREAT, 0600) = 3".to_string()),
        "{ops:#?}"
    );
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
}

#[test]
fn cp_visits_entries_in_inode_order_so_pips_pycache_comes_last() {
    let scenario = scenario::builtin::load("sage-32361").unwrap();
    let ctx = InstallContext {
        scenario: &scenario,
        job_index: 0,
        rerun: false,
    };
    let stage = build_stage(&scenario.packages[0], &ctx).unwrap();
    let plan = CpPlan::from_stage(&stage, "/p/.", "/s/.");
    let pyximport = format!("{}/pyximport", scenario.site_packages);
    let children: Vec<&str> = plan
        .entries
        .iter()
        .filter(|e| prefixrace::internals::fs::parent_of(&e.path) == pyximport)
        .map(|e| prefixrace::internals::fs::split_parent(&e.path).1)
        .collect();
    assert_eq!(children.last(), Some(&"__pycache__"), "{children:?}");
    let mut by_name = children.clone();
    by_name.sort();
    assert_ne!(
        by_name.last(),
        Some(&"__pycache__"),
        "name order would not put it last"
    );
}

#[test]
fn cp_restores_directory_modes_after_their_contents() {
    let trace = run_alone(cp_job(&stage_m()), &mut ModelFs::new());
    let chmod_m = trace
        .events
        .iter()
        .position(|e| {
            e.op == Op::Chmod {
                path: p("M"),
                mode: 0o755,
            }
        })
        .expect("chmod M");
    let last_under_m = trace
        .events
        .iter()
        .rposition(|e| e.op.path().starts_with("M/"))
        .unwrap();
    assert!(chmod_m > last_under_m);
}

#[test]
fn cp_replaces_an_existing_non_directory_with_a_symlink_by_unlinking_first() {
    let plan = CpPlan::from_ordered(
        vec![(p("link"), CpKind::Symlink(p("target")), 0o777)],
        "/p/.",
        "/s/.",
    );
    let mut fs = ModelFs::new();
    put_file(&mut fs, "link", b"x");
    let trace = run_alone(Box::new(CpJob::new("cp", Arc::new(plan))), &mut fs);
    let ops = rendered(&trace.events);
    assert_eq!(ops[1], "unlink(\"link\") = 0");
    assert_eq!(ops[2], "symlink(\"target\", \"link\") = 0");
}

// ---------------------------------------------------------------- pip 21.1.2

fn pip_job(paths: &[(&str, &[u8])], dist_info: Option<&str>) -> Box<dyn Job> {
    let files = paths
        .iter()
        .map(|(path, bytes)| PipFile {
            path: p(path),
            blob: Blob::new(bytes.to_vec()),
            executable: path.ends_with(".so"),
        })
        .collect();
    Box::new(PipJob::new(
        "pip",
        Arc::new(PipPlan::new(
            files,
            Vec::new(),
            "cpython-39",
            7,
            dist_info,
            "/p",
            true,
        )),
    ))
}

#[test]
fn pip_makedirs_stats_the_parent_then_mkdirs_ignoring_eexist() {
    let trace = run_alone(
        pip_job(&[("a/b/x.py", b"1"), ("a/b/y.py", b"2")], None),
        &mut ModelFs::new(),
    );
    let ops = rendered(&trace.events);
    assert_eq!(
        &ops[..4],
        [
            "stat(\"a\") = -1 ENOENT (No such file or directory)",
            "stat(\".\") = 0 {dir, 0755, 0}",
            "mkdir(\"a\", 0777) = 0",
            "mkdir(\"a/b\", 0777) = 0",
        ],
        "os.makedirs recurses while the parent is missing, the prefix itself included"
    );
    assert!(ops.contains(&"mkdir(\"a/b\", 0777) = -1 EEXIST (File exists)".to_string()));
    assert!(ops.contains(&"open(\"a/b/y.py\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3".to_string()));
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
}

#[test]
fn pip_unlinks_an_existing_file_then_writes_in_place() {
    let mut fs = ModelFs::new();
    put_file(&mut fs, "a/x.so", b"old");
    let trace = run_alone(pip_job(&[("a/x.so", b"new")], None), &mut fs);
    let ops = rendered(&trace.events);
    let i = ops
        .iter()
        .position(|o| o.starts_with("stat(\"a/x.so\") = 0"))
        .unwrap();
    assert_eq!(ops[i + 1], "unlink(\"a/x.so\") = 0");
    assert_eq!(
        ops[i + 2],
        "open(\"a/x.so\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3"
    );
    assert!(
        ops.contains(&"chmod(\"a/x.so\", 0755) = 0".to_string()),
        "executables get 0755"
    );
}

#[test]
fn pip_compiles_after_all_files_in_sorted_order_atomically() {
    let mut fs = Injecting::new(
        ModelFs::new(),
        |op| matches!(op, Op::Mkdir { path, .. } if &**path == "m/__pycache__"),
        vec![Op::Mkdir {
            path: p("m/__pycache__"),
            mode: 0o777,
        }],
    );
    let trace = run_alone(
        pip_job(
            &[
                ("m/z.py", b"z"),
                ("m/__init__.py", b"i"),
                ("m/data.txt", b"d"),
            ],
            None,
        ),
        &mut fs,
    );
    let ev = &trace.events;
    let last_file_write = ev
        .iter()
        .rposition(|e| matches!(&e.op, Op::Write { path, .. } if !path.contains("__pycache__")))
        .unwrap();
    let first_compile = ev
        .iter()
        .position(|e| e.op.path().contains("__pycache__"))
        .unwrap();
    assert!(
        first_compile > last_file_write,
        "byte-compilation comes after every file is written"
    );
    let renames: Vec<String> = ev
        .iter()
        .filter(|e| matches!(e.op, Op::Rename { .. }))
        .map(|e| e.op.to_string())
        .collect();
    assert_eq!(
        renames,
        [
            "rename(\"m/__pycache__/__init__.cpython-39.pyc.7\", \"m/__pycache__/__init__.cpython-39.pyc\")",
            "rename(\"m/__pycache__/z.cpython-39.pyc.7\", \"m/__pycache__/z.cpython-39.pyc\")"
        ],
        "sorted order, temp file then rename"
    );
    assert!(ev.iter().any(|e| e.op
        == Op::Mkdir {
            path: p("m/__pycache__"),
            mode: 0o777
        }
        && e.result == Err(Errno::EEXIST)));
    assert!(ev.iter().any(|e| matches!(&e.op, Op::Open { path, flags: OpenFlags::CREATE_NEW, .. } if path.ends_with(".pyc.7"))));
    assert_eq!(
        trace.outcomes[0].end,
        JobEnd::Exited(0),
        "an existing __pycache__ is tolerated"
    );
}

#[test]
fn pip_writes_installer_and_record_via_temp_file_and_rename() {
    let trace = run_alone(
        pip_job(
            &[("m/__init__.py", b"i"), ("m-1.dist-info/RECORD", b"r")],
            Some("m-1.dist-info"),
        ),
        &mut ModelFs::new(),
    );
    let ops: Vec<String> = trace.events.iter().map(|e| e.op.to_string()).collect();
    let installer_tmp = ops
        .iter()
        .find(|o| o.starts_with("open(\"m-1.dist-info/INSTALLER"))
        .unwrap();
    assert!(
        installer_tmp.contains(".tmp\", O_WRONLY|O_CREAT|O_EXCL, 0600)"),
        "{installer_tmp}"
    );
    assert!(ops
        .iter()
        .any(|o| o.starts_with("chmod(\"m-1.dist-info/INSTALLER") && o.ends_with(", 0644)")));
    assert!(ops
        .iter()
        .any(|o| o.starts_with("rename(\"m-1.dist-info/INSTALLER")
            && o.ends_with("\"m-1.dist-info/INSTALLER\")")));
    assert!(ops
        .iter()
        .any(|o| o == "open(\"m-1.dist-info/REQUESTED\", O_WRONLY|O_CREAT|O_TRUNC, 0666)"));
    assert!(
        ops.last().unwrap().ends_with("\"m-1.dist-info/RECORD\")"),
        "RECORD is replaced last: {}",
        ops.last().unwrap()
    );
}

#[test]
fn pip_aborts_on_any_other_oserror_with_pips_words() {
    let mut fs = ModelFs::new();
    put_file(&mut fs, "a", b"a file where a directory is needed");
    let trace = run_alone(pip_job(&[("a/b/x.py", b"1")], None), &mut fs);
    assert_eq!(messages(&trace, 0), ["ERROR: Could not install packages due to an OSError: [Errno 20] Not a directory: '/p/a/b'"]);
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(1));
}

#[test]
fn pip_swallows_compile_errors() {
    let mut fs = ModelFs::new();
    put_file(&mut fs, "m/__pycache__", b"a file");
    let trace = run_alone(pip_job(&[("m/__init__.py", b"i")], None), &mut fs);
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
    assert!(messages(&trace, 0).is_empty());
    assert!(trace
        .events
        .iter()
        .any(|e| matches!(e.op, Op::Open { .. }) && e.result == Err(Errno::ENOTDIR)));
}

// ---------------------------------------------------------------- CPython import

fn importer() -> Box<dyn Job> {
    Box::new(ImportJob::new(
        "import-m",
        vec![ImportModule {
            name: "M".into(),
            source: p("M/__init__.py"),
            pyc: p("M/__pycache__/__init__.cpython-39.pyc"),
            tmp: p("M/__pycache__/__init__.cpython-39.pyc.99"),
        }],
    ))
}

#[test]
fn import_waits_for_the_source_without_spinning() {
    let mut job = importer();
    let mut fs = ModelFs::new();
    let step = job.step(&|path| fs.probe(path));
    assert!(matches!(step, Step::Wait(_)), "{step:?}");
    assert_eq!(
        job.step(&|path| fs.probe(path)),
        step,
        "waiting is a condition, not an op"
    );
    put_file(&mut fs, "M/__init__.py", b"x");
    assert!(matches!(
        job.step(&|path| fs.probe(path)),
        Step::Op(Op::Open { .. })
    ));
}

#[test]
fn import_creates_pycache_tolerating_eexist_then_writes_o_excl_and_renames() {
    let mut base = ModelFs::new();
    put_file(&mut base, "M/__init__.py", b"x = 1");
    let mut fs = Injecting::new(
        base,
        |op| matches!(op, Op::Mkdir { .. }),
        vec![Op::Mkdir {
            path: p("M/__pycache__"),
            mode: 0o777,
        }],
    );
    let trace = run_alone(importer(), &mut fs);
    let ops = rendered(&trace.events);
    assert!(
        ops.contains(&"mkdir(\"M/__pycache__\", 0777) = -1 EEXIST (File exists)".to_string()),
        "{ops:#?}"
    );
    assert!(ops.contains(
        &"open(\"M/__pycache__/__init__.cpython-39.pyc.99\", O_WRONLY|O_CREAT|O_EXCL, 0644) = 3"
            .to_string()
    ));
    assert!(ops.contains(&"rename(\"M/__pycache__/__init__.cpython-39.pyc.99\", \"M/__pycache__/__init__.cpython-39.pyc\") = 0".to_string()));
    let pyc = fs
        .tree()
        .get("M/__pycache__/__init__.cpython-39.pyc")
        .cloned()
        .unwrap();
    assert_eq!(
        pyc.bytecode_source,
        Some(Digest::of(b"x = 1")),
        "compiled from the bytes it read"
    );
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
}

#[test]
fn import_silently_gives_up_on_other_errors() {
    let mut fs = ModelFs::new();
    put_file(&mut fs, "M/__init__.py", b"x");
    put_file(&mut fs, "M/__pycache__", b"a file");
    let trace = run_alone(importer(), &mut fs);
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(0));
    assert!(messages(&trace, 0).is_empty());
}

#[test]
fn import_uses_a_valid_pyc_and_writes_nothing() {
    let mut fs = ModelFs::new();
    put_file(&mut fs, "M/__init__.py", b"x");
    put_file(
        &mut fs,
        "M/__pycache__/__init__.cpython-39.pyc",
        Blob::bytecode(&Digest::of(b"x")).bytes(),
    );
    let trace = run_alone(importer(), &mut fs);
    let writes = trace.events.iter().filter(|e| match &e.op {
        Op::Open { flags, .. } => flags.write,
        op => op.is_mutation() && !matches!(op, Op::Close { .. }),
    });
    assert_eq!(writes.count(), 0, "{:#?}", rendered(&trace.events));
}

#[test]
fn import_of_a_module_that_never_appears_is_module_not_found() {
    let trace = run_alone(importer(), &mut ModelFs::new());
    assert_eq!(
        messages(&trace, 0),
        ["ModuleNotFoundError: No module named 'M'"]
    );
    assert_eq!(trace.outcomes[0].end, JobEnd::Exited(1));
}

// ---------------------------------------------------------------- the seed race, step by step

/// Runs job 0 for `k` steps, then job 1 whenever it can run, then job 0.
struct CopyThenImport {
    k: usize,
}

impl Scheduler for CopyThenImport {
    fn pick(&mut self, runnable: &[JobId], step: usize) -> Option<JobId> {
        if step >= self.k && runnable.contains(&1) {
            Some(1)
        } else {
            runnable.first().copied()
        }
    }
}

#[test]
fn the_seed_race_of_ticket_32361_fails_staged_copy_and_not_direct_install() {
    let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
    let sp = scenario.site_packages.clone();
    let init = format!("{sp}/Cython/__init__.py");
    // How many steps cp takes, alone, up to and including closing Cython/__init__.py.
    let staged = Setup::new(scenario.clone(), &prefixrace::strategy::StagedCopy).unwrap();
    let alone = staged.run(
        &mut ModelFs::new(),
        &mut prefixrace::internals::schedule::SerialScheduler,
        true,
    );
    let k = 1 + alone
        .events
        .iter()
        .position(|e| matches!(&e.op, Op::Close { path, .. } if **path == *init))
        .unwrap();

    let trace = staged.run(&mut ModelFs::new(), &mut CopyThenImport { k }, true);
    let rows: Vec<(String, String)> = trace
        .events
        .iter()
        .map(|e| {
            (
                trace.outcomes[e.job].label.clone(),
                prefixrace::internals::story::render_event(e, ""),
            )
        })
        .collect();
    let find = |job: &str, text: &str| {
        rows.iter()
            .position(|(j, o)| j == job && o == text)
            .unwrap_or_else(|| panic!("no {job} {text}"))
    };
    let r2 = find("cp[Cython]", &format!("mkdir(\"{sp}/Cython\", 0700) = 0"));
    let r3 = find(
        "cp[Cython]",
        &format!("open(\"{init}\", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3"),
    );
    let r4 = find(
        "import-cython",
        &format!("mkdir(\"{sp}/Cython/__pycache__\", 0777) = 0"),
    );
    let r5 = find(
        "import-cython",
        &format!("rename(\"{sp}/Cython/__pycache__/__init__.cpython-39.pyc.{id}\", \"{sp}/Cython/__pycache__/__init__.cpython-39.pyc\") = 0", id = prefixrace::strategy::python_object_id(1)),
    );
    let r6 = find(
        "cp[Cython]",
        &format!("mkdir(\"{sp}/Cython/__pycache__\", 0700) = -1 EEXIST (File exists)"),
    );
    assert!(r2 < r3 && r3 < r4 && r4 < r5 && r5 < r6);
    assert_eq!(
        messages(&trace, 0),
        [format!(
            "cp: cannot create directory '/sage/local/./{sp}/Cython/__pycache__': File exists"
        )]
    );
    let oracle = Oracle::new(&staged).unwrap();
    assert!(oracle.judge(&trace).failure.is_some());

    let direct = Setup::new(scenario, &prefixrace::strategy::DirectInstall).unwrap();
    let alone = direct.run(
        &mut ModelFs::new(),
        &mut prefixrace::internals::schedule::SerialScheduler,
        true,
    );
    let k = 1 + alone
        .events
        .iter()
        .position(|e| matches!(&e.op, Op::Close { path, .. } if **path == *init))
        .unwrap();
    let trace = direct.run(&mut ModelFs::new(), &mut CopyThenImport { k }, true);
    let judgement = Oracle::new(&direct).unwrap().judge(&trace);
    assert_eq!(judgement.failure, None, "{:?}", judgement.diff);
    assert!(
        trace
            .events
            .iter()
            .any(|e| e.job == 1 && matches!(e.op, Op::Mkdir { .. })),
        "the importer did race pip"
    );
}
