//! `prefixrace bench`: the shape of its JSON and text output (never its timings).

use assert_cmd::Command;
use serde_json::Value;

fn prefixrace() -> Command {
    Command::cargo_bin("prefixrace").unwrap()
}

#[test]
fn json_report_has_stable_fields() {
    let out = prefixrace()
        .args(["bench", "--smoke", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).expect("stdout is JSON");
    assert_eq!(report["schema"], "prefixrace-bench/1");
    assert_eq!(report["scale"], "smoke");
    assert!(report["cores"].as_u64().unwrap() >= 1);
    let rows = report["exploration"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        for key in ["scenario", "strategy", "fs", "scheduler", "tails"] {
            assert!(row[key].is_string(), "{key} in {row}");
        }
        // Random and pct on the model are measured with and without reusing
        // known tails, side by side; everything else only runs to the end.
        let twin = |tails: &str| {
            rows.iter().any(|r| {
                ["scenario", "strategy", "fs", "scheduler"]
                    .iter()
                    .all(|k| r[*k] == row[*k])
                    && r["tails"] == tails
            })
        };
        if row["fs"] == "model" && row["scheduler"] != "dpor" {
            assert!(twin("reused") && twin("rerun"), "{row}");
        } else {
            assert_eq!(row["tails"], "rerun", "{row}");
        }
        for key in ["executions", "ops", "reps"] {
            assert!(row[key].as_u64().unwrap() >= 1, "{key} in {row}");
        }
        for key in ["seconds_median", "executions_per_s", "ops_per_s"] {
            assert!(positive(&row[key]), "{key} in {row}");
        }
        // Only reused-tail explorations walk the state graph, and never more
        // executions than they ran.
        let walked = row["walked"].as_u64().unwrap();
        assert!(walked <= row["executions"].as_u64().unwrap(), "{row}");
        if row["tails"] == "rerun" {
            assert_eq!(walked, 0, "{row}");
        }
    }
    let fss: Vec<&str> = rows.iter().map(|r| r["fs"].as_str().unwrap()).collect();
    assert!(fss.contains(&"model") && fss.contains(&"real"));
    let schedulers: Vec<&str> = rows
        .iter()
        .map(|r| r["scheduler"].as_str().unwrap())
        .collect();
    for s in ["random", "pct:3", "dpor"] {
        assert!(schedulers.contains(&s), "{s} in {schedulers:?}");
    }

    // Time to the first failure: 2 scenarios × 3 schedulers, budget 2 in the
    // smoke scale. dpor finds both windows within that budget.
    let failures = report["first_failure"].as_array().unwrap();
    assert_eq!(failures.len(), 6, "{failures:?}");
    for f in failures {
        assert_eq!(f["strategy"], "staged-copy", "{f}");
        assert_eq!(f["budget"], 2, "{f}");
        assert!(positive(&f["seconds_median"]), "{f}");
        assert!(positive(&f["seconds_unshrunk_median"]), "{f}");
        if f["scheduler"] == "dpor" {
            assert!(f["failing_execution"].as_u64().unwrap() <= 2, "{f}");
        }
    }

    // The real-filesystem replay against the floor writing the same tree.
    let replays = report["replay_floor"].as_array().unwrap();
    assert_eq!(replays.len(), 1, "{replays:?}");
    for r in replays {
        assert_eq!(r["scenario"], "sage-32361", "{r}");
        for key in ["ops", "entries", "reps"] {
            assert!(r[key].as_u64().unwrap() >= 1, "{key} in {r}");
        }
        for key in [
            "replay_seconds_median",
            "floor_seconds_median",
            "replay_over_floor",
        ] {
            assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
        }
    }

    let install = &report["install"];
    assert_eq!(
        install["packages"],
        serde_json::json!(["six-1.16.0", "wheel-0.41.2"])
    );
    assert!(install["files"].as_u64().unwrap() > 0);
    assert!(install["bytes"].as_u64().unwrap() > 0);
    let figures = install["figures"].as_array().unwrap();
    let methods: Vec<&str> = figures
        .iter()
        .map(|f| f["method"].as_str().unwrap())
        .collect();
    for m in ["floor", "direct-install", "staged-copy", "copy-only"] {
        assert!(methods.contains(&m), "{m} in {methods:?}");
    }
    for f in figures {
        for key in ["threads", "files", "bytes", "reps", "mkdir_races_max"] {
            assert!(f[key].is_u64(), "{key} in {f}");
        }
        for key in ["seconds_median", "files_per_s", "mb_per_s"] {
            assert!(positive(&f[key]), "{key} in {f}");
        }
        assert_eq!(f["seconds_all"].as_array().unwrap().len() as u64, f["reps"]);
    }
    for r in install["ratios"].as_array().unwrap() {
        assert!(r["threads"].is_u64());
        for key in [
            "staged_over_direct",
            "direct_over_floor",
            "staged_over_floor",
            "copy_over_direct",
        ] {
            assert!(r[key].as_f64().unwrap() > 0.0, "{key} in {r}");
        }
    }

    // Scaling: long installs of each kind, then package counts, each row
    // with its peak RSS measured in a child process.
    let scaling = report["scaling"].as_array().unwrap();
    let kinds: Vec<&str> = scaling
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pip", "cp", "mixed", "packages"]);
    for f in scaling {
        assert!(f["ops"].as_u64().unwrap() > 0, "{f}");
        assert!(f["peak_rss_kb"].as_u64().unwrap() > 0, "{f}");
        for key in ["ops_per_s", "executions_per_s"] {
            assert!(positive(&f[key]), "{key} in {f}");
        }
        for key in ["tail_hit_rate", "walk_rate"] {
            let rate = f[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&rate), "{key} in {f}");
        }
    }
}

#[test]
fn text_report_is_a_table() {
    let out = prefixrace()
        .args(["bench", "--smoke"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Exploration speed"), "{text}");
    assert!(text.contains("Time to the first failure"), "{text}");
    assert!(
        text.contains("Replay on the real filesystem against the floor"),
        "{text}"
    );
    assert!(text.contains("Parallel installs"), "{text}");
    assert!(text.contains("staged/direct"), "{text}");
    assert!(text.contains("Scaling"), "{text}");
}

#[test]
fn bad_flags_are_a_one_line_usage_error() {
    let assert = prefixrace()
        .args(["bench", "--format", "xml"])
        .assert()
        .code(2);
    assert!(assert.get_output().stdout.is_empty());
    let assert = prefixrace()
        .args(["bench", "--quick", "--smoke"])
        .assert()
        .code(2);
    assert!(assert.get_output().stdout.is_empty());
}

/// A measured time or rate: a finite number above zero (work was timed).
fn positive(v: &serde_json::Value) -> bool {
    v.as_f64().is_some_and(|x| x.is_finite() && x > 0.0)
}
