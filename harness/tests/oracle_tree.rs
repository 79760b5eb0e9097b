//! The oracle's tree comparison, on its own: two installers that both
//! succeed but write different bytes to one path leave a prefix that
//! depends on their order (last writer wins). That is an
//! `order-dependent-tree` failure on the model and on the real filesystem;
//! the same bytes from both are not. Without this test, an oracle that never
//! compared trees would pass every other test of the crate.

mod cli_support;

use cli_support::*;
use serde_json::Value;

/// A scenario of two packages writing `a_text` and `b_text` to one path.
fn last_writer_wins(dir: &std::path::Path, a_text: &str, b_text: &str) -> String {
    let path = dir.join("lww.toml");
    let body = format!(
        r#"name = "lww"
prefix = "/p"
site-packages = "lib/python3.9/site-packages"

[[package]]
name = "a"
[[package.file]]
path = "shared/data.txt"
text = "{a_text}"

[[package]]
name = "b"
[[package.file]]
path = "shared/data.txt"
text = "{b_text}"
"#
    );
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_string()
}

fn explore(scenario: &str, fs: &str, search: &[&str]) -> (i32, Value) {
    let mut args = vec!["explore", scenario, "--strategy", "direct-install"];
    args.extend(["--fs", fs, "--format", "json"]);
    args.extend(search);
    let (code, out, err) = run(&args);
    let json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, json)
}

#[test]
fn different_bytes_to_one_path_are_an_order_dependent_tree_on_model_and_real_fs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = last_writer_wins(dir.path(), "from a", "from b");
    for fs in ["model", "real"] {
        let (code, report) = explore(&scenario, fs, &["--schedules", "20"]);
        assert_eq!(code, 1, "--fs {fs}: {report:#}");
        assert_eq!(report["verdict"], "fail", "--fs {fs}");
        let failure = &report["first_failure"];
        assert_eq!(
            failure["class"], "order-dependent-tree",
            "--fs {fs}: {failure:#}"
        );
        let diff = failure["diff"].to_string();
        assert!(
            diff.contains("lib/python3.9/site-packages/shared/data.txt"),
            "--fs {fs}: the diff names the path both wrote: {diff}"
        );
    }
}

#[test]
fn the_same_bytes_from_both_leave_one_tree_in_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = last_writer_wins(dir.path(), "same", "same");
    // A proof on the model (dpor's search ends: 4,048 classes), a sample
    // on the real filesystem.
    let proof = ["--scheduler", "dpor", "--schedules", "20000"];
    let (code, report) = explore(&scenario, "model", &proof);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["coverage"]["complete"], true, "{report:#}");
    let sample = ["--scheduler", "random", "--schedules", "50"];
    let (code, report) = explore(&scenario, "real", &sample);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "pass");
}
