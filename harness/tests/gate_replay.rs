//! A token replays the same interleaving of prefix syscalls: the trace of a
//! replay equals the trace of the execution that produced the token, twice.

mod gate_support;

use gate_support::*;

fn traced_run(
    extra: &[&str],
    prefix: &std::path::Path,
    stage: &std::path::Path,
    py: &str,
    site: &str,
) -> serde_json::Value {
    let out = prefixrace()
        .args(["run", "--trace", "--format", "json"])
        .args(extra)
        .arg("--prefix")
        .arg(prefix)
        .arg("--stage")
        .arg(stage)
        .args(["--", &staged_copy(), "--", &importer(py, site)])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn the_same_token_gives_the_same_order_of_prefix_syscalls() {
    if !gate_permitted() {
        return;
    }
    let py = python();
    let site = site_packages(&py);
    let stage = staging_tree(&py, &site);
    let prefix = tempfile::tempdir().unwrap();
    let found = traced_run(
        &["--seed", "7", "--executions", "20"],
        prefix.path(),
        stage.path(),
        &py,
        &site,
    );
    assert_eq!(found["verdict"], "fail", "{found:#}");
    let token = found["failure"]["token"].as_str().unwrap().to_string();
    let original = found["executions_traced"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["trace"]
        .clone();
    assert!(original.as_array().unwrap().len() > 100);
    let first = traced_run(
        &["--token", &token],
        prefix.path(),
        stage.path(),
        &py,
        &site,
    );
    let second = traced_run(
        &["--token", &token],
        prefix.path(),
        stage.path(),
        &py,
        &site,
    );
    let t1 = &first["executions_traced"][0]["trace"];
    let t2 = &second["executions_traced"][0]["trace"];
    assert_eq!(t1, t2);
    assert_eq!(t1, &original);
    assert_eq!(first["failure"]["findings"], found["failure"]["findings"]);
    // The race itself is in the trace: the importer's mkdir wins, cp's fails.
    let lines: Vec<&str> = t1
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let importer_mkdir = lines.iter().position(|l| {
        l.starts_with("[B] mkdir(") && l.contains("M/__pycache__\"") && l.ends_with("= 0")
    });
    let cp_mkdir = lines.iter().position(|l| {
        l.starts_with("[A] mkdirat(") && l.contains("M/__pycache__\"") && l.ends_with("= -1 EEXIST")
    });
    assert!(
        matches!((importer_mkdir, cp_mkdir), (Some(i), Some(c)) if i < c),
        "{lines:#?}"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_token_from_other_commands_is_a_divergence_exit_1_naming_the_step() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    // Three decisions for job 1, but the only command is job 0.
    let token = prefixrace::internals::Schedule {
        choices: vec![1, 1, 1],
    }
    .token();
    let out = prefixrace()
        .args(["run", "--token", &token, "--prefix"])
        .arg(prefix.path())
        .args(["--", "mkdir \"$PREFIX/d\""])
        .output()
        .unwrap();
    // A divergence is a finding (exit 1), said in one line with the step.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("does not match"), "{err}");
    assert!(
        err.contains("diverges at step") && err.contains("runnable"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(stderr(&out).lines().count(), 1);
}
