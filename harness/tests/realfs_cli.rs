//! `--fs real` through the binary: the same token gives the same verdict and a
//! byte-identical report on the model and on the kernel.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

/// The workspace root, so scenario paths print the same in every run.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness lives in the workspace")
        .to_path_buf()
}

fn prefixrace(args: &[&str]) -> Output {
    Command::cargo_bin("prefixrace")
        .expect("the prefixrace binary")
        .current_dir(workspace())
        .args(args)
        .output()
        .expect("prefixrace runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const SCENARIO: &str = "scenarios/sage-32361.toml";

#[test]
fn the_failing_seed_reports_identically_on_model_and_real() {
    let run = |fs: &str| {
        prefixrace(&[
            "explore",
            SCENARIO,
            "--strategy",
            "staged-copy",
            "--seed",
            "1",
            "--fs",
            fs,
        ])
    };
    let model = run("model");
    let real = run("real");
    assert_eq!(model.status.code(), Some(1), "model: {}", text(&model));
    assert_eq!(real.status.code(), Some(1), "real: {}", text(&real));
    assert!(
        text(&real).contains("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/Cython/__pycache__': File exists"),
        "{}",
        text(&real)
    );
    assert_eq!(
        text(&model),
        text(&real),
        "reports differ between model and real"
    );

    // The token it printed replays to the same report on both.
    let token = text(&real)
        .split_whitespace()
        .find(|w| w.starts_with("t1."))
        .expect("a replay token")
        .to_string();
    let replay = |fs: &str| {
        prefixrace(&[
            "replay",
            SCENARIO,
            "--strategy",
            "staged-copy",
            "--token",
            &token,
            "--fs",
            fs,
        ])
    };
    let (rm, rr) = (replay("model"), replay("real"));
    assert_eq!(rm.status.code(), Some(1));
    assert_eq!(rr.status.code(), Some(1));
    assert_eq!(
        text(&rm),
        text(&rr),
        "replay reports differ between model and real"
    );
}

#[test]
fn direct_install_passes_on_the_real_filesystem() {
    let run = |fs: &str| {
        prefixrace(&[
            "explore",
            SCENARIO,
            "--strategy",
            "direct-install",
            "--schedules",
            "64",
            "--fs",
            fs,
        ])
    };
    let real = run("real");
    assert_eq!(real.status.code(), Some(0), "{}", text(&real));
    assert_eq!(text(&run("model")), text(&real));
}

#[test]
fn an_unknown_filesystem_is_a_usage_error() {
    let o = prefixrace(&["explore", SCENARIO, "--fs", "zfs"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown filesystem"), "{err}");
}
