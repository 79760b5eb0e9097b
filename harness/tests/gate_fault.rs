//! `run --fault` and `run --faults` on real processes (issue 18, part 4):
//! faults injected into the real syscalls of a real `cp -Rp` and a real
//! Python importer. ENOSPC and EIO on cp's write make cp print GNU's own
//! error line and exit 1, and its rerun recovers; EINTR and a short write
//! are taken in cp's stride (`safe_write`, `full_write`); CPython swallows
//! ENOSPC on its `.pyc` write. The seeded plan strikes the same call for
//! the same seed, and its replay line strikes it again. The model's
//! verdict for each fault on the same copy (`explore --faults FAULT`)
//! matches the gate's on a write.

mod gate_support;

use std::path::{Path, PathBuf};

use gate_support::{
    first_trace, gate_permitted, model_verdicts, prefixrace, python, run_one, stderr, stdout, COPY,
    SITE, STAGED,
};
use serde_json::Value;

fn stage() -> tempfile::TempDir {
    let stage = tempfile::tempdir().unwrap();
    for (path, text) in STAGED {
        let p = stage.path().join(SITE).join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    stage
}

/// A fresh prefix, by its canonical path (the one cp prints).
fn prefix() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let canonical = dir.path().canonicalize().unwrap();
    (dir, canonical)
}

/// `run` of one command, one execution, as JSON with its trace; returns
/// the exit status and the report.
fn real(prefix: &Path, stage: Option<&Path>, command: &str, extra: &[&str]) -> (i32, Value) {
    run_one(prefix, stage, command, extra)
}

/// The trace of the report's first execution.
fn trace(report: &Value) -> Vec<String> {
    first_trace(report)
}

/// How many gated calls of the job come before the first trace line that
/// holds every one of `parts`, plus one: a fault point right after that call.
fn after_line(lines: &[String], parts: &[&str]) -> usize {
    1 + lines
        .iter()
        .position(|l| parts.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no {parts:?} in {lines:#?}"))
}

/// cp struck by `fault` on its write of `M/a.py`: the report.
fn cp_struck_on_a_write(fault: &str) -> (i32, Value, PathBuf) {
    let stage = stage();
    let (_dir, prefix) = prefix();
    let (code, plain) = real(&prefix, Some(stage.path()), COPY, &[]);
    assert_eq!(code, 0, "{plain}");
    // After cp's openat of M/a.py (and its fstat) comes its write.
    let k = after_line(
        &trace(&plain),
        &[&format!("[A] openat(\"{SITE}/M/a.py\", O_WRONLY")],
    );
    let point = format!("A@{k}:{fault}");
    let (code, report) = real(&prefix, Some(stage.path()), COPY, &["--fault", &point]);
    let recovery = &report["recovery"];
    assert_eq!(recovery["asked"], point, "{recovery:#}");
    let struck = recovery["struck"].as_str().unwrap();
    assert!(
        struck.starts_with(&format!("write(<{SITE}/M/a.py>, 6) = ")),
        "{fault}: {struck}"
    );
    // The point printed is the call struck: replaying it strikes it again.
    let actual = recovery["fault"].as_str().unwrap();
    assert_eq!(actual, format!("A@{}:{fault}", recovery["after"]));
    assert!(
        recovery["replay"]
            .as_str()
            .unwrap()
            .contains(&format!("--fault {actual} ")),
        "{recovery}"
    );
    let lines = trace(&report);
    let at = recovery["after"].as_u64().unwrap() as usize;
    assert_eq!(
        lines[at],
        format!("[A] {fault} struck {struck}"),
        "{lines:#?}"
    );
    assert_eq!(std::fs::read_dir(&prefix).unwrap().count(), 0);
    (code, report, prefix)
}

/// An errno fault on cp's write: GNU's error line, exit 1, a rerun that
/// recovers.
fn cp_fails_on_its_write_and_recovers(fault: &str, errno: &str, message: &str) {
    let (code, report, prefix) = cp_struck_on_a_write(fault);
    let recovery = &report["recovery"];
    assert_eq!(code, 0, "{report:#}");
    assert!(
        recovery["struck"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" = -1 {errno}")),
        "{recovery}"
    );
    let cp = &recovery["ended"][0];
    assert_eq!(cp["status"], 1, "{cp}");
    assert_eq!(
        cp["stderr"],
        format!(
            "cp: error writing '{}/./{SITE}/M/a.py': {message}\n",
            prefix.display()
        )
    );
    assert_eq!(recovery["verdict"], "recovered", "{recovery:#}");
    assert_eq!(recovery["reruns"][0]["job"], "A");
    assert_eq!(recovery["reruns"][0]["status"], 0);
    assert_eq!(report["verdict"], "pass");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn cp_struck_by_enospc_on_a_write_says_no_space_exits_1_and_its_rerun_recovers() {
    if !gate_permitted() {
        return;
    }
    cp_fails_on_its_write_and_recovers("enospc", "ENOSPC", "No space left on device");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn cp_struck_by_eio_on_a_write_says_input_output_error_and_its_rerun_recovers() {
    if !gate_permitted() {
        return;
    }
    cp_fails_on_its_write_and_recovers("eio", "EIO", "Input/output error");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn cp_takes_eintr_and_a_short_write_in_its_stride_and_the_prefix_is_the_reference() {
    if !gate_permitted() {
        return;
    }
    for (fault, result) in [("eintr", "-1 EINTR"), ("short-write", "3")] {
        let (code, report, _) = cp_struck_on_a_write(fault);
        let recovery = &report["recovery"];
        assert_eq!(code, 0, "{fault}: {report:#}");
        assert!(
            recovery["struck"]
                .as_str()
                .unwrap()
                .ends_with(&format!(" = {result}")),
            "{fault}: {recovery}"
        );
        assert_eq!(recovery["ended"][0]["status"], 0, "{fault}: {recovery}");
        assert_eq!(recovery["ended"][0]["stderr"], "", "{fault}: {recovery}");
        assert_eq!(recovery["reruns"].as_array().unwrap().len(), 0, "{fault}");
        assert_eq!(recovery["verdict"], "survived", "{fault}: {recovery}");
        assert_eq!(report["verdict"], "pass", "{fault}");
        // cp called again: its next call is a write of the same file (the
        // same bytes after EINTR, the rest after a short write).
        assert!(report["failure"].is_null(), "{fault}");
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_python_importer_struck_by_enospc_on_its_pyc_write_never_fails() {
    if !gate_permitted() {
        return;
    }
    let py = python();
    let (_dir, prefix) = prefix();
    std::fs::create_dir(prefix.join("M")).unwrap();
    std::fs::write(prefix.join("M/__init__.py"), "NAME = 'M'\n").unwrap();
    let importer =
        format!("PYTHONPATH=\"$PREFIX\" exec env -u PYTHONDONTWRITEBYTECODE {py} -c 'import M'");
    let (code, plain) = real(&prefix, None, &importer, &[]);
    assert_eq!(code, 0, "{plain}");
    // After CPython's openat of its temporary .pyc comes its write.
    let k = after_line(
        &trace(&plain),
        &["[A] openat(\"M/__pycache__/", ".pyc.~", "O_CREAT"],
    );
    let point = format!("A@{k}:enospc");
    let (code, report) = real(&prefix, None, &importer, &["--fault", &point]);
    let recovery = &report["recovery"];
    let struck = recovery["struck"].as_str().unwrap();
    assert!(
        struck.starts_with("write(<M/__pycache__/__init__.") && struck.contains(".pyc.~>"),
        "{struck}"
    );
    assert!(struck.ends_with(" = -1 ENOSPC"), "{struck}");
    // CPython unlinks its temporary file and imports from the source.
    assert_eq!(recovery["ended"][0]["status"], 0, "{recovery}");
    assert_eq!(recovery["ended"][0]["stderr"], "", "{recovery}");
    assert_eq!(recovery["reruns"].as_array().unwrap().len(), 0);
    assert_eq!(recovery["verdict"], "survived", "{recovery:#}");
    // Only the .pyc is missing, which is no difference (as in the model:
    // the next import writes it) unless bytecode is compared strictly.
    assert_eq!((code, &report["verdict"]), (0, &Value::from("pass")));
    let (code, strict) = real(
        &prefix,
        None,
        &importer,
        &["--fault", &point, "--strict-pycache"],
    );
    assert_eq!(code, 1, "{strict:#}");
    let findings = strict["failure"]["findings"].to_string();
    assert!(
        findings.contains("__pycache__/__init__.") && findings.contains(".pyc"),
        "{findings}"
    );
    assert_eq!(strict["recovery"]["ended"][0]["status"], 0);
    // The prefix is put back as it was found.
    let left: Vec<_> = std::fs::read_dir(prefix.join("M")).unwrap().collect();
    assert_eq!(left.len(), 1);
}

/// `run --faults KINDS --seed SEED` of the copy, as JSON with its traces,
/// with `extra` options.
fn planned(prefix: &Path, stage: &Path, seed: &str, extra: &[&str]) -> (i32, String) {
    let out = prefixrace()
        .args([
            "run",
            "--executions",
            "2",
            "--seed",
            seed,
            "--trace",
            "--format",
            "json",
        ])
        .args(["--faults", "enospc,eio,eintr,short-write", "--prefix"])
        .arg(prefix)
        .arg("--stage")
        .arg(stage)
        .args(extra)
        .args(["--", COPY])
        .output()
        .unwrap();
    (out.status.code().unwrap(), stdout(&out))
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn the_seeded_plan_strikes_the_same_call_for_the_same_seed_and_its_replay_line_strikes_it_again() {
    if !gate_permitted() {
        return;
    }
    let stage = stage();
    let (_dir, prefix) = prefix();
    let mut struck_seeds = 0;
    for seed in ["0", "1", "2", "3"] {
        let (code, first) = planned(&prefix, stage.path(), seed, &[]);
        let (again_code, again) = planned(&prefix, stage.path(), seed, &[]);
        assert_eq!((code, &first), (again_code, &again), "seed {seed}");
        let report: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(report["faults"].as_array().unwrap().len(), 4);
        if report["recovery"].is_null() {
            assert_eq!(report["fault_struck"], false, "{report:#}");
            assert!(report["fault"].is_null());
            continue;
        }
        struck_seeds += 1;
        let recovery = &report["recovery"];
        let point = recovery["fault"].as_str().unwrap();
        assert_eq!(report["fault"], point);
        // The tool saw the fault: the errno, or half the bytes.
        let struck = recovery["struck"].as_str().unwrap();
        let (call, result) = struck.rsplit_once(" = ").unwrap();
        let errno = match point.rsplit_once(':').unwrap().1 {
            "enospc" => "-1 ENOSPC",
            "eio" => "-1 EIO",
            "eintr" => "-1 EINTR",
            _ => "",
        };
        if errno.is_empty() {
            let count: u64 = call
                .trim_end_matches(')')
                .rsplit(", ")
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(result, (count / 2).to_string(), "{struck}");
        } else {
            assert_eq!(result, errno, "{struck}");
        }
        // Its replay line strikes the same call, with the same outcome.
        let replay = recovery["replay"].as_str().unwrap();
        assert!(replay.contains(&format!("--fault {point} ")), "{replay}");
        let token = recovery["token"].as_str().unwrap();
        let execution = replay
            .split("--execution ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap();
        let (_, replayed) = real(
            &prefix,
            Some(stage.path()),
            COPY,
            &[
                "--fault",
                point,
                "--seed",
                seed,
                "--execution",
                execution,
                "--token",
                token,
            ],
        );
        assert_eq!(
            replayed["recovery"]["struck"], recovery["struck"],
            "seed {seed}"
        );
        assert_eq!(replayed["recovery"]["fault"], point);
        assert_eq!(replayed["recovery"]["verdict"], recovery["verdict"]);
    }
    assert!(struck_seeds >= 2, "{struck_seeds} of 4 seeds struck a call");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_fault_that_strikes_nothing_is_never_claimed() {
    if !gate_permitted() {
        return;
    }
    let (_dir, prefix) = prefix();
    let mkdir = r#"mkdir "$PREFIX/a""#;
    // A plan of short writes on a command that writes nothing.
    let out = prefixrace()
        .args([
            "run",
            "--executions",
            "1",
            "--faults",
            "short-write",
            "--prefix",
        ])
        .arg(&prefix)
        .args(["--", mkdir])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("A@0:short-write: A made no call short-write strikes"),
        "{text}"
    );
    assert!(text.contains("nothing was struck"), "{text}");
    assert!(!text.contains("replay:"), "{text}");
    // An explicit point past the job's last call: one line, exit 2.
    let out = prefixrace()
        .args([
            "run",
            "--executions",
            "1",
            "--fault",
            "A@5:enospc",
            "--prefix",
        ])
        .arg(&prefix)
        .args(["--", mkdir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--fault A@5:enospc: A made 1 gated syscalls"),
        "{err}"
    );
    assert!(err.contains("nothing was struck"), "{err}");
}

/// The model's verdict on striking the copy of [`STAGED`] (staged-copy)
/// with `fault` at every op it strikes: `explore --faults FAULT` under
/// dpor, as JSON.
fn model(fault: &str) -> Value {
    model_verdicts(&STAGED, SITE, "staged-copy", fault)
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn the_models_verdict_for_each_fault_on_the_copy_matches_the_gates_on_a_real_write() {
    if !gate_permitted() {
        return;
    }
    for fault in ["enospc", "eio", "eintr", "short-write"] {
        // The model strikes every op the fault strikes, writes included;
        // all of them end one way.
        let model = model(fault);
        let faults = &model["faults"];
        assert_eq!(model["verdict"], "pass", "{fault}: {model}");
        assert_eq!(faults["complete"], true, "{fault}: {faults}");
        assert_eq!(faults["unrecoverable"], 0, "{fault}: {faults}");
        let tried = faults["tried"].as_u64().unwrap();
        let survived = faults["survived"].as_u64().unwrap();
        assert!(tried > 0, "{fault}: {faults}");
        let model_verdict = match survived {
            0 => "recovered",
            s if s == tried => "survived",
            _ => panic!("{fault}: the model's points end in different ways: {faults}"),
        };
        let (code, report, _) = cp_struck_on_a_write(fault);
        assert_eq!(code, 0, "{fault}: {report:#}");
        assert_eq!(
            report["recovery"]["verdict"], model_verdict,
            "{fault}: the gate's {:#} against the model's {faults}",
            report["recovery"]
        );
    }
}
