//! `--faults crash` end to end, as a user runs it: crash points explored
//! along every execution, the rerun as recovery, verdicts that replay from
//! their tokens (docs/faults.md).

mod cli_support;

use cli_support::{refused, replays_the_same, run};
use serde_json::Value;

/// `explore SCENARIO --strategy STRATEGY --faults crash --format json`
/// under dpor (`extra` may give other `--faults`), with the exit code.
fn explore_crash(scenario: &str, strategy: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "explore",
        scenario,
        "--strategy",
        strategy,
        "--scheduler",
        "dpor",
        "--no-pairs",
        "--format",
        "json",
    ];
    if !extra.contains(&"--faults") {
        args.extend(["--faults", "crash"]);
    }
    args.extend(extra);
    let (code, out, err) = run(&args);
    assert!(code == 0 || code == 1, "{args:?}: {code} {err}");
    (code, serde_json::from_str(&out).expect("json report"))
}

#[test]
fn a_staged_cp_killed_anywhere_is_recovered_by_a_rerun_with_complete_coverage() {
    let (code, report) = explore_crash("scenarios/cython-alone.toml", "staged-copy", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["coverage"]["complete"], true);
    let faults = &report["faults"];
    // One crash point per op of cp's copy; each leaves a different prefix.
    assert_eq!(faults["tried"], report["ops_executed"]);
    assert!(faults["distinct"].as_u64().unwrap() > 1000, "{faults}");
    assert_eq!(faults["recovered"], faults["distinct"]);
    assert_eq!(faults["unrecoverable"], 0);
}

#[test]
fn a_mkdir_lock_outlives_its_killed_holder_and_the_rerun_waits_for_ever() {
    let (code, report) = explore_crash("scenarios/cython-alone.toml", "locked-staged-copy", &[]);
    assert_eq!(code, 1);
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable");
    let crash = &failure["crash"];
    assert_eq!(crash["killed"], "cp[Cython]");
    assert_eq!(crash["after_ops"], 1, "killed right after taking the lock");
    assert!(
        crash["last_op"]
            .as_str()
            .unwrap()
            .starts_with("mkdir(\"/sage/local/.prefixrace-install.lock\""),
        "{crash}"
    );
    assert_eq!(failure["job"], "cp[Cython] (rerun)");
    assert_eq!(failure["exit"], 1);
    // Every later crash point holds the lock too; only killing cp after
    // its release (its last op) recovers.
    assert_eq!(report["faults"]["recovered"], 1, "{}", report["faults"]);
}

#[test]
fn a_killed_pip_leaves_temporary_files_no_rerun_removes_and_the_token_replays_it() {
    let (code, report) = explore_crash("scenarios/sage-32361.toml", "direct-install", &[]);
    assert_eq!(code, 1);
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable");
    // The rerun itself succeeds (a new process: other temporary names)...
    assert_eq!(failure["job"], Value::Null, "{failure}");
    // ...but the killed pip's py_compile temporary stays behind.
    let diff = failure["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(
        diff[0].to_string().contains(".pyc.139942233284656"),
        "{diff:?}"
    );
    let faults = &report["faults"];
    assert!(faults["recovered"].as_u64().unwrap() > 0, "{faults}");
    assert!(faults["unrecoverable"].as_u64().unwrap() > 0, "{faults}");
    // The token replays the same kill, recovery and verdict.
    let token = failure["token"].as_str().unwrap();
    assert!(token.contains(".k0."), "{token}");
    replays_the_same("scenarios/sage-32361.toml", "direct-install", failure);
}

#[test]
fn crash_reports_are_the_same_with_one_thread_or_two() {
    let one = explore_crash(
        "scenarios/sage-32361.toml",
        "atomic-rename",
        &["--jobs", "1"],
    );
    let two = explore_crash(
        "scenarios/sage-32361.toml",
        "atomic-rename",
        &["--jobs", "2"],
    );
    assert_eq!(one, two);
}

#[test]
fn bad_crash_input_is_refused_with_one_line() {
    let explore = [
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "staged-copy",
    ];
    let replay = [
        "replay",
        "scenarios/sage-32361.toml",
        "--strategy",
        "staged-copy",
    ];
    let cases: [(&[&str], &[&str], &[&str]); 4] = [
        (
            &explore,
            &["--faults", "enospc2"],
            &["--faults", "unknown fault \"enospc2\""],
        ),
        (
            &explore,
            &["--faults", "crash", "--fs", "real"],
            &["--faults crash runs on the model"],
        ),
        (
            &replay,
            &["--token", "t1.AAc.k9.1"],
            &["injection names job 9"],
        ),
        (
            &replay,
            &["--token", "t1.AAc.kx"],
            &["--token", "neither .k<job>.<ops>"],
        ),
    ];
    for (command, extra, expected) in cases {
        let args: Vec<&str> = command.iter().chain(extra).copied().collect();
        refused(&args, expected);
    }
}

/// The same from `cargo test`, through the library's [`Check`].
#[test]
fn check_with_crash_faults_proves_the_staged_cp_and_finds_the_stale_lock() {
    use prefixrace::crash::Faults;
    use prefixrace::Check;
    let crash = Faults::CRASH;
    let root = cli_support::root();
    let scenario = root.join("scenarios/cython-alone.toml");
    let report = Check::scenario(&scenario)
        .strategy("staged-copy")
        .faults(crash)
        .jobs(2)
        .no_regressions()
        .prove();
    assert!(report.is_proof());
    let failure = Check::scenario(&scenario)
        .strategy("locked-staged-copy")
        .scheduler("dpor")
        .faults(crash)
        .no_regressions()
        .find_race()
        .expect("the killed cp's lock stays");
    assert_eq!(failure.explained.class, "unrecoverable");
    assert!(failure.token.ends_with(".k0.1"), "{}", failure.token);
    // Without crash faults the same check passes: the race is the crash.
    assert!(Check::scenario(&scenario)
        .strategy("locked-staged-copy")
        .scheduler("dpor")
        .no_regressions()
        .find_race()
        .is_none());
}

/// A scenario like `cython-alone` with `extra` appended, in a temporary
/// directory of its own (its RECORD copied beside it).
fn cython_alone_with(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = cli_support::root();
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    std::fs::copy(
        root.join("scenarios/payloads/Cython-0.29.21.RECORD"),
        dir.path().join("payloads/Cython-0.29.21.RECORD"),
    )
    .unwrap();
    let base = std::fs::read_to_string(root.join("scenarios/cython-alone.toml")).unwrap();
    std::fs::write(dir.path().join("s.toml"), format!("{base}\n{extra}")).unwrap();
    dir
}

#[test]
fn the_scenario_declares_its_recovery_a_plain_cp_over_a_stale_lock_leaves_the_lock() {
    let dir = cython_alone_with("[recovery]\nstrategy = \"staged-copy\"\n");
    let scenario = dir.path().join("s.toml");
    let (code, report) = explore_crash(scenario.to_str().unwrap(), "locked-staged-copy", &[]);
    assert_eq!(code, 1);
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable");
    // The rerun, a plain cp -Rp, takes no lock and succeeds...
    assert_eq!(failure["job"], Value::Null, "{failure}");
    assert_eq!(failure["crash"]["rerun"][0], "cp[Cython] (rerun)");
    // ...and the killed cp's lock directory stays in the prefix.
    let diff = failure["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(diff[0]["path"], ".prefixrace-install.lock");
}

#[test]
fn a_bad_recovery_table_is_refused_naming_its_line_and_field() {
    for (table, field) in [
        ("[recovery]\nrerun = \"sometimes\"\n", "recovery.rerun"),
        ("[recovery]\nstrategy = \"no-such\"\n", "recovery.strategy"),
        ("[recovery]\nretry = 3\n", "retry"),
    ] {
        let dir = cython_alone_with(table);
        let scenario = dir.path().join("s.toml");
        refused(
            &[
                "explore",
                scenario.to_str().unwrap(),
                "--strategy",
                "staged-copy",
            ],
            &["s.toml:", field],
        );
    }
}

#[test]
fn crash_all_goes_on_past_the_race_and_tries_every_executions_crash_points() {
    let (code, report) = explore_crash(
        "scenarios/sage-32361.toml",
        "staged-copy",
        &["--faults", "crash:all", "--jobs", "2"],
    );
    assert_eq!(code, 1);
    // The race is still the failure reported, at the execution it was found...
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "job-error");
    assert_eq!(failure["execution"], 2);
    // ...but the search ran to its end, and every execution's crash points
    // were tried: the importer killed between its temporary .pyc and the
    // rename leaves that file behind.
    assert_eq!(report["coverage"]["complete"], true);
    let faults = &report["faults"];
    assert_eq!(faults["complete"], true);
    assert_eq!(faults["tried"], report["ops_executed"]);
    assert!(faults["unrecoverable"].as_u64().unwrap() > 0, "{faults}");
}

/// The rerun is a new process: CPython's temporary `.pyc` names (built from
/// `id(path)`, an address) differ from the killed run's, so the rerun
/// writes the bytecode the killed run left half-made, beside the stale
/// temporary file instead of stumbling on it.
#[test]
fn the_rerun_is_a_new_process_with_other_temporary_names() {
    use prefixrace::internals::fs::FsKind;
    use prefixrace::strategy::builtin_strategy;
    use std::sync::Arc;
    let root = cli_support::root();
    let scenario = prefixrace::scenario::load(&root.join("scenarios/sage-32361.toml")).unwrap();
    let strategy = builtin_strategy("direct-install").unwrap();
    let setup = prefixrace::Setup::new(Arc::new(scenario), strategy.as_ref()).unwrap();
    let (_, report) = explore_crash("scenarios/sage-32361.toml", "direct-install", &[]);
    let token = report["first_failure"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let replayed = prefixrace::replay(&setup, &token, FsKind::Model).unwrap();
    let dir = "lib/python3.9/site-packages/Cython/Build/__pycache__";
    let stale = format!("{dir}/BuildExecutable.cpython-39.pyc.139942233284656");
    let tree = &replayed.trace.tree;
    assert!(
        tree.get(&stale).is_some(),
        "the killed run's temporary stays"
    );
    assert!(
        tree.get(&format!("{dir}/BuildExecutable.cpython-39.pyc"))
            .is_some(),
        "the rerun wrote the bytecode through a temporary name of its own"
    );
    let temporaries = tree
        .iter()
        .filter(|(path, _)| path.starts_with(&format!("{dir}/BuildExecutable.cpython-39.pyc.")))
        .count();
    assert_eq!(temporaries, 1, "the rerun's own temporary was renamed");
}

/// With three jobs, a crash state runs on in every order of the two that
/// go on, not only in the first execution's: the order in which they
/// leave the half-made prefix for good is found, its token replays it, and
/// the counts are complete with every order run (docs/faults.md).
#[test]
fn every_order_of_the_jobs_going_on_after_a_crash_is_run() {
    let scenario = "harness/tests/data/crash/survivor-order.toml";
    let (code, report) = explore_crash(scenario, "direct-install", &["--faults", "crash:all"]);
    assert_eq!(code, 1, "{report}");
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable", "{failure}");
    let crash = &failure["crash"];
    assert_eq!(crash["killed"], "a", "{crash}");
    assert!(
        crash["last_op"]
            .as_str()
            .unwrap()
            .starts_with("rename(\"/p/one.tmp\", \"/p/one\")"),
        "{crash}"
    );
    assert_eq!(failure["diff"][0]["path"], "two", "{failure}");
    let faults = &report["faults"];
    assert_eq!(faults["complete"], true, "{faults}");
    assert_eq!(faults["one_order_after"], false, "{faults}");
    assert_eq!(faults["states_orders_cut"], 0, "{faults}");
    assert!(
        faults["states_all_orders"].as_u64().unwrap() > 0,
        "{faults}"
    );
    // More orders than states: some state ran on in two orders or more.
    assert!(
        faults["orders_run"].as_u64() > faults["states_all_orders"].as_u64(),
        "{faults}"
    );
    replays_the_same(scenario, "direct-install", failure);
    let (_, one) = explore_crash(scenario, "direct-install", &["--jobs", "1"]);
    let (_, two) = explore_crash(scenario, "direct-install", &["--jobs", "2"]);
    assert_eq!(one, two);
    assert_eq!(one["first_failure"]["class"], "unrecoverable", "{one}");
}
