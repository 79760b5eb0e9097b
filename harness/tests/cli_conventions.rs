//! The command line's conventions: one JSON shape with a schema for every
//! scheduler, JSON errors, one-line usage errors, colour only when asked or
//! on a terminal, a heartbeat off a terminal, grouped large counts.

mod cli_support;

use cli_support::*;

use std::collections::BTreeSet;

use serde_json::Value;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn every_scheduler_reports_one_shape_with_the_schema_and_coverage_in_one_object() {
    let mut shapes = Vec::new();
    for scheduler in ["auto", "directed", "random", "pct:2", "dpor", "serial"] {
        let (code, out, err) = run(&[
            "explore",
            "builtin:sage-32361",
            "--strategy",
            "direct-install",
            "--scheduler",
            scheduler,
            "--schedules",
            "3",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{scheduler}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["schema"], "prefixrace-report/1", "{scheduler}");
        let coverage = &v["coverage"];
        assert!(coverage.is_object(), "{scheduler}: {out}");
        for moved in ["classes", "complete", "branches_left", "conflicting_pairs"] {
            assert!(v.get(moved).is_none(), "{scheduler}: {moved} at the top");
        }
        // Fields every scheduler fills the same way, and the systematic ones.
        assert!(coverage["complete"].is_boolean(), "{scheduler}");
        let systematic = scheduler == "dpor" || scheduler == "auto";
        assert_eq!(coverage["classes"].is_u64(), systematic, "{scheduler}");
        let mut shape = keys(coverage);
        shape.remove("class_fingerprints");
        shapes.push((scheduler, keys(&v), shape));
    }
    let (_, top, coverage) = &shapes[0];
    for (scheduler, t, c) in &shapes[1..] {
        assert_eq!(t, top, "{scheduler}: top-level fields");
        assert_eq!(c, coverage, "{scheduler}: coverage fields");
    }
}

#[test]
fn matrix_and_replay_reports_name_the_schema() {
    let (_, out, _) = run(&[
        "explore",
        "builtin:sage-32361",
        "--schedules",
        "2",
        "--format",
        "json",
    ]);
    let matrix: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(matrix["schema"], "prefixrace-report/1");
    let token = matrix["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["first_failure"]["token"].as_str())
        .expect("a failing strategy in the sage-32361 matrix")
        .to_string();
    let strategy = matrix["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["first_failure"]["token"] == token.as_str())
        .unwrap()["strategy"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, out, _) = run(&[
        "replay",
        "builtin:sage-32361",
        "--strategy",
        &strategy,
        "--token",
        &token,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let replay: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(replay["schema"], "prefixrace-report/1");
    assert!(replay["coverage"].is_object());
}

#[test]
fn with_format_json_an_input_error_is_also_a_json_object_on_stdout() {
    let (code, out, err) = run(&["explore", "no/such/scenario.toml", "--format", "json"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "prefixrace-report/1");
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("no/such/scenario.toml"));
    // A usage error clap finds is one as well.
    let (code, out, err) = run(&["explore", "--bogus", "--format", "json"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["error"].as_str().unwrap().contains("--bogus"), "{v}");
    // Text errors print nothing on stdout.
    let (code, out, _) = run(&["explore", "no/such/scenario.toml"]);
    assert_eq!((code, out.as_str()), (2, ""));
}

#[test]
fn usage_errors_are_one_line_naming_the_argument_and_where_help_is() {
    for args in [
        vec!["explore", "--bogus"],
        vec!["explore", "builtin:sage-32361", "--schedules", "many"],
        vec!["nosuchcommand"],
        vec!["replay"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("prefixrace: error: "), "{err}");
        assert!(err.contains("--help"), "{err}");
    }
    let (code, out, _) = run(&["explore", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--color") && out.contains("--progress"));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let args = [
        "explore",
        "builtin:sage-32361",
        "--strategy",
        "staged-copy",
        "--seed",
        "1",
    ];
    let (code, plain, _) = run(&args);
    assert_eq!(code, 1);
    assert!(!plain.contains('\x1b'), "piped output is plain");
    let (_, never, _) = run(&[&args[..], &["--color", "never"]].concat());
    assert_eq!(never, plain);
    let (_, painted, _) = run_with(&[&args[..], &["--color", "always"]].concat(), &[]);
    assert!(painted.starts_with("prefixrace explore: \x1b[1;31mFAIL\x1b[0m\n"));
    // Without the escapes it is the same report, byte for byte.
    assert_eq!(
        painted.replace("\x1b[1;31m", "").replace("\x1b[0m", ""),
        plain
    );
    // NO_COLOR does not stop an explicit --color always, and auto off a
    // terminal is plain whatever NO_COLOR says.
    let (_, auto, _) = run_with(&args, &[("NO_COLOR", "1")]);
    assert_eq!(auto, plain);
    let (_, _, err) = run(&["explore", "no/such.toml", "--color", "always"]);
    assert!(
        err.starts_with("prefixrace: \x1b[1;31merror:\x1b[0m "),
        "{err:?}"
    );
}

#[test]
fn off_a_terminal_a_long_run_prints_a_heartbeat_and_never_silences_it() {
    let args = [
        "explore",
        "scenarios/sage-33060-two-pips.toml",
        "--strategy",
        "atomic-rename",
        "--scheduler",
        "random",
        "--schedules",
        "300",
        "--no-pairs",
        "--no-shrink",
        "--jobs",
        "1",
    ];
    // The interval is shortened for the test; by default it is 10 s. The run
    // passes, so it runs all 300 executions of two long pips (about 2 M
    // ops, a quarter of a second at the fastest): far more than 5 ms.
    let fast = [("PREFIXRACE_PROGRESS_INTERVAL", "0.005")];
    let (code, out, err) = run_with(&args, &fast);
    let beat = err
        .lines()
        .find(|l| l.starts_with("prefixrace explore: atomic-rename: "))
        .unwrap_or_else(|| panic!("no heartbeat in {err:?}"));
    assert!(
        beat.contains(" of 300 executions, ") && beat.ends_with(" elapsed"),
        "{beat}"
    );
    let (quiet_code, quiet_out, quiet_err) =
        run_with(&[&args[..], &["--progress", "never"]].concat(), &fast);
    assert_eq!(quiet_err, "");
    // Progress goes to stderr only: the report is the same.
    assert_eq!((quiet_code, quiet_out), (code, out));
}

#[test]
fn large_counts_are_grouped_by_thousands_in_text_and_plain_in_json() {
    let args = [
        "explore",
        "builtin:sage-32361",
        "--strategy",
        "direct-install",
        "--scheduler",
        "random",
        "--schedules",
        "1000",
        "--no-pairs",
    ];
    let (code, out, _) = run(&args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("explored: 1,000 executions, "), "{out}");
    let (_, json, _) = run(&[&args[..], &["--format", "json"]].concat());
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["executions"], 1000);
}
