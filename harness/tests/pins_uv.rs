//! The `uv` strategy (uv in copy mode, written on the kit), pinned against
//! the real `uv pip install --link-mode copy` on this machine: the same
//! wheel installed into an empty prefix makes the same calls on the same
//! paths. uv walks its cache in `readdir` order, which no model can share,
//! so the calls are compared as a multiset, and in order where uv's order
//! is its own: the site-packages directory first, and the metadata files,
//! the look for `.data` and the RECORD rewrite last.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{Fs, ModelFs, Op};
use prefixrace::strategy::UvInstall;
use prefixrace::{Scenario, Setup};

const WHEEL: &str = "scenarios/payloads/idna-3.7-py3-none-any.whl";
const SITE: &str = "lib/python3.11/site-packages";

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A temporary file's name, whoever made it: `.tmp` and what follows up
/// to the end of the path.
fn untemp(path: &str) -> String {
    match path.rfind("/.tmp") {
        Some(i) => format!("{}/.tmp", &path[..i]),
        None => path.to_string(),
    }
}

/// The calls `strace` logged on paths under `site`, as `call path`.
fn real_calls(log: &str, site: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for line in log.lines() {
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let Some(first) = quoted.first() else {
            continue;
        };
        let Some(rel) = first.strip_prefix(site) else {
            continue;
        };
        let rel = rel.trim_start_matches('/').trim_end_matches('/');
        let call = if line.contains("mkdir(") {
            "mkdir"
        } else if line.contains("statx(") || line.contains("newfstatat(") {
            "stat"
        } else if line.contains("openat(") && line.contains("O_EXCL") {
            "open-excl"
        } else if line.contains("openat(") && line.contains("O_TRUNC") {
            "open-trunc"
        } else if line.contains("rename(") || line.contains("renameat") {
            "rename"
        } else if line.contains("unlink(") {
            "unlink"
        } else {
            continue;
        };
        let to = quoted.get(1).and_then(|t| t.strip_prefix(site));
        let shown = match (call, to) {
            ("rename", Some(to)) => format!("{} -> {}", untemp(rel), to.trim_start_matches('/')),
            _ => untemp(rel),
        };
        calls.push(format!("{call} {shown}"));
    }
    calls
}

/// The model's calls on site-packages, as [`real_calls`] shows them.
fn model_calls() -> Vec<String> {
    let scenario = Scenario::builder("uv-pin")
        .site_packages(SITE)
        .package("idna")
        .wheel(root().join(WHEEL))
        .build()
        .unwrap();
    let setup = Setup::new(Arc::new(scenario), &UvInstall).unwrap();
    let mut fs = ModelFs::new();
    let trace = setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, true);
    let rel = |p: &str| untemp(p.strip_prefix(SITE).unwrap_or(p).trim_start_matches('/'));
    trace
        .events
        .iter()
        .filter(|e| e.op.path().starts_with(SITE))
        .filter_map(|e| {
            let call = match &e.op {
                Op::Mkdir { .. } => "mkdir",
                Op::Stat { .. } => "stat",
                Op::Open { flags, .. } if flags.excl => "open-excl",
                Op::Open { flags, .. } if flags.trunc => "open-trunc",
                Op::Rename { to, .. } => {
                    return Some(format!("rename {} -> {}", rel(e.op.path()), rel(to)))
                }
                Op::Unlink { .. } => "unlink",
                _ => return None,
            };
            Some(format!("{call} {}", rel(e.op.path())))
        })
        .collect()
}

#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_uv, ignore = "uv does not run here")]
fn the_model_makes_the_calls_real_uv_makes() {
    let work = tempfile::tempdir().unwrap();
    let prefix = work.path().join("prefix");
    std::fs::create_dir(&prefix).unwrap();
    let log = work.path().join("strace.log");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg("trace=mkdir,statx,newfstatat,openat,rename,renameat,renameat2,unlink")
        .arg("-o")
        .arg(&log)
        .args([
            "uv",
            "pip",
            "install",
            "--offline",
            "--no-deps",
            "--link-mode",
            "copy",
        ])
        .args(["--python", "python3", "--prefix"])
        .arg(&prefix)
        .arg(root().join(WHEEL))
        .env("UV_CACHE_DIR", work.path().join("cache"))
        .env("UV_NO_PROGRESS", "1")
        .status()
        .unwrap();
    assert!(status.success());
    let site = prefix.join(SITE).display().to_string();
    let real = real_calls(&std::fs::read_to_string(&log).unwrap(), &site);
    let model = model_calls();
    assert!(real.len() > 40, "{real:#?}");
    // uv's own order: the walk's root first, the metadata and RECORD last.
    assert_eq!(model[..2], real[..2]);
    // The look for .data, four metadata files of three calls, RECORD.
    let tail = 1 + 4 * 3 + 1;
    assert_eq!(model[model.len() - tail..], real[real.len() - tail..]);
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(model), sorted(real));
}
