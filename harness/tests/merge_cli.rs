//! `prefixrace merge`: N sharded explore reports merge into the report of
//! the unsharded run, whatever the argument order; bad inputs exit 2 with
//! one line naming the file and the field.

mod cli_support;

use cli_support::*;

use std::path::Path;

use serde_json::Value;

/// Runs `explore ARGS --format json` whole and as 4 shards, writing the
/// shard reports into `dir`; returns the whole report, its exit code and
/// the shard files.
fn explore_sharded(dir: &Path, name: &str, args: &[&str]) -> (Value, i32, Vec<String>) {
    // auto, the default, cannot be sharded: random is what shards run.
    let scheduler: &[&str] = if args.contains(&"--scheduler") {
        &[]
    } else {
        &["--scheduler", "random"]
    };
    let base = [&["explore"], args, scheduler, &["--format", "json"]].concat();
    let (code, whole, err) = run(&base);
    assert!(code == 0 || code == 1, "{err}");
    let mut files = Vec::new();
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let (scode, out, err) = run(&[&base[..], &["--shard", &shard]].concat());
        assert!(scode == 0 || scode == 1, "{err}");
        let file = dir.join(format!("{name}-{i}.json"));
        std::fs::write(&file, out).unwrap();
        files.push(file.display().to_string());
    }
    (serde_json::from_str(&whole).unwrap(), code, files)
}

fn merged(files: &[String]) -> (i32, Value) {
    let args: Vec<&str> = ["merge", "--format", "json"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let (code, out, err) = run(&args);
    assert!(code == 0 || code == 1, "{err}");
    (code, serde_json::from_str(&out).unwrap())
}

/// The shard reports' own sums, for showing that merging is more than adding.
fn summed(files: &[String], field: &str) -> u64 {
    files
        .iter()
        .map(|f| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            v[field].as_u64().unwrap()
        })
        .sum()
}

fn assert_same_run(name: &str, whole: &Value, code: i32, files: &[String]) {
    let (mcode, m) = merged(files);
    assert_eq!(mcode, code, "{name}: exit code");
    for field in [
        "verdict",
        "scenario",
        "strategy",
        "scheduler",
        "seed",
        "schedules",
        "executions",
        "ops_executed",
        "reference_ops",
        "notes",
    ] {
        assert_eq!(m[field], whole[field], "{name}: {field}");
    }
    for field in ["conflicting_pairs", "pct_miss_bound"] {
        assert_eq!(
            m["coverage"][field], whole["coverage"][field],
            "{name}: coverage.{field}"
        );
    }
    // The whole failure: execution index, token, story, diff, replay command.
    assert_eq!(
        m["first_failure"], whole["first_failure"],
        "{name}: first_failure"
    );
    assert_eq!(m["shards"], 4);
}

#[test]
fn four_shards_merge_into_the_unsharded_run_for_random_and_pct() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], i32); 4] = [
        (
            "random-pass",
            &[
                "builtin:sage-32361",
                "--strategy",
                "direct-install",
                "--schedules",
                "40",
            ],
            0,
        ),
        (
            "pct-pass",
            &[
                "builtin:sage-32361",
                "--strategy",
                "direct-install",
                "--scheduler",
                "pct:2",
                "--schedules",
                "40",
            ],
            0,
        ),
        (
            "random-fail",
            &[
                "scenarios/two-pips.toml",
                "--strategy",
                "staged-merge",
                "--schedules",
                "100",
                "--seed",
                "3",
            ],
            1,
        ),
        (
            "pct-fail",
            &[
                "builtin:sage-32361-upgrade",
                "--strategy",
                "staged-copy",
                "--scheduler",
                "pct:2",
                "--schedules",
                "200",
                "--seed",
                "1",
            ],
            1,
        ),
    ];
    for (name, args, expected) in cases {
        let (whole, code, files) = explore_sharded(dir.path(), name, args);
        assert_eq!(code, expected, "{name}: the unsharded run");
        assert!(
            whole["coverage"]["conflicting_pairs"]["seen"]
                .as_u64()
                .unwrap()
                > 0,
            "{name}"
        );
        assert!(
            whole["coverage"]["pct_miss_bound"]["bound"]
                .as_f64()
                .unwrap()
                > 0.0,
            "{name}"
        );
        if expected == 1 {
            // The failure is past the first round of shards, and the other
            // shards ran beyond it: plain sums would overcount.
            assert!(
                whole["first_failure"]["execution"].as_u64().unwrap() > 4,
                "{name}"
            );
            assert!(summed(&files, "executions") > whole["executions"].as_u64().unwrap());
            assert!(summed(&files, "ops_executed") > whole["ops_executed"].as_u64().unwrap());
        } else {
            assert_eq!(whole["executions"], 40);
        }
        assert_same_run(name, &whole, code, &files);
    }
}

#[test]
fn merge_output_does_not_depend_on_the_argument_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, files) = explore_sharded(
        dir.path(),
        "order",
        &[
            "scenarios/two-pips.toml",
            "--strategy",
            "staged-merge",
            "--schedules",
            "60",
            "--seed",
            "3",
        ],
    );
    let reversed: Vec<String> = files.iter().rev().cloned().collect();
    let shuffled = vec![
        files[2].clone(),
        files[0].clone(),
        files[3].clone(),
        files[1].clone(),
    ];
    for format in ["text", "json"] {
        let outputs: Vec<String> = [&files, &reversed, &shuffled]
            .iter()
            .map(|order| {
                let args: Vec<&str> = ["merge", "--format", format]
                    .into_iter()
                    .chain(order.iter().map(String::as_str))
                    .collect();
                let (code, out, err) = run(&args);
                assert_eq!(code, 1, "{err}");
                out
            })
            .collect();
        assert_eq!(outputs[0], outputs[1], "{format}: reversed order differs");
        assert_eq!(outputs[0], outputs[2], "{format}: shuffled order differs");
    }
}

fn assert_input_error(args: &[&str], needles: &[&str]) {
    let (code, out, err) = run(args);
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
    }
}

#[test]
fn bad_inputs_exit_2_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, files) = explore_sharded(
        dir.path(),
        "ok",
        &[
            "scenarios/two-pips.toml",
            "--strategy",
            "direct-install",
            "--schedules",
            "8",
        ],
    );
    let f = |i: usize| files[i].as_str();
    // A missing shard, a duplicate one.
    assert_input_error(&["merge", f(0), f(1), f(3)], &["3/4", "missing", f(0)]);
    let copy = dir.path().join("copy-of-2.json");
    std::fs::copy(f(1), &copy).unwrap();
    let copy = copy.display().to_string();
    assert_input_error(
        &["merge", f(0), f(1), &copy, f(2), f(3)],
        &["shard", "2/4", "twice", &copy],
    );
    // Unreadable, not JSON, a field of the wrong type, a missing field.
    let missing = dir.path().join("nope.json").display().to_string();
    assert_input_error(&["merge", f(0), &missing], &[&missing]);
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let garbage = write("garbage.json", "{\"command\": \"explore\",");
    assert_input_error(&["merge", f(0), &garbage], &[&garbage, "json"]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(f(2)).unwrap()).unwrap();
    let with = |name: &str, field: &str, value: Value| {
        let mut v = report.clone();
        match value {
            Value::Null => {
                v.as_object_mut().unwrap().remove(field);
            }
            value => v[field] = value,
        }
        write(name, &serde_json::to_string_pretty(&v).unwrap())
    };
    let bad_type = with("bad-type.json", "executions", "many".into());
    assert_input_error(
        &["merge", f(0), f(1), &bad_type, f(3)],
        &[&bad_type, "executions"],
    );
    let no_ops = with("no-ops.json", "ops_executed", Value::Null);
    assert_input_error(
        &["merge", f(0), f(1), &no_ops, f(3)],
        &[&no_ops, "ops_executed"],
    );
    let bad_failure = with("bad-failure.json", "first_failure", 7.into());
    assert_input_error(
        &["merge", f(0), f(1), &bad_failure, f(3)],
        &[&bad_failure, "first_failure"],
    );
    let bad_pairs = with("bad-pairs.json", "pair_set", serde_json::json!(["x"]));
    assert_input_error(
        &["merge", f(0), f(1), &bad_pairs, f(3)],
        &[&bad_pairs, "pair_set"],
    );
    // Reports of another run: seed, scheduler, shard count, or not explore at all.
    let other_seed = with("other-seed.json", "seed", 9.into());
    assert_input_error(
        &["merge", f(0), f(1), &other_seed, f(3)],
        &[&other_seed, "seed"],
    );
    let other_scheduler = with("other-scheduler.json", "scheduler", "pct:3".into());
    assert_input_error(
        &["merge", f(0), f(1), &other_scheduler, f(3)],
        &[&other_scheduler, "scheduler"],
    );
    let other_count = with("other-count.json", "shard", "3/5".into());
    assert_input_error(
        &["merge", f(0), f(1), &other_count, f(3)],
        &[&other_count, "shard"],
    );
    let replay = with("replay.json", "command", "replay".into());
    assert_input_error(&["merge", f(0), f(1), &replay, f(3)], &[&replay, "command"]);
    // The intact set merges.
    let (code, out, err) = run(&["merge", f(0), f(1), f(2), f(3)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("prefixrace merge: PASS\n"), "{out}");
    assert!(out.contains("explored: 8 executions"), "{out}");
}

/// dpor shards judge the executions of global index I + j·N of the one
/// search, so merge reproduces the unsharded run exactly: on a pass every
/// field (executions, ops, notes, pairs, classes, completeness), on a
/// failure the verdict, the counts up to it and the whole first failure.
/// It would fail if shards overlapped (executions summed past the
/// unsharded count) or left executions out.
#[test]
fn dpor_shards_merge_into_exactly_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 4] = [
        (
            "sage-staged",
            &[
                "builtin:sage-32361",
                "--strategy",
                "staged-copy",
                "--scheduler",
                "dpor",
            ],
        ),
        (
            "tiny-direct",
            &[
                "harness/tests/fixtures/dpor-tiny.toml",
                "--strategy",
                "direct-install",
                "--scheduler",
                "dpor",
            ],
        ),
        (
            "tiny-staged",
            &[
                "harness/tests/fixtures/dpor-tiny.toml",
                "--strategy",
                "staged-copy",
                "--scheduler",
                "dpor",
            ],
        ),
        (
            "sage-direct",
            &[
                "builtin:sage-32361",
                "--strategy",
                "direct-install",
                "--scheduler",
                "dpor",
            ],
        ),
    ];
    for (name, args) in cases {
        let (whole, code, files) = explore_sharded(dir.path(), name, args);
        let (mcode, m) = merged(&files);
        assert_eq!(mcode, code, "{name}: exit code");
        for field in [
            "verdict",
            "executions",
            "ops_executed",
            "reference_ops",
            "conflicting_pairs",
            "first_failure",
        ] {
            assert_eq!(m[field], whole[field], "{name}: {field}");
        }
        let searched: Vec<u64> = files
            .iter()
            .map(|f| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
                v["coverage"]["searched_executions"].as_u64().unwrap()
            })
            .collect();
        if code == 1 {
            // The failing shard stops where the unsharded run does; the
            // others ran on (at least as far) and are cut at the failure.
            let at = whole["first_failure"]["execution"].as_u64().unwrap();
            assert!(searched.iter().all(|&s| s >= at), "{name}: {searched:?}");
            assert!(
                summed(&files, "executions") >= m["executions"].as_u64().unwrap(),
                "{name}"
            );
            continue;
        }
        // Every shard ran the whole search and judged its quarter of it.
        let total = whole["executions"].as_u64().unwrap();
        assert_eq!(searched, vec![total; 4], "{name}: searched");
        assert_eq!(summed(&files, "executions"), total, "{name}: disjoint");
        assert_eq!(whole["coverage"]["complete"], true, "{name}");
        assert_eq!(m["notes"], whole["notes"], "{name}: notes");
        for field in ["classes", "complete"] {
            assert_eq!(
                m["coverage"][field], whole["coverage"][field],
                "{name}: coverage.{field}"
            );
        }
    }
}
