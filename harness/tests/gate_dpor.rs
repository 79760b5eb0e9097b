//! `run --scheduler dpor`: source-DPOR over the calls the gate records, on
//! real processes. It finds the staged copy's `__pycache__` race against an
//! importer within a few executions (and its token replays), proves two
//! copies of disjoint trees race-free in one execution, says INCOMPLETE
//! when its budget ends the search, and repeats itself byte for byte.

mod gate_support;

use std::process::Output;

use gate_support::*;

/// The staged copy of 32361 against the spinning importer, under dpor.
struct Copy {
    stage: tempfile::TempDir,
    prefix: tempfile::TempDir,
    import: String,
}

impl Copy {
    fn new() -> Copy {
        let py = python();
        let site = site_packages(&py);
        Copy {
            stage: staging_tree(&py, &site),
            prefix: tempfile::tempdir().unwrap(),
            import: importer(&py, &site),
        }
    }

    fn run(&self, extra: &[&str]) -> Output {
        prefixrace()
            .arg("run")
            .args(extra)
            .arg("--prefix")
            .arg(self.prefix.path())
            .arg("--stage")
            .arg(self.stage.path())
            .args(["--", &staged_copy(), "--", &self.import])
            .output()
            .unwrap()
    }
}

fn token_of(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in {text}"))
        .to_string()
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn dpor_finds_the_staged_copy_race_within_a_few_executions_and_its_token_replays() {
    if !gate_permitted() {
        return;
    }
    let copy = Copy::new();
    let out = copy.run(&["--scheduler", "dpor", "--executions", "5"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("dpor: branched with B at step "), "{text}");
    assert!(
        text.contains("cp: cannot create directory") && text.contains("__pycache__': File exists"),
        "{text}"
    );
    assert!(text.contains("--execution 0 --token "), "{text}");
    assert_eq!(std::fs::read_dir(copy.prefix.path()).unwrap().count(), 0);
    let token = token_of(&text);
    let replay = copy.run(&["--execution", "0", "--token", &token]);
    let again = stdout(&replay);
    assert_eq!(replay.status.code(), Some(1), "{again}{}", stderr(&replay));
    assert!(
        again.contains("cp: cannot create directory")
            && again.contains("__pycache__': File exists"),
        "{again}"
    );
    assert_eq!(token_of(&again), token);
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn dpor_repeats_its_search_byte_for_byte() {
    if !gate_permitted() {
        return;
    }
    let copy = Copy::new();
    let args = ["--scheduler", "dpor", "--executions", "5", "--trace"];
    let first = copy.run(&args);
    let second = copy.run(&args);
    assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
    assert_eq!(stdout(&first), stdout(&second));
}

/// Two `cp -Rp` of disjoint trees: no call of one depends on a call of the
/// other, so the first execution is the only class.
#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn dpor_proves_disjoint_copies_race_free_in_one_execution() {
    if !gate_permitted() {
        return;
    }
    let stage = tempfile::tempdir().unwrap();
    for tree in ["a", "b"] {
        std::fs::create_dir_all(stage.path().join(tree).join("sub")).unwrap();
        for f in ["x", "y", "sub/z"] {
            std::fs::write(stage.path().join(tree).join(f), f).unwrap();
        }
    }
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--scheduler", "dpor", "--executions", "5"])
        .arg("--require-complete")
        .arg("--prefix")
        .arg(prefix.path())
        .arg("--stage")
        .arg(stage.path())
        .args([
            "--",
            "exec cp -Rp \"$STAGE/a\" \"$PREFIX/a\"",
            "--",
            "exec cp -Rp \"$STAGE/b\" \"$PREFIX/b\"",
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("PASS: complete: 1 execution explored every class"),
        "{text}"
    );
}

/// Two `mkdir -p` of one path race benignly (each tolerates the other's
/// directory). One execution cannot cover the classes: INCOMPLETE, exit 0,
/// and exit 1 with --require-complete; with room the search ends: PASS.
#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn dpor_says_incomplete_when_its_budget_ends_the_search() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        prefixrace()
            .args(["run", "--scheduler", "dpor"])
            .args(extra)
            .arg("--prefix")
            .arg(prefix.path())
            .args([
                "--",
                "exec mkdir -p \"$PREFIX/a/b\"",
                "--",
                "exec mkdir -p \"$PREFIX/a/b\"",
            ])
            .output()
            .unwrap()
    };
    let out = run(&["--executions", "1"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("INCOMPLETE: 1 execution, no failure; "),
        "{text}"
    );
    assert!(!text.contains("PASS"), "{text}");
    let out = run(&["--schedules", "1", "--require-complete"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("--require-complete"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--executions", "50"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("PASS: complete: "), "{text}");
}
