//! Shrinking keeps the failure it was given: a shorter schedule that fails
//! another way (another job, another message) is not a smaller copy of the
//! race found, so the shrunk report names the same job and error as the
//! execution as it ran (`--no-shrink`).

mod cli_support;

use cli_support::run;

/// The failing job and its first error in an `explore --format json` run.
fn failing_job_and_error(extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "explore",
        "scenarios/two-pips.toml",
        "--strategy",
        "staged-merge",
        "--scheduler",
        "random",
        "--schedules",
        "300",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failure = &report["first_failure"];
    (
        failure["job"].as_str().unwrap().to_string(),
        failure["error"].as_str().unwrap().to_string(),
    )
}

#[test]
fn the_shrunk_failure_is_the_failure_found() {
    // Two staged copies merging into one prefix fail in several ways (either
    // cp, at a chmod or at an O_EXCL create); shrinking that accepted any
    // failure turned seed 1's `preserving permissions` failure of
    // cp[pyparsing] into cp[pyparsing-again]'s `File exists`.
    for seed in ["1", "2", "3", "4", "5", "6"] {
        let as_run = failing_job_and_error(&["--seed", seed, "--no-shrink"]);
        let shrunk = failing_job_and_error(&["--seed", seed]);
        assert_eq!(shrunk, as_run, "seed {seed}");
    }
}
