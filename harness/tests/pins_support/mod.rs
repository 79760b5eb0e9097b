//! What the fidelity pins (`pins_*.rs`) share: whether the real tool they
//! run against runs here.
#![allow(dead_code)]

use std::process::Command;

/// Whether `program ARGS` runs and exits 0 here. A pin without its tool
/// prints why and passes outside CI; in CI (`CI` set) a missing tool fails
/// it, since CI must run every pin.
pub fn tool_runs(program: &str, args: &[&str], pins: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the {pins} pins: `{program}` is missing"
        );
        eprintln!(
            "SKIP: `{program} {}` does not run; the {pins} pins need it",
            args.join(" ")
        );
    }
    ok
}
