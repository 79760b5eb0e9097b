//! The races corpus (`scenarios/races/`) and the `kind = "script"`
//! activities it is written in: every incident's buggy variant fails with
//! its tool's own line within 10 executions of the default search, every
//! fixed variant passes, a failing token replays, the scripts run the same
//! on a real filesystem, and a bad step is one line naming file, line and
//! field.

mod cli_support;

use std::collections::BTreeSet;

use cli_support::{refused, run};
use serde_json::Value;

/// The corpus exits 0 with at least 12 incidents from at least 6 tools,
/// each with a buggy and a fixed variant; every fail row was found by auto
/// within 10 executions, with the declared message, and every pass row
/// passed with dpor's search complete.
#[test]
fn the_races_corpus_meets_every_expectation() {
    let (code, out, err) = run(&[
        "corpus",
        "scenarios/races",
        "--no-timing",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let incidents: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["incident"].as_str().unwrap())
        .collect();
    let tools: BTreeSet<&str> = rows.iter().map(|r| r["tool"].as_str().unwrap()).collect();
    assert!(incidents.len() >= 12, "{incidents:?}");
    assert!(tools.len() >= 6, "{tools:?}");
    for incident in &incidents {
        let expects: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r["incident"] == *incident)
            .map(|r| r["expect"].as_str().unwrap())
            .collect();
        assert_eq!(
            expects,
            BTreeSet::from(["fail", "pass"]),
            "{incident}: a buggy and a fixed variant"
        );
    }
    for row in rows {
        let auto = &row["runs"][0];
        assert_eq!(auto["scheduler"], "auto");
        match row["expect"].as_str().unwrap() {
            "fail" => {
                assert!(auto["executions"].as_u64().unwrap() <= 10, "{row}");
                let message = row["message"].as_str().unwrap_or("");
                let errors = auto["errors"].to_string();
                assert!(errors.contains(&message.replace('"', "\\\"")), "{row}");
            }
            _ => {
                let runs = row["runs"].as_array().unwrap();
                assert!(runs.iter().all(|r| r["found"] == false), "{row}");
                let dpor = runs.iter().find(|r| r["scheduler"] == "dpor").unwrap();
                assert_eq!(dpor["complete"], true, "{row}: dpor's search ended");
            }
        }
    }
}

/// A buggy script scenario's token replays the same failure, with the
/// tool's own line.
#[test]
fn a_script_race_replays_from_its_token() {
    let scenario = "scenarios/races/spack-33547-shared-sbang-tmp.toml";
    let (code, out, _) = run(&[
        "explore",
        scenario,
        "--strategy",
        "direct-install",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let token = report["first_failure"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, replayed, _) = run(&[
        "replay",
        scenario,
        "--strategy",
        "direct-install",
        "--token",
        &token,
    ]);
    assert_eq!(code, 1, "{replayed}");
    assert!(
        replayed.contains("==> Error: [Errno 2] No such file or directory: '/opt/spack/bin/sbang.tmp' -> '/opt/spack/bin/sbang'"),
        "{replayed}"
    );
}

/// On a real filesystem the kit's scripts give the same verdict, failure
/// and report as on the model.
#[test]
fn scripts_give_the_same_report_on_a_real_filesystem() {
    let scenario = "scenarios/races/pnpm-10896-rimraf-then-rename.toml";
    let args = |fs: &'static str| {
        vec![
            "explore",
            scenario,
            "--strategy",
            "direct-install",
            "--seed",
            "1",
            "--schedules",
            "20",
            "--fs",
            fs,
            "--format",
            "json",
        ]
    };
    let (model_code, model, _) = run(&args("model"));
    let (real_code, real, err) = run(&args("real"));
    assert_eq!((model_code, real_code), (1, 1), "{real}\n{err}");
    let strip = |s: &str| {
        let mut v: Value = serde_json::from_str(s).unwrap();
        v["command"] = Value::Null;
        v
    };
    assert_eq!(
        strip(&model)["first_failure"],
        strip(&real)["first_failure"]
    );
    assert!(model.contains("ERR_PNPM_ENOTEMPTY  ENOTEMPTY: directory not empty, rename"));
}

/// Writes a scenario with one script activity whose steps are `steps`.
fn script_scenario(dir: &tempfile::TempDir, steps: &str) -> String {
    let path = dir.path().join("s.toml");
    let text = format!(
        "name = \"s\"\nprefix = \"/p\"\n\n[[activity]]\nname = \"a\"\nkind = \"script\"\nprogram = \"pnpm\"\nsteps = [\n{steps}\n]\n"
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Every mistake in a step is refused in one line naming the file, the
/// step's line and `steps[N].field`; no path leaves the prefix.
#[test]
fn a_bad_step_is_one_line_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            r#"  { do = "fly", path = "a" },"#,
            &[":9:", "steps[0].do", "unknown step \"fly\""],
        ),
        (
            r#"  { do = "write" },"#,
            &[":9:", "steps[0].path", "missing"],
        ),
        (
            r#"  { do = "link-from-store", store = "../store/a", target = "a", tmp-dir = "t" },"#,
            &[":9:", "steps[0].store"],
        ),
        (
            r#"  { do = "exchange-in", new = "a" },"#,
            &[":9:", "steps[0].target", "missing"],
        ),
        (
            r#"  { do = "write", path = "../x" },"#,
            &[":9:", "steps[0].path"],
        ),
        (
            r#"  { do = "write", path = "/etc/passwd" },"#,
            &[":9:", "steps[0].path"],
        ),
        (
            r#"  { do = "symlink", link = "a", target = "../../etc" },"#,
            &[":9:", "steps[0].target"],
        ),
        (
            r#"  { do = "symlink", link = "a", target = "/etc" },"#,
            &[":9:", "steps[0].target", "absolute"],
        ),
        (
            r#"  { do = "write", path = "a", colour = "red" },"#,
            &[":9:", "steps[0].colour", "unknown key"],
        ),
        (
            r#"  { do = "remove", path = "a", style = "shred" },"#,
            &[":9:", "steps[0].style", "rm-rf"],
        ),
        (
            r#"  { do = "write", path = "a", how = "in-place", tmp = "shared" },"#,
            &[":9:", "steps[0].tmp"],
        ),
        (
            r#"  { do = "rename", from = "a", to = 3 },"#,
            &[":9:", "steps[0].to", "expected a string"],
        ),
        (
            r#"  { do = "makedirs", dir = "a" },
  { do = "read", path = "a\u0007" },"#,
            &[":10:", "steps[1].path", "control character"],
        ),
        (r#"  "write","#, &[":9:", "steps[0].do", "inline table"]),
    ];
    for (steps, expected) in cases {
        let file = script_scenario(&dir, steps);
        refused(&["explore", &file], expected);
    }
}

/// Two installs of one wheel at once (pip issue 2361's shape): pip 21.1.2
/// unlinks the other's executable before its chmod and fails; uv, whose
/// every file is a tempfile renamed over its target, survives the same
/// search.
#[test]
fn uv_survives_the_two_installs_pip_fails() {
    let scenario = "scenarios/races/pip-2361-no-environment-lock.toml";
    let explore = |strategy: &str| {
        let (code, out, err) = run(&[
            "explore",
            scenario,
            "--strategy",
            strategy,
            "--seed",
            "1",
            "--schedules",
            "300",
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        (code, report)
    };
    let (pip_code, pip) = explore("direct-install");
    assert_eq!(pip_code, 1, "{pip}");
    assert!(pip["first_failure"]["execution"].as_u64().unwrap() <= 10);
    let (uv_code, uv) = explore("uv");
    assert_eq!(uv_code, 0, "{uv}");
    assert_eq!(uv["executions"], 300);
}

/// SageMath 33060 with the `pip` strategy (pip 23 with its uninstall): the
/// same wheel given twice, one pip's stash moves the other's half-made
/// `.dist-info` away and the other fails on its INSTALLER temporary file,
/// with the line Sage's log shows.
#[test]
fn two_current_pips_of_one_wheel_fail_as_sage_33060_did() {
    let wheel = "scenarios/payloads/idna-3.7-py3-none-any.whl";
    let (code, out, err) = run(&[
        "explore",
        "--package",
        wheel,
        "--package",
        wheel,
        "--strategy",
        "pip",
        "--seed",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(report["first_failure"]["execution"].as_u64().unwrap() <= 10);
    let errors = report["first_failure"].to_string();
    assert!(
        errors.contains("No such file or directory: '/sage/local/lib/python3.9/site-packages/idna-3.7.dist-info/INSTALLER"),
        "{errors}"
    );
}

/// The installers chosen by name are reserved like the built-in ones: a
/// `[[strategy]]` named `uv` is refused, in a scenario and in code, rather
/// than silently losing to the built-in `uv`.
#[test]
fn a_declared_strategy_cannot_take_an_installers_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "name = \"s\"\n[[package]]\nname = \"a\"\n[[package.file]]\npath = \"a/__init__.py\"\n\
         [[strategy]]\nname = \"uv\"\nsteps = [\"write\"]\n",
    )
    .unwrap();
    refused(
        &["explore", &path.display().to_string()],
        &["s.toml:7", "already defined"],
    );
    let in_code = prefixrace::DeclaredStrategy::from_steps("pip", [prefixrace::Step::write()]);
    assert!(in_code.unwrap_err().to_string().contains("already defined"));
}

/// npm 11.7's answer to an occupied retirement name (npm/cli PR 8721:
/// remove it and move again) does not make two npms in one project safe:
/// the scenario of npm cli 4383 with that fix still fails, now on the
/// removal of the retired copy the other npm is removing too.
#[test]
fn two_current_npms_still_fail() {
    let buggy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/races/npm-4383-two-reifies.toml"
    ))
    .unwrap();
    let retire = "to = \"node_modules/.acorn-GD8Uk6fH\" }";
    assert_eq!(buggy.matches(retire).count(), 2, "both npms retire acorn");
    let current = buggy.replace(
        retire,
        "to = \"node_modules/.acorn-GD8Uk6fH\", replace-existing = true }",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("npm-current.toml");
    std::fs::write(&path, current).unwrap();
    let (code, out, err) = run(&[
        "explore",
        &path.display().to_string(),
        "--strategy",
        "direct-install",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let errors = report["first_failure"].to_string();
    assert!(errors.contains("npm error ENOTEMPTY: directory not empty, rmdir '/home/u/app/node_modules/.acorn-GD8Uk6fH"), "{errors}");
    assert!(
        !errors.contains(", rename '"),
        "the fix handles the rename: {errors}"
    );
}

/// An `[[activity]]` with `initial = true` ran before any job starts: a
/// job reading what it wrote never races it (it does as an ordinary
/// activity), and it takes no `after`.
#[test]
fn an_initial_activity_is_laid_down_before_every_job() {
    let scenario = |initial: &str| {
        format!(
            "name = \"s\"\nprefix = \"/home/u/app\"\n\
             [[activity]]\nname = \"earlier\"\nkind = \"script\"\n{initial}program = \"npm\"\n\
             steps = [{{ do = \"write-tree\", dir = \"old\", files = [\"file\"] }}]\n\
             [[activity]]\nname = \"reader\"\nkind = \"script\"\nprogram = \"node\"\n\
             steps = [{{ do = \"read\", path = \"old/file\" }}]\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let explore = |text: String| {
        std::fs::write(&path, text).unwrap();
        run(&[
            "explore",
            &path.display().to_string(),
            "--strategy",
            "direct-install",
        ])
    };
    let (code, out, err) = explore(scenario("initial = true\n"));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("coverage: complete"), "{out}");
    let (code, out, err) = explore(scenario(""));
    assert_eq!(
        code, 1,
        "as an ordinary activity the read races the write: {out}\n{err}"
    );
    std::fs::write(&path, scenario("initial = true\nafter = [\"reader\"]\n")).unwrap();
    refused(
        &["explore", &path.display().to_string()],
        &["s.toml:5", "after", "before any job starts"],
    );
}

/// The kit's hard link from a content store and its swap by
/// `RENAME_EXCHANGE` are steps of a TOML script too. Two installers
/// linking one file from a store pass in every order (dpor complete): the
/// second's rename of its temporary link over the first's link to the same
/// inode does nothing, and its temporary directory goes with the link left
/// in it. Two exchanging a tree in over an installed one pass too; over
/// none (a first install: `exchange-in` falls back to a plain rename) the
/// second's rename meets the first's tree.
#[test]
fn link_from_store_and_exchange_in_are_script_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let earlier = |steps: &str| {
        format!(
            "[[activity]]\nname = \"earlier\"\nkind = \"script\"\ninitial = true\nprogram = \"uv\"\nsteps = [{steps}]\n"
        )
    };
    let installer = |name: &str, steps: &str| {
        format!("[[activity]]\nname = \"{name}\"\nkind = \"script\"\nprogram = \"uv\"\nsteps = [{steps}]\n")
    };
    let link = |n: &str| {
        format!(
            "{{ do = \"mkdir-recursive\", dir = \"site\" }}, \
             {{ do = \"link-from-store\", store = \"cache/x/a.py\", target = \"site/a.py\", tmp-dir = \"site/.tmp-{n}\" }}"
        )
    };
    let exchange = |n: &str| {
        format!(
            "{{ do = \"write-tree\", dir = \"opt/.new-{n}\", files = [\"bin/tool\"], version = \"2\" }}, \
             {{ do = \"exchange-in\", new = \"opt/.new-{n}\", target = \"opt/tool\" }}"
        )
    };
    let store = earlier("{ do = \"write-tree\", dir = \"cache/x\", files = [\"a.py\"] }");
    let installed = earlier(
        "{ do = \"write-tree\", dir = \"opt/tool\", files = [\"bin/tool\"], version = \"1\" }",
    );
    let explore = |first: &str, a: String, b: String| {
        let text = format!(
            "name = \"s\"\n{first}{}{}",
            installer("a", &a),
            installer("b", &b)
        );
        std::fs::write(&path, text).unwrap();
        run(&[
            "explore",
            &path.display().to_string(),
            "--strategy",
            "direct-install",
            "--scheduler",
            "dpor",
        ])
    };
    for (first, a, b) in [
        (&store, link("a"), link("b")),
        (&installed, exchange("a"), exchange("b")),
    ] {
        let (code, out, err) = explore(first, a, b);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("coverage: complete"), "{out}");
    }
    let (code, out, err) = explore("", exchange("a"), exchange("b"));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("Directory not empty"), "{out}");
}

/// The same in code: `ScenarioBuilder::initial_script` lays a script down
/// before every job, where `script` makes it a job that races the reader.
#[test]
fn an_initial_script_in_code_is_laid_down_before_every_job() {
    use prefixrace::kit::{Script, WriteHow};
    use prefixrace::{Check, Scenario};

    let earlier =
        Script::new("npm").write_tree("old", &[("file", b"1".as_slice())], WriteHow::InPlace);
    let reader = Script::new("node").read("old/file");
    let scenario = |initial: bool| {
        let builder = Scenario::builder("initial-in-code");
        let builder = if initial {
            builder.initial_script("earlier", earlier.clone())
        } else {
            builder.script("earlier", earlier.clone())
        };
        builder.script("reader", reader.clone()).build().unwrap()
    };
    let built = scenario(true);
    assert_eq!(built.initial_activities.len(), 1);
    assert_eq!(built.activities.len(), 1);
    let report = Check::new(built)
        .strategy("direct-install")
        .no_regressions()
        .prove();
    assert!(report.is_proof(), "{report}");
    assert!(Check::new(scenario(false))
        .strategy("direct-install")
        .no_regressions()
        .find_race()
        .is_some());
}
