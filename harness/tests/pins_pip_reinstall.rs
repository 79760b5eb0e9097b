//! The `pip` strategy's uninstall (the kit's `PipUninstall` before the pip
//! model), pinned against the real pip on this machine: `pip install
//! --force-reinstall` of a wheel into a venv that holds it moves the same
//! directories onto the same `~`-named siblings with the same calls, and
//! removes them at the end in the same order. The decision is pinned case
//! by case on a model prefix that mirrors the real one byte for byte just
//! before the reinstall: (a) a complete install, (b) bytecode an importer
//! left, (b') a stray file RECORD does not list, (c) no `.dist-info`,
//! (d) a `.dist-info` without RECORD.

mod cli_support;

use cli_support::root;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use prefixrace::internals::content::Blob;
use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{Errno, Fs, ModelFs, Op, OpResult};
use prefixrace::strategy::PipReinstall;
use prefixrace::{Scenario, Setup};

const WHEEL: &str = "scenarios/payloads/idna-3.7-py3-none-any.whl";

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

/// A venv holding the wheel (installed without bytecode); its
/// site-packages, absolute and relative to the venv.
fn venv_with_wheel(work: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let venv = work.join("venv");
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(ok.success());
    let ok = Command::new(venv.join("bin/pip"))
        .args(QUIET)
        .arg(root().join(WHEEL))
        .status()
        .unwrap();
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
    (venv.clone(), venv.join(&site_rel), site_rel)
}

const QUIET: [&str; 5] = [
    "install",
    "-q",
    "--no-deps",
    "--no-compile",
    "--disable-pip-version-check",
];

/// The real reinstall under strace: the log, whether pip succeeded, and
/// what it printed on stderr.
fn real_reinstall(work: &Path, venv: &Path) -> (String, bool, String) {
    let log = work.join("strace.log");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=file,desc", "-o"])
        .arg(&log)
        .arg(venv.join("bin/pip"))
        .args(QUIET)
        .arg("--force-reinstall")
        .arg(root().join(WHEEL))
        .output()
        .unwrap();
    (
        std::fs::read_to_string(&log).unwrap(),
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// A model prefix holding, byte for byte, the `idna*` entries of the real
/// site-packages.
fn mirror(site: &Path, site_rel: &str) -> ModelFs {
    fn copy(fs: &mut ModelFs, real: &Path, model: &str) {
        let meta = std::fs::symlink_metadata(real).unwrap();
        if meta.is_dir() {
            fs.apply(&Op::Mkdir {
                path: model.into(),
                mode: 0o755,
            })
            .unwrap();
            let mut names: Vec<_> = std::fs::read_dir(real)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            for name in names {
                copy(fs, &real.join(&name), &format!("{model}/{name}"));
            }
        } else {
            let blob = Blob::new(std::fs::read(real).unwrap());
            let flags = prefixrace::internals::op::OpenFlags::CREATE_TRUNC;
            let Ok(prefixrace::internals::op::Value::Fd(fd)) = fs.apply(&Op::Open {
                path: model.into(),
                flags,
                mode: 0o644,
            }) else {
                panic!("open {model}")
            };
            fs.apply(&Op::Write {
                fd,
                path: model.into(),
                blob,
            })
            .unwrap();
            fs.apply(&Op::Close {
                fd,
                path: model.into(),
            })
            .unwrap();
        }
    }
    let mut fs = ModelFs::new();
    let mut dir = String::new();
    for part in site_rel.split('/') {
        dir = if dir.is_empty() {
            part.into()
        } else {
            format!("{dir}/{part}")
        };
        fs.apply(&Op::Mkdir {
            path: dir.as_str().into(),
            mode: 0o755,
        })
        .unwrap();
    }
    let mut names: Vec<_> = std::fs::read_dir(site)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("idna"))
        .collect();
    names.sort();
    for name in names {
        copy(&mut fs, &site.join(&name), &format!("{site_rel}/{name}"));
    }
    fs
}

/// A path as the pin compares it: relative to site-packages, pip's
/// temporary uninstall directory as `TMP`.
fn pin_path(path: &str, site: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix(site) {
        return Some(rest.trim_matches('/').to_string());
    }
    let tmp = path.find("pip-uninstall-")?;
    let rest = &path[tmp..];
    Some(match rest.split_once('/') {
        Some((_, tail)) => format!("TMP/{tail}"),
        None => "TMP".to_string(),
    })
}

/// One call of the uninstall as the pin compares it; `None` for the calls
/// it leaves out. `walking` is whether the walk of `compress_for_rename`
/// has started (existence checks come before it; the stats of the moves
/// after it are left out, as the model's `lstat` of the walk).
#[derive(Default)]
struct Window {
    started: bool,
    walking: bool,
    ended: bool,
    calls: Vec<String>,
}

impl Window {
    /// Feeds one call; `path`, `to` already relative (`pin_path`).
    fn feed(&mut self, call: &str, path: &str, to: Option<&str>, result: &str, writes: bool) {
        if self.ended {
            return;
        }
        let stash = path.starts_with('~') || path.starts_with("TMP") || to.is_some();
        if !self.started {
            if call == "open" && path.ends_with(".dist-info/RECORD") && !writes {
                self.started = true;
            } else {
                return;
            }
        }
        if writes || (call == "mkdir" && !stash) {
            self.ended = true;
            return;
        }
        let line = match call {
            "open" if path.ends_with("/RECORD") || path.ends_with("/INSTALLER") => {
                format!("open {path} = {result}")
            }
            "stat" if !self.walking => format!("stat {path} = {result}"),
            "readdir" if !path.ends_with("/scripts") => {
                self.walking = true;
                format!("readdir {path}")
            }
            "mkdir" | "rmdir" => format!("{call} {path} = {result}"),
            "rename" => format!("rename {path} -> {} = {result}", to.unwrap_or("")),
            _ => return,
        };
        self.calls.push(line);
    }
}

/// The real calls of the uninstall, from the strace log.
fn real_window(log: &str, site: &str) -> Vec<String> {
    let mut window = Window::default();
    for line in log.lines() {
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let Some(path) = quoted.first().and_then(|p| pin_path(p, site)) else {
            continue;
        };
        let to = quoted.get(1).and_then(|t| pin_path(t, site));
        let result = match line.rsplit_once(" = ") {
            Some((_, r)) if r.starts_with("-1 ") => r[3..].split(' ').next().unwrap().to_string(),
            _ => "0".to_string(),
        };
        // `PID  call(…)`: strace pads the pid, so the call is the first
        // word after it, however many spaces there are.
        let syscall = line
            .split_once(' ')
            .map_or("", |(_, rest)| rest.trim_start());
        let (call, writes) = if syscall.starts_with("openat(") {
            if line.contains("O_DIRECTORY") {
                ("readdir", false)
            } else {
                ("open", line.contains("O_WRONLY") || line.contains("O_RDWR"))
            }
        } else if syscall.starts_with("newfstatat(AT_FDCWD") && line.ends_with(", 0) = 0")
            || syscall.starts_with("newfstatat(AT_FDCWD") && line.contains(", 0) = -1")
        {
            ("stat", false)
        } else if syscall.starts_with("mkdir(") {
            ("mkdir", false)
        } else if syscall.starts_with("rmdir(") {
            ("rmdir", false)
        } else if syscall.starts_with("rename(") {
            ("rename", false)
        } else {
            continue;
        };
        let result = if result == "0" || !result.starts_with('E') {
            "0".to_string()
        } else {
            result
        };
        window.feed(call, &path, to.as_deref(), &result, writes);
    }
    window.calls
}

/// The model's calls of the uninstall, from its trace.
fn model_window(events: &[prefixrace::internals::execution::Event], site: &str) -> Vec<String> {
    let mut window = Window::default();
    for e in events {
        let result = match &e.result {
            Ok(_) => "0".to_string(),
            Err(errno) => errno_name(*errno),
        };
        let (call, to, writes) = match &e.op {
            Op::Open { .. } => {
                let shown = e.op.display_with("").to_string();
                (
                    "open",
                    None,
                    shown.contains("O_WRONLY") || shown.contains("O_RDWR"),
                )
            }
            Op::Stat { .. } => ("stat", None, false),
            Op::Readdir { .. } => ("readdir", None, false),
            Op::Mkdir { .. } => ("mkdir", None, false),
            Op::Rmdir { .. } => ("rmdir", None, false),
            Op::Rename { to, .. } => ("rename", Some(to.to_string()), false),
            _ => continue,
        };
        let path = e.op.path();
        // The model's stand-in for /tmp, which exists on a real system.
        if call == "mkdir" && &**path == "tmp" {
            continue;
        }
        let Some(path) = pin_path(path, site) else {
            continue;
        };
        let to = to.and_then(|t| pin_path(&t, site));
        window.feed(call, &path, to.as_deref(), &result, writes);
    }
    window.calls
}

fn errno_name(errno: Errno) -> String {
    let r: OpResult = Err(errno);
    let shown = prefixrace::internals::op::ResultDisplay(&r).to_string();
    shown
        .trim_start_matches("= -1 ")
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

/// The model's stash calls over the whole run, as `real_calls` shows the
/// real ones.
fn model_stash_calls(
    events: &[prefixrace::internals::execution::Event],
    site: &str,
) -> Vec<String> {
    let rel = |p: &str| {
        p.strip_prefix(site)
            .unwrap_or(p)
            .trim_matches('/')
            .to_string()
    };
    events
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
        .collect()
}

/// The pip strategy's run on `fs` (the wheel given once): its calls of the
/// uninstall, its exit status and its lines.
fn model_reinstall(
    fs: &mut ModelFs,
    venv: &Path,
    site_rel: &str,
) -> (Vec<String>, Vec<String>, bool, Vec<String>) {
    let scenario = Scenario::builder("pip-uninstall-pin")
        .prefix(venv.display().to_string())
        .site_packages(site_rel)
        .python_tag("cpython-311")
        .package("idna")
        .wheel(root().join(WHEEL))
        .compile(false)
        .build()
        .unwrap();
    let setup = Setup::new(Arc::new(scenario), &PipReinstall).unwrap();
    let trace = setup.run(fs as &mut dyn Fs, &mut SerialScheduler, true);
    let outcome = &trace.outcomes[0];
    (
        model_window(&trace.events, site_rel),
        model_stash_calls(&trace.events, site_rel),
        outcome.end == prefixrace::internals::execution::JobEnd::Exited(0),
        outcome
            .diagnostics
            .iter()
            .map(|(d, _)| d.message.clone())
            .collect(),
    )
}

/// Runs one case: `prepare` changes the real venv after the first
/// install; the model starts from a mirror of the result. Returns the
/// real and the model's calls of the uninstall, then the real and the
/// model's stash calls over the whole run.
fn pin_case(
    prepare: impl Fn(&Path, &Path),
) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
    let work = tempfile::tempdir().unwrap();
    let (venv, site, site_rel) = venv_with_wheel(work.path());
    prepare(&venv, &site);
    let mut fs = mirror(&site, &site_rel);
    let (log, real_ok, real_err) = real_reinstall(work.path(), &venv);
    let real = real_window(&log, &site.display().to_string());
    let real_stash = real_calls(&log, &site.display().to_string());
    let (model, model_stash, model_ok, model_err) = model_reinstall(&mut fs, &venv, &site_rel);
    assert_eq!(model_ok, real_ok, "{real_err}\n{model_err:?}");
    if !real_ok {
        assert_eq!(model_err, [real_err]);
    }
    (real, model, real_stash, model_stash)
}

/// `import idna` in the venv's Python, writing its bytecode, as a
/// concurrent build's importer would.
fn import_idna(venv: &Path) {
    let ok = Command::new(venv.join("bin/python"))
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .args(["-c", "import idna"])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// (a) A complete install: the RECORD read, every entry and the `.pyc` and
/// `.pyo` beside each `.py` checked, both directories walked and moved
/// whole.
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn a_complete_install_is_stashed_as_the_real_pip_does() {
    let (real, model, _, _) = pin_case(|_, _| {});
    assert!(
        real.iter().any(|c| c.starts_with("rename idna -> ~dna")),
        "{real:#?}"
    );
    assert_eq!(model, real);
}

/// (b) An importer's bytecode of the running Python, not in RECORD: pip
/// adds it through `cache_from_source`, so the directories still move
/// whole.
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn an_importers_bytecode_is_stashed_as_the_real_pip_does() {
    let (real, model, _, _) = pin_case(|venv, site| {
        import_idna(venv);
        assert!(site.join("idna/__pycache__").is_dir());
    });
    assert!(
        real.iter()
            .any(|c| c.contains("__pycache__/core.cpython-311.pyc = 0")),
        "{real:#?}"
    );
    assert!(
        real.iter().any(|c| c.starts_with("rename idna -> ~dna")),
        "{real:#?}"
    );
    assert_eq!(model, real);
}

/// (b') A file RECORD does not list under `idna/__pycache__`: both `idna`
/// directories are split, their listed files moved one by one into pip's
/// temporary directory (its `__pycache__` made there), the emptied
/// directories tried with `rmdir`; the stray file stays.
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn a_stray_file_splits_the_stash_as_in_the_real_pip() {
    let (real, model, _, _) = pin_case(|venv, site| {
        import_idna(venv);
        std::fs::write(site.join("idna/__pycache__/stray.cpython-311.pyc"), b"x").unwrap();
    });
    assert!(
        real.iter()
            .any(|c| c.starts_with("rename idna/core.py -> TMP/core.py")),
        "{real:#?}"
    );
    assert!(
        real.iter().any(|c| c == "rmdir idna = ENOTEMPTY"),
        "{real:#?}"
    );
    assert_eq!(model, real);
}

/// (c) No `.dist-info`: nothing read from one, nothing moved (the
/// `idna/` directory left there included).
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn no_dist_info_is_nothing_to_uninstall_as_in_the_real_pip() {
    let (real, model, real_stash, model_stash) = pin_case(|_, site| {
        std::fs::remove_dir_all(site.join("idna-3.7.dist-info")).unwrap();
    });
    assert!(real.is_empty(), "{real:#?}");
    assert_eq!(model, real);
    assert!(real_stash.is_empty(), "{real_stash:#?}");
    assert_eq!(model_stash, real_stash);
}

/// (d) A `.dist-info` without RECORD: pip reads INSTALLER for its hint and
/// refuses with its own line, exit 1, nothing moved.
#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn no_record_is_the_real_pips_refusal() {
    let (real, model, _, _) = pin_case(|_, site| {
        std::fs::remove_file(site.join("idna-3.7.dist-info/RECORD")).unwrap();
    });
    assert_eq!(
        real[..2],
        [
            "open idna-3.7.dist-info/RECORD = ENOENT",
            "open idna-3.7.dist-info/INSTALLER = 0"
        ]
    );
    assert_eq!(model, real);
}
