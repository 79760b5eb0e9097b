//! `run --kill` on real processes (issue 18, part 4): a real `cp -Rp` of a
//! small staged tree killed at chosen gated syscalls and rerun, and the same
//! copy behind a `mkdir` lock killed right after taking it. Each real
//! verdict is checked against the model's crash exploration
//! (`explore --faults crash`) of the same package under the matching
//! strategy (staged-copy, locked-staged-copy).
//!
//! The model and GNU cp do not make the same number of calls (cp stats,
//! sets times and ACLs the model leaves out), so points are matched by
//! meaning, not by count: "right after the lock's mkdir" is op 1 of the
//! model's locked copy and the gated call whose trace line is the mkdir of
//! `.lock` for the real one; "mid-copy" is any point of the model's copy
//! (it explores them all) and, for the real cp, its first call, one in the
//! middle and the last but one.

mod gate_support;

use std::path::Path;

use gate_support::{
    first_trace, gate_permitted, model_verdicts, prefixrace, run_one, stderr, stdout, COPY,
    LOCKED_COPY, SITE,
};
use serde_json::Value;

/// The package, as the stage holds it and as the model's scenario declares it.
const FILES: [(&str, &str); 5] = [
    ("M/__init__.py", "NAME = 'M'\n"),
    ("M/a.py", "A = 1\n"),
    ("M/b.py", "B = 2\n"),
    ("M/sub/__init__.py", "\n"),
    ("M/sub/data.txt", "data\n"),
];

fn stage() -> tempfile::TempDir {
    let stage = tempfile::tempdir().unwrap();
    for (path, text) in FILES {
        let p = stage.path().join(SITE).join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    stage
}

/// The model's verdicts on killing the copy of [`FILES`] after each of its
/// ops: `explore --faults crash` under dpor, as JSON.
fn model(strategy: &str) -> Value {
    model_verdicts(&FILES, SITE, strategy, "crash")
}

/// `run` of one command on the stage, one execution, as JSON with its traces.
fn real(prefix: &Path, stage: &Path, command: &str, extra: &[&str]) -> (i32, Value) {
    let (code, report) = run_one(prefix, Some(stage), command, extra);
    // The prefix is put back as it was found, kill and recovery included.
    assert_eq!(std::fs::read_dir(prefix).unwrap().count(), 0);
    (code, report)
}

/// The gated calls of one execution, strace-style.
fn trace(report: &Value) -> Vec<String> {
    first_trace(report)
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_real_cp_killed_mid_copy_is_recovered_by_its_rerun_as_the_model_says() {
    if !gate_permitted() {
        return;
    }
    let model = model("staged-copy");
    assert_eq!(model["verdict"], "pass", "{model}");
    assert_eq!(model["coverage"]["complete"], true);
    let faults = &model["faults"];
    assert_eq!(faults["unrecoverable"], 0, "{faults}");
    assert_eq!(faults["recovered"], faults["distinct"], "{faults}");

    let stage = stage();
    let prefix = tempfile::tempdir().unwrap();
    let (code, plain) = real(prefix.path(), stage.path(), COPY, &[]);
    assert_eq!(code, 0, "{plain}");
    let calls = trace(&plain).len();
    assert!(calls > 20, "{calls}");
    for k in [1, calls / 2, calls - 1] {
        let kill = format!("A@{k}");
        let (code, report) = real(prefix.path(), stage.path(), COPY, &["--kill", &kill]);
        let recovery = &report["recovery"];
        assert_eq!(code, 0, "{kill}: {report:#}");
        assert_eq!(recovery["verdict"], "recovered", "{kill}: {recovery:#}");
        assert_eq!(recovery["after"], k);
        assert_eq!(recovery["reruns"][0]["job"], "A");
        assert_eq!(recovery["reruns"][0]["status"], 0);
        // Killed exactly there: its K-th call is the last it made, the next
        // one never ran.
        let lines = trace(&report);
        assert_eq!(
            lines[k - 1],
            format!("[A] {}", recovery["last"].as_str().unwrap())
        );
        assert!(
            lines[k].starts_with("[A] killed (SIGKILL to its process group) before "),
            "{kill}: {lines:#?}"
        );
        assert!(
            lines[k + 1].starts_with("(rerun) [A] "),
            "{kill}: {lines:#?}"
        );
        assert!(
            recovery["replay"]
                .as_str()
                .unwrap()
                .contains(&format!("--kill {kill} ")),
            "{recovery}"
        );
    }
    // The middle point is inside the package, and its token replays the
    // same kill and recovery.
    let k = calls / 2;
    let kill = format!("A@{k}");
    let (_, first) = real(prefix.path(), stage.path(), COPY, &["--kill", &kill]);
    assert!(
        first["recovery"]["last"]
            .as_str()
            .unwrap()
            .contains(&format!("{SITE}/M")),
        "{}",
        first["recovery"]
    );
    let token = first["recovery"]["token"].as_str().unwrap();
    let (_, again) = real(
        prefix.path(),
        stage.path(),
        COPY,
        &["--kill", &kill, "--token", token],
    );
    assert_eq!(trace(&again), trace(&first));
    assert_eq!(again["recovery"], first["recovery"]);
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_real_mkdir_lock_killed_with_its_holder_makes_the_rerun_fail_as_the_model_says() {
    if !gate_permitted() {
        return;
    }
    let model = model("locked-staged-copy");
    assert_eq!(model["verdict"], "fail", "{model}");
    let failure = &model["first_failure"];
    assert_eq!(failure["class"], "unrecoverable");
    assert_eq!(failure["crash"]["after_ops"], 1, "{failure}");
    let model_last = failure["crash"]["last_op"].as_str().unwrap();
    assert!(
        model_last.starts_with("mkdir(") && model_last.contains("lock"),
        "{model_last}"
    );

    let stage = stage();
    let prefix = tempfile::tempdir().unwrap();
    let (code, plain) = real(prefix.path(), stage.path(), LOCKED_COPY, &[]);
    assert_eq!(code, 0, "{plain}");
    // The lock's mkdir, found in the gate's trace (run by the shell's child
    // `mkdir`, A.1): killing right after it is killing after that many
    // gated calls of A.
    let lines = trace(&plain);
    let k = 1 + lines
        .iter()
        .position(|l| l.starts_with("[A.1] mkdir(\".lock\", 0777) = 0"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(k, 1, "the shell makes no gated call before the lock");
    let kill = format!("A@{k}");
    let (code, report) = real(prefix.path(), stage.path(), LOCKED_COPY, &["--kill", &kill]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["kill"], kill);
    let recovery = &report["recovery"];
    assert_eq!(recovery["verdict"], "unrecoverable", "{recovery:#}");
    assert_eq!(recovery["last"], "mkdir(\".lock\", 0777) = 0");
    let rerun = &recovery["reruns"][0];
    assert_eq!(rerun["status"], 1, "{rerun}");
    assert!(
        rerun["stderr"].as_str().unwrap().contains("File exists"),
        "{rerun}"
    );
    let findings = report["failure"]["findings"].to_string();
    assert!(findings.contains(".lock"), "{findings}");
    assert!(
        report["failure"]["replay"]
            .as_str()
            .unwrap()
            .contains(&format!("--kill {kill} ")),
        "{report}"
    );

    // The text report says it in words, with the rerun's stderr.
    let out = prefixrace()
        .args(["run", "--executions", "1", "--kill", &kill, "--prefix"])
        .arg(prefix.path())
        .arg("--stage")
        .arg(stage.path())
        .args(["--", LOCKED_COPY])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("decisions): unrecoverable"), "{text}");
    assert!(
        text.contains("killed: A after 1 gated syscall (its last: mkdir(\".lock\", 0777) = 0)"),
        "{text}"
    );
    assert!(text.contains("recovery: reran A: exited 1"), "{text}");
    assert!(text.contains("A (rerun) stderr: mkdir: "), "{text}");
    assert!(text.contains("A (rerun) exited with status 1"), "{text}");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn the_other_commands_run_on_after_the_kill_and_only_the_failed_ones_are_rerun() {
    if !gate_permitted() {
        return;
    }
    let stage = stage();
    let prefix = tempfile::tempdir().unwrap();
    let other = r#"mkdir "$PREFIX/share" && echo B > "$PREFIX/share/b""#;
    let out = prefixrace()
        .args(["run", "--scheduler", "serial", "--executions", "1"])
        .args(["--kill", "A@3", "--trace", "--format", "json", "--prefix"])
        .arg(prefix.path())
        .arg("--stage")
        .arg(stage.path())
        .args(["--", COPY, "--", other])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let recovery = &report["recovery"];
    assert_eq!(recovery["verdict"], "recovered", "{recovery:#}");
    // B exited 0: only A is rerun.
    let reruns = recovery["reruns"].as_array().unwrap();
    assert_eq!(reruns.len(), 1, "{recovery}");
    assert_eq!(reruns[0]["job"], "A");
    // Serially A goes first; killed after its third call, B runs on.
    let lines = trace(&report);
    assert!(
        lines[..3].iter().all(|l| l.starts_with("[A] ")),
        "{lines:#?}"
    );
    assert!(lines[3].starts_with("[A] killed "), "{lines:#?}");
    assert!(lines[4].starts_with("[B"), "{lines:#?}");
    let first_rerun = lines.iter().position(|l| l.starts_with("(rerun)")).unwrap();
    assert!(
        lines[4..first_rerun].iter().all(|l| l.starts_with("[B")),
        "{lines:#?}"
    );
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_rerun_waiting_for_ever_on_the_killed_holders_lock_is_unrecoverable_at_the_timeout() {
    if !gate_permitted() {
        return;
    }
    // The model's locked copy waits for the lock (it does not fail on it):
    // its rerun after a kill right after the mkdir never ends.
    let stage = stage();
    let prefix = tempfile::tempdir().unwrap();
    let waiting = r#"until mkdir "$PREFIX/.lock" 2>/dev/null; do :; done; cp -Rp "$STAGE/." "$PREFIX" && rmdir "$PREFIX/.lock""#;
    let (code, report) = real(
        prefix.path(),
        stage.path(),
        waiting,
        &["--kill", "A@1", "--timeout", "2"],
    );
    assert_eq!(code, 1, "{report:#}");
    let recovery = &report["recovery"];
    assert_eq!(recovery["verdict"], "unrecoverable", "{recovery:#}");
    let rerun = &recovery["reruns"][0];
    assert_eq!(rerun["status"], 137, "{rerun}");
    let said = rerun["stderr"].as_str().unwrap();
    assert!(
        said.contains("the rerun did not finish within 2 s"),
        "{said}"
    );
    assert!(
        said.contains("its last gated syscall: mkdir(\".lock\", 0777) = -1 EEXIST"),
        "{said}"
    );
    assert!(
        recovery["replay"]
            .as_str()
            .unwrap()
            .contains("--kill A@1 --timeout 2 "),
        "{recovery}"
    );
}
