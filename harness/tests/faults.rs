//! `--faults enospc,eio,eintr,short-write` end to end, as a user runs it:
//! every op a fault can strike is struck once, along every execution; the
//! failed jobs are rerun; verdicts replay from their tokens
//! (docs/faults.md).

mod cli_support;

use cli_support::{refused, replays_the_same, run};
use serde_json::Value;

/// `explore SCENARIO --strategy STRATEGY --faults FAULTS --format json`
/// under dpor, with the exit code.
fn explore_faults(scenario: &str, strategy: &str, faults: &str, extra: &[&str]) -> (i32, Value) {
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
        "--faults",
        faults,
    ];
    args.extend(extra);
    let (code, out, err) = run(&args);
    assert!(code == 0 || code == 1, "{args:?}: {code} {err}");
    (code, serde_json::from_str(&out).expect("json report"))
}

#[test]
fn a_full_disk_under_pip_leaves_its_installer_temporary_and_the_token_replays_it() {
    let (code, report) =
        explore_faults("scenarios/sage-32361.toml", "direct-install", "enospc", &[]);
    assert_eq!(code, 1, "{report}");
    let faults = &report["faults"];
    assert_eq!(faults["injected"], "enospc");
    assert!(faults["recovered"].as_u64().unwrap() > 0, "{faults}");
    assert!(faults["unrecoverable"].as_u64().unwrap() > 0, "{faults}");
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable");
    let struck = &failure["crash"];
    assert_eq!(struck["fault"], "enospc");
    assert_eq!(struck["killed"], "pip[Cython]");
    assert!(
        struck["last_op"]
            .as_str()
            .unwrap()
            .ends_with("= -1 ENOSPC (No space left on device)"),
        "{struck}"
    );
    // The rerun succeeds, but pip's temporary INSTALLER file stays.
    assert_eq!(failure["job"], Value::Null, "{failure}");
    let diff = failure["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    let path = diff[0]["path"].as_str().unwrap();
    assert!(
        path.contains(".dist-info/INSTALLER") && path.ends_with(".tmp"),
        "{path}"
    );
    let token = failure["token"].as_str().unwrap();
    assert!(
        token.ends_with(".enospc") && token.contains(".f0."),
        "{token}"
    );
    replays_the_same("scenarios/sage-32361.toml", "direct-install", failure);
}

#[test]
fn a_staged_cp_that_fails_on_a_full_or_broken_disk_is_recovered_by_its_rerun_everywhere() {
    let (code, report) = explore_faults(
        "scenarios/cython-alone.toml",
        "staged-copy",
        "enospc,eio:all",
        &[],
    );
    assert_eq!(code, 0, "{report}");
    let faults = &report["faults"];
    assert_eq!(faults["complete"], true);
    assert!(faults["distinct"].as_u64().unwrap() > 1000, "{faults}");
    assert_eq!(faults["recovered"], faults["distinct"]);
    // cp fails at every one of them (it exits 1 on a failed write or
    // mkdir), so every one needed the rerun.
    assert_eq!(faults["survived"], 0, "{faults}");
    assert_eq!(faults["unrecoverable"], 0);
}

#[test]
fn every_tool_calls_again_after_eintr_and_writes_the_rest_of_a_short_write() {
    for strategy in ["staged-copy", "direct-install", "atomic-rename"] {
        let (code, report) = explore_faults(
            "scenarios/cython-alone.toml",
            strategy,
            "eintr,short-write:all",
            &[],
        );
        assert_eq!(code, 0, "{strategy}: {report}");
        let faults = &report["faults"];
        assert!(faults["distinct"].as_u64().unwrap() > 500, "{faults}");
        // No job failed and no rerun was needed, at any of them.
        assert_eq!(faults["survived"], faults["distinct"], "{strategy}");
    }
}

#[test]
fn a_struck_atomic_rename_leaves_its_temporary_behind() {
    let (code, report) = explore_faults("scenarios/cython-alone.toml", "atomic-rename", "eio", &[]);
    assert_eq!(code, 1, "{report}");
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable");
    assert_eq!(failure["crash"]["fault"], "eio");
}

/// A fault is struck where only what happens before its op has run, so
/// that an op of another job it does not depend on, which the fault-free
/// search always ran first, also runs after it, and meets its reaction
/// (see the fixture). Struck along the search's own order instead, the
/// state the failure needs is never reached and the run passes.
#[test]
fn a_fault_is_struck_before_the_independent_ops_of_other_jobs() {
    let scenario = "harness/tests/fixtures/fault-before-an-independent-op.toml";
    let (code, clean) = explore_faults(scenario, "direct-install", "none", &[]);
    assert_eq!(code, 0, "no race without faults: {clean}");
    let (code, report) = explore_faults(scenario, "direct-install", "enospc", &[]);
    assert_eq!(code, 1, "{report}");
    let failure = &report["first_failure"];
    assert_eq!(failure["class"], "unrecoverable", "{failure}");
    assert_eq!(failure["crash"]["fault"], "enospc", "{failure}");
    assert!(failure["diff"].to_string().contains("stale"), "{failure}");
    assert_eq!(report["faults"]["struck_along_search"], false);
    replays_the_same(scenario, "direct-install", failure);
}

/// uv's unzip directory is a `TempDir` (the kit's `cleanup` step): a
/// write into it that fails removes it as uv's error unwinds, so a full
/// disk anywhere in either locked run is recovered by its rerun, while a
/// kill, which runs no clean-up, leaves the directory and is not.
#[test]
fn a_uv_run_whose_unzip_fails_cleans_up_and_a_killed_one_does_not() {
    let scenario = "scenarios/races/uv-13869-environment-lock.toml";
    let (code, report) = explore_faults(scenario, "direct-install", "enospc", &[]);
    assert_eq!(code, 0, "{report}");
    let faults = &report["faults"];
    assert_eq!(faults["unrecoverable"], 0, "{faults}");
    assert!(faults["recovered"].as_u64().unwrap() > 0, "{faults}");
    let (code, report) = explore_faults(scenario, "direct-install", "crash", &[]);
    assert_eq!(code, 1, "{report}");
    let diff = report["first_failure"]["diff"].to_string();
    assert!(diff.contains(".tmp"), "{diff}");
}

#[test]
fn fault_reports_are_the_same_with_one_thread_or_two() {
    let faults = "enospc,short-write";
    let one = explore_faults(
        "scenarios/sage-32361.toml",
        "atomic-rename",
        faults,
        &["--jobs", "1"],
    );
    let two = explore_faults(
        "scenarios/sage-32361.toml",
        "atomic-rename",
        faults,
        &["--jobs", "2"],
    );
    assert_eq!(one, two);
}

/// A short write is two calls in the trace, the first half then the rest,
/// and the file ends whole.
#[test]
fn a_short_write_replays_as_two_writes_of_the_halves() {
    use prefixrace::crash::{FaultPoint, Injection};
    use prefixrace::fault::Fault;
    use prefixrace::internals::fs::FsKind;
    use prefixrace::internals::op::{Op, Value as OpValue};
    use prefixrace::internals::schedule::SerialScheduler;
    use prefixrace::internals::Schedule;
    use prefixrace::strategy::builtin_strategy;
    use std::sync::Arc;
    let root = cli_support::root();
    let scenario = prefixrace::scenario::load(&root.join("scenarios/cython-alone.toml")).unwrap();
    let strategy = builtin_strategy("staged-copy").unwrap();
    let setup = prefixrace::Setup::new(Arc::new(scenario), strategy.as_ref()).unwrap();
    // The serial run: where is cp's first write of more than one byte?
    let serial = |ops: usize| Schedule {
        choices: vec![0; ops],
    };
    let mut fs = prefixrace::internals::ModelFs::new();
    let ops = setup
        .run(&mut fs, &mut SerialScheduler, false)
        .schedule
        .choices
        .len();
    let plain = prefixrace::replay(&setup, &serial(ops).token(), FsKind::Model).unwrap();
    let (after_ops, size) = plain
        .trace
        .events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match &e.op {
            Op::Write { blob, .. } if blob.len() >= 2 => Some((i, blob.len())),
            _ => None,
        })
        .unwrap();
    let point = Injection::Fault(FaultPoint {
        job: 0,
        after_ops,
        fault: Fault::ShortWrite,
    });
    // One call more: the rest of the short write.
    let token = point.token(&serial(ops + 1).token());
    let struck = prefixrace::replay(&setup, &token, FsKind::Model).unwrap();
    assert!(struck.failure.is_none(), "cp writes the rest and succeeds");
    let writes: Vec<_> = struck.trace.events[after_ops..after_ops + 2]
        .iter()
        .map(|e| match (&e.op, &e.result) {
            (Op::Write { blob, .. }, Ok(OpValue::Written(n))) => (blob.len(), *n),
            other => panic!("not a write: {other:?}"),
        })
        .collect();
    assert_eq!(
        writes,
        [(size / 2, size / 2), (size - size / 2, size - size / 2)]
    );
    assert_eq!(struck.trace.tree, plain.trace.tree);
}

/// The token of cython-alone's serial run under staged-copy.
fn serial_token() -> String {
    use prefixrace::internals::schedule::SerialScheduler;
    use prefixrace::strategy::builtin_strategy;
    use std::sync::Arc;
    let root = cli_support::root();
    let scenario = prefixrace::scenario::load(&root.join("scenarios/cython-alone.toml")).unwrap();
    let strategy = builtin_strategy("staged-copy").unwrap();
    let setup = prefixrace::Setup::new(Arc::new(scenario), strategy.as_ref()).unwrap();
    let mut fs = prefixrace::internals::ModelFs::new();
    setup
        .run(&mut fs, &mut SerialScheduler, false)
        .schedule
        .token()
}

#[test]
fn bad_fault_input_is_refused_with_one_line() {
    let replay = [
        "replay",
        "scenarios/cython-alone.toml",
        "--strategy",
        "staged-copy",
    ];
    // cp's first op is not one eio strikes.
    refused(
        &[
            &replay[..],
            &["--token", &format!("{}.f0.0.eio", serial_token())],
        ]
        .concat(),
        &["--token", "strikes nothing"],
    );
    refused(
        &[&replay[..], &["--token", "t1.AA.f0.0.enospc2"]].concat(),
        &["--token", "neither"],
    );
    refused(
        &[
            "explore",
            "scenarios/cython-alone.toml",
            "--faults",
            "eio",
            "--fs",
            "real",
        ],
        &["--faults eio runs on the model"],
    );
}

/// The same from `cargo test`, through the library's [`Check`].
#[test]
fn check_with_faults_proves_the_staged_cp_and_finds_the_atomic_renames_leftover() {
    use prefixrace::crash::Faults;
    use prefixrace::fault::Fault;
    use prefixrace::Check;
    let scenario = cli_support::root().join("scenarios/cython-alone.toml");
    let faults = Faults::NONE
        .with(Fault::NoSpace)
        .with(Fault::Io)
        .with(Fault::Interrupted);
    let report = Check::scenario(&scenario)
        .strategy("staged-copy")
        .faults(faults)
        .no_regressions()
        .prove();
    assert!(report.is_proof());
    // Points not all tried, or states whose other jobs' orders the time
    // limit cut, make neither a pass nor a proof.
    for cut in [
        |f: &mut prefixrace::crash::FaultCounts| f.complete = false,
        |f: &mut prefixrace::crash::FaultCounts| f.one_order_after = true,
    ] {
        let mut cut_short = report.clone();
        cut(cut_short.exploration.faults.as_mut().unwrap());
        assert_eq!(
            cut_short.exploration.verdict(),
            prefixrace::Verdict::Incomplete
        );
        assert!(!cut_short.is_proof());
    }
    let failure = Check::scenario(&scenario)
        .strategy("atomic-rename")
        .scheduler("dpor")
        .faults(faults)
        .no_regressions()
        .find_race()
        .expect("a struck write leaves atomic-rename's temporary file");
    assert_eq!(failure.explained.class, "unrecoverable");
    assert!(failure.token.contains(".f0."), "{}", failure.token);
}

/// A fault or crash state after which two or more jobs go on (for a
/// fault, the struck job counts: it goes on, reacting to the fault) runs
/// on in every order of theirs, so complete counts are a proof. A crash
/// with two jobs leaves one, with one order only: no state runs in more.
#[test]
fn fault_states_run_on_in_every_order_of_the_jobs_going_on() {
    let scenario = "scenarios/races/spack-13100-prefix-lock.toml";
    let (code, many) = explore_faults(scenario, "direct-install", "enospc", &[]);
    assert_eq!(code, 0, "{many}");
    let faults = &many["faults"];
    assert_eq!(faults["complete"], true);
    assert_eq!(faults["one_order_after"], false, "{faults}");
    assert_eq!(faults["states_orders_cut"], 0, "{faults}");
    assert!(
        faults["states_all_orders"].as_u64().unwrap() > 0,
        "{faults}"
    );
    let (_, out, _) = run(&[
        "explore",
        scenario,
        "--strategy",
        "direct-install",
        "--scheduler",
        "dpor",
        "--faults",
        "enospc",
    ]);
    // Struck beside another job, each op as early as it can run: every
    // order after it is tried, and the report says no reduction.
    assert_eq!(faults["struck_along_search"], false, "{faults}");
    assert!(
        out.contains(" 0 unrecoverable\n") && !out.contains("a reduction, not a proof"),
        "{out}"
    );
    let (_, crash) = explore_faults(scenario, "direct-install", "crash", &[]);
    assert_eq!(crash["faults"]["one_order_after"], false, "{crash}");
    assert_eq!(crash["faults"]["states_all_orders"], 0, "{crash}");
    assert_eq!(crash["faults"]["orders_run"], 0, "{crash}");
    assert_eq!(crash["faults"]["struck_along_search"], false, "{crash}");
}
