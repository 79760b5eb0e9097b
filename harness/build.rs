//! Finds the host tools some integration tests need, so that a test that
//! cannot run here is reported by cargo as *ignored, with the reason*,
//! instead of passing without checking anything:
//!
//! - `prefixrace_no_strace`: `strace -f` cannot trace here (not installed,
//!   or ptrace is not permitted). The fidelity pins against real cp and
//!   python3, the `record run`/`record import` tests and every test of the
//!   gate (`tests/gate_*.rs`, which traces with ptrace itself) need it.
//! - `prefixrace_no_python3`: `python3` does not run.
//! - `prefixrace_no_pypa_installer`: `python3 -m installer` (pypa/installer)
//!   is not installed (the pins of the `installer` strategy,
//!   `tests/pins_installer.rs`).
//! - `prefixrace_no_uv`: `uv` does not run (the pins of the `uv` strategy,
//!   `tests/pins_uv.rs`).
//! - `prefixrace_no_node`: `node` does not run (the pins of the kit's Node
//!   wording, `tests/pins_voices.rs`).
//! - `prefixrace_no_npm`: `npm` does not run (the pins of npm's reify,
//!   `tests/pins_npm.rs`).
//!
//! CI (`ci/test.sh`) installs them and fails when it cannot.

use std::process::{Command, Stdio};

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(prefixrace_no_strace)");
    println!("cargo::rustc-check-cfg=cfg(prefixrace_no_python3)");
    println!("cargo::rustc-check-cfg=cfg(prefixrace_no_node)");
    println!("cargo::rustc-check-cfg=cfg(prefixrace_no_pypa_installer)");
    println!("cargo::rustc-check-cfg=cfg(prefixrace_no_uv)");
    println!("cargo::rustc-check-cfg=cfg(prefixrace_no_npm)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PATH");
    if !runs("strace", &["-f", "-o", "/dev/null", "true"]) {
        println!("cargo::rustc-cfg=prefixrace_no_strace");
        println!("cargo::warning=strace cannot trace here: the tests that need it are ignored");
    }
    if !runs("python3", &["--version"]) {
        println!("cargo::rustc-cfg=prefixrace_no_python3");
        println!("cargo::warning=python3 does not run here: the tests that need it are ignored");
    }
    if !runs("python3", &["-c", "import installer"]) {
        println!("cargo::rustc-cfg=prefixrace_no_pypa_installer");
        println!("cargo::warning=python3 -m installer is not installed: the tests that need it are ignored");
    }
    if !runs("uv", &["--version"]) {
        println!("cargo::rustc-cfg=prefixrace_no_uv");
        println!("cargo::warning=uv does not run here: the tests that need it are ignored");
    }
    if !runs("node", &["--version"]) {
        println!("cargo::rustc-cfg=prefixrace_no_node");
        println!("cargo::warning=node does not run here: the tests that need it are ignored");
    }
    if !runs("npm", &["--version"]) {
        println!("cargo::rustc-cfg=prefixrace_no_npm");
        println!("cargo::warning=npm does not run here: the tests that need it are ignored");
    }
}
