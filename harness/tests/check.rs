//! `Check`, as a test author uses it: the story a failing check panics
//! with, replays from Rust, regressions saved and replayed first, proofs,
//! scenarios and strategies built in code; and the CLI's side of the same
//! features (environment knobs, `--regressions`).

mod cli_support;

use cli_support::{prefixrace, root};

use std::panic::{catch_unwind, AssertUnwindSafe};

use assert_cmd::Command;
use prefixrace::check::regressions::Regressions;
use prefixrace::strategy::CpOnExist;
use prefixrace::{Check, DeclaredStrategy, Scenario, Step, Verdict};

/// The message `f` panics with; fails the test if it does not panic.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the check should panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a string panic")
}

/// The token of a failure's `.replay("t1.…")` line.
fn replay_token(story: &str) -> String {
    let at = story.find(".replay(\"").expect("a Rust replay line") + ".replay(\"".len();
    story[at..].split('"').next().unwrap().to_string()
}

#[test]
fn a_failing_check_panics_with_the_story_and_a_rust_replay_line_under_80_lines() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["sage-32361", "sage-32361-upgrade", "pip-21.1.2"] {
        let story = panic_message(|| {
            Check::builtin(name)
                .strategy("staged-copy")
                .regressions(dir.path().join(format!("{name}.txt")))
                .run();
        });
        let lines = story.lines().count();
        assert!(lines < 80, "{name}: {lines} lines:\n{story}");
        assert!(
            story.starts_with(&format!(
                "prefixrace: {name} FAILS under staged-copy (scheduler auto, seed 0)\n"
            )),
            "{story}"
        );
        for part in [
            "\nfound at: execution ",
            "\nerror: cp[",
            "': File exists\n",
            "\nrace (",
            "\nreplay from Rust:\n  Check::builtin(",
            ".strategy(\"staged-copy\").replay(\"t1.",
            "\nreplay from the shell:\n  prefixrace replay builtin:",
            "\nsaved to ",
        ] {
            assert!(story.contains(part), "{name}: no {part:?} in\n{story}");
        }
        // The Rust replay line replays it.
        let token = replay_token(&story);
        let again = Check::builtin(name)
            .strategy("staged-copy")
            .replay_race(&token)
            .expect("the token still fails");
        assert_eq!(again.token, token);
        assert!(again.to_string().contains("': File exists\n"));
        let replayed =
            panic_message(|| Check::builtin(name).strategy("staged-copy").replay(&token));
        assert!(replayed.contains("': File exists\n"), "{replayed}");
    }
}

#[test]
fn the_stories_of_the_other_recorded_sage_races_are_under_80_lines_too() {
    let dir = tempfile::tempdir().unwrap();
    for (file, strategy, error) in [
        ("sage-29585-backports", "staged-copy", "': File exists\n"),
        ("sage-33060-two-pips", "direct-install", "\nerror: "),
    ] {
        let path = format!("scenarios/{file}.toml");
        let story = panic_message(|| {
            Check::scenario(&path)
                .strategy(strategy)
                .regressions(dir.path().join(file))
                .run();
        });
        assert!(story.lines().count() < 80, "{file}:\n{story}");
        assert!(story.contains(error), "{file}:\n{story}");
        assert!(
            story.contains(&format!(
                "\nreplay from Rust:\n  Check::scenario({path:?}).strategy({strategy:?}).replay(\"t1."
            )),
            "{story}"
        );
        assert!(
            story.contains(&format!(
                "\nreplay from the shell:\n  prefixrace replay ../{path} --strategy {strategy} --token t1."
            )),
            "{story}"
        );
    }
}

#[test]
fn a_failing_check_saves_its_token_and_the_next_check_replays_it_at_execution_1() {
    let dir = tempfile::tempdir().unwrap();
    // The scenario file and its payload, copied: the regressions file goes
    // next to the scenario file.
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    for f in ["sage-33060-two-pips.toml", "payloads/Cython-0.29.21.RECORD"] {
        std::fs::copy(root().join("scenarios").join(f), dir.path().join(f)).unwrap();
    }
    let scenario = dir.path().join("sage-33060-two-pips.toml");
    let regressions = dir.path().join("sage-33060-two-pips.regressions");
    // Random with seed 2 meets the two-pip race at execution 16.
    let check = Check::scenario(&scenario)
        .strategy("direct-install")
        .scheduler("random")
        .seed(2);
    let first = panic_message(|| {
        check.run();
    });
    assert!(
        first.contains("found at: execution 16 of at most 1,000\n"),
        "{first}"
    );
    let saved = Regressions::load(&regressions).unwrap();
    assert_eq!(saved.entries.len(), 1, "{saved:?}");
    assert_eq!(saved.entries[0].strategy.as_deref(), Some("direct-install"));
    let text = std::fs::read_to_string(&regressions).unwrap();
    assert!(text.starts_with("# prefixrace regressions of scenario sage-33060-two-pips"));
    assert!(
        text.contains(" # scenario sage-33060-two-pips, scheduler random, seed 2, execution 16\n")
    );
    assert_eq!(replay_token(&first), saved.entries[0].token);

    // Replayed first: execution 1, and the story says it is a regression.
    let again = panic_message(|| {
        check.run();
    });
    assert!(
        again.contains(&format!(
            "found at: execution 1 of at most 1,000, by regression, replayed from {} line 4\n",
            regressions.display()
        )),
        "{again}"
    );
    assert_eq!(replay_token(&again), saved.entries[0].token);
    // Replaying did not save it twice.
    assert_eq!(std::fs::read_to_string(&regressions).unwrap(), text);
    // Another strategy's check does not replay it.
    let other = Check::scenario(&scenario)
        .strategy("atomic-rename")
        .scheduler("random")
        .schedules(5)
        .run();
    assert_eq!(other.verdict, Verdict::Pass);
    // find_race replays it first too, but saves nothing new.
    let found = check.find_race().unwrap();
    assert!(found.regression && found.execution == 1);
}

#[test]
fn find_race_returns_the_failure_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.txt");
    let failure = Check::builtin("sage-32361")
        .strategy("staged-copy")
        .regressions(&file)
        .find_race()
        .expect("the 32361 race");
    assert_eq!(failure.execution, 1);
    assert!(failure.error().unwrap().ends_with("File exists"));
    assert!(!failure.regression);
    assert!(!file.exists());
    assert!(Check::builtin("sage-32361")
        .strategy("direct-install")
        .schedules(30)
        .no_regressions()
        .find_race()
        .is_none());
}

#[test]
fn prove_proves_and_panics_when_incomplete_or_racy() {
    let report = Check::builtin("sage-32361")
        .strategy("direct-install")
        .no_regressions()
        .prove();
    assert!(report.is_proof(), "{report}");
    assert!(report.to_string().contains("coverage: complete"));

    let capped = panic_message(|| {
        Check::builtin("sage-32361")
            .strategy("direct-install")
            .schedules(5)
            .no_regressions()
            .prove();
    });
    assert!(capped.starts_with("prefixrace: not proved: "), "{capped}");
    assert!(capped.contains("INCOMPLETE"), "{capped}");

    let racy = panic_message(|| {
        Check::builtin("sage-32361")
            .strategy("staged-copy")
            .no_regressions()
            .prove();
    });
    assert!(
        racy.contains("FAILS under staged-copy (scheduler dpor"),
        "{racy}"
    );
}

#[test]
fn a_run_whose_budget_ends_is_a_pass_only_when_nothing_failed_and_says_incomplete() {
    let report = Check::builtin("sage-32361")
        .strategy("direct-install")
        .schedules(7)
        .no_regressions()
        .run();
    assert_eq!(report.executions(), 7);
    assert_eq!(report.verdict, Verdict::Incomplete);
    assert!(!report.is_proof());
    let report = Check::builtin("sage-32361")
        .strategy("direct-install")
        .scheduler("random")
        .schedules(7)
        .no_regressions()
        .run();
    assert_eq!((report.executions(), report.verdict), (7, Verdict::Pass));
}

#[test]
fn scenario_paths_are_found_upward_or_fall_back_to_the_built_in() {
    // `cargo test` runs in harness/: scenarios/ is one level up.
    let r = Check::scenario("scenarios/sage-32361.toml")
        .strategy("direct-install")
        .schedules(3)
        .no_regressions()
        .run();
    assert!(
        r.to_string()
            .contains("note: scenarios/sage-32361.toml found as ../scenarios/sage-32361.toml"),
        "{r}"
    );
    let r = Check::scenario("nowhere/sage-32361-upgrade.toml")
        .strategy("direct-install")
        .schedules(3)
        .no_regressions()
        .run();
    assert!(
        r.to_string()
            .contains("using the built-in scenario sage-32361-upgrade"),
        "{r}"
    );
    let missing = panic_message(|| {
        Check::scenario("nowhere/none.toml")
            .strategy("direct-install")
            .run();
    });
    assert!(missing.starts_with("prefixrace: nowhere/none.toml: no such scenario file in "));
    assert!(!missing.contains('\n'));
}

/// A check that should panic, and the start of its message.
type Case = (Box<dyn Fn()>, &'static str);

#[test]
fn bad_settings_panic_with_one_line() {
    let cases: Vec<Case> = vec![
        (
            Box::new(|| {
                Check::builtin("sage-32361").run();
            }),
            "prefixrace: no strategy: call .strategy(NAME)",
        ),
        (
            Box::new(|| {
                Check::builtin("sage-32361").strategy("copy-fast").run();
            }),
            "prefixrace: builtin:sage-32361: unknown strategy \"copy-fast\"",
        ),
        (
            Box::new(|| {
                Check::builtin("sage-32361")
                    .strategy("direct-install")
                    .scheduler("fast")
                    .run();
            }),
            "prefixrace: .scheduler(\"fast\"): unknown scheduler",
        ),
        (
            Box::new(|| {
                Check::builtin("sage-32361")
                    .strategy("direct-install")
                    .jobs(0)
                    .run();
            }),
            "prefixrace: .jobs(0): ",
        ),
        (
            Box::new(|| {
                Check::builtin("nope").strategy("direct-install").run();
            }),
            "prefixrace: unknown built-in scenario \"nope\"",
        ),
    ];
    for (f, want) in cases {
        let m = panic_message(f);
        assert!(m.starts_with(want), "{m}");
        assert!(!m.contains('\n'), "{m}");
    }
}

/// Cython as sage-32361 installs it, built in code from the same RECORD.
fn cython_in_code() -> Scenario {
    Scenario::builder("cython-in-code")
        .package("Cython")
        .version("0.29.21")
        .record(root().join("scenarios/payloads/Cython-0.29.21.RECORD"))
        .import("import-cython", ["Cython", "Cython.Shadow"])
        .build()
        .unwrap()
}

#[test]
fn scenarios_built_in_code_run_like_their_toml_twin_and_replay_from_rust() {
    let dir = tempfile::tempdir().unwrap();
    let story = panic_message(|| {
        Check::new(cython_in_code())
            .strategy("staged-copy")
            .regressions(dir.path().join("r.txt"))
            .run();
    });
    assert!(story.contains("': File exists\n"), "{story}");
    assert!(
        story.contains(
            "\nreplay from Rust:\n  Check::new(scenario).strategy(\"staged-copy\").replay(\"t1."
        ),
        "{story}"
    );
    // No shell command: nothing names an in-code scenario on the command line.
    assert!(!story.contains("prefixrace replay"), "{story}");
    let twin = Check::builtin("sage-32361")
        .strategy("staged-copy")
        .no_regressions()
        .find_race()
        .unwrap();
    assert_eq!(replay_token(&story), twin.token);
}

#[test]
fn builder_paths_follow_the_toml_rules_and_errors_name_the_call() {
    let s = Scenario::builder("paths")
        .package("tool")
        .file("tool/__init__.py", "")
        .file("../../../bin/tool", "#!/bin/sh\n")
        .mode(0o755)
        .dir("tool/data")
        .symlink("tool/link", "__init__.py")
        .build()
        .unwrap();
    let paths: Vec<&str> = s.packages[0].payload.iter().map(|e| &*e.path).collect();
    assert_eq!(
        paths,
        [
            "lib/python3.9/site-packages/tool/__init__.py",
            "bin/tool",
            "lib/python3.9/site-packages/tool/data",
            "lib/python3.9/site-packages/tool/link"
        ]
    );
    assert!(s.packages[0].payload[1].is_executable());
    let cases = [
        (
            Scenario::builder("x")
                .package("a")
                .file("a.py", "")
                .file("a.py", "")
                .build(),
            "scenario \"x\" in code, package \"a\" .file(\"a.py\"): path: duplicate path \"a.py\"",
        ),
        (
            Scenario::builder("x")
                .package("a")
                .file("a.py", "")
                .import("imp", ["b"])
                .build(),
            "scenario \"x\" in code: modules: activity \"imp\" imports \"b\", which no package installs",
        ),
        (
            Scenario::builder("x")
                .package("a")
                .file("a.py", "")
                .after("nobody")
                .build(),
            "scenario \"x\" in code: after: job \"a\" depends on unknown job \"nobody\"",
        ),
        (
            Scenario::builder("x")
                .package("a")
                .record("/nonexistent/RECORD")
                .build(),
            "scenario \"x\" in code, package \"a\" .record(\"/nonexistent/RECORD\"): record: cannot read \"/nonexistent/RECORD\"",
        ),
        (
            Scenario::builder("x").package("a").build(),
            "scenario \"x\" in code, package \"a\": package: package \"a\" needs exactly one of record, wheel, payload or [[package.file]]",
        ),
        (
            Scenario::builder("x")
                .prefix("relative")
                .package("a")
                .file("a.py", "")
                .build(),
            "scenario \"x\" in code, .prefix(): prefix: prefix must be an absolute display path",
        ),
    ];
    for (built, want) in cases {
        let e = built.unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}\nwanted {want}");
        assert!(!e.contains('\n'));
    }
}

#[test]
fn strategies_built_from_steps_run_like_declared_ones() {
    // atomic-rename, from typed steps: proved safe on 32361.
    let atomic = DeclaredStrategy::from_steps(
        "atomic-writes",
        [Step::Write { atomic: true }, Step::Compile],
    )
    .unwrap();
    let report = Check::builtin("sage-32361")
        .strategy(atomic)
        .no_regressions()
        .prove();
    assert!(report.is_proof(), "{report}");
    // staged-merge's cp, from typed steps.
    let merging = DeclaredStrategy::from_steps(
        "merging-copy",
        [
            Step::Stage,
            Step::Compile,
            Step::Copy {
                on_exist: CpOnExist::Replace,
            },
        ],
    )
    .unwrap();
    // Declared in a scenario built in code, it is found by name.
    let scenario = Scenario::builder("cython-merge")
        .package("Cython")
        .record(root().join("scenarios/payloads/Cython-0.29.21.RECORD"))
        .import("import-cython", ["Cython"])
        .strategy(merging)
        .build()
        .unwrap();
    // Its race under the importer's rename (docs/strategies.md), found by name.
    let f = Check::new(scenario)
        .strategy("merging-copy")
        .no_regressions()
        .find_race()
        .expect("staged-merge's .pyc window");
    assert!(
        f.error()
            .unwrap()
            .contains("__init__.cpython-39.pyc': File exists"),
        "{f}"
    );
    assert!(f
        .rust_replay()
        .starts_with("Check::new(scenario).strategy(\"merging-copy\").replay(\"t1."));
    // The plain copy, from steps, races, and the Rust replay line says so.
    let plain =
        DeclaredStrategy::from_steps("plain-copy", [Step::Stage, Step::Compile, Step::copy()])
            .unwrap();
    let f = Check::builtin("sage-32361")
        .strategy(plain)
        .no_regressions()
        .find_race()
        .unwrap();
    assert!(f
        .rust_replay()
        .starts_with("Check::builtin(\"sage-32361\").strategy(strategy).replay(\"t1."));
    assert!(f.cli_replay().is_none());
}

fn prefixrace_cli() -> Command {
    let mut c = prefixrace();
    for v in prefixrace::check::env::ALL {
        c.env_remove(v);
    }
    c
}

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap()
}

#[test]
fn cli_env_knobs_apply_when_no_flag_is_given() {
    for scheduler in [None, Some("random")] {
        let mut c = prefixrace_cli();
        c.env("PREFIXRACE_SCHEDULES", "7").args([
            "explore",
            "scenarios/sage-32361.toml",
            "--strategy",
            "direct-install",
            "--format",
            "json",
        ]);
        if let Some(s) = scheduler {
            c.args(["--scheduler", s]);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let r = json_of(&out.stdout);
        assert_eq!(r["executions"], 7, "{scheduler:?}: {r}");
        assert_eq!(r["schedules"], 7);
        let verdict = if scheduler.is_some() {
            "pass"
        } else {
            "incomplete"
        };
        assert_eq!(r["verdict"], verdict, "{r}");
    }
    // A flag beats the variable; the scheduler and seed come from theirs.
    let out = prefixrace_cli()
        .env("PREFIXRACE_SCHEDULES", "7")
        .env("PREFIXRACE_SCHEDULER", "pct:2")
        .env("PREFIXRACE_SEED", "5")
        .env("PREFIXRACE_JOBS", "1")
        .args([
            "explore",
            "scenarios/sage-32361.toml",
            "--strategy",
            "direct-install",
            "--schedules",
            "9",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let r = json_of(&out.stdout);
    assert_eq!(
        (&r["executions"], &r["scheduler"], &r["seed"]),
        (&9.into(), &"pct:2".into(), &5.into())
    );
    // random: a fresh seed, printed.
    let out = prefixrace_cli()
        .env("PREFIXRACE_SEED", "random")
        .args([
            "explore",
            "scenarios/sage-32361.toml",
            "--strategy",
            "direct-install",
            "--scheduler",
            "random",
            "--schedules",
            "3",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let seed = stderr
        .split("seed ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        stderr.contains(&format!("rerun with PREFIXRACE_SEED={seed}")),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("scheduler: random, seed {seed}\n")),
        "{stdout}"
    );
}

#[test]
fn cli_bad_knobs_are_one_line_naming_the_variable_exit_2() {
    for (var, value) in [
        ("PREFIXRACE_SCHEDULES", "lots"),
        ("PREFIXRACE_SEED", "x"),
        ("PREFIXRACE_SCHEDULER", "fast"),
        ("PREFIXRACE_JOBS", "0"),
        ("PREFIXRACE_TIME_LIMIT", "-1"),
    ] {
        let out = prefixrace_cli()
            .env(var, value)
            .args([
                "explore",
                "scenarios/sage-32361.toml",
                "--strategy",
                "direct-install",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("prefixrace: error: {var}={value}: ")),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn cli_regressions_are_replayed_first_and_new_failures_appended() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sage.regressions");
    // Random with seed 2 meets the two-pip race at execution 16.
    let args = |c: &mut Command| {
        c.args([
            "explore",
            "scenarios/sage-33060-two-pips.toml",
            "--strategy",
            "direct-install",
            "--scheduler",
            "random",
            "--seed",
            "2",
            "--no-pairs",
            "--format",
            "json",
            "--regressions",
        ])
        .arg(&file);
    };
    let mut c = prefixrace_cli();
    args(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let first = json_of(&out.stdout);
    assert_eq!(first["first_failure"]["execution"], 16, "{first}");
    let saved = Regressions::load(&file).unwrap();
    assert_eq!(saved.entries.len(), 1);
    assert_eq!(saved.entries[0].token, first["first_failure"]["token"]);

    let mut c = prefixrace_cli();
    args(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let again = json_of(&out.stdout);
    assert_eq!(again["first_failure"]["execution"], 1, "{again}");
    assert_eq!(again["executions"], 1);
    assert!(again["found_by"]
        .as_str()
        .unwrap()
        .starts_with("regression, replayed from "));
    assert_eq!(Regressions::load(&file).unwrap().entries.len(), 1);
    // The text report says so too.
    let out = prefixrace_cli()
        .args([
            "explore",
            "scenarios/sage-33060-two-pips.toml",
            "--strategy",
            "direct-install",
            "--no-pairs",
            "--regressions",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("found in: execution 1 of at most 1,000"),
        "{text}"
    );
    assert!(
        text.contains("found by: regression, replayed from "),
        "{text}"
    );
    // A malformed file is one line naming it, exit 2.
    std::fs::write(&file, "staged-copy not-a-token\n").unwrap();
    let mut c = prefixrace_cli();
    args(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("sage.regressions:1: token: "), "{stderr}");
}
