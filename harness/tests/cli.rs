//! The command line as a user runs it: exit codes, reports, replay, JSON
//! determinism and bad input.

mod cli_support;

use cli_support::*;

use std::path::Path;

/// The part of a report shared by explore and replay: from `error:` on.
fn failure_block(report: &str) -> &str {
    &report[report.find("\nerror: ").expect("a failure block")..]
}

#[test]
fn staged_copy_reproduces_32361_from_seed_1_and_the_replay_command_prints_the_same_report() {
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "staged-copy",
        "--seed",
        "1",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/Cython/__pycache__': File exists"), "{out}");
    let replay_line = out
        .lines()
        .skip_while(|l| *l != "replay:")
        .nth(1)
        .expect("a replay command")
        .trim();
    let args: Vec<&str> = replay_line.split_whitespace().collect();
    assert_eq!(&args[..2], ["prefixrace", "replay"]);
    let (rcode, rout, _) = run(&args[1..]);
    assert_eq!(rcode, 1);
    assert_eq!(
        failure_block(&rout),
        failure_block(&out),
        "replay must explain the same failure identically"
    );
}

#[test]
fn direct_install_passes_every_explored_schedule() {
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "direct-install",
        "--scheduler",
        "random",
        "--schedules",
        "500",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("PASS") && out.contains("500 executions"),
        "{out}"
    );
}

/// The default scheduler, auto, proves the fix: its dpor part ends within
/// the budget, and the run stops there with a complete coverage.
#[test]
fn the_default_scheduler_proves_direct_install_safe() {
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "direct-install",
        "--require-complete",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("prefixrace explore: PASS"), "{out}");
    assert!(out.contains("scheduler: auto"), "{out}");
    assert!(out.contains("coverage: complete, 124 classes"), "{out}");
}

/// A budget that ends before the search does gives INCOMPLETE, never PASS:
/// exit 0, or 1 with --require-complete.
#[test]
fn a_run_cut_short_is_incomplete() {
    for scheduler in ["auto", "dpor"] {
        let args = |extra: &[&str]| {
            let mut a = vec![
                "explore",
                "scenarios/sage-32361.toml",
                "--strategy",
                "direct-install",
                "--scheduler",
                scheduler,
                "--schedules",
                "20",
                "--format",
                "json",
            ];
            a.extend_from_slice(extra);
            a.into_iter().map(String::from).collect::<Vec<_>>()
        };
        let plain: Vec<String> = args(&[]);
        let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
        let (code, out, _) = run(&plain);
        assert_eq!(code, 0, "{scheduler}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["verdict"], "incomplete", "{scheduler}: {out}");
        assert_eq!(v["coverage"]["complete"], false, "{scheduler}: {out}");
        assert!(
            v["coverage"]["reason"].as_str().unwrap().contains("budget"),
            "{scheduler}: {out}"
        );
        let strict: Vec<String> = args(&["--require-complete"]);
        let strict: Vec<&str> = strict.iter().map(String::as_str).collect();
        let (code, _, err) = run(&strict);
        assert_eq!(code, 1, "{scheduler}: {err}");
        assert!(err.contains("--require-complete"), "{err}");
    }
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "direct-install",
        "--scheduler",
        "dpor",
        "--schedules",
        "20",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("prefixrace explore: INCOMPLETE\n"), "{out}");
    assert!(!out.contains("PASS"), "{out}");
}

#[test]
fn json_reports_are_byte_identical_across_runs_and_thread_counts() {
    for strategy in ["staged-copy", "direct-install", "all"] {
        let base = [
            "explore",
            "scenarios/sage-32361.toml",
            "--strategy",
            strategy,
            "--seed",
            "7",
            "--schedules",
            "300",
            "--format",
            "json",
        ];
        let one = run(&[&base[..], &["--jobs", "1"]].concat()).1;
        let again = run(&[&base[..], &["--jobs", "1"]].concat()).1;
        let two = run(&[&base[..], &["--jobs", "2"]].concat()).1;
        let v: serde_json::Value = serde_json::from_str(&one).expect("valid JSON");
        assert!(v.get("verdict").is_some());
        assert_eq!(&one, &again, "{strategy}: two runs differ");
        assert_eq!(&one, &two, "{strategy}: --jobs 1 and --jobs 2 differ");
    }
}

#[test]
fn no_shrink_reports_the_failing_execution_as_it_ran_and_its_token_replays() {
    let explore = |extra: &[&str]| {
        let args = [
            &[
                "explore",
                "scenarios/sage-32361.toml",
                "--strategy",
                "staged-copy",
                "--seed",
                "1",
                "--format",
                "json",
            ][..],
            extra,
        ]
        .concat();
        let (code, out, _) = run(&args);
        assert_eq!(code, 1, "{args:?}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["first_failure"].clone()
    };
    let (shrunk, unshrunk) = (explore(&[]), explore(&["--no-shrink"]));
    assert_eq!(shrunk["execution"], unshrunk["execution"]);
    assert_eq!(shrunk["error"], unshrunk["error"]);
    let token = |f: &serde_json::Value| f["token"].as_str().unwrap().to_string();
    assert_ne!(
        token(&shrunk),
        token(&unshrunk),
        "shrinking changes the schedule"
    );
    for t in [token(&shrunk), token(&unshrunk)] {
        let (code, out, _) = run(&[
            "replay",
            "scenarios/sage-32361.toml",
            "--strategy",
            "staged-copy",
            "--token",
            &t,
        ]);
        assert_eq!(code, 1, "{t} replays the failure");
        assert!(out.contains("cannot create directory"), "{out}");
    }
}

#[test]
fn json_report_has_the_documented_fields() {
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "staged-copy",
        "--seed",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in [
        "verdict",
        "strategy",
        "scheduler",
        "seed",
        "executions",
        "ops_executed",
        "first_failure",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert!(
        v.get("elapsed_ms").is_none(),
        "timings belong to bench, not to reports"
    );
    assert_eq!(v["verdict"], "fail");
    let f = &v["first_failure"];
    for field in ["execution", "token", "job", "op", "error"] {
        assert!(!f[field].is_null(), "first_failure.{field} is null");
    }
    assert_eq!(f["job"], "cp[Cython]");
    assert!(f["op"].as_str().unwrap().starts_with(
        "mkdir(\"/sage/local/lib/python3.9/site-packages/Cython/__pycache__\", 0700) = -1 EEXIST"
    ));
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "direct-install",
        "--scheduler",
        "random",
        "--schedules",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "pass");
    assert!(v["first_failure"].is_null());
}

#[test]
fn ad_hoc_scenarios_from_a_record_file_and_an_import() {
    let record = "scenarios/payloads/pip-21.1.2.RECORD";
    let (code, out, _) = run(&[
        "explore",
        "--package",
        record,
        "--import",
        "pip",
        "--strategy",
        "staged-copy",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/pip/__pycache__': File exists"), "{out}");
    assert!(
        out.contains(&format!(
            "prefixrace replay --package {record} --import pip --strategy staged-copy --token t1."
        )),
        "{out}"
    );
    let (code, out, _) = run(&[
        "explore",
        "--package",
        record,
        "--import",
        "pip",
        "--strategy",
        "direct-install",
        "--schedules",
        "200",
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_showcase_runs_sage_32361_under_both_strategies() {
    let (code, out, _) = run(&[]);
    assert_eq!(code, 1);
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("staged-copy") && l.contains("FAIL")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("direct-install") && l.contains("PASS")),
        "{out}"
    );
    assert!(
        out.contains("reference trees: staged-copy and direct-install agree"),
        "{out}"
    );
}

fn scenario_with(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn escaping_paths_exit_2_with_one_line_naming_the_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bad, line) in [
        ("climb.toml", "../../../../etc/x", 5),
        ("abs.toml", "/etc/x", 5),
    ] {
        let body = format!("name = \"bad\"\n[[package]]\nname = \"p\"\n[[package.file]]\npath = \"{bad}\"\nsize = 1\n");
        let file = scenario_with(dir.path(), name, &body);
        let (code, out, err) = run(&["explore", &file]);
        assert_eq!(code, 2, "{out}{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("{file}:{line}: path:")), "{err}");
        assert!(err.contains(bad), "{err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["explore", "scenarios/sage-32361.toml", "--strategy", "nope"],
        vec![
            "explore",
            "scenarios/sage-32361.toml",
            "--scheduler",
            "nope",
        ],
        vec!["explore", "scenarios/missing.toml"],
        vec!["explore"],
        vec![
            "replay",
            "scenarios/sage-32361.toml",
            "--strategy",
            "staged-copy",
            "--token",
            "garbage",
        ],
        vec![
            "replay",
            "scenarios/sage-32361.toml",
            "--strategy",
            "direct-install",
            "--token",
            "t1.AAE",
        ],
        vec!["explore", "--frobnicate"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn unknown_fields_are_rejected_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_with(
        dir.path(),
        "unknown.toml",
        "name = \"x\"\ncolour = \"red\"\n",
    );
    let (code, _, err) = run(&["explore", &file]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!(
            "prefixrace: error: {file}:2: colour: unknown field `colour`"
        )),
        "{err}"
    );
}

#[test]
fn list_names_the_builtins() {
    let (code, out, _) = run(&["list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("sage-32361") && out.contains("staged-copy") && out.contains("direct-install")
    );
    // The installers chosen by name only are listed too, apart.
    let others = out
        .split("other installers")
        .nth(1)
        .expect("a section of its own");
    for name in ["pip ", "installer ", "uv ", "uv-hardlink ", "uv-clone "] {
        assert!(others.contains(&format!("  {name}")), "{name} in {out}");
    }
}

#[test]
fn cross_reference_errors_name_the_line_of_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let body = "name = \"cycle\"\n[[package]]\nname = \"a\"\nafter = [\"b\"]\n[[package.file]]\npath = \"a/__init__.py\"\n\
                [[package]]\nname = \"b\"\nafter = [\"a\"]\n[[package.file]]\npath = \"b/__init__.py\"\n";
    let file = scenario_with(dir.path(), "cycle.toml", body);
    let (code, _, err) = run(&["explore", &file]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "{file}:3: after: dependency cycle: \"a\" -> \"b\" -> \"a\""
        )),
        "{err}"
    );
}

/// `--no-pairs` leaves the pair counts out and changes nothing else: the
/// same verdict, counts and first failure, whether executions are walked
/// through the state graph (no pairs) or all run (pairs counted).
#[test]
fn no_pairs_changes_only_the_pair_counts() {
    for (scenario, code) in [("builtin:sage-32361-upgrade", 0), ("builtin:sage-32361", 1)] {
        let explore = |extra: &[&str]| {
            let args = [
                &[
                    "explore",
                    scenario,
                    "--strategy",
                    "staged-copy",
                    "--scheduler",
                    "random",
                    "--schedules",
                    "400",
                    "--seed",
                    "3",
                    "--format",
                    "json",
                ][..],
                extra,
            ]
            .concat();
            let (got, out, _) = run(&args);
            assert_eq!(got, code, "{args:?}");
            serde_json::from_str::<serde_json::Value>(&out).unwrap()
        };
        let (counted, not) = (explore(&[]), explore(&["--no-pairs"]));
        assert!(
            counted["coverage"]["conflicting_pairs"].is_object(),
            "{counted}"
        );
        assert!(not["coverage"]["conflicting_pairs"].is_null(), "{not}");
        assert_eq!(not["first_failure"].is_object(), code == 1, "{not}");
        assert!(not["executions"].as_u64().unwrap() > 0);
        for key in [
            "verdict",
            "executions",
            "ops_executed",
            "first_failure",
            "notes",
        ] {
            assert_eq!(counted[key], not[key], "{scenario}: {key}");
        }
    }
}

/// The README's sample of its first command is what the command prints:
/// every line of the README's block appears in the report, in order (the
/// README leaves the notes out and ends the token with `…`).
#[test]
fn the_readme_sample_is_what_its_first_command_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let command =
        "cargo run --release -- explore scenarios/sage-32361.toml --strategy staged-copy --seed 1";
    assert!(
        readme.contains(command),
        "the README's first command changed"
    );
    let after = &readme[readme
        .find("cp fails exactly")
        .expect("the sample's lead-in")..];
    let block = after
        .split("```")
        .nth(1)
        .expect("a fenced sample after the lead-in");
    let (code, out, _) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--strategy",
        "staged-copy",
        "--seed",
        "1",
    ]);
    assert_eq!(code, 1);
    let mut printed = out.lines();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let wanted = line.strip_suffix('…').unwrap_or(line);
        assert!(
            printed.any(|p| p.starts_with(wanted) && (wanted.len() < line.len() || p == wanted)),
            "README line {line:?} is not printed (in order) by the first command:\n{out}"
        );
    }
}
