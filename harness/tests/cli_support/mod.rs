//! Running the `prefixrace` binary as a user would, shared by the command
//! line's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The workspace's root: where `scenarios/` is and where commands run.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `prefixrace` binary, run from the workspace root.
pub fn prefixrace() -> Command {
    let mut c = Command::cargo_bin("prefixrace").unwrap();
    c.current_dir(root());
    c
}

/// Runs `prefixrace ARGS` with `env` set (and `NO_COLOR` unset, so the
/// colour rules are the binary's own); returns the exit code (-1 if killed
/// by a signal), standard output and standard error.
pub fn run_with(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = prefixrace();
    c.args(args).env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `prefixrace ARGS`; see [`run_with`].
pub fn run(args: &[&str]) -> (i32, String, String) {
    run_with(args, &[])
}

/// Runs `prefixrace ARGS` and checks the contract for refused input: exit
/// 2, exactly one line on stderr, containing every one of `expected`;
/// returns that line.
pub fn refused(args: &[&str], expected: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 2, "{args:?}: stdout {out} stderr {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    for e in expected {
        assert!(err.contains(e), "{args:?}: {e:?} in {err}");
    }
    err
}

/// Replays the token of `failure` (a JSON report's `first_failure`) with
/// `prefixrace replay SCENARIO --strategy STRATEGY --format json` and
/// checks that the same failure comes back, field by field: exit 1, and
/// the same class, story, diff, crash, errors and op count.
pub fn replays_the_same(scenario: &str, strategy: &str, failure: &serde_json::Value) {
    let token = failure["token"].as_str().expect("a token");
    let (code, out, err) = run(&[
        "replay",
        scenario,
        "--strategy",
        strategy,
        "--token",
        token,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let replayed: serde_json::Value = serde_json::from_str(&out).expect("json report");
    let again = &replayed["first_failure"];
    for field in ["class", "story", "diff", "crash", "errors", "ops"] {
        assert_eq!(again[field], failure[field], "{field}");
    }
}

/// The lines of an `strace -f -o` log with each call whole: a line ending
/// `<unfinished ...>` is held until its pid's `<... NAME resumed>` line,
/// and the two are joined where the halves meet, so that a call made on
/// one thread while another was logged keeps its own arguments and result.
/// Lines whose call never resumed (the process died) are dropped.
pub fn whole_strace_lines(log: &str) -> Vec<String> {
    let mut pending: std::collections::BTreeMap<&str, &str> = Default::default();
    let mut lines = Vec::new();
    for line in log.lines() {
        let pid = line.split_whitespace().next().unwrap_or("");
        if let Some(head) = line.strip_suffix("<unfinished ...>") {
            pending.insert(pid, head.trim_end());
        } else if let Some(at) = line.find("<... ") {
            let Some(end) = line[at..].find(" resumed>") else {
                continue;
            };
            if let Some(head) = pending.remove(pid) {
                let rest = &line[at + end + " resumed>".len()..];
                let sep = if rest.starts_with(')') || rest.starts_with(',') {
                    ""
                } else {
                    " "
                };
                lines.push(format!("{head}{sep}{rest}"));
            }
        } else {
            lines.push(line.to_string());
        }
    }
    lines
}
