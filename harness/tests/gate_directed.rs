//! Race-directed search on real processes: `--scheduler auto` holds cp just
//! before it makes `M/__pycache__` and lets a plain `python3 -c 'import M'`
//! (no spinning) run meanwhile, so cp fails with its own message within the
//! first five executions. (`dpor` on the gate is a search of its own:
//! `tests/gate_dpor.rs`.)

mod gate_support;

use gate_support::*;

fn directed(scheduler: &str) {
    let py = python();
    let site = site_packages(&py);
    let stage = staging_tree(&py, &site);
    let prefix = tempfile::tempdir().unwrap();
    let import = format!(
        "PYTHONPATH=\"$PREFIX/{site}\" exec env -u PYTHONDONTWRITEBYTECODE {py} -c 'import M'"
    );
    let out = prefixrace()
        .args(["run", "--scheduler", scheduler, "--executions", "5"])
        .arg("--prefix")
        .arg(prefix.path())
        .arg("--stage")
        .arg(stage.path())
        .args(["--", &staged_copy(), "--", &import])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("directed: hold A before mkdir"), "{text}");
    assert!(
        text.contains("cp: cannot create directory") && text.contains("__pycache__': File exists"),
        "{text}"
    );
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn auto_finds_the_staged_copy_race_against_a_plain_import() {
    if !gate_permitted() {
        return;
    }
    directed("auto");
}

/// SageMath 33060 on real pips: two `pip install --prefix` of one wheel with
/// a compiled extension (stored executable, so pip chmods it after writing
/// it). The window plan holds pip A before that chmod until pip B has
/// unlinked the file (pip unlinks a destination that exists before writing
/// it), and A fails with pip's own OSError, within 10 executions.
#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn auto_finds_the_two_pip_race_of_sage_33060() {
    if !gate_permitted() {
        return;
    }
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel_with_extension(dir.path());
    let prefix = tempfile::tempdir().unwrap();
    let pip = direct_install(&py, &wheel);
    let out = prefixrace()
        .args(["run", "--scheduler", "auto", "--executions", "10"])
        .args(["--fail-on", "^ERROR"])
        .arg("--prefix")
        .arg(prefix.path())
        .args(["--", &pip, "--", &pip])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("until another job's unlink(\"") && text.contains("M/_speedups.so"),
        "{text}"
    );
    assert!(
        text.contains(
            "printed: ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: '"
        ),
        "{text}"
    );
}
