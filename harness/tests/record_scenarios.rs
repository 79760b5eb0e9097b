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
    let (code, out) = explore(&file, "staged-copy", &["--seed", "3"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "cp: cannot create regular file '{BACKPORTS}/__init__.py': File exists"
        )),
        "{out}"
    );
    // Every seed finds a cp collision inside the shared namespace directory.
    for seed in ["0", "1", "5"] {
        let (code, out) = explore(&file, "staged-copy", &["--seed", seed]);
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
        &["--schedules", "300"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS"), "{out}");
}

#[test]
fn two_copies_of_one_distribution_collide_under_staged_copy() {
    let (code, out) = explore(&scenario("sage-33060-two-pips.toml"), "staged-copy", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cp: cannot create "), "{out}");
    assert!(out.contains("site-packages/pyparsing"), "{out}");
}

/// pip 21.1.2 names its metadata temp files randomly; the pip model derives
/// them from the path, so two pips of one distribution collide on the same
/// temp name and the second open(O_EXCL) fails. Sage's report shows the same
/// place (`…dist-info/INSTALLER<random>.tmp`) with ENOENT, which needs pip's
/// uninstall of the half-installed copy (not modelled): see the report.
#[test]
fn two_pips_of_one_distribution_fail_on_a_dist_info_temp_file() {
    let (code, out) = explore(&scenario("sage-33060-two-pips.toml"), "direct-install", &[]);
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("ERROR: Could not install packages due to an OSError"))
        .unwrap_or_else(|| panic!("no pip error in {out}"));
    assert!(line.contains("pyparsing-3.0.6.dist-info/"), "{line}");
    assert!(line.contains(".tmp'"), "{line}");
}

#[test]
fn one_install_alone_passes_under_both_strategies() {
    // The failures above need the second install: the base package plus one
    // pyparsing copy is race-free, so the verdicts are not hard-wired.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(scenario("sage-33060-two-pips.toml")).unwrap();
    let cut = src.find("[[package]]\nname = \"pyparsing-again\"").unwrap();
    let path = dir.path().join("single.toml");
    std::fs::create_dir(dir.path().join("payloads")).unwrap();
    std::fs::copy(
        scenario("payloads/pyparsing-3.0.6.toml"),
        dir.path().join("payloads/pyparsing-3.0.6.toml"),
    )
    .unwrap();
    let text = src[..cut].to_string();
    std::fs::write(&path, text).unwrap();
    for strategy in ["staged-copy", "direct-install"] {
        let (code, out) = explore(path.to_str().unwrap(), strategy, &["--schedules", "100"]);
        assert_eq!(code, 0, "{strategy}: {out}");
    }
}
