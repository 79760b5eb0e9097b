//! Ctrl-C leaves nothing behind: after SIGINT, `prefixrace run` kills and
//! reaps every traced process (the commands' shells and their children) and
//! restores the prefix.

mod gate_support;

use std::path::Path;
use std::time::{Duration, Instant};

use gate_support::*;

/// A command that finishes at once in the serial reference, and in the
/// executions forks a process that waits forever on a pipe (an untimed wait:
/// a `sleep` would count as running and hold every decision), records its
/// own and its child's pid outside the prefix, then waits; it also leaves a
/// file in the prefix. `tag` marks the child's command line.
fn long_runner(name: &str, tag: u32, marks: &Path) -> String {
    let m = marks.display();
    let py = python();
    format!(
        "touch \"$PREFIX/{name}\"; \
         if [ -e '{m}/{name}.reference' ]; then \
           {py} -c 'import os; r, w = os.pipe(); os.read(r, 1)' {tag} & \
           echo $! >> '{m}/pids'; echo $$ >> '{m}/pids'; wait; \
         else touch '{m}/{name}.reference'; fi"
    )
}

fn pids(marks: &Path) -> Vec<i32> {
    std::fs::read_to_string(marks.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Kills `prefixrace` if the test fails before it exits, so a failing
/// test leaves nothing running either.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn sigint_kills_and_reaps_every_traced_process() {
    if !gate_permitted() {
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    std::fs::write(prefix.path().join("kept"), b"as found").unwrap();
    let marks = tempfile::tempdir().unwrap();
    let mut guard = KillOnDrop(Some(
        prefixrace()
            .args(["run", "--executions", "5", "--prefix"])
            .arg(prefix.path())
            .args([
                "--",
                &long_runner("a", 42421, marks.path()),
                "--",
                &long_runner("b", 42422, marks.path()),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let child = guard.0.as_mut().unwrap();
    // Wait (bounded, only so a broken harness cannot hang the suite) until
    // both commands and both waiting children are running.
    let deadline = Instant::now() + Duration::from_secs(120);
    while pids(marks.path()).len() < 4 {
        assert!(Instant::now() < deadline, "the commands never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "prefixrace exited early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = pids(marks.path());
    for pid in &started {
        assert!(Path::new(&format!("/proc/{pid}")).exists());
    }
    // SAFETY: kill(2) with a pid and a signal number; no memory is involved.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(rc, 0);
    let output = guard.0.take().unwrap().wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("interrupted"));
    for pid in &started {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} survived: {:?}",
            std::fs::read_to_string(format!("/proc/{pid}/status"))
        );
    }
    // Nor is any process with our unique sleep arguments left, stopped or not.
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline);
        assert!(
            !text.contains("42421") && !text.contains("42422"),
            "left behind: {text}"
        );
    }
    // The prefix is as it was found.
    let mut names: Vec<String> = std::fs::read_dir(prefix.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["kept"]);
}
