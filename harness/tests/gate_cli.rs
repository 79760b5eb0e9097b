//! `prefixrace run` on small real commands: verdicts from the final tree and
//! from stderr patterns, and one-line usage errors with exit code 2.

mod gate_support;

use gate_support::*;

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn independent_commands_pass_and_the_prefix_is_restored() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--executions", "5", "--prefix"])
        .arg(prefix.path())
        .args([
            "--",
            "mkdir \"$PREFIX/a\" && echo 1 > \"$PREFIX/a/f\"",
            "--",
            "mkdir \"$PREFIX/b\" && echo 2 > \"$PREFIX/b/f\"",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("PASS: 5 executions"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("4 paths in the prefix"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn last_writer_wins_differs_from_the_serial_tree() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--executions", "20", "--seed", "3", "--prefix"])
        .arg(prefix.path())
        .args([
            "--",
            "echo first > \"$PREFIX/f\"",
            "--",
            "echo second > \"$PREFIX/f\"",
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("the prefix differs from the serial reference"),
        "{text}"
    );
    assert!(text.contains("~ f  (file 0644 7 bytes"), "{text}");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn fail_on_matches_stderr_even_when_the_exit_status_is_zero() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    let run = |pattern: &str| {
        prefixrace()
            .args(["run", "--executions", "20", "--fail-on", pattern, "--prefix"])
            .arg(prefix.path())
            .args([
                "--",
                "if [ -e \"$PREFIX/x\" ]; then echo 'warning: x was there' >&2; fi; touch \"$PREFIX/y\"",
                "--",
                "touch \"$PREFIX/x\"",
            ])
            .output()
            .unwrap()
    };
    // Serially A runs first and never sees x; in some interleaving B goes first.
    let hit = run("^warning: x");
    assert_eq!(hit.status.code(), Some(1), "{}", stdout(&hit));
    assert!(
        stdout(&hit).contains("A printed: warning: x was there"),
        "{}",
        stdout(&hit)
    );
    assert!(
        !stdout(&hit).contains("exited with status"),
        "{}",
        stdout(&hit)
    );
    let miss = run("^never printed");
    assert_eq!(miss.status.code(), Some(0), "{}", stdout(&miss));
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn bad_input_is_one_line_and_exit_2() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path().to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", "--", "true"],
        vec!["run", "--prefix", "/nonexistent/prefixrace"],
        vec!["run", "--prefix", p],
        vec!["run", "--prefix", p, "--", "true", "false"],
        vec!["run", "--prefix", p, "--token", "nonsense", "--", "true"],
        vec!["run", "--prefix", p, "--fail-on", "(", "--", "true"],
        vec!["run", "--prefix", p, "--scheduler", "bogus", "--", "true"],
        vec!["run", "--prefix", p, "--executions", "0", "--", "true"],
        vec!["run", "--prefix", p, "--stage", p, "--", "true"],
        vec!["run", "--prefix", p, "--kill", "A", "--", "true"],
        vec!["run", "--prefix", p, "--kill", "a@1", "--", "true"],
        vec!["run", "--prefix", p, "--kill", "B@1", "--", "true"],
        vec!["run", "--prefix", p, "--fault", "A@1", "--", "true"],
        vec!["run", "--prefix", p, "--fault", "A@1:crash", "--", "true"],
        vec!["run", "--prefix", p, "--fault", "B@1:eio", "--", "true"],
        vec!["run", "--prefix", p, "--faults", "eio,crash", "--", "true"],
        vec![
            "run", "--prefix", p, "--fault", "A@1:eio", "--kill", "A@1", "--", "true",
        ],
        vec![
            "run", "--prefix", p, "--fault", "A@1:eio", "--faults", "eio", "--", "true",
        ],
        // A fault point with no call it strikes after it: nothing is struck.
        vec![
            "run",
            "--prefix",
            p,
            "--fault",
            "A@0:eio",
            "--",
            "mkdir \"$PREFIX/d\"",
        ],
        // A kill point the job never reaches: it ends first.
        vec![
            "run",
            "--prefix",
            p,
            "--kill",
            "A@5",
            "--",
            "mkdir \"$PREFIX/d\"",
        ],
    ];
    for args in cases {
        let out = prefixrace().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("prefixrace: error:"), "{args:?}: {err}");
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_failing_serial_reference_is_reported_not_raced() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--prefix"])
        .arg(prefix.path())
        .args(["--", "echo broken >&2; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("serial reference failed: command A exited 3: broken"),
        "{}",
        stderr(&out)
    );
}
