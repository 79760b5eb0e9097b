//! The `installer` strategy (pypa/installer written on the kit), pinned
//! against the real `python -m installer` on this machine: the same wheel
//! installed into an empty prefix makes the same `stat`, `mkdir` and
//! `open` calls on the same paths in the same order, and a second install
//! over it is refused with the same line.

mod cli_support;

use cli_support::root;
use std::process::Command;
use std::sync::Arc;

use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{Fs, ModelFs, Op};
use prefixrace::strategy::PypaInstaller;
use prefixrace::{Scenario, Setup};

const WHEEL: &str = "scenarios/payloads/idna-3.7-py3-none-any.whl";
const SITE: &str = "lib/python3.11/site-packages";

/// The calls on paths under `prefix` that `strace` logged, as `syscall
/// path` with the path relative to the prefix (`stat` for `newfstatat`,
/// `open` for an `openat` that writes).
fn real_calls(log: &str, prefix: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for line in log.lines() {
        let Some(start) = line.find('"') else {
            continue;
        };
        let Some(len) = line[start + 1..].find('"') else {
            continue;
        };
        let path = &line[start + 1..start + 1 + len];
        let Some(rel) = path.strip_prefix(prefix).map(|r| r.trim_start_matches('/')) else {
            continue;
        };
        let syscall = if line.contains("newfstatat(") || line.contains(" stat(") {
            "stat"
        } else if line.contains("mkdir(") {
            "mkdir"
        } else if line.contains("openat(") && line.contains("O_WRONLY") {
            "open"
        } else {
            continue;
        };
        calls.push(format!("{syscall} {rel}"));
    }
    calls
}

fn model_setup() -> Setup {
    let scenario = Scenario::builder("installer-pin")
        .site_packages(SITE)
        .package("idna")
        .wheel(root().join(WHEEL))
        .build()
        .unwrap();
    Setup::new(Arc::new(scenario), &PypaInstaller).unwrap()
}

#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(
    prefixrace_no_pypa_installer,
    ignore = "python3 -m installer does not run here"
)]
fn the_model_makes_the_calls_the_real_installer_makes() {
    let dest = tempfile::tempdir().unwrap();
    let prefix = dest.path().join("usr");
    std::fs::create_dir(&prefix).unwrap();
    let log = dest.path().join("strace.log");
    let status = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=newfstatat,stat,mkdir,openat",
            "-o",
        ])
        .arg(&log)
        .args([
            "python3",
            "-m",
            "installer",
            "--no-compile-bytecode",
            "--prefix",
        ])
        .arg(&prefix)
        .arg(root().join(WHEEL))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .unwrap();
    assert!(status.success());
    let real = real_calls(
        &std::fs::read_to_string(&log).unwrap(),
        &prefix.display().to_string(),
    );

    let setup = model_setup();
    let mut fs = ModelFs::new();
    let trace = setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, true);
    let model: Vec<String> = trace
        .events
        .iter()
        .filter(|e| matches!(e.op, Op::Stat { .. } | Op::Mkdir { .. } | Op::Open { .. }))
        .map(|e| format!("{} {}", e.op.syscall(), e.op.path()))
        .collect();
    assert!(real.len() > 20, "{real:?}");
    assert_eq!(model, real);
}

#[test]
#[cfg_attr(
    prefixrace_no_pypa_installer,
    ignore = "python3 -m installer does not run here"
)]
fn a_second_install_is_refused_with_the_real_line() {
    let dest = tempfile::tempdir().unwrap();
    let install = || {
        Command::new("python3")
            .args(["-m", "installer", "--no-compile-bytecode", "--prefix"])
            .arg(dest.path())
            .arg(root().join(WHEEL))
            .output()
            .unwrap()
    };
    assert!(install().status.success());
    let again = install();
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    let real = stderr.lines().last().unwrap().to_string();
    let path = dest.path().join(SITE).join("idna/__init__.py");
    assert_eq!(
        real,
        format!("FileExistsError: File already exists: {}", path.display())
    );

    let mut fs = ModelFs::new();
    let setup = model_setup();
    setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, false);
    let second = setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, false);
    let line = &second.outcomes[0].diagnostics[0].0.message;
    assert_eq!(
        line,
        &format!("FileExistsError: File already exists: /sage/local/{SITE}/idna/__init__.py")
    );
}
