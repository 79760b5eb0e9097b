//! Nothing left behind: a reader that goes away (`| head -1`) leaves the
//! prefix as it was and no `prefixrace-*` or `pip-*` directory in `$TMPDIR`;
//! a run killed with SIGKILL is cleaned up by the next run on its prefix; a
//! command that does not finish is killed and reported as a hang.

mod gate_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use gate_support::*;

/// Every path under `root`, sorted, with file contents.
fn listing(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((rel, Vec::new()));
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("prefixrace-") || n.starts_with("pip-"))
        .collect()
}

fn populated_prefix() -> tempfile::TempDir {
    let prefix = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(prefix.path().join("lib/old")).unwrap();
    std::fs::write(prefix.path().join("lib/old/kept.txt"), b"as found").unwrap();
    prefix
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn head_on_a_traced_pip_run_leaves_the_prefix_and_tmpdir_clean() {
    if !gate_permitted() {
        return;
    }
    let py = python();
    let site = site_packages(&py);
    let wheels = tempfile::tempdir().unwrap();
    let wheel = wheel(wheels.path());
    let prefix = populated_prefix();
    let before = listing(prefix.path());
    let tmp = tempfile::tempdir().unwrap();
    let mut child = prefixrace()
        .env("TMPDIR", tmp.path())
        .args(["run", "--trace", "--executions", "3", "--seed", "2"])
        .args(["--volatile", "**/RECORD", "--prefix"])
        .arg(prefix.path())
        .args([
            "--",
            &direct_install(&py, &wheel),
            "--",
            &importer(&py, &site),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("execution 0 ("), "{first}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGPIPE),
        "{}",
        stderr(&out)
    );
    assert_eq!(listing(prefix.path()), before, "the prefix is as it was");
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn after_sigkill_the_next_run_restores_the_prefix() {
    if !gate_permitted() {
        return;
    }
    let prefix = populated_prefix();
    let before = listing(prefix.path());
    let tmp = tempfile::tempdir().unwrap();
    // The reference passes at once; the execution installs, then waits.
    let marks = tempfile::tempdir().unwrap();
    let m = marks.path().display();
    let command = format!(
        "if [ -e '{m}/ref' ]; then mkdir \"$PREFIX/installed\"; touch '{m}/started'; sleep 600; \
         else touch '{m}/ref'; fi"
    );
    let mut child = prefixrace()
        .env("TMPDIR", tmp.path())
        .args(["run", "--executions", "1", "--prefix"])
        .arg(prefix.path())
        .args(["--", &command])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marks.path().join("started").exists() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(prefix.path().join("installed").exists(), "killed mid-run");
    assert_eq!(leftovers(tmp.path()).len(), 1, "the snapshot stays behind");
    let out = prefixrace()
        .env("TMPDIR", tmp.path())
        .args(["run", "--executions", "1", "--prefix"])
        .arg(prefix.path())
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("restored"), "{err}");
    assert_eq!(listing(prefix.path()), before);
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn a_command_that_does_not_finish_is_a_hang() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = prefixrace()
        .args(["run", "--prefix"])
        .arg(prefix.path())
        .args(["--", "sleep 1000", "--", "true", "--timeout", "2"])
        .output()
        .unwrap();
    // A loose bound: the point is that it ends, not how fast.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("HANG: A did not finish within 2 s"), "{text}");
    assert!(text.contains("sleep 1000"), "{text}");
    assert!(text.contains("asleep in"), "{text}");
}
