//! The SageMath race family as recorded scenarios: the verdict of each under
//! each strategy.

use assert_cmd::Command;

fn scenario(name: &str) -> String {
    format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `explore` and returns (exit code, stdout).
fn explore(file: &str, strategy: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .args(["explore", file, "--strategy", strategy, "--jobs", "1"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const BACKPORTS: &str = "/sage/local/./lib/python3.9/site-packages/backports";

#[test]
fn backports_staged_copy_fails_on_the_shared_init_file() {
    let file = scenario("sage-29585-backports.toml");
    let (code, out) = explore(
        &file,
        "staged-copy",
        &["--scheduler", "random", "--seed", "3"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "cp: cannot create regular file '{BACKPORTS}/__init__.py': File exists"
        )),
        "{out}"
    );
    // Every seed finds a cp collision inside the shared namespace directory.
    for seed in ["0", "1", "5"] {
        let (code, out) = explore(
            &file,
            "staged-copy",
            &["--scheduler", "random", "--seed", seed],
        );
        assert_eq!(code, 1, "seed {seed}: {out}");
        assert!(out.contains("cp: cannot create "), "{out}");
        assert!(
            out.contains(BACKPORTS) && out.contains("File exists"),
            "{out}"
        );
    }
}

#[test]
fn backports_direct_install_passes() {
    let (code, out) = explore(
        &scenario("sage-29585-backports.toml"),
        "direct-install",
        &["--scheduler", "random", "--schedules", "300"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS"), "{out}");
}

#[test]
fn two_copies_of_one_distribution_collide_under_staged_copy() {
    let (code, out) = explore(&scenario("sage-33060-two-pips.toml"), "staged-copy", &[]);
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("cp: cannot create "))
        .unwrap_or_else(|| panic!("no cp error in {out}"));
    assert!(
        line.contains("'/sage/local/./lib/python3.9/site-packages/"),
        "{line}"
    );
    assert!(line.ends_with("': File exists"), "{line}");
}

/// The line pip printed when it gave up, if it did.
fn pip_error(out: &str) -> Option<&str> {
    out.lines()
        .find(|l| l.contains("ERROR: Could not install packages due to an OSError"))
}

#[test]
fn two_pips_of_one_distribution_fail_on_a_file_the_other_unlinked() {
    let (code, out) = explore(&scenario("sage-33060-two-pips.toml"), "direct-install", &[]);
    assert_eq!(code, 1, "{out}");
    let line = pip_error(&out).unwrap_or_else(|| panic!("no pip error in {out}"));
    assert!(
        line.contains(
            "[Errno 2] No such file or directory: '/sage/local/lib/python3.9/site-packages/Cython/"
        ),
        "{line}"
    );
}

/// Two real pip 21.1.2 installs of Cython recorded on this machine (one with
/// --prefix, one with --root), replayed together in one prefix: the same
/// failure as the pip model's, from recorded syscalls. Trace jobs replay what
/// was recorded, so the verdict is the same under either strategy.
#[test]
fn two_recorded_pips_fail_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.toml");
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .args(["record", "strace"])
        .arg(scenario("traces/cython.direct.trace.gz"))
        .arg(scenario("traces/cython.stage-pip.trace.gz"))
        .args(["--name", "two-recorded-pips", "-o", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for strategy in ["staged-copy", "direct-install"] {
        let (code, out) = explore(file.to_str().unwrap(), strategy, &[]);
        assert_eq!(code, 1, "{strategy}: {out}");
        let line = pip_error(&out).unwrap_or_else(|| panic!("no pip error in {out}"));
        assert!(line.contains("[Errno 2] No such file or directory: '/tmp/recdata/prefix-direct-cython/lib/python3.9/site-packages/Cython/"), "{line}");
    }
}

#[test]
fn one_install_alone_passes_under_both_strategies() {
    // The failures above need the second install: the base package plus one
    // Cython is race-free, so the verdicts are not hard-wired.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(scenario("sage-33060-two-pips.toml")).unwrap();
    let cut = src.find("[[package]]\nname = \"Cython-again\"").unwrap();
    let path = dir.path().join("single.toml");
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    std::fs::copy(
        scenario("payloads/Cython-0.29.21.RECORD"),
        dir.path().join("payloads/Cython-0.29.21.RECORD"),
    )
    .unwrap();
    std::fs::write(&path, &src[..cut]).unwrap();
    for strategy in ["staged-copy", "direct-install"] {
        let (code, out) = explore(path.to_str().unwrap(), strategy, &["--schedules", "50"]);
        assert_eq!(code, 0, "{strategy}: {out}");
    }
}
