//! `run --faults KINDS:all` on real processes (issue 18, item 4): every
//! crash and fault point of a real `cp -Rp` walked, one execution each,
//! against the model's verdict for the same copy; a locked copy whose
//! first unrecoverable point replays from its printed `--kill` line; the
//! same walk twice, byte for byte; and a walk cut by its budget, never
//! claimed complete.

mod gate_support;

use std::path::Path;
use std::process::Output;

use gate_support::{
    first_trace, gate_permitted, model_verdicts, prefixrace, run_one, run_printed, stage_of,
    stderr, stdout, COPY, LOCKED_COPY, SITE, STAGED,
};
use serde_json::Value;

/// `run --scheduler serial --faults KINDS` of `command` with `extra`.
fn walk(prefix: &Path, stage: &Path, command: &str, kinds: &str, extra: &[&str]) -> Output {
    prefixrace()
        .args(["run", "--scheduler", "serial", "--faults", kinds])
        .args(extra)
        .arg("--prefix")
        .arg(prefix)
        .arg("--stage")
        .arg(stage)
        .args(["--", command])
        .output()
        .unwrap()
}

/// [`walk`] as JSON: the exit status and the report.
fn walk_json(
    prefix: &Path,
    stage: &Path,
    command: &str,
    kinds: &str,
    extra: &[&str],
) -> (i32, Value) {
    let mut extra = extra.to_vec();
    extra.extend(["--format", "json"]);
    let out = walk(prefix, stage, command, kinds, &extra);
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", stderr(&out));
    // The prefix is put back as it was found, every point included.
    assert_eq!(std::fs::read_dir(prefix).unwrap().count(), 0);
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn number(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The walk's counts add up to the points walked.
fn counts_add_up(w: &Value) {
    let sum: u64 = ["recovered", "survived", "unrecoverable", "not_reached"]
        .iter()
        .map(|k| number(&w[k]))
        .sum();
    assert_eq!(sum, number(&w["walked"]), "{w:#}");
}

/// How many points of `kind` the report's walk counted.
fn points_of(report: &Value, kind: &str) -> u64 {
    let by_kind = report["walk_reference"]["points"].as_array().unwrap();
    number(
        &by_kind
            .iter()
            .find(|k| k["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {by_kind:?}"))["points"],
    )
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn every_crash_and_enospc_point_of_a_real_copy_is_walked_and_recovers_as_the_model_says() {
    if !gate_permitted() {
        return;
    }
    // The model: every crash and ENOSPC state of the staged copy is
    // recovered by a rerun, none survives without one, none is lost.
    let model = model_verdicts(&STAGED, SITE, "staged-copy", "crash,enospc");
    let faults = &model["faults"];
    assert_eq!(model["verdict"], "pass", "{model}");
    assert_eq!(faults["complete"], true, "{faults}");
    assert_eq!(faults["unrecoverable"], 0, "{faults}");
    assert_eq!(faults["survived"], 0, "{faults}");
    assert!(number(&faults["tried"]) > 0, "{faults}");

    // The points, counted apart from the walk: one crash point per gated
    // call of cp, one ENOSPC point per directory or file it creates and
    // per file it writes (each file is one short write).
    let stage = stage_of(SITE, &STAGED);
    let prefix = tempfile::tempdir().unwrap();
    let (code, plain) = run_one(prefix.path(), Some(stage.path()), COPY, &[]);
    assert_eq!(code, 0, "{plain:#}");
    let trace = first_trace(&plain);
    let calls = trace.iter().filter(|l| l.starts_with("[A")).count() as u64;
    let creates = trace
        .iter()
        .filter(|l| l.contains("mkdir") || l.contains("O_CREAT"))
        .count() as u64;
    assert_eq!(creates, 5 + STAGED.len() as u64, "{trace:#?}");

    let (code, report) = walk_json(prefix.path(), stage.path(), COPY, "crash,enospc:all", &[]);
    let w = &report["walk"];
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(w["kinds"], serde_json::json!(["crash", "enospc"]));
    assert_eq!(points_of(&report, "crash"), calls, "{report:#}");
    assert_eq!(
        points_of(&report, "enospc"),
        creates + STAGED.len() as u64,
        "{report:#}"
    );
    assert_eq!(number(&w["points"]), calls + creates + STAGED.len() as u64);
    assert_eq!(w["walked"], w["points"], "{w:#}");
    assert_eq!(w["complete"], true, "{w:#}");
    counts_add_up(w);
    assert_eq!(w["not_reached"], 0, "{report:#}");
    // The gate agrees with the model, point by point in kind: all recovered.
    assert_eq!(w["unrecoverable"], faults["unrecoverable"], "{report:#}");
    assert_eq!(w["survived"], faults["survived"], "{report:#}");
    assert_eq!(w["recovered"], w["points"], "{report:#}");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["not_passed"], serde_json::json!([]));
    assert!(report["first_unrecoverable"].is_null());
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_locked_copy_is_unrecoverable_after_its_lock_and_the_first_point_replays_from_its_line() {
    if !gate_permitted() {
        return;
    }
    let model = model_verdicts(&STAGED, SITE, "locked-staged-copy", "crash");
    assert!(number(&model["faults"]["unrecoverable"]) > 0, "{model}");

    let stage = stage_of(SITE, &STAGED);
    let prefix = tempfile::tempdir().unwrap();
    let (code, report) = walk_json(prefix.path(), stage.path(), LOCKED_COPY, "crash:all", &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verdict"], "fail");
    let w = &report["walk"];
    assert_eq!(w["complete"], true, "{w:#}");
    counts_add_up(w);
    // Killed before the lock, the rerun starts afresh; killed anywhere
    // after it, the rerun meets the lock and fails: every point but A@0.
    let calls = number(&report["walk_reference"]["gated_syscalls"][0]["calls"]);
    assert_eq!(number(&w["points"]), calls, "{report:#}");
    assert_eq!(w["recovered"], 1, "{w:#}");
    assert_eq!(number(&w["unrecoverable"]), calls - 1, "{w:#}");
    let listed: Vec<&str> = report["not_passed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["point"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..calls).map(|k| format!("A@{k}")).collect();
    assert_eq!(listed, expected, "{report:#}");

    let first = &report["first_unrecoverable"];
    assert_eq!(first["point"], "A@1", "{first:#}");
    assert_eq!(first["verdict"], "unrecoverable");
    assert_eq!(first["last"], "mkdir(\".lock\", 0777) = 0", "{first:#}");
    let line = first["replay"].as_str().unwrap();
    assert!(line.contains(" --kill A@1 "), "{line}");
    assert_eq!(report["not_passed"][0]["replay"], first["replay"]);

    // The printed line replays the point to the same verdict and story.
    let out = run_printed(line, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let replayed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let recovery = &replayed["recovery"];
    assert_eq!(recovery["verdict"], "unrecoverable", "{recovery:#}");
    for key in ["last", "before", "reruns", "token"] {
        assert_eq!(recovery[key], first[key], "{key}: {recovery:#}");
    }
    assert_eq!(replayed["failure"]["findings"], first["findings"]);

    // In words: the compact line, its replay line, the counts and the story.
    let out = walk(prefix.path(), stage.path(), LOCKED_COPY, "crash:all", &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("  A@1 unrecoverable: A (rerun) exited 1: mkdir: "),
        "{text}"
    );
    assert!(text.contains(&format!("    replay: {line}\n")), "{text}");
    assert!(
        text.contains(&format!(
            "FAIL: walked {calls} of {calls} points: 1 recovered, 0 survived, {} unrecoverable, 0 not reached\n",
            calls - 1
        )),
        "{text}"
    );
    assert!(text.contains("first unrecoverable point: A@1\n"), "{text}");
    assert!(text.contains("  recovery: reran A: exited 1\n"), "{text}");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn the_same_walk_twice_gives_byte_identical_json() {
    if !gate_permitted() {
        return;
    }
    let stage = stage_of(SITE, &STAGED);
    let prefix = tempfile::tempdir().unwrap();
    let run = || {
        let out = walk(
            prefix.path(),
            stage.path(),
            LOCKED_COPY,
            "eio,crash:all",
            &["--format", "json"],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        out.stdout
    };
    let once = run();
    let report: Value = serde_json::from_slice(&once).unwrap();
    assert!(number(&report["walk"]["unrecoverable"]) > 0, "{report:#}");
    assert!(points_of(&report, "eio") > 0, "{report:#}");
    assert_eq!(
        String::from_utf8(run()).unwrap(),
        String::from_utf8(once).unwrap()
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_walk_cut_by_its_budget_says_incomplete_and_never_passes() {
    if !gate_permitted() {
        return;
    }
    let stage = stage_of(SITE, &STAGED);
    let prefix = tempfile::tempdir().unwrap();
    let cut = ["--executions", "3"];
    let (code, report) = walk_json(prefix.path(), stage.path(), COPY, "crash,enospc:all", &cut);
    let w = &report["walk"];
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        (&w["walked"], &w["complete"]),
        (&Value::from(3), &Value::from(false))
    );
    assert!(number(&w["points"]) > 3, "{w:#}");
    counts_add_up(w);
    assert_eq!(report["verdict"], "incomplete");

    let out = walk(prefix.path(), stage.path(), COPY, "crash,enospc:all", &cut);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let verdict = format!(
        "INCOMPLETE: walked 3 of {} points: 3 recovered",
        w["points"]
    );
    assert!(text.contains(&verdict), "{text}");
    assert!(!text.contains("PASS"), "{text}");

    // Cut after finding one: exit 1, still incomplete.
    let (code, report) = walk_json(prefix.path(), stage.path(), LOCKED_COPY, "crash:all", &cut);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["walk"]["complete"], false);
    assert_eq!(report["walk"]["unrecoverable"], 2, "A@1 and A@2");
    let out = walk(prefix.path(), stage.path(), LOCKED_COPY, "crash:all", &cut);
    assert!(
        stdout(&out).contains("FAIL: INCOMPLETE: walked 3 of "),
        "{}",
        stdout(&out)
    );

    // A time limit that has passed before the first point: nothing walked.
    let (code, report) = walk_json(
        prefix.path(),
        stage.path(),
        COPY,
        "crash:all",
        &["--time-limit", "0.000001"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["walk"]["walked"], 0);
    assert_eq!(report["walk"]["complete"], false);
}

#[test]
fn bad_walks_are_one_line_on_stderr_and_exit_2() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path().to_str().unwrap();
    for (extra, says) in [
        (vec!["--faults", "crash:every"], "\"every\" is not a mode"),
        (
            vec!["--faults", "crash,boom:all"],
            "--faults crash,boom:all",
        ),
        (vec!["--faults", "crash:all", "--kill", "A@1"], "--kill"),
        (
            vec!["--faults", "crash:all", "--fault", "A@1:eio"],
            "exclude each other",
        ),
        (
            vec![
                "--faults",
                "crash:all",
                "--model",
                "builtin:sage-32361",
                "--token",
                "t1.AA",
            ],
            "--model",
        ),
        (vec!["--faults", "crash:all", "--trace"], "--trace"),
        (vec!["--time-limit", "5"], "--time-limit"),
    ] {
        let out = prefixrace()
            .args(["run", "--prefix", p])
            .args(&extra)
            .args(["--", "true"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_point_the_execution_never_reaches_is_counted_apart_never_claimed() {
    if !gate_permitted() {
        return;
    }
    // The command counts its runs outside the prefix: its second run (the
    // walk's reference execution, after the serial reference) makes three
    // gated calls, every other run one, with the same prefix at the end.
    let outside = tempfile::tempdir().unwrap();
    let count = outside.path().join("runs");
    let command = format!(
        "echo >> '{c}'; if [ \"$(wc -l < '{c}')\" -eq 2 ]; then \
         mkdir \"$PREFIX/a\" && rmdir \"$PREFIX/a\" && mkdir \"$PREFIX/a\"; \
         else mkdir \"$PREFIX/a\"; fi",
        c = count.display()
    );
    let prefix = tempfile::tempdir().unwrap();
    let (code, report) = walk_json(prefix.path(), outside.path(), &command, "crash:all", &[]);
    assert_eq!(code, 0, "{report:#}");
    let w = &report["walk"];
    assert_eq!(w["points"], 3, "{report:#}");
    assert_eq!(w["complete"], true, "{w:#}");
    counts_add_up(w);
    assert_eq!(
        (&w["recovered"], &w["not_reached"]),
        (&Value::from(1), &Value::from(2)),
        "{w:#}"
    );
    let not_passed = report["not_passed"].as_array().unwrap();
    let points: Vec<&Value> = not_passed.iter().map(|p| &p["point"]).collect();
    assert_eq!(points, ["A@1", "A@2"], "{report:#}");
    for p in not_passed {
        assert_eq!(p["verdict"], "not reached", "{p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("A made 1 gated syscalls and exited 0"),
            "{detail}"
        );
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_point_after_which_another_command_waits_for_ever_is_unrecoverable_and_the_walk_goes_on() {
    if !gate_permitted() {
        return;
    }
    // A takes a lock, B waits until it is gone: A killed holding it
    // leaves B spinning until the timeout.
    let holder = r#"mkdir "$PREFIX/.lock" && touch "$PREFIX/a" && rmdir "$PREFIX/.lock""#;
    let waiter = r#"while [ -e "$PREFIX/.lock" ]; do :; done; touch "$PREFIX/b""#;
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--scheduler", "serial", "--timeout", "3"])
        .args(["--faults", "crash:all", "--format", "json", "--prefix"])
        .arg(prefix.path())
        .args(["--", holder, "--", waiter])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = &report["walk"];
    assert_eq!(w["complete"], true, "{w:#}");
    counts_add_up(w);
    let holder_calls = number(&report["walk_reference"]["gated_syscalls"][0]["calls"]);
    // Every point of A while it holds the lock hangs B; the others recover.
    assert_eq!(number(&w["unrecoverable"]), holder_calls - 1, "{report:#}");
    assert_eq!(
        number(&w["recovered"]),
        number(&w["points"]) - (holder_calls - 1)
    );
    let first = &report["first_unrecoverable"];
    assert_eq!(first["point"], "A@1", "{first:#}");
    assert_eq!(first["hang"]["job"], "B", "{first:#}");
    assert!(report["not_passed"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("B did not finish within 3 s"));
    let line = first["replay"].as_str().unwrap();
    assert!(line.contains(" --kill A@1 --timeout 3 "), "{line}");
    // It left no token: the line runs execution 0 of the schedule again,
    // which hangs the same way.
    let replayed = run_printed(line, &[]);
    assert_eq!(replayed.status.code(), Some(1), "{}", stderr(&replayed));
    assert!(
        stdout(&replayed).starts_with("HANG: B did not finish within 3 s in execution 0"),
        "{}",
        stdout(&replayed)
    );
}
