//! From the model to the real tools (issue 14, part 3): real commands are
//! recorded (`record run`), the recorded scenario is explored on the model,
//! and the model's failing token drives the same real commands along the
//! same schedule (`run --model SCENARIO --token T`), which then fail with the
//! real tool's own message. Checked for cp against python3 (SageMath 32361)
//! and two pips of one wheel (SageMath 33060), each three times with
//! byte-identical reports.

mod gate_support;

use std::path::Path;

use gate_support::*;

/// True when `record run` can trace here; in CI (`CI` set) it must.
fn strace_available() -> bool {
    let ok = std::process::Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "CI must have strace for the model-to-real tests"
    );
    ok
}

/// `prefixrace record run --prefix PREFIX [--import M] -o OUT -- ARGV...`,
/// each argv after its own `--`.
fn record(prefix: &Path, import: Option<&str>, out: &Path, commands: &[Vec<String>]) {
    let mut cmd = prefixrace();
    cmd.args(["record", "run", "--prefix"]).arg(prefix);
    if let Some(m) = import {
        cmd.args(["--import", m]);
    }
    cmd.arg("-o").arg(out);
    for c in commands {
        cmd.arg("--").args(c);
    }
    let o = cmd.env_remove("PYTHONDONTWRITEBYTECODE").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "record run: {}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(prefix).unwrap().count(),
        0,
        "record run puts the prefix back as it found it"
    );
}

/// The model's first failing token for `scenario` under auto.
fn model_token(scenario: &Path) -> String {
    let o = prefixrace()
        .args(["explore"])
        .arg(scenario)
        .args(["--strategy", "direct-install", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "the model finds the race: {}",
        stdout(&o)
    );
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    j["first_failure"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token in {j}"))
        .to_string()
}

/// `run --model` three times: the same report each time; returns it.
fn follow(
    prefix: &Path,
    stage: Option<&Path>,
    scenario: &Path,
    token: &str,
    commands: &[String],
) -> String {
    let mut reports = Vec::new();
    for _ in 0..3 {
        let mut cmd = prefixrace();
        cmd.args(["run", "--prefix"]).arg(prefix);
        if let Some(s) = stage {
            cmd.arg("--stage").arg(s);
        }
        cmd.arg("--model")
            .arg(scenario)
            .args(["--token", token, "--fail-on", "^ERROR"]);
        for c in commands {
            cmd.args(["--", c]);
        }
        let o = cmd.output().unwrap();
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
        reports.push(out);
    }
    assert_eq!(reports[0], reports[1], "the same token, the same real run");
    assert_eq!(reports[0], reports[2], "the same token, the same real run");
    assert_eq!(
        std::fs::read_dir(prefix).unwrap().count(),
        0,
        "run puts the prefix back"
    );
    reports.remove(0)
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_model_token_of_a_recorded_copy_makes_the_real_cp_fail_against_python() {
    if !gate_permitted() || !strace_available() {
        return;
    }
    let python = python();
    let site = site_packages(&python);
    let stage = staging_tree(&python, &site);
    let prefix = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("copy.toml");
    let cp = vec![
        "cp".to_string(),
        "-Rp".into(),
        format!("{}/.", stage.path().display()),
        prefix.path().display().to_string(),
    ];
    record(prefix.path(), Some("M"), &scenario, &[cp]);
    let token = model_token(&scenario);
    let importer = format!(
        "PYTHONPATH=\"$PREFIX/{site}\" exec env -u PYTHONDONTWRITEBYTECODE {python} -c 'import M'"
    );
    let report = follow(
        prefix.path(),
        Some(stage.path()),
        &scenario,
        &token,
        &[staged_copy(), importer],
    );
    assert!(
        report.contains("REPRODUCED: the real commands fail"),
        "{report}"
    );
    assert!(
        report.contains("real:  A exited 1: cp: cannot create directory '")
            && report.contains("/M/__pycache__': File exists"),
        "the real cp's own words: {report}"
    );
    assert!(report.contains("first difference: none"), "{report}");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_model_token_of_two_recorded_pips_makes_the_real_pip_fail() {
    if !gate_permitted() || !strace_available() {
        return;
    }
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel_with_extension(dir.path());
    let prefix = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("pips.toml");
    let pip = |prefix: &str| {
        format!(
            "exec {python} -m pip install --no-deps --no-index --isolated --disable-pip-version-check --no-compile --prefix {prefix} {}",
            wheel.display()
        )
    };
    let recorded = pip(&prefix.path().display().to_string());
    let argv = vec!["sh".to_string(), "-c".into(), recorded];
    record(prefix.path(), None, &scenario, &[argv.clone(), argv]);
    let token = model_token(&scenario);
    let real = pip("\"$PREFIX\"");
    let report = follow(
        prefix.path(),
        None,
        &scenario,
        &token,
        &[real.clone(), real],
    );
    assert!(
        report.contains("REPRODUCED: the real commands fail"),
        "{report}"
    );
    assert!(
        report.contains("ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: '"),
        "the real pip's own words: {report}"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_model_with_other_jobs_than_the_commands_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let o = prefixrace()
        .args(["run", "--prefix"])
        .arg(prefix.path())
        .args([
            "--model",
            "builtin:sage-32361",
            "--token",
            "t1.AA",
            "--",
            "true",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("must match the commands one to one"), "{err}");
}
