//! `--strategy all` as a user runs it: the order-sensitivity matrix in text
//! and JSON, declared strategies on the command line, and bad declarations.

mod cli_support;

use cli_support::*;

use std::path::Path;

/// The matrix row of `strategy`, split into columns.
fn row<'a>(out: &'a str, strategy: &str) -> Vec<&'a str> {
    let matrix = &out[out.find("order-sensitivity matrix:").expect("a matrix")..];
    matrix
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols.first() == Some(&strategy))
        .unwrap_or_else(|| panic!("no row for {strategy} in\n{out}"))
}

#[test]
fn sage_32361_matrix_fails_staged_copy_and_passes_the_fixes() {
    let (code, out, _) = run(&["explore", "scenarios/sage-32361.toml", "--strategy", "all"]);
    assert_eq!(code, 1, "{out}");
    let staged = row(&out, "staged-copy");
    assert_eq!(staged[1], "FAIL");
    assert_eq!(staged.last(), Some(&"job-error"));
    assert!(
        out.contains("staged-copy fails at execution 1 (token t1."),
        "{out}"
    );
    assert!(out.contains("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/Cython/__pycache__': File exists"));
    // auto, the default, proves both fixes: its dpor part ends within the budget.
    for fixed in ["direct-install", "atomic-rename"] {
        let r = row(&out, fixed);
        assert_eq!(r[1], "PASS", "{fixed}: {out}");
        let executions: u64 = r[2].parse().unwrap();
        assert!(executions <= 1000, "{fixed}: {out}");
    }
    // A lock between installers does nothing against an importer.
    assert_eq!(row(&out, "locked-staged-copy")[1], "FAIL");
    // docs/strategies.md: under auto, staged-merge's window (the importer's
    // rename before cp's O_EXCL open of a .pyc) and portage's unguarded
    // mkdir are both found.
    for name in ["staged-merge", "image-then-merge"] {
        assert_eq!(row(&out, name)[1], "FAIL", "{name}: {out}");
    }
    // Bookkeeping (portage's vdb) aside, every strategy installs the same tree.
    assert!(
        out.contains("reference trees: staged-copy and image-then-merge agree"),
        "{out}"
    );
    assert!(!out.contains("elapsed"), "text output carries no timings");
}

#[test]
fn the_matrix_text_is_byte_identical_across_runs_and_thread_counts() {
    let base = [
        "explore",
        "scenarios/namespace-backports.toml",
        "--strategy",
        "all",
        "--schedules",
        "200",
        "--seed",
        "3",
    ];
    let one = run(&[&base[..], &["--jobs", "1"]].concat()).1;
    let two = run(&[&base[..], &["--jobs", "2"]].concat()).1;
    assert_eq!(one, two);
    // Portage refuses the shared namespace file even serially: its own row.
    let r = row(&one, "image-then-merge");
    assert_eq!(r[1], "ERROR");
    assert_eq!(r.last(), Some(&"serial-reference-fails"));
    assert!(one.contains("image-then-merge cannot run even serially:"));
}

#[test]
fn the_matrix_json_has_one_entry_per_strategy_with_the_matrix_columns() {
    let (code, out, _) = run(&[
        "explore",
        "scenarios/namespace-backports.toml",
        "--strategy",
        "all",
        "--schedules",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in [
        "command",
        "verdict",
        "scenario",
        "scheduler",
        "seed",
        "schedules",
        "reference_trees_equal",
        "strategies",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    let rows = v["strategies"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "staged-copy",
            "direct-install",
            "staged-merge",
            "atomic-rename",
            "locked-staged-copy",
            "image-then-merge"
        ]
    );
    for r in rows {
        for field in [
            "strategy",
            "verdict",
            "executions",
            "first_failure",
            "class",
            "story",
        ] {
            assert!(r.get(field).is_some(), "{}: missing {field}", r["strategy"]);
        }
        match r["verdict"].as_str().unwrap() {
            "fail" => {
                assert_eq!(r["class"], r["first_failure"]["class"]);
                assert!(r["first_failure"]["token"]
                    .as_str()
                    .unwrap()
                    .starts_with("t1."));
                assert_eq!(r["first_failure"]["execution"], r["executions"]);
                assert!(!r["story"].as_array().unwrap().is_empty());
                // The shortest story comes from a failing execution at or
                // after the first one, and its token replays a failure.
                let exe = r["story_execution"].as_u64().unwrap();
                assert!(exe >= r["executions"].as_u64().unwrap());
                let token = r["story_token"].as_str().unwrap();
                let strategy = r["strategy"].as_str().unwrap();
                let (code, replayed, _) = run(&[
                    "replay",
                    "scenarios/namespace-backports.toml",
                    "--strategy",
                    strategy,
                    "--token",
                    token,
                ]);
                assert_eq!(code, 1, "{strategy}: {replayed}");
            }
            "pass" => assert!(r["first_failure"].is_null()),
            // auto's dpor part did not end within the budget.
            "incomplete" => {
                assert!(r["first_failure"].is_null());
                assert!(r["coverage"]["reason"].as_str().unwrap().contains("budget"));
            }
            "error" => assert_eq!(r["class"], "serial-reference-fails"),
            other => panic!("verdict {other}"),
        }
    }
}

fn scenario_with(dir: &Path, body: &str) -> String {
    let path = dir.join("declared.toml");
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

const SMALL: &str = r#"name = "declared"
[[package]]
name = "m"
[[package.file]]
path = "m/__init__.py"
text = "x = 1\n"
[[activity]]
name = "import-m"
kind = "import"
modules = ["m"]
"#;

#[test]
fn a_declared_strategy_runs_by_name_joins_all_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{SMALL}[[strategy]]\nname = \"my-merge\"\nsummary = \"cp that merges\"\nsteps = [\"stage\", \"compile\", {{ step = \"copy\", on-exist = \"merge\" }}]\n"
    );
    let file = scenario_with(dir.path(), &body);
    let (code, out, err) = run(&[
        "explore",
        &file,
        "--strategy",
        "my-merge",
        "--schedules",
        "50",
    ]);
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(out.contains("strategy: my-merge"), "{out}");
    let (_, all, _) = run(&["explore", &file, "--strategy", "all", "--schedules", "50"]);
    assert!(row(&all, "my-merge").len() >= 4, "{all}");
    // A failing staged copy of the same scenario replays under its own name.
    let (code, out, _) = run(&[
        "explore",
        &file,
        "--strategy",
        "staged-copy",
        "--schedules",
        "200",
    ]);
    assert_eq!(code, 1, "{out}");
    let token = out
        .split_whitespace()
        .find(|w| w.starts_with("t1."))
        .unwrap()
        .to_string();
    let (code, replayed, err) = run(&[
        "replay",
        &file,
        "--strategy",
        "staged-copy",
        "--token",
        &token,
    ]);
    assert_eq!(code, 1, "{replayed}{err}");
}

#[test]
fn bad_declarations_exit_2_with_one_line_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "steps = [\"stage\", \"cpy\"]",
            "steps",
            "unknown step \"cpy\"",
        ),
        (
            "steps = [\"stage\", { step = \"copy\", on-exist = \"clobber\" }]",
            "steps",
            "expected fail, merge or replace",
        ),
        (
            "steps = [\"copy\", \"lock\"]",
            "steps",
            "put `stage` before it",
        ),
        ("stepz = [\"write\"]", "stepz", "unknown field"),
    ];
    for (steps, field, want) in cases {
        let body = format!("{SMALL}[[strategy]]\nname = \"bad\"\n{steps}\n");
        let file = scenario_with(dir.path(), &body);
        let (code, out, err) = run(&["explore", &file, "--strategy", "all"]);
        assert_eq!(code, 2, "{steps}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{file}:13: {field}: ")),
            "{steps}: {err}"
        );
        assert!(err.contains(want), "{steps}: {err}");
    }
    let body = format!("{SMALL}[[strategy]]\nname = \"staged-copy\"\nsteps = [\"write\"]\n");
    let file = scenario_with(dir.path(), &body);
    let (code, _, err) = run(&["explore", &file]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{file}:12: name: ")), "{err}");
    let (code, _, err) = run(&["explore", "scenarios/sage-32361.toml", "--strategy", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown strategy \"nope\": expected staged-copy, direct-install, staged-merge, atomic-rename, locked-staged-copy, image-then-merge, pip, installer, uv, uv-hardlink, uv-clone or all"), "{err}");
}

/// Every matrix docs/strategies.md shows is what its command prints: the
/// rows of each `order-sensitivity matrix:` after a `prefixrace explore …
/// --strategy all` command block.
#[test]
fn the_matrices_in_the_strategies_doc_are_what_their_commands_print() {
    let doc = std::fs::read_to_string(root().join("docs/strategies.md")).unwrap();
    let mut checked = 0;
    for (at, _) in doc.match_indices("```\nprefixrace explore ") {
        let command = doc[at + 4..].lines().next().unwrap();
        if !command.contains("--strategy all") || !command.contains(" scenarios/") {
            continue;
        }
        let rest = &doc[at..];
        let shown = &rest[rest.find("order-sensitivity matrix:").unwrap()..];
        let shown = &shown[..shown.find("\n\n").unwrap()];
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let (_, out, err) = run(&args);
        let printed = &out[out
            .find("order-sensitivity matrix:")
            .unwrap_or_else(|| panic!("{err}"))..];
        let printed = &printed[..printed.find("\n\n").unwrap()];
        assert_eq!(
            shown, printed,
            "docs/strategies.md shows another matrix for `{command}`"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "the doc's three matrices");
}
