//! The `uv` strategy (uv in copy mode, written on the kit), pinned against
//! the real `uv pip install --link-mode copy` on this machine, and
//! `uv-hardlink` and `uv-clone` against `--link-mode hardlink` and
//! `--link-mode clone` (uv's default on Linux): the same
//! wheel installed into an empty prefix makes the same calls on the same
//! paths. uv walks its cache in `readdir` order, which no model can share,
//! so the calls are compared as a multiset, and in order where uv's order
//! is its own: the site-packages directory first, and the metadata files,
//! the look for `.data` and the RECORD rewrite last.

mod cli_support;

use cli_support::{root, whole_strace_lines};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{Fs, ModelFs, Op};
use prefixrace::strategy::{UvHardlink, UvInstall};
use prefixrace::{Scenario, Setup};

const WHEEL: &str = "scenarios/payloads/idna-3.7-py3-none-any.whl";
const SITE: &str = "lib/python3.11/site-packages";

/// A temporary file's name, whoever made it: `.tmp` and what follows up
/// to the end of the path.
fn untemp(path: &str) -> String {
    match path.rfind("/.tmp") {
        Some(i) => format!("{}/.tmp", &path[..i]),
        None => path.to_string(),
    }
}

/// The calls `strace` logged on paths under `site`, as `call path`, each
/// call whole (uv's threads interleave in the log).
fn real_calls(log: &str, site: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for line in whole_strace_lines(log) {
        let line = line.as_str();
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        if line.contains("linkat(") {
            // A link from the cache: its target is the second path.
            if let Some(rel) = quoted.get(1).and_then(|t| t.strip_prefix(site)) {
                calls.push(format!("link {}", untemp(rel.trim_start_matches('/'))));
            }
            continue;
        }
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
    model_calls_of(&UvInstall).0
}

/// The calls of `strategy`'s model on site-packages, as [`real_calls`]
/// shows them, and all its ops in order.
fn model_calls_of(strategy: &dyn prefixrace::Strategy) -> (Vec<String>, Vec<Op>) {
    let scenario = Scenario::builder("uv-pin")
        .site_packages(SITE)
        .package("idna")
        .wheel(root().join(WHEEL))
        .build()
        .unwrap();
    let setup = Setup::new(Arc::new(scenario), strategy).unwrap();
    let mut fs = ModelFs::new();
    let trace = setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, true);
    let rel = |p: &str| untemp(p.strip_prefix(SITE).unwrap_or(p).trim_start_matches('/'));
    let ops: Vec<Op> = trace.events.iter().map(|e| e.op.clone()).collect();
    let calls = trace
        .events
        .iter()
        .filter(|e| match &e.op {
            Op::Link { to, .. } => to.starts_with(SITE),
            op => op.path().starts_with(SITE),
        })
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
                Op::Link { to, .. } => return Some(format!("link {}", rel(to))),
                _ => return None,
            };
            Some(format!("{call} {}", rel(e.op.path())))
        })
        .collect();
    (calls, ops)
}

/// Runs the real uv with `--link-mode mode` under strace into a fresh
/// prefix (a fresh cache); the log.
fn real_uv_log(work: &Path, mode: &str) -> String {
    let prefix = work.join("prefix");
    std::fs::create_dir(&prefix).unwrap();
    let log = work.join("strace.log");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg("trace=mkdir,statx,newfstatat,openat,rename,renameat,renameat2,unlink,linkat,flock,ioctl")
        .arg("-o")
        .arg(&log)
        .args(["uv", "pip", "install", "--offline", "--no-deps", "--link-mode", mode])
        .args(["--python", "python3", "--prefix"])
        .arg(&prefix)
        .arg(root().join(WHEEL))
        .env("UV_CACHE_DIR", work.join("cache"))
        .env("UV_NO_PROGRESS", "1")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(&log).unwrap()
}

/// The index of the first line of `log` containing all of `needles`.
fn line_of(log: &[&str], needles: &[&str]) -> usize {
    log.iter()
        .position(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?}"))
}

/// uv in hardlink mode: every file but RECORD linked from the cache
/// (RECORD copied in place), under an exclusive `flock` of the prefix's
/// `.lock`, taken before the first link and released after RECORD's
/// rewrite, in the model as in the real uv.
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_uv, ignore = "uv does not run here")]
fn the_hardlink_model_makes_the_calls_real_uv_makes_under_its_lock() {
    let work = tempfile::tempdir().unwrap();
    let log = real_uv_log(work.path(), "hardlink");
    let site = work.path().join("prefix").join(SITE).display().to_string();
    let real = real_calls(&log, &site);
    let (model, ops) = model_calls_of(&UvHardlink::default());
    assert!(
        real.iter().filter(|c| c.starts_with("link ")).count() > 10,
        "{real:#?}"
    );
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(model), sorted(real));
    // The lock: exclusive, on the prefix's .lock, around the links.
    let lines: Vec<&str> = log.lines().collect();
    let first_link = line_of(&lines, &["linkat("]);
    assert_lock_around(
        &lines,
        first_link,
        &ops,
        &|o| matches!(o, Op::Link { to, .. } if to.starts_with(SITE)),
    );
}

/// In the real uv's `log`, the prefix's `.lock` is `flock`ed exclusively
/// before line `first_write` and released after RECORD's rewrite; in the
/// model's `ops`, the same around the first op `is_first_write` picks.
fn assert_lock_around(
    lines: &[&str],
    first_write: usize,
    ops: &[Op],
    is_first_write: &dyn Fn(&Op) -> bool,
) {
    let lock_fd = {
        let open = line_of(lines, &["renameat2(", "prefix/.lock", "RENAME_NOREPLACE"]);
        let excl = lines[..open]
            .iter()
            .rposition(|l| l.contains("prefix/.tmp") && l.contains("O_EXCL"))
            .unwrap();
        lines[excl].rsplit("= ").next().unwrap().trim().to_string()
    };
    let taken = line_of(lines, &[&format!("flock({lock_fd}, LOCK_EX"), ""]);
    let released = line_of(lines, &[&format!("flock({lock_fd}, LOCK_UN)")]);
    let record = lines
        .iter()
        .rposition(|l| l.contains("RECORD") && l.contains("O_TRUNC"))
        .unwrap();
    assert!(
        taken < first_write && record < released,
        "{taken} {first_write} {record} {released}"
    );
    let at = |f: &dyn Fn(&Op) -> bool| ops.iter().position(f).unwrap();
    let m_taken = at(&|o| matches!(o, Op::Flock { path, .. } if &**path == ".lock"));
    let m_write = at(is_first_write);
    let m_released = ops
        .iter()
        .rposition(|o| matches!(o, Op::Close { path, .. } if &**path == ".lock"))
        .unwrap();
    let m_record = ops
        .iter()
        .rposition(|o| matches!(o, Op::Open { path, flags, .. } if path.ends_with("RECORD") && flags.trunc))
        .unwrap();
    assert!(m_taken < m_write && m_record < m_released);
}

/// uv in copy mode takes the same prefix lock: before its first
/// `tempfile` in site-packages, released after RECORD, in the model as in
/// the real uv.
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_uv, ignore = "uv does not run here")]
fn the_copy_model_takes_the_prefix_lock_real_uv_takes() {
    let work = tempfile::tempdir().unwrap();
    let log = real_uv_log(work.path(), "copy");
    let site = work.path().join("prefix").join(SITE).display().to_string();
    let lines: Vec<&str> = log.lines().collect();
    let first_write = line_of(&lines, &[&format!("{site}/"), "O_EXCL"]);
    let (_, ops) = model_calls_of(&UvInstall);
    assert_lock_around(
        &lines,
        first_write,
        &ops,
        &|o| matches!(o, Op::Open { path, flags, .. } if path.starts_with(SITE) && flags.excl),
    );
}

/// uv in clone mode (its default on Linux) on this machine's filesystem:
/// the first file's `FICLONE` is refused (`EOPNOTSUPP`); uv removes the
/// file it made for it and links every file, as in hardlink mode. The
/// model makes the hardlink mode's calls plus that one `O_EXCL` open and
/// `unlink` (of the first file of its walk; uv's is the first of the
/// cache's `readdir`, so the two are compared by kind).
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_uv, ignore = "uv does not run here")]
fn the_clone_model_makes_the_calls_real_uv_makes_when_reflinks_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let log = real_uv_log(work.path(), "clone");
    assert!(
        log.contains("FICLONE, ") && log.contains("EOPNOTSUPP"),
        "this filesystem supports reflinks: the model assumes it does not"
    );
    let site = work.path().join("prefix").join(SITE).display().to_string();
    let kind_of_clone = |calls: Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = calls
            .into_iter()
            .map(|c| match c.split_once(' ') {
                Some((k @ ("open-excl" | "unlink"), p)) if !p.contains("dist-info") => {
                    k.to_string()
                }
                _ => c,
            })
            .collect();
        out.sort();
        out
    };
    let real = kind_of_clone(real_calls(&log, &site));
    let (model, _) = model_calls_of(&UvHardlink::CLONE);
    assert_eq!(kind_of_clone(model), real);
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

/// Two uv processes linking the same wheel into one prefix: the prefix
/// `flock` orders them, and the second finds every file there and
/// replaces it through a link in a temporary directory (uv's `EEXIST`
/// fallback), so every order passes, proved by dpor.
#[test]
fn two_hardlinking_uvs_are_ordered_by_the_prefix_lock_and_replace_by_rename() {
    let scenario = Scenario::builder("uv-twice")
        .site_packages(SITE)
        .package("idna")
        .wheel(root().join(WHEEL))
        .package("idna-again")
        .wheel(root().join(WHEEL))
        .build()
        .unwrap();
    let report = prefixrace::Check::new(scenario)
        .strategy("uv-hardlink")
        .prove();
    assert!(report.is_proof(), "{report}");
}
