//! Pins of the importer model against real CPython on this machine.
//!
//! Real `python3 -c 'import pkg'` runs under `strace -f` (with
//! `-e inject=mkdir:...` for a racing creator) and the [`ImportJob`] model
//! runs on a [`ModelFs`] prepared the same way (with the same fault). Both
//! must make the same bytecode-writing ops with the same results:
//! `stat(__pycache__)`, `stat(pkg)` when it is missing, `mkdir(__pycache__)`
//! tolerating EEXIST, `open(<pyc>.<id>, O_WRONLY|O_CREAT|O_EXCL)`, `rename`
//! onto the `.pyc` — and both must exit 0 silently, whatever happened.
//!
//! The model reads the source before the cached `.pyc` (a documented
//! simplification in `job/import.rs`), so reads are not compared.
//! When `python3` or `strace` is missing the tests print why and pass.

mod pins_support;

use std::path::Path;
use std::process::Command;

use pins_support::tool_runs;
use prefixrace::internals::content::Blob;
use prefixrace::internals::execution::{execute, JobEnd};
use prefixrace::internals::fs::{Fs, ModelFs, Tree};
use prefixrace::internals::job::{ImportJob, ImportModule, Job};
use prefixrace::internals::op::{Errno, Kind, Op, OpResult, OpenFlags, Value};
use prefixrace::internals::schedule::SerialScheduler;

const SOURCE: &str = "pkg/__init__.py";
const PYCACHE: &str = "pkg/__pycache__";

/// The real interpreter (not a pyenv shim script), or why there is none.
fn python() -> Option<String> {
    if !tool_runs("strace", &["--version"], "python") {
        return None;
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; print(sys.executable, sys.implementation.cache_tag)",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout).trim().to_string();
            Some(text)
        }
        _ => {
            eprintln!("SKIP: `python3` is not installed; python pins need python3 and strace");
            None
        }
    }
}

/// How the package directory looks before the import.
#[derive(Clone, Copy)]
enum Pycache {
    Missing,
    Dir,
    File,
}

/// A racing creator, as strace's `-e inject=mkdir:error=E:when=1`.
struct Inject {
    inner: ModelFs,
    errno: Option<Errno>,
}

impl Fs for Inject {
    fn apply(&mut self, op: &Op) -> OpResult {
        if matches!(op, Op::Mkdir { .. }) {
            if let Some(e) = self.errno.take() {
                return Err(e);
            }
        }
        self.inner.apply(op)
    }
    fn probe(&self, path: &str) -> Option<Kind> {
        self.inner.probe(path)
    }
    fn tree(&self) -> Tree {
        self.inner.tree()
    }
}

struct Outcome {
    lines: Vec<String>,
    stderr: Vec<String>,
    status: i32,
    pyc_written: bool,
}

fn result_text(r: &OpResult) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.name(),
    }
}

/// `<pyc>.<digits>` becomes `<pyc>.<id>`.
fn normalize_tmp(path: &str) -> String {
    match path.rsplit_once('.') {
        Some((head, id)) if head.ends_with(".pyc") && id.chars().all(|c| c.is_ascii_digit()) => {
            format!("{head}.<id>")
        }
        _ => path.to_string(),
    }
}

fn real_import(exe: &str, pycache: Pycache, fault: Option<Errno>) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("pkg")).unwrap();
    std::fs::write(root.join(SOURCE), "x = 1\n").unwrap();
    match pycache {
        Pycache::Missing => {}
        Pycache::Dir => std::fs::create_dir(root.join(PYCACHE)).unwrap(),
        Pycache::File => std::fs::write(root.join(PYCACHE), "not a directory").unwrap(),
    }
    let log = root.join("strace.log");
    let mut cmd = Command::new("strace");
    cmd.current_dir(root)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env("PYTHONPATH", root)
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .args([
            "-e",
            "trace=newfstatat,mkdir,mkdirat,openat,rename,renameat,renameat2,unlink,unlinkat",
        ]);
    if let Some(e) = fault {
        cmd.args(["-e", &format!("inject=mkdir:error={}:when=1", e.name())]);
    }
    let out = cmd.args([exe, "-c", "import pkg"]).output().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    let prefix = format!("{}/", root.display());
    let rel = |s: &str| normalize_tmp(s.strip_prefix(&prefix).unwrap_or(s));
    let mut lines = Vec::new();
    for line in log.lines() {
        let call = call_of(line);
        let Some((name, args)) = call.split_once('(') else {
            continue;
        };
        let quoted: Vec<&str> = args.split('"').skip(1).step_by(2).collect();
        let Some(first) = quoted.first() else {
            continue;
        };
        if !first.starts_with(&prefix) {
            continue;
        }
        let result = match call.rsplit_once(" = ") {
            Some((_, r)) if r.starts_with("-1 ") => r[3..].split(' ').next().unwrap().to_string(),
            Some(_) => "ok".into(),
            None => continue,
        };
        let path = rel(first);
        let text = match name {
            "newfstatat" if path == PYCACHE || path == "pkg" => format!("stat {path}"),
            "mkdir" | "mkdirat" => format!("mkdir {path}"),
            "openat" if args.contains("O_CREAT") => {
                let flags = args
                    .split(", ")
                    .nth(2)
                    .unwrap_or("")
                    .replace("|O_CLOEXEC", "");
                format!("open {flags} {path}")
            }
            "rename" | "renameat" | "renameat2" => format!("rename {path} -> {}", rel(quoted[1])),
            "unlink" | "unlinkat" => format!("unlink {path}"),
            _ => continue,
        };
        lines.push(format!("{text} = {result}"));
    }
    let pyc_written = std::fs::read_dir(root.join("pkg"))
        .ok()
        .and_then(|_| std::fs::read_dir(root.join(PYCACHE)).ok())
        .is_some_and(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".pyc"))
        });
    Outcome {
        lines,
        stderr: String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(String::from)
            .collect(),
        status: out.status.code().unwrap_or(-1),
        pyc_written,
    }
}

fn model_import(tag: &str, pycache: Pycache, fault: Option<Errno>) -> Outcome {
    let mut fs = ModelFs::new();
    fs.apply(&Op::Mkdir {
        path: "pkg".into(),
        mode: 0o777,
    })
    .unwrap();
    let write = |fs: &mut ModelFs, path: &str, text: &str| {
        let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
            path: path.into(),
            flags: OpenFlags::CREATE_TRUNC,
            mode: 0o666,
        }) else {
            panic!("cannot create {path}")
        };
        fs.apply(&Op::Write {
            fd,
            path: path.into(),
            blob: Blob::new(text.as_bytes().to_vec()),
        })
        .unwrap();
        fs.apply(&Op::Close {
            fd,
            path: path.into(),
        })
        .unwrap();
    };
    write(&mut fs, SOURCE, "x = 1\n");
    match pycache {
        Pycache::Missing => {}
        Pycache::Dir => {
            fs.apply(&Op::Mkdir {
                path: PYCACHE.into(),
                mode: 0o777,
            })
            .unwrap();
        }
        Pycache::File => write(&mut fs, PYCACHE, "not a directory"),
    }
    let pyc = format!("{PYCACHE}/__init__.{tag}.pyc");
    let module = ImportModule {
        name: "pkg".into(),
        source: SOURCE.into(),
        pyc: pyc.as_str().into(),
        tmp: format!("{pyc}.140000000000").into(),
    };
    let job: Box<dyn Job> = Box::new(ImportJob::new("python3", vec![module]));
    let mut fs = Inject {
        inner: fs,
        errno: fault,
    };
    let trace = execute(vec![job], &[vec![]], &mut fs, &mut SerialScheduler, true);
    let lines = trace
        .events
        .iter()
        .filter_map(|e| {
            let path = normalize_tmp(e.op.path());
            let text = match &e.op {
                Op::Stat { .. } => format!("stat {path}"),
                Op::Mkdir { .. } => format!("mkdir {path}"),
                Op::Open { flags, .. } if flags.create => format!("open {flags} {path}"),
                Op::Rename { to, .. } => format!("rename {path} -> {}", normalize_tmp(to)),
                Op::Unlink { .. } => format!("unlink {path}"),
                _ => return None,
            };
            Some(format!("{text} = {}", result_text(&e.result)))
        })
        .collect();
    let outcome = &trace.outcomes[0];
    let pyc_written = trace.tree.get(&pyc).is_some_and(|e| e.kind == Kind::File);
    Outcome {
        lines,
        stderr: outcome
            .diagnostics
            .iter()
            .map(|(d, _)| d.message.clone())
            .collect(),
        status: match outcome.end {
            JobEnd::Exited(c) => c,
            JobEnd::Skipped => -1,
        },
        pyc_written,
    }
}

/// Runs both, asserts agreement, returns the real outcome.
fn pin(pycache: Pycache, fault: Option<Errno>) -> Option<Outcome> {
    let found = python()?;
    let (exe, tag) = found.rsplit_once(' ').expect("executable and cache tag");
    if !Path::new(exe).exists() {
        eprintln!("SKIP: python3 reports a missing executable {exe}");
        return None;
    }
    let real = real_import(exe, pycache, fault);
    let model = model_import(tag, pycache, fault);
    assert_eq!(
        model.lines, real.lines,
        "bytecode ops differ (left: model, right: python3)"
    );
    assert_eq!(model.stderr, real.stderr, "messages differ");
    assert_eq!(model.status, real.status, "exit status differs");
    assert_eq!(model.pyc_written, real.pyc_written, "pyc presence differs");
    Some(real)
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn import_creates_pycache_with_mkdir_then_writes_the_pyc_atomically() {
    let Some(real) = pin(Pycache::Missing, None) else {
        return;
    };
    assert_eq!(real.status, 0);
    assert!(real.pyc_written);
    let ops: Vec<&str> = real
        .lines
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["stat", "stat", "mkdir", "open", "rename"],
        "{:?}",
        real.lines
    );
    assert!(
        real.lines[3].starts_with("open O_WRONLY|O_CREAT|O_EXCL "),
        "{:?}",
        real.lines
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn import_tolerates_eexist_from_a_racing_creator() {
    let Some(real) = pin(Pycache::Missing, Some(Errno::EEXIST)) else {
        return;
    };
    assert_eq!(real.status, 0);
    assert!(real.stderr.is_empty());
    assert!(
        real.lines.iter().any(|l| l.starts_with("open ")),
        "it went on to write: {:?}",
        real.lines
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn import_silently_gives_up_on_other_mkdir_errors() {
    let Some(real) = pin(Pycache::Missing, Some(Errno::EACCES)) else {
        return;
    };
    assert_eq!(real.status, 0);
    assert!(real.stderr.is_empty());
    assert!(
        !real.lines.iter().any(|l| l.starts_with("open ")),
        "{:?}",
        real.lines
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn import_silently_gives_up_when_pycache_is_a_file() {
    let Some(real) = pin(Pycache::File, None) else {
        return;
    };
    assert_eq!(real.status, 0);
    assert!(real.stderr.is_empty());
    assert!(!real.pyc_written);
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn import_reuses_an_existing_pycache_directory() {
    let Some(real) = pin(Pycache::Dir, None) else {
        return;
    };
    assert_eq!(real.status, 0);
    assert!(real.pyc_written);
    assert!(
        !real.lines.iter().any(|l| l.starts_with("mkdir")),
        "{:?}",
        real.lines
    );
}

/// The syscall of one `strace -f` line, without the PID strace puts first
/// (padded to a width that depends on the PID's digits).
fn call_of(line: &str) -> &str {
    line.trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start()
}
