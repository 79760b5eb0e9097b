//! Pins of the jobs' reactions to injected faults against the real tools.
//!
//! Each test runs a real tool under `strace -f -e inject=SYSCALL:error=E:when=N`
//! (N found by a first, clean run: the place of the chosen call among its
//! process's calls of that syscall), and the model's job by hand on a
//! [`ModelFs`] with the same fault ([`Fault::strike`]) on the same call.
//! Both must print the same lines, exit with the same status and leave the
//! same tree (paths, kinds, modes, and sizes or bytes where the model
//! writes the real bytes). The recorded excerpts and the commands are in
//! `tests/data/faults/`; the table in `docs/faults.md`.
//!
//! pip is the machine's `python3 -m pip`: the recordings are of pip 21.1.2
//! (the version modelled), and 23.2.1 reacts the same.
//!
//! When `strace`, `cp`, `uv` or `python3` (with pip, for the pip pins) is
//! missing the tests print why and pass; in CI (`CI` set) they fail.

mod pins_support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use pins_support::tool_runs;
use prefixrace::fault::Fault;
use prefixrace::internals::content::Blob;
use prefixrace::internals::job::{
    CpJob, CpKind, CpPlan, ImportJob, ImportModule, Job, Offer, PipFile, PipJob, PipPlan,
};
use prefixrace::internals::op::{Kind, Op, OpenFlags, Value};
use prefixrace::internals::{Fs, ModelFs};

/// What is left: each path with its kind, mode and, for a file, its size
/// (or, where the model's bytes differ from the real tool's, `0` for an
/// empty file and `+` for one with bytes).
type Left = BTreeMap<String, String>;

/// How a run ended: its lines on stderr, its exit status and what it left.
#[derive(Debug, PartialEq)]
struct Ending {
    lines: Vec<String>,
    status: i32,
    left: Left,
}

/// Whether `program ARGS` runs here (see [`tool_runs`]).
fn have(program: &str, args: &[&str]) -> bool {
    tool_runs(program, args, "fault")
}

/// The interpreter itself (not a shim script, whose own calls would be
/// counted and traced), when it runs.
fn python() -> Option<String> {
    if !have("strace", &["-V"]) || !have("python3", &["--version"]) {
        return None;
    }
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A call to fail in the real run: the first `syscall` whose strace line
/// contains `needle`, failed with `inject` (`error=ENOSPC`).
struct RealFault<'a> {
    syscall: &'a str,
    needle: &'a str,
    inject: &'a str,
}

/// Runs `cmd` in `dir` under strace with `fault` injected, after `reset`
/// (which is run before each of the two runs). Returns the status, stderr
/// and the injected run's log.
fn run_real(
    dir: &Path,
    cmd: &[&str],
    fault: &RealFault,
    reset: &dyn Fn(),
) -> (i32, String, String) {
    run_real_with(dir, cmd, fault, &[], reset)
}

/// [`run_real`] with `also` passed to both strace runs (another
/// injection).
fn run_real_with(
    dir: &Path,
    cmd: &[&str],
    fault: &RealFault,
    also: &[&str],
    reset: &dyn Fn(),
) -> (i32, String, String) {
    let log = dir.join("strace.log");
    let strace = |extra: &[&str]| {
        reset();
        let out = Command::new("strace")
            .current_dir(dir)
            .env("LC_ALL", "C")
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .args(["-f", "-qq", "-o"])
            .arg(&log)
            .args(also)
            .args(extra)
            .args(cmd)
            .output()
            .expect("strace runs");
        let text = std::fs::read_to_string(&log).expect("strace wrote its log");
        (out, text)
    };
    // copy_file_range is traced too: an injection into it (`also`) needs it.
    let trace = format!("trace={},copy_file_range", fault.syscall);
    let (_, clean) = strace(&["-e", &trace]);
    let calls: Vec<(&str, &str)> = clean
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(pid, call)| (pid, call.trim_start()))
        .filter(|(_, call)| call.starts_with(&format!("{}(", fault.syscall)))
        .collect();
    let (pid, _) = *calls
        .iter()
        .find(|(_, call)| call.contains(fault.needle))
        .unwrap_or_else(|| panic!("no {} call holds {:?}", fault.syscall, fault.needle));
    let when = 1 + calls
        .iter()
        .filter(|(p, _)| *p == pid)
        .position(|(_, call)| call.contains(fault.needle))
        .expect("found above");
    let inject = format!("inject={}:{}:when={when}", fault.syscall, fault.inject);
    let (out, log) = strace(&["-e", "trace=file,desc,copy_file_range", "-e", &inject]);
    let struck = log
        .lines()
        .find(|l| l.ends_with("(INJECTED)") && l.contains(&format!(" {}(", fault.syscall)))
        .expect("the fault struck");
    assert!(
        struck.contains(fault.needle),
        "struck the wrong call: {struck}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().expect("exited"), stderr, log)
}

/// Every entry under `root` but `root` itself.
fn real_left(root: &Path, whole_bytes: &dyn Fn(&str) -> bool) -> Left {
    let mut left = Left::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            let mode = meta.permissions().mode() & 0o7777;
            let text = if meta.is_dir() {
                stack.push(path.clone());
                format!("dir {mode:o}")
            } else if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if whole_bytes(&rel) {
                format!("file {mode:o} {}", meta.len())
            } else {
                format!("file {mode:o} {}", some_bytes(meta.len()))
            };
            left.insert(temp_named(&rel), text);
        }
    }
    left
}

fn model_left(fs: &ModelFs, under: &str, whole_bytes: &dyn Fn(&str) -> bool) -> Left {
    let mut left = Left::new();
    for (path, entry) in fs.tree().iter() {
        let Some(rel) = (if path.is_empty() {
            None
        } else if under.is_empty() {
            Some(path.as_str())
        } else {
            path.strip_prefix(under).and_then(|p| p.strip_prefix('/'))
        }) else {
            continue;
        };
        let mode = entry.mode & 0o7777;
        let text = match entry.kind {
            Kind::Dir => format!("dir {mode:o}"),
            Kind::Symlink => format!("link -> {}", entry.target.as_deref().unwrap_or("")),
            _ if whole_bytes(rel) => format!("file {mode:o} {}", entry.size),
            _ => format!("file {mode:o} {}", some_bytes(entry.size)),
        };
        left.insert(temp_named(rel), text);
    }
    left
}

/// `0` for an empty file, `+` for one with bytes.
fn some_bytes(size: u64) -> &'static str {
    if size == 0 {
        "0"
    } else {
        "+"
    }
}

/// A random temporary name in one spelling: `RECORDab12cd34.tmp` is
/// `RECORD*.tmp`, `mod1.cpython-311.pyc.140476979740272` is `….pyc.*`.
fn temp_named(path: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let name = if let Some(stem) = name.strip_suffix(".tmp").filter(|s| s.len() > 8) {
        format!("{}*.tmp", &stem[..stem.len() - 8])
    } else if let Some((pyc, id)) = name.rsplit_once(".pyc.") {
        assert!(id.bytes().all(|b| b.is_ascii_digit()), "{name}");
        format!("{pyc}.pyc.*")
    } else {
        name.to_string()
    };
    if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    }
}

/// Runs `job` alone on `fs`, the first op `at` picks struck by `fault`
/// ([`Fault::strike`]: an `EINTR` is not handed to the job, which calls
/// again). Returns its lines, its exit status and the count each `write`
/// returned, in order, with the path written.
fn run_model(
    mut job: Box<dyn Job>,
    fs: &mut ModelFs,
    fault: Fault,
    at: &dyn Fn(&Op) -> bool,
) -> (Vec<String>, i32, Vec<(String, u64)>) {
    let mut struck = false;
    let mut writes = Vec::new();
    let mut note = |op: &Op, result: &prefixrace::internals::OpResult| {
        if let (Op::Write { path, .. }, Ok(Value::Written(n))) = (op, result) {
            writes.push((path.to_string(), *n));
        }
    };
    loop {
        let offer = {
            let probe = |p: &str| fs.probe(p);
            job.poll(&probe)
        };
        match offer {
            Offer::Op => {
                let op = job.offered().clone();
                if !struck && at(&op) {
                    assert!(fault.strikes(&op), "{fault} cannot strike {op}");
                    struck = true;
                    let first = fault.strike(&op, job.writes_rest_of_short_write(), fs);
                    note(&first.ran, &first.result);
                    match first.handed {
                        Some(result) => job.complete(&result),
                        None if fault == Fault::ShortWrite => {
                            // The tool writes the rest itself.
                            let rest = Fault::rest_of_short_write(&op, fs);
                            note(&rest.ran, &rest.result);
                            job.complete(&rest.handed.expect("the rest is handed"));
                        }
                        None => {}
                    }
                } else {
                    let result = fs.apply(&op);
                    note(&op, &result);
                    job.complete(&result);
                }
            }
            Offer::Exit(status) => {
                assert!(struck, "the model never made the faulted call");
                let lines = job
                    .diagnostics()
                    .iter()
                    .map(|d| d.message.clone())
                    .collect();
                return (lines, status, writes);
            }
            Offer::Wait(c) => panic!("the job waits alone: {c:?}"),
        }
    }
}

fn lines_of(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn is_write_to(path: &'static str) -> impl Fn(&Op) -> bool {
    move |op| matches!(op, Op::Write { path: p, .. } if &**p == path)
}

fn is_syscall_on(syscall: &'static str, path: &'static str) -> impl Fn(&Op) -> bool {
    move |op| op.syscall() == syscall && &**op.path() == path
}

// ---------------------------------------------------------------- cp

/// One staged entry.
#[derive(Clone, Copy)]
enum Node {
    /// A directory, 0755.
    Dir,
    /// A file with this text, 0644.
    File(&'static str),
    /// A symlink to this target.
    Link(&'static str),
}

/// The staged tree, in pre-order.
const STAGE: [(&str, Node); 6] = [
    ("pkg", Node::Dir),
    ("pkg/a.py", Node::File("print(1)\n")),
    ("pkg/link", Node::Link("a.py")),
    ("pkg/sub", Node::Dir),
    ("pkg/sub/b.txt", Node::File("hello\n")),
    ("zz", Node::Dir),
];

fn real_cp(fault: &RealFault, also: &[&str]) -> Option<(Ending, String)> {
    if !have("strace", &["-V"]) || !have("cp", &["--version"]) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage");
    std::fs::create_dir(&stage).unwrap();
    for (path, node) in STAGE {
        let p = stage.join(path);
        let mode = match node {
            Node::Dir => std::fs::create_dir(&p).map(|_| 0o755),
            Node::File(t) => std::fs::write(&p, t).map(|_| 0o644),
            Node::Link(target) => std::os::unix::fs::symlink(target, &p).map(|_| 0),
        };
        match mode.unwrap() {
            0 => {}
            mode => std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap(),
        }
    }
    let prefix = dir.path().join("prefix");
    let reset = || {
        let _ = std::fs::remove_dir_all(&prefix);
        std::fs::create_dir(&prefix).unwrap();
    };
    let (status, stderr, log) = run_real_with(
        dir.path(),
        &["cp", "-Rp", "stage/.", "prefix"],
        fault,
        also,
        &reset,
    );
    let ending = Ending {
        lines: lines_of(&stderr),
        status,
        left: real_left(&prefix, &|_| true),
    };
    Some((ending, log))
}

/// The model's cp with `fault` on the op `at` picks; how it ended, and
/// what each `write` returned.
fn model_cp(fault: Fault, at: &dyn Fn(&Op) -> bool) -> (Ending, Vec<(String, u64)>) {
    let list = STAGE
        .iter()
        .map(|(path, node)| {
            let (kind, mode) = match node {
                Node::Dir => (CpKind::Dir, 0o755),
                Node::File(t) => (CpKind::File(Blob::new(t.as_bytes().to_vec())), 0o644),
                Node::Link(target) => (CpKind::Symlink((*target).into()), 0o777),
            };
            (Arc::<str>::from(*path), kind, mode)
        })
        .collect();
    let plan = CpPlan::from_ordered(list, "prefix/.", "stage/.");
    let mut fs = ModelFs::new();
    let (lines, status, writes) = run_model(
        Box::new(CpJob::new("cp", Arc::new(plan))),
        &mut fs,
        fault,
        at,
    );
    let ending = Ending {
        lines,
        status,
        left: model_left(&fs, "", &|_| true),
    };
    (ending, writes)
}

/// The file cp 9.1 copies first: the destination it opened last before
/// its first `copy_file_range`.
fn first_copied(log: &str) -> String {
    let mut last = None;
    for line in log.lines() {
        if let Some((_, rest)) = line.split_once("openat(3, \"./") {
            if rest.contains("O_WRONLY") {
                last = rest.split('"').next().map(String::from);
            }
        }
        if line.contains("copy_file_range(") {
            break;
        }
    }
    last.expect("cp opened a file before copying")
}

fn pin_cp_write(errno: &str, fault: Fault) -> Option<Ending> {
    let inject = format!("error={errno}");
    let real_fault = RealFault {
        syscall: "copy_file_range",
        needle: "",
        inject: &inject,
    };
    let (real, log) = real_cp(&real_fault, &[])?;
    let first: &'static str = Box::leak(first_copied(&log).into_boxed_str());
    let (model, _) = model_cp(fault, &is_write_to(first));
    assert_eq!(model, real, "left: model, right: cp 9.1");
    Some(real)
}

/// `cp-write-enospc.strace`: cp 9.1's `error copying` line, the file
/// closed and left empty at 0600 (no times, no mode), the copy goes on
/// with every other entry, exit 1.
#[test]
fn cp_reacts_to_enospc_on_a_write_as_the_real_cp() {
    if let Some(real) = pin_cp_write("ENOSPC", Fault::NoSpace) {
        assert_eq!(real.status, 1);
        assert!(
            real.lines[0].starts_with("cp: error copying 'stage/./"),
            "{:?}",
            real.lines
        );
        assert!(
            real.left.values().any(|v| v == "file 600 0"),
            "{:?}",
            real.left
        );
    }
}

/// `cp-write-eio.strace`: the same with `Input/output error`.
#[test]
fn cp_reacts_to_eio_on_a_write_as_the_real_cp() {
    pin_cp_write("EIO", Fault::Io);
}

/// `cp-write-eintr.strace`: cp calls again; the copy is whole, exit 0.
#[test]
fn cp_calls_again_after_eintr_on_a_write_as_the_real_cp() {
    if let Some(real) = pin_cp_write("EINTR", Fault::Interrupted) {
        assert_eq!((real.status, real.lines.len()), (0, 0));
    }
}

/// Real cp with ENOSPC on its `syscall` whose line holds `needle`, and
/// the model's cp with `enospc` on its `model_syscall` of `path`: they
/// must end alike (lines, exit status, tree); the real ending, or `None`
/// when the real tool cannot run here.
fn pin_cp_enospc(
    syscall: &'static str,
    needle: &'static str,
    model_syscall: &'static str,
    path: &'static str,
) -> Option<Ending> {
    let fault = RealFault {
        syscall,
        needle,
        inject: "error=ENOSPC",
    };
    let (real, _) = real_cp(&fault, &[])?;
    let (model, _) = model_cp(Fault::NoSpace, &is_syscall_on(model_syscall, path));
    assert_eq!(model, real, "left: model, right: cp 9.1");
    Some(real)
}

/// `cp-mkdir-enospc.strace`: `cannot create directory`, the directory's
/// subtree skipped, the copy goes on, exit 1.
#[test]
fn cp_reacts_to_enospc_on_a_mkdir_as_the_real_cp() {
    let Some(real) = pin_cp_enospc("mkdirat", "\"./pkg/sub\"", "mkdir", "pkg/sub") else {
        return;
    };
    assert!(!real.left.contains_key("pkg/sub"));
}

/// `cp-open-enospc.strace`: `cannot create regular file`, nothing
/// created, the copy goes on, exit 1.
#[test]
fn cp_reacts_to_enospc_on_a_create_as_the_real_cp() {
    let Some(real) = pin_cp_enospc("openat", "\"./pkg/a.py\", O_WRONLY", "open", "pkg/a.py") else {
        return;
    };
    assert!(!real.left.contains_key("pkg/a.py"));
}

/// `cp-symlink-enospc.strace`: `cannot create symbolic link`, nothing
/// created, the copy goes on, exit 1.
#[test]
fn cp_reacts_to_enospc_on_a_symlink_as_the_real_cp() {
    let Some(real) = pin_cp_enospc("symlinkat", "\"./pkg/link\"", "symlink", "pkg/link") else {
        return;
    };
    assert_eq!(
        real.lines,
        ["cp: cannot create symbolic link 'prefix/./pkg/link': No space left on device"]
    );
}

// ---------------------------------------------------------------- pip

const WHEEL_FILES: [(&str, &str); 5] = [
    ("m/__init__.py", "X = 1\n"),
    ("m/data.txt", "hello data\n"),
    (
        "m-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: m\nVersion: 1.0\n",
    ),
    (
        "m-1.0.dist-info/WHEEL",
        "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    ),
    ("m-1.0.dist-info/RECORD", ""),
];

/// Writes `m-1.0-py3-none-any.whl` into `dir` with Python's zipfile.
fn make_wheel(python: &str, dir: &Path, wheel: &[(&str, &str)]) {
    let script = r#"
import base64, hashlib, json, sys, zipfile
files = json.loads(sys.argv[1])
def h(b): return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
rec = "".join(f"{p},{h(t.encode())},{len(t)}\n" for p, t in files[:-1]) + files[-1][0] + ",,\n"
with zipfile.ZipFile("m-1.0-py3-none-any.whl", "w") as z:
    for p, t in files[:-1]:
        z.writestr(p, t)
    z.writestr(files[-1][0], rec)
"#;
    let files: Vec<String> = wheel
        .iter()
        .map(|(p, t)| format!("[{p:?}, {t:?}]"))
        .collect();
    let status = Command::new(python)
        .current_dir(dir)
        .args(["-c", script, &format!("[{}]", files.join(", "))])
        .status()
        .unwrap();
    assert!(status.success());
}

/// What the pip pins compare byte for byte: the package's files (the
/// metadata's bytes, hashes and URLs, are the model's own).
fn package_file(path: &str) -> bool {
    !path.contains(".dist-info")
}

/// Real `python3 -m pip install --no-deps --no-compile --prefix pp` of the
/// wheel with `fault`; the site-packages directory of the run.
fn real_pip(fault: &RealFault) -> Option<(Ending, String, String)> {
    real_pip_of(fault, &WHEEL_FILES)
}

/// [`real_pip`] of a wheel of `wheel` (its `RECORD` last).
fn real_pip_of(fault: &RealFault, wheel: &[(&str, &str)]) -> Option<(Ending, String, String)> {
    let python = python()?;
    if !have(&python, &["-m", "pip", "--version"]) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    make_wheel(&python, dir.path(), wheel);
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys; print('lib/python%d.%d/site-packages' % sys.version_info[:2])",
        ])
        .output()
        .unwrap();
    let site = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let prefix = dir.path().join("pp");
    let reset = || {
        let _ = std::fs::remove_dir_all(&prefix);
    };
    let cmd = [
        python.as_str(),
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-compile",
        "--no-index",
        "--disable-pip-version-check",
        "--prefix",
        "pp",
        "m-1.0-py3-none-any.whl",
    ];
    let (status, stderr, log) = run_real(dir.path(), &cmd, fault, &reset);
    // pip 22.1 and later warn a root user after a successful install.
    let lines = lines_of(&stderr)
        .into_iter()
        .filter(|l| !l.starts_with("WARNING: Running pip as the 'root' user"))
        .collect();
    let ending = Ending {
        lines,
        status,
        left: real_left(&prefix, &package_file),
    };
    Some((ending, site, log))
}

/// The model's pip with `fault` on the op `at` picks; how it ended, and
/// what each `write` returned.
fn model_pip(site: &str, fault: Fault, at: &dyn Fn(&Op) -> bool) -> (Ending, Vec<(String, u64)>) {
    model_pip_of(site, &WHEEL_FILES, Vec::new(), fault, at)
}

/// [`model_pip`] of a wheel of `wheel`, with console `scripts`.
fn model_pip_of(
    site: &str,
    wheel: &[(&str, &str)],
    scripts: Vec<PipFile>,
    fault: Fault,
    at: &dyn Fn(&Op) -> bool,
) -> (Ending, Vec<(String, u64)>) {
    // The wheel's RECORD lists its files (the real one with their hashes,
    // which these pins do not compare).
    let record: String = wheel.iter().map(|(p, _)| format!("{p},,\n")).collect();
    let files = wheel
        .iter()
        .map(|(p, t)| PipFile {
            path: format!("{site}/{p}").into(),
            blob: Blob::new(
                if p.ends_with("/RECORD") {
                    record.as_bytes()
                } else {
                    t.as_bytes()
                }
                .to_vec(),
            ),
            executable: false,
        })
        .collect();
    let dist_info = format!("{site}/m-1.0.dist-info");
    let plan = PipPlan::new(
        files,
        scripts,
        "cpython-311",
        1,
        Some(&dist_info),
        "pp",
        false,
    );
    let mut fs = ModelFs::new();
    let (lines, status, writes) = run_model(
        Box::new(PipJob::new("pip", Arc::new(plan))),
        &mut fs,
        fault,
        at,
    );
    let ending = Ending {
        lines,
        status,
        left: model_left(&fs, "", &package_file),
    };
    (ending, writes)
}

fn pin_pip(real_fault: RealFault, fault: Fault, at: &dyn Fn(&str, &Op) -> bool) -> Option<Ending> {
    let (real, site, _) = real_pip(&real_fault)?;
    let (model, _) = model_pip(&site, fault, &|op| at(&site, op));
    assert_eq!(model, real, "left: model, right: pip");
    Some(real)
}

fn data_write(site: &str, op: &Op) -> bool {
    matches!(op, Op::Write { path, .. } if **path == *format!("{site}/m/data.txt"))
}

/// `pip-data-enospc.strace`: the message names no file, the file is
/// closed and left empty, nothing is rolled back, exit 1.
#[test]
fn pip_reacts_to_enospc_on_a_file_write_as_the_real_pip() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"hello data",
        inject: "error=ENOSPC",
    };
    if let Some(real) = pin_pip(fault, Fault::NoSpace, &data_write) {
        assert_eq!(
            real.lines,
            ["ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"]
        );
        assert!(real
            .left
            .iter()
            .any(|(p, v)| p.ends_with("m/__init__.py") && v == "file 644 6"));
    }
}

/// `pip-data-eio.strace`: the same with `[Errno 5] Input/output error`.
#[test]
fn pip_reacts_to_eio_on_a_file_write_as_the_real_pip() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"hello data",
        inject: "error=EIO",
    };
    pin_pip(fault, Fault::Io, &data_write);
}

/// `pip-data-eintr.strace`: Python calls again (PEP 475); the install
/// succeeds.
#[test]
fn pip_calls_again_after_eintr_on_a_file_write_as_the_real_pip() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"hello data",
        inject: "error=EINTR",
    };
    if let Some(real) = pin_pip(fault, Fault::Interrupted, &data_write) {
        assert_eq!(real.status, 0);
    }
}

/// `pip-record-enospc.strace`: the `RECORD` tempfile's flush fails, its
/// close writes the bytes again, and pip aborts: the tempfile stays at
/// 0600 beside the wheel's own `RECORD`, exit 1.
#[test]
fn pip_reacts_to_enospc_on_the_record_write_as_the_real_pip() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"m-1.0.dist-info/INSTALLER,",
        inject: "error=ENOSPC",
    };
    let at = |_: &str, op: &Op| matches!(op, Op::Write { path, .. } if path.contains("/RECORD") && path.ends_with(".tmp"));
    if let Some(real) = pin_pip(fault, Fault::NoSpace, &at) {
        assert_eq!(real.status, 1);
        assert!(real
            .left
            .iter()
            .any(|(p, v)| p.ends_with("RECORD*.tmp") && v == "file 600 +"));
    }
}

/// `pip-open-enospc.strace`: an `open` names its file.
#[test]
fn pip_reacts_to_enospc_on_a_create_as_the_real_pip() {
    let fault = RealFault {
        syscall: "openat",
        needle: "m/data.txt\", O_WRONLY",
        inject: "error=ENOSPC",
    };
    let at = |site: &str, op: &Op| matches!(op, Op::Open { path, flags, .. } if flags.create && **path == *format!("{site}/m/data.txt"));
    if let Some(real) = pin_pip(fault, Fault::NoSpace, &at) {
        assert!(
            real.lines[0]
                .ends_with("No space left on device: 'pp/lib/python3.11/site-packages/m/data.txt'")
                || real.lines[0].contains("/site-packages/m/data.txt'")
        );
    }
}

/// `pip-mkdir-enospc.strace`: a `mkdir` names its directory.
#[test]
fn pip_reacts_to_enospc_on_a_mkdir_as_the_real_pip() {
    let fault = RealFault {
        syscall: "mkdir",
        needle: "site-packages/m\"",
        inject: "error=ENOSPC",
    };
    let at = |site: &str, op: &Op| matches!(op, Op::Mkdir { path, .. } if **path == *format!("{site}/m"));
    pin_pip(fault, Fault::NoSpace, &at);
}

/// A wheel with a console script, `mcmd`.
const SCRIPT_WHEEL_FILES: [(&str, &str); 5] = [
    ("m/__init__.py", "X = 1\ndef main(): pass\n"),
    (
        "m-1.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: m\nVersion: 1.0\n",
    ),
    (
        "m-1.0.dist-info/WHEEL",
        "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    ),
    (
        "m-1.0.dist-info/entry_points.txt",
        "[console_scripts]\nmcmd = m:main\n",
    ),
    ("m-1.0.dist-info/RECORD", ""),
];

/// `pip-script-enospc.strace`: distlib's `with open(…)` closes the
/// script after its write fails; pip aborts naming no file, and the empty
/// script stays without its mode.
#[test]
fn pip_reacts_to_enospc_on_a_console_script_write_as_the_real_pip() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"#!",
        inject: "error=ENOSPC",
    };
    let Some((real, site, _)) = real_pip_of(&fault, &SCRIPT_WHEEL_FILES) else {
        return;
    };
    let script = PipFile {
        path: "bin/mcmd".into(),
        blob: Blob::new(b"#!python\nimport m\nm.main()\n".to_vec()),
        executable: true,
    };
    let (model, _) = model_pip_of(
        &site,
        &SCRIPT_WHEEL_FILES,
        vec![script],
        Fault::NoSpace,
        &is_write_to("bin/mcmd"),
    );
    assert_eq!(model, real, "left: model, right: pip");
    assert_eq!(
        real.left.get("bin/mcmd").map(String::as_str),
        Some("file 644 0")
    );
}

// ---------------------------------------------------------------- uv

/// Real `uv pip install` of a wheel whose `m/data.txt` is 64 KiB, in a
/// shell with `ulimit -f 16` and `SIGXFSZ` ignored, so that its write into
/// the cache's unzip directory fails with EFBIG. (strace's `inject=…:when=N`
/// counts calls per thread, and uv writes from several threads, so another
/// thread's N-th write was struck instead.) The interpreter is looked up
/// first without the limit (`uv pip list`), so that the only large write is
/// the unzip's. Returns the exit status, whether that write failed, whether
/// uv itself removed a `.tmp` directory of the cache root (an `unlinkat`
/// with `AT_REMOVEDIR` in the log), and the names left in the cache root.
fn real_uv_unzip_fails() -> Option<(i32, bool, bool, Vec<String>)> {
    let python = python()?;
    if !have("uv", &["--version"]) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let big = "hello data\n".repeat(6000);
    let mut wheel = WHEEL_FILES;
    wheel[1].1 = &big;
    make_wheel(&python, dir.path(), &wheel);
    let uv = |args: &str| {
        Command::new("bash")
            .current_dir(dir.path())
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .args(["-c", args])
            .output()
            .expect("bash runs")
    };
    uv(&format!("uv pip list -q --cache-dir c --python {python}"));
    let run = uv(&format!(
        "trap '' XFSZ; ulimit -f 16; exec strace -f -qq -o strace.log \
         -e trace=mkdir,write,unlinkat,rmdir \
         uv pip install --offline --no-deps --cache-dir c --python {python} \
         --prefix pp m-1.0-py3-none-any.whl"
    ));
    let log = std::fs::read_to_string(dir.path().join("strace.log")).unwrap();
    let failed = log.lines().any(|l| l.contains("= -1 EFBIG"));
    let removed = log.lines().any(|l| {
        l.contains("unlinkat(AT_FDCWD, \"")
            && l.contains("/c/.tmp")
            && l.contains("AT_REMOVEDIR) = 0")
    });
    let left = std::fs::read_dir(dir.path().join("c"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    Some((run.status.code().expect("exited"), failed, removed, left))
}

/// The model of one uv run filling the cache (as the uv corpus scenarios
/// declare it), its write of `m/data.txt` struck with ENOSPC (the model
/// has no EFBIG; uv unwinds the same from either); with its
/// unzip directory's clean-up armed or not. Its exit status, and whether
/// the unzip directory is left.
fn model_uv_unzip_fails(armed: bool) -> (i32, bool) {
    use prefixrace::internals::job::ScriptJob;
    use prefixrace::kit::{LockKind, Script, WriteHow};
    let files: Vec<(&str, &[u8])> = WHEEL_FILES
        .iter()
        .map(|(p, t)| (*p, t.as_bytes()))
        .collect();
    let mut script = Script::new("uv")
        .makedirs("c/archive-v0")
        .lock("c/.lock", LockKind::Flock)
        .skip_if_exists("c/archive-v0/m-1.0");
    if armed {
        script = script.cleanup("c/.tmpB");
    }
    let script = script
        .write_tree("c/.tmpB", &files, WriteHow::InPlace)
        .keep("c/.tmpB")
        .rename("c/.tmpB", "c/archive-v0/m-1.0")
        .unlock("c/.lock", LockKind::Flock)
        .shared();
    let mut fs = ModelFs::new();
    let (_, status, _) = run_model(
        Box::new(ScriptJob::new("uv".into(), script, "/p")),
        &mut fs,
        Fault::NoSpace,
        &is_write_to("c/.tmpB/m/data.txt"),
    );
    (status, fs.probe("c/.tmpB").is_some())
}

/// uv unzips a wheel into a `tempfile::TempDir` in its cache root; a write
/// that fails there (see [`real_uv_unzip_fails`]) unwinds, and the `TempDir`'s `Drop` removes the
/// directory before uv exits 1. The kit's `cleanup` step is that `Drop`:
/// armed, the model's uv leaves no unzip directory either; unarmed, it
/// would leave one (what the uv corpus scenarios did before).
#[test]
fn uv_removes_its_unzip_directory_when_a_write_fails_as_the_kits_cleanup_does() {
    let Some((status, failed, removed, left)) = real_uv_unzip_fails() else {
        return;
    };
    assert!(failed, "the unzip's write failed");
    assert_eq!(status, 1, "uv's exit status");
    assert!(removed, "uv removed its unzip directory itself");
    assert!(
        left.iter().all(|name| !name.starts_with(".tmp")),
        "left in the cache: {left:?}"
    );
    assert_eq!(model_uv_unzip_fails(true), (1, false));
    assert_eq!(model_uv_unzip_fails(false), (1, true));
}

// ---------------------------------------------------------------- import

/// Real `python3 -c 'import mod1'` beside `mod1.py`, with the `.pyc`'s
/// write struck by `inject`; and the importer model with `fault`.
/// The model's importer of `mod1` (cache tag `tag`) with `fault` on its
/// `.pyc` write: its lines, exit status, writes and filesystem.
fn model_import(tag: &str, fault: Fault) -> (Vec<String>, i32, Vec<(String, u64)>, ModelFs) {
    let mut fs = ModelFs::new();
    let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
        path: "mod1.py".into(),
        flags: OpenFlags::CREATE_TRUNC,
        mode: 0o644,
    }) else {
        panic!("cannot create mod1.py")
    };
    fs.apply(&Op::Write {
        fd,
        path: "mod1.py".into(),
        blob: Blob::new(b"X = 1\n".to_vec()),
    })
    .unwrap();
    fs.apply(&Op::Close {
        fd,
        path: "mod1.py".into(),
    })
    .unwrap();
    let pyc = format!("__pycache__/mod1.{tag}.pyc");
    let module = ImportModule {
        name: "mod1".into(),
        source: "mod1.py".into(),
        pyc: pyc.as_str().into(),
        tmp: format!("{pyc}.140476979740272").into(),
    };
    let is_pyc_write = |op: &Op| matches!(op, Op::Write { path, .. } if path.contains(".pyc."));
    let (lines, status, writes) = run_model(
        Box::new(ImportJob::new("python3", vec![module])),
        &mut fs,
        fault,
        &is_pyc_write,
    );
    (lines, status, writes, fs)
}

fn pin_import(inject: &str, fault: Fault) -> Option<Ending> {
    let python = python()?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mod1.py"), "X = 1\n").unwrap();
    std::fs::set_permissions(
        dir.path().join("mod1.py"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = Command::new(&python)
        .args(["-c", "import sys; print(sys.implementation.cache_tag)"])
        .output()
        .unwrap();
    let tag = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let pycache = dir.path().join("__pycache__");
    let reset = || {
        let _ = std::fs::remove_dir_all(&pycache);
    };
    let real_fault = RealFault {
        syscall: "write",
        // The bytecode's magic number ends in \r\n.
        needle: "\\r\\n",
        inject,
    };
    let (status, stderr, _) = run_real(
        dir.path(),
        &[&python, "-c", "import mod1"],
        &real_fault,
        &reset,
    );
    let real = Ending {
        lines: lines_of(&stderr),
        status,
        left: real_left(dir.path(), &|p| !p.ends_with(".pyc"))
            .into_iter()
            .filter(|(p, _)| p != "strace.log")
            .collect(),
    };

    let (lines, status, _, fs) = model_import(&tag, fault);
    let model = Ending {
        lines,
        status,
        left: model_left(&fs, "", &|p| !p.ends_with(".pyc")),
    };
    assert_eq!(model, real, "left: model, right: python3");
    Some(real)
}

/// `c-pyc-enospc.strace`: the error is swallowed, the temporary file is
/// closed and unlinked, no `.pyc`; the import succeeds.
#[test]
fn the_importer_reacts_to_enospc_on_its_pyc_write_as_cpython() {
    if let Some(real) = pin_import("error=ENOSPC", Fault::NoSpace) {
        assert_eq!(real.status, 0);
        assert!(
            !real.left.keys().any(|p| p.contains(".pyc")),
            "{:?}",
            real.left
        );
    }
}

/// `c-pyc-eio.strace`: the same with EIO.
#[test]
fn the_importer_reacts_to_eio_on_its_pyc_write_as_cpython() {
    pin_import("error=EIO", Fault::Io);
}

/// `c-pyc-eintr.strace`: CPython calls again and the `.pyc` is renamed
/// into place.
#[test]
fn the_importer_calls_again_after_eintr_on_its_pyc_write_as_cpython() {
    if let Some(real) = pin_import("error=EINTR", Fault::Interrupted) {
        assert!(
            real.left.keys().any(|p| p.ends_with(".pyc")),
            "{:?}",
            real.left
        );
    }
}

// ---------------------------------------------------------------- short writes

/// The counts the `write`s to the file opened by the line holding `opened`
/// returned, up to its close, in the strace log.
fn real_write_returns(log: &str, opened: &str) -> Vec<u64> {
    let mut fd = None;
    let mut counts = Vec::new();
    for line in log.lines() {
        let call = line.split_once(' ').map_or(line, |(_, c)| c.trim_start());
        match &fd {
            None if call.starts_with("openat(") && call.contains(opened) => {
                let n = call.rsplit_once(" = ").expect("a result").1;
                fd = Some(n.split(' ').next().unwrap().to_string());
            }
            Some(n) if call.starts_with(&format!("write({n}, ")) => {
                let r = call.rsplit(" = ").next().expect("a result");
                counts.push(r.split(' ').next().unwrap().parse().expect("a count"));
            }
            Some(n) if call.starts_with(&format!("close({n})")) => break,
            _ => {}
        }
    }
    counts
}

fn model_write_returns(writes: &[(String, u64)], path: &str) -> Vec<u64> {
    writes
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, n)| *n)
        .collect()
}

/// `cp-fallback-short-write.strace`: gnulib's `full_write` writes the
/// rest (`write(…, 6) = 3`, then `write(…, "lo\n", 3)`), as
/// `Fault::ShortWrite` makes the model's cp do. `retval=` runs no call,
/// so the real file's bytes are not compared, only the calls.
#[test]
fn cp_writes_the_rest_of_a_short_write_as_the_real_cp() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"hello",
        inject: "retval=3",
    };
    let also = ["-e", "inject=copy_file_range:error=ENOSYS"];
    let Some((real, log)) = real_cp(&fault, &also) else {
        return;
    };
    let (model, writes) = model_cp(Fault::ShortWrite, &is_write_to("pkg/sub/b.txt"));
    assert_eq!((&model.lines, model.status), (&real.lines, real.status));
    assert_eq!(
        model_write_returns(&writes, "pkg/sub/b.txt"),
        real_write_returns(&log, "\"./pkg/sub/b.txt\", O_WRONLY"),
    );
}

/// `pip-data-short-write.strace`: CPython's `BufferedWriter` writes the
/// rest (`write(…, 11) = 5`, then `write(…, " data\n", 6)`), as
/// `Fault::ShortWrite` makes the model's pip do.
#[test]
fn pip_writes_the_rest_of_a_short_write_as_the_real_pip() {
    let fault = RealFault {
        syscall: "write",
        needle: "\"hello data",
        inject: "retval=5",
    };
    let Some((real, site, log)) = real_pip(&fault) else {
        return;
    };
    let data = format!("{site}/m/data.txt");
    let (model, writes) = model_pip(&site, Fault::ShortWrite, &|op| data_write(&site, op));
    assert_eq!((&model.lines, model.status), (&real.lines, real.status));
    assert_eq!(
        model_write_returns(&writes, &data),
        real_write_returns(&log, "m/data.txt\", O_WRONLY"),
    );
    assert_eq!(model_write_returns(&writes, &data), [5, 6]);
}

/// `c-pyc-short-write.strace`: CPython's `_write_atomic` writes the
/// bytecode with one unbuffered `FileIO.write` and ignores its count, so
/// a short write is never completed: one `write`, then the rename. The
/// model's importer says so (`Job::writes_rest_of_short_write`): it is
/// handed the short count and renames the half-written `.pyc`.
#[test]
fn cpython_renames_a_short_pyc_write_without_writing_the_rest() {
    let Some(python) = python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mod1.py"), "X = 1\n").unwrap();
    let pycache = dir.path().join("__pycache__");
    let reset = || {
        let _ = std::fs::remove_dir_all(&pycache);
    };
    let fault = RealFault {
        syscall: "write",
        needle: "\\r\\n",
        inject: "retval=8",
    };
    let (status, _, log) = run_real(dir.path(), &[&python, "-c", "import mod1"], &fault, &reset);
    assert_eq!(status, 0);
    assert_eq!(
        real_write_returns(&log, ".pyc."),
        [8],
        "one write, not completed"
    );
    let renamed = log
        .lines()
        .any(|l| l.contains("rename(") && l.contains(".pyc.") && l.ends_with("= 0"));
    assert!(renamed, "the short .pyc is renamed into place");
    let tag = "cpython-311";
    let (lines, status, writes, fs) = model_import(tag, Fault::ShortWrite);
    assert_eq!((lines, status), (Vec::<String>::new(), 0));
    let written: Vec<u64> = writes.iter().map(|(_, n)| *n).collect();
    assert_eq!(written.len(), 1, "one write, not completed: {writes:?}");
    let pyc = format!("__pycache__/mod1.{tag}.pyc");
    let left = fs.tree();
    let cut = left
        .get(&pyc)
        .expect("the short .pyc is renamed into place");
    assert_eq!(cut.size, written[0], "the .pyc holds the short write alone");
}
