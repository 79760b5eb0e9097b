//! `explore --fs real` and `replay --fs real` stopped by a signal leave no
//! temporary root behind: each live root is removed before the process
//! exits with 128 + the signal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Waits (up to a minute: a loaded machine is slow) until `dir` holds an
/// entry, so the signal lands while roots are live.
fn wait_for_a_root(dir: &Path, child: &mut Child) {
    let start = Instant::now();
    while std::fs::read_dir(dir).unwrap().next().is_none() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it made a root"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no root appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_with_timeout(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the run did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_signal_during_a_real_filesystem_run_removes_every_temporary_root() {
    let bin = assert_cmd::cargo::cargo_bin("prefixrace");
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = Command::new(&bin)
            .current_dir(root())
            .args([
                "explore",
                "scenarios/sage-32361.toml",
                "--strategy",
                "direct-install",
            ])
            .args([
                "--fs",
                "real",
                "--scheduler",
                "random",
                "--schedules",
                "1000000",
            ])
            .args(["--no-shrink", "--jobs", "2"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_a_root(tmp.path(), &mut child);
        assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
        let status = wait_with_timeout(&mut child);
        assert_eq!(status.code(), Some(128 + sig), "signal {sig}: {status:?}");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "signal {sig} left {left:?} in TMPDIR");
    }
}
