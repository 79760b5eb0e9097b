//! The `pip` strategy's uninstall (the kit's stash around the pip model),
//! pinned against the real pip on this machine: `pip install
//! --force-reinstall` of a wheel into a venv that holds it moves the same
//! directories onto the same `~`-named siblings with the same calls, and
//! removes them at the end in the same order.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{Fs, ModelFs, Op};
use prefixrace::strategy::PipReinstall;
use prefixrace::{Scenario, Setup};

const WHEEL: &str = "scenarios/payloads/idna-3.7-py3-none-any.whl";

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `mkdir`, `rmdir` and `rename` calls on a stash (a `~` name), as
/// `call path`, relative to site-packages.
fn stash_call(call: &str, path: &str, to: Option<&str>) -> Option<String> {
    let touches =
        path.contains("/~") || path.starts_with('~') || to.is_some_and(|t| t.contains('~'));
    touches.then(|| match to {
        Some(to) => format!("{call} {path} -> {to}"),
        None => format!("{call} {path}"),
    })
}

fn real_calls(log: &str, site: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| {
            let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
            let rel = |p: &str| {
                p.strip_prefix(site)
                    .map(|r| r.trim_matches('/').to_string())
            };
            let path = rel(quoted.first()?)?;
            let call = ["mkdir(", "rmdir(", "rename("]
                .into_iter()
                .find(|c| line.contains(c))?
                .trim_end_matches('(');
            let to = quoted.get(1).and_then(|t| rel(t));
            stash_call(call, &path, to.as_deref())
        })
        .collect()
}

#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn the_stash_is_the_real_pips() {
    let work = tempfile::tempdir().unwrap();
    let venv = work.path().join("venv");
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(ok.success());
    let pip = venv.join("bin/pip");
    let wheel = root().join(WHEEL);
    let quiet = [
        "install",
        "-q",
        "--no-deps",
        "--no-compile",
        "--disable-pip-version-check",
    ];
    let ok = Command::new(&pip).args(quiet).arg(&wheel).status().unwrap();
    assert!(ok.success());
    let version = String::from_utf8(
        Command::new(venv.join("bin/python"))
            .args([
                "-c",
                "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let site_rel = format!("lib/python{}/site-packages", version.trim());
    let log = work.path().join("strace.log");
    let ok = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=mkdir,rmdir,rename", "-o"])
        .arg(&log)
        .arg(&pip)
        .args(quiet)
        .arg("--force-reinstall")
        .arg(&wheel)
        .status()
        .unwrap();
    assert!(ok.success());
    let site = venv.join(&site_rel).display().to_string();
    let real = real_calls(&std::fs::read_to_string(&log).unwrap(), &site);

    let scenario = Scenario::builder("pip-reinstall-pin")
        .site_packages(&site_rel)
        .initial("idna")
        .wheel(&wheel)
        .compile(false)
        .package("idna")
        .wheel(&wheel)
        .compile(false)
        .build()
        .unwrap();
    let setup = Setup::new(Arc::new(scenario), &PipReinstall).unwrap();
    let mut fs = ModelFs::new();
    let trace = setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, true);
    let rel = |p: &str| {
        p.strip_prefix(site_rel.as_str())
            .unwrap_or(p)
            .trim_matches('/')
            .to_string()
    };
    let model: Vec<String> = trace
        .events
        .iter()
        .filter_map(|e| {
            let (call, to) = match &e.op {
                Op::Mkdir { .. } => ("mkdir", None),
                Op::Rmdir { .. } => ("rmdir", None),
                Op::Rename { to, .. } => ("rename", Some(rel(to))),
                _ => return None,
            };
            stash_call(call, &rel(e.op.path()), to.as_deref())
        })
        .collect();
    assert_eq!(real.len(), 8, "{real:#?}");
    assert_eq!(model, real);
}
