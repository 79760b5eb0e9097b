//! `prefixrace corpus DIR`: every scenario of a directory against its
//! `[expect]` table. Exit 0 when every expectation is met, 1 when one is
//! not, 2 on bad input (one line naming the file, line and field); output
//! byte-identical across runs and `--jobs` with `--no-timing`.

mod cli_support;

use cli_support::*;

use std::path::Path;

use serde_json::Value;

const FIXTURES: &str = "harness/tests/fixtures/corpus";
const UNMET: &str = "harness/tests/fixtures/corpus-unmet";

/// A tiny scenario whose jobs cannot race under direct-install, with
/// `expect` as its `[expect]` table's body.
fn small(name: &str, expect: &str) -> String {
    format!(
        "name = \"{name}\"\n\n[[package]]\nname = \"m\"\nversion = \"1.0\"\n\n[[package.file]]\npath = \"m/__init__.py\"\ntext = \"x = 1\\n\"\n\n[[activity]]\nname = \"import-m\"\nkind = \"import\"\nmodules = [\"m\"]\n\n[expect]\n{expect}"
    )
}

fn write(dir: &Path, file: &str, text: &str) -> String {
    std::fs::write(dir.join(file), text).unwrap();
    dir.display().to_string()
}

fn json(args: &[&str]) -> (i32, Value) {
    let (code, out, err) = run(args);
    assert!(code == 0 || code == 1, "{args:?}: {err}");
    (code, serde_json::from_str(&out).unwrap())
}

#[test]
fn the_fixture_corpus_meets_every_expectation() {
    let (code, out, err) = run(&["corpus", FIXTURES, "--no-timing"]);
    assert_eq!(code, 0, "{out}{err}");
    // Off a terminal a short run shows no progress.
    assert_eq!(err, "");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Found by auto, random and pct at the first execution, by dpor at the second.
    assert_eq!(
        row("sage-32361-staged"),
        "sage-32361-staged sage sage#32361 staged-copy fail 1 1 1 2 yes"
    );
    assert_eq!(
        row("sage-32361-direct"),
        "sage-32361-direct sage sage#32361 direct-install pass pass - - complete (124 classes) yes"
    );
    assert!(out.contains("small-no-expect (small-no-expect.toml): no [expect] table"));
    assert!(
        out.ends_with("\n1 incident, 1 tool, 0 expectations unmet\n"),
        "{out}"
    );
}

#[test]
fn a_wrong_expectation_exits_1_and_says_why() {
    let (code, out, _) = run(&["corpus", UNMET, "--no-timing"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("prefixrace corpus: FAIL, 0 of 1 expectation met\n"));
    assert!(
        out.contains("small-direct-wrong (small-direct-wrong.toml): auto found no failure in"),
        "{out}"
    );
    assert!(
        out.ends_with("1 incident, 1 tool, 1 expectation unmet\n"),
        "{out}"
    );
}

#[test]
fn a_failure_without_the_expected_message_is_unmet() {
    let dir = tempfile::tempdir().unwrap();
    let staged = std::fs::read_to_string(
        Path::new(&root())
            .join(FIXTURES)
            .join("sage-32361-staged.toml"),
    )
    .unwrap()
    .replace("cannot create directory", "Permission denied");
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    std::fs::copy(
        root().join(FIXTURES).join("payloads/Cython-0.29.21.RECORD"),
        dir.path().join("payloads/Cython-0.29.21.RECORD"),
    )
    .unwrap();
    let d = write(dir.path(), "staged.toml", &staged);
    let (code, report) = json(&["corpus", &d, "--format", "json"]);
    assert_eq!(code, 1);
    let row = &report["rows"][0];
    assert_eq!(row["message_found"], false);
    assert_eq!(row["met"], false);
    assert!(row["unmet"]
        .as_str()
        .unwrap()
        .contains("do not contain \"Permission denied\""));
}

#[test]
fn json_names_its_schema_and_every_run() {
    let (code, report) = json(&["corpus", FIXTURES, "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(report["schema"], "prefixrace-corpus/1");
    assert_eq!(report["command"], "corpus");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["seed"], 1);
    assert_eq!(report["within"], 10);
    assert_eq!(
        (
            report["incidents"].clone(),
            report["tools"].clone(),
            report["unmet"].clone()
        ),
        (1.into(), 1.into(), 0.into())
    );
    let rows = report["rows"].as_array().unwrap();
    let files: Vec<&str> = rows.iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["sage-32361-direct.toml", "sage-32361-staged.toml"]);
    let schedulers = |r: &Value| -> Vec<String> {
        r["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["scheduler"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(schedulers(&rows[0]), ["auto", "dpor"]);
    assert_eq!(schedulers(&rows[1]), ["auto", "random", "pct:3", "dpor"]);
    let dpor = &rows[0]["runs"][1];
    assert_eq!(
        (dpor["complete"].clone(), dpor["classes"].clone()),
        (true.into(), 124.into())
    );
    let auto = &rows[1]["runs"][0];
    assert_eq!(auto["found"], true);
    assert_eq!(auto["executions"], 1);
    assert!(auto["errors"][0]
        .as_str()
        .unwrap()
        .starts_with("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/Cython/__pycache__'"));
    assert_eq!(rows[1]["message_found"], true);
    assert_eq!(rows[1]["source"], "https://trac.sagemath.org/ticket/32361");
    assert_eq!(report["skipped"][0]["file"], "small-no-expect.toml");
    // Timed by default, per run and per row; --no-timing leaves it out.
    assert!(auto["millis"].is_u64() && rows[1]["millis"].is_u64());
    let (_, untimed) = json(&["corpus", FIXTURES, "--format", "json", "--no-timing"]);
    assert!(untimed["rows"][1].get("millis").is_none());
    assert!(untimed["rows"][1]["runs"][0].get("millis").is_none());
}

#[test]
fn the_time_column_is_there_unless_no_timing() {
    let (_, timed, _) = run(&["corpus", FIXTURES]);
    let header = |out: &str| {
        out.lines()
            .find(|l| l.contains("scenario  "))
            .unwrap()
            .to_string()
    };
    assert!(header(&timed).trim_end().ends_with("met  ms"), "{timed}");
    let (_, untimed, _) = run(&["corpus", FIXTURES, "--no-timing"]);
    assert!(header(&untimed).trim_end().ends_with("met"), "{untimed}");
}

#[test]
fn no_timing_output_is_byte_identical_across_runs_and_jobs() {
    for format in ["text", "json"] {
        let args = |jobs: &'static str| {
            [
                "corpus",
                FIXTURES,
                "--no-timing",
                "--format",
                format,
                "--jobs",
                jobs,
            ]
        };
        let (_, first, _) = run(&args("1"));
        let (_, again, _) = run(&args("1"));
        let (_, two, _) = run(&args("2"));
        assert_eq!(first, again, "{format}: two runs");
        assert_eq!(first, two, "{format}: --jobs 1 and 2");
    }
}

#[test]
fn the_text_table_snapshot() {
    let (_, out, _) = run(&["corpus", FIXTURES, "--no-timing"]);
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!("corpus-fixtures-text", out));
}

#[test]
fn scenarios_run_in_byte_order_of_their_file_names() {
    let dir = tempfile::tempdir().unwrap();
    // Written in an order that is neither byte order nor its reverse.
    for name in ["b", "B", "a", "_"] {
        write(
            dir.path(),
            &format!("{name}.toml"),
            &small(&format!("s-{name}"), "verdict = \"pass\"\n"),
        );
    }
    let d = dir.path().display().to_string();
    let (code, report) = json(&["corpus", &d, "--format", "json", "--no-timing"]);
    assert_eq!(code, 0);
    let files: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["B.toml", "_.toml", "a.toml", "b.toml"]);
    // No tool named: none counted; no incident named: each scenario is one.
    assert_eq!(
        (report["incidents"].clone(), report["tools"].clone()),
        (4.into(), 0.into())
    );
}

#[test]
fn a_bad_expect_table_exits_2_with_one_line_naming_file_line_and_field() {
    let cases: [(&str, &[&str]); 6] = [
        (
            "verdict = \"fail\"\ncolour = \"red\"\n",
            &["bad.toml:18:", "colour"],
        ),
        (
            "verdict = \"flaky\"\n",
            &["bad.toml:17:", "expect.verdict", "\"flaky\""],
        ),
        ("tool = \"pnpm\"\n", &["bad.toml", "verdict"]),
        (
            "verdict = \"fail\"\nstrategy = \"no-such\"\n",
            &["bad.toml:18:", "expect.strategy", "\"no-such\""],
        ),
        (
            "verdict = \"pass\"\nmessage = \"File exists\"\n",
            &["bad.toml:18:", "expect.message"],
        ),
        (
            "verdict = \"fail\"\ntool = \"\"\n",
            &["bad.toml:18:", "expect.tool"],
        ),
    ];
    for (expect, wanted) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "good.toml",
            &small("good", "verdict = \"pass\"\n"),
        );
        let d = write(dir.path(), "bad.toml", &small("bad", expect));
        refused(&["corpus", &d], wanted);
        // With --format json the error is also a JSON object on stdout.
        let (code, out, _) = run(&["corpus", &d, "--format", "json"]);
        assert_eq!(code, 2);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (v["command"].clone(), v["verdict"].clone()),
            ("corpus".into(), "error".into())
        );
        assert!(v["error"].as_str().unwrap().contains("bad.toml"), "{v}");
    }
}

#[test]
fn a_directory_without_scenarios_or_a_missing_one_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    refused(&["corpus", &d], &[&d, "no *.toml scenario"]);
    refused(&["corpus", &format!("{d}/missing")], &["missing"]);
    refused(&["corpus", FIXTURES, "--within", "0"], &["--within"]);
}

#[test]
fn a_fifo_named_like_a_scenario_is_refused_in_one_line_not_waited_on_or_skipped() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "good.toml",
        &small("good", "verdict = \"pass\"\n"),
    );
    let fifo = dir.path().join("fifo.toml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // A directory named like one is not a scenario: passed over.
    std::fs::create_dir(dir.path().join("dir.toml")).unwrap();
    let d = dir.path().display().to_string();
    refused(&["corpus", &d], &["fifo.toml"]);
    std::fs::remove_file(&fifo).unwrap();
    let (code, out, err) = run(&["corpus", &d, "--no-timing"]);
    assert_eq!(code, 0, "{out}{err}");
}
