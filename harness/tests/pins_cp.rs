//! Pins of the cp model against real GNU cp on this machine.
//!
//! Each test builds a staged source tree on disk and the same tree in a
//! [`ModelFs`] (in the same creation order, so inode order matches), prepares
//! the destination the same way on both, runs real `cp -Rp SRC/. DST` under
//! `strace -f` (with `-e inject=...` to provoke a racing creator) and the
//! [`CpJob`] model on a [`ModelFs`] (with the same fault injected), then
//! asserts the same destination ops with the same results, the same messages
//! and the same exit status.
//!
//! Compared ops: every `lstat`/`stat`/`mkdir`/`open` cp makes on a
//! destination path (cp 9.1 makes them relative to a descriptor of the
//! destination: `newfstatat(3, "./a", …)`, `mkdirat(3, "./a", 0700)`,
//! `openat(3, "./a/x.py", O_WRONLY|O_CREAT|O_EXCL, 0600)`). Permission
//! restoring (`-p`) is left out: real cp does it through descriptors and
//! xattrs, the model as a final `chmod`.
//!
//! When `cp` or `strace` is missing the tests print why and pass.

mod pins_support;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use pins_support::tool_runs;
use prefixrace::internals::content::Blob;
use prefixrace::internals::execution::{execute, JobEnd};
use prefixrace::internals::fs::{Fs, ModelFs, Tree};
use prefixrace::internals::job::{CpJob, CpPlan, Job};
use prefixrace::internals::op::{Errno, Kind, Op, OpResult, OpenFlags, Value};
use prefixrace::internals::schedule::SerialScheduler;

/// One entry of a staged tree, in creation order.
#[derive(Clone, Copy)]
enum Node<'a> {
    Dir(&'a str),
    File(&'a str, &'a str),
}

/// A destination op as both sides report it: `mkdir a = EEXIST`.
type Line = String;

/// Whether GNU cp and strace run here (see [`tool_runs`]).
fn tools_present() -> bool {
    ["cp", "strace"]
        .iter()
        .all(|tool| tool_runs(tool, &["--version"], "cp"))
}

fn make_real(root: &Path, nodes: &[Node]) {
    for n in nodes {
        match n {
            Node::Dir(p) => std::fs::create_dir(root.join(p)).unwrap(),
            Node::File(p, text) => std::fs::write(root.join(p), text).unwrap(),
        }
    }
}

fn make_model(nodes: &[Node]) -> ModelFs {
    let mut fs = ModelFs::new();
    for n in nodes {
        match n {
            Node::Dir(p) => {
                fs.apply(&Op::Mkdir {
                    path: (*p).into(),
                    mode: 0o777,
                })
                .unwrap();
            }
            Node::File(p, text) => {
                let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
                    path: (*p).into(),
                    flags: OpenFlags::CREATE_TRUNC,
                    mode: 0o666,
                }) else {
                    panic!("cannot create {p} in the model")
                };
                fs.apply(&Op::Write {
                    fd,
                    path: (*p).into(),
                    blob: Blob::new(text.as_bytes().to_vec()),
                })
                .unwrap();
                fs.apply(&Op::Close {
                    fd,
                    path: (*p).into(),
                })
                .unwrap();
            }
        }
    }
    fs
}

/// True when the kernel numbered the source entries in creation order within
/// each directory, the premise of comparing inode order with the model's.
fn inode_order_is_creation_order(root: &Path, nodes: &[Node]) -> bool {
    let mut last: std::collections::BTreeMap<String, u64> = Default::default();
    for n in nodes {
        let p = match n {
            Node::Dir(p) | Node::File(p, _) => *p,
        };
        let ino = std::fs::symlink_metadata(root.join(p)).unwrap().ino();
        let parent = prefixrace::internals::fs::parent_of(p).to_string();
        if let Some(prev) = last.insert(parent, ino) {
            if ino < prev {
                return false;
            }
        }
    }
    true
}

/// A fault like strace's `-e inject=SYSCALL:error=E:when=N` for the model:
/// the `when`-th op of kind `syscall` fails with `errno` without running.
struct Inject {
    inner: ModelFs,
    syscall: &'static str,
    when: usize,
    errno: Errno,
    seen: usize,
}

impl Fs for Inject {
    fn apply(&mut self, op: &Op) -> OpResult {
        if op.syscall() == self.syscall {
            self.seen += 1;
            if self.seen == self.when {
                return Err(self.errno);
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

/// A fault to inject in both runs: the `nth` mkdir or create-open of `path`.
struct Fault {
    syscall: &'static str,
    path: &'static str,
    errno: Errno,
}

struct Outcome {
    lines: Vec<Line>,
    messages: Vec<String>,
    status: i32,
}

fn result_text(r: &OpResult) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.name(),
    }
}

/// Parses the destination ops out of an strace log.
fn strace_lines(log: &str, dst: &str) -> Vec<(String, String, String)> {
    let mut dirfd = None;
    let mut out = Vec::new();
    for line in log.lines() {
        let call = call_of(line);
        if dirfd.is_none() {
            let prefix = format!("openat(AT_FDCWD, \"{dst}\", O_RDONLY|O_PATH|O_DIRECTORY) = ");
            if let Some(n) = call.strip_prefix(&prefix) {
                dirfd = Some(n.trim().to_string());
            }
            continue;
        }
        let fd = dirfd.as_deref().unwrap();
        let Some((name, rest)) = call.split_once('(') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(&format!("{fd}, \"./")) else {
            continue;
        };
        let Some((path, args)) = rest.split_once('"') else {
            continue;
        };
        let result = match call.rsplit_once(" = ") {
            Some((_, r)) if r.starts_with("-1 ") => r[3..].split(' ').next().unwrap().to_string(),
            Some(_) => "ok".into(),
            None => continue,
        };
        let op = match name {
            "newfstatat" if args.contains("AT_SYMLINK_NOFOLLOW") => "lstat".to_string(),
            "newfstatat" => "stat".to_string(),
            "mkdirat" => "mkdir".to_string(),
            "openat" => {
                let flags = args
                    .trim_start_matches(", ")
                    .split(&[',', ')'][..])
                    .next()
                    .unwrap();
                format!(
                    "open {}",
                    flags.replace("|O_CLOEXEC", "").replace("|O_NOFOLLOW", "")
                )
            }
            _ => continue,
        };
        out.push((op, path.to_string(), result));
    }
    out
}

fn real_cp(src_nodes: &[Node], dst_nodes: &[Node], fault: Option<&Fault>) -> Option<Outcome> {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("src"), dir.path().join("dst"));
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&dst).unwrap();
    make_real(&src, src_nodes);
    make_real(&dst, dst_nodes);
    if !inode_order_is_creation_order(&src, src_nodes) {
        eprintln!("SKIP: this filesystem did not number inodes in creation order");
        return None;
    }
    let run = |inject: Option<String>| {
        let log = dir.path().join("strace.log");
        let mut cmd = Command::new("strace");
        cmd.current_dir(dir.path())
            .args(["-f", "-qq", "-o"])
            .arg(&log)
            .args(["-e", "trace=newfstatat,mkdirat,openat"]);
        if let Some(i) = inject {
            cmd.args(["-e", &i]);
        }
        let out = cmd.args(["cp", "-Rp", "src/.", "dst"]).output().unwrap();
        (out, std::fs::read_to_string(&log).unwrap())
    };
    // Fresh destination for each run: the dry run finds which call to fail.
    let (mut out, mut log) = run(None);
    if let Some(f) = fault {
        let n = strace_lines(&log, "dst");
        let index = log
            .lines()
            .filter(|l| call_of(l).starts_with(&format!("{}(", f.syscall_real())))
            .position(|l| l.contains(&format!("\"./{}\"", f.path)))
            .unwrap_or_else(|| panic!("cp never called {} on {}: {n:?}", f.syscall, f.path));
        std::fs::remove_dir_all(&dst).unwrap();
        std::fs::create_dir(&dst).unwrap();
        make_real(&dst, dst_nodes);
        let inject = format!(
            "inject={}:error={}:when={}",
            f.syscall_real(),
            f.errno.name(),
            index + 1
        );
        (out, log) = run(Some(inject));
    }
    let lines = strace_lines(&log, "dst")
        .into_iter()
        .map(|(op, path, r)| format!("{op} {path} = {r}"))
        .collect();
    let messages = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(String::from)
        .collect();
    out.status.code().map(|status| Outcome {
        lines,
        messages,
        status,
    })
}

impl Fault {
    fn syscall_real(&self) -> &'static str {
        match self.syscall {
            "mkdir" => "mkdirat",
            "open" => "openat",
            other => other,
        }
    }
}

fn model_cp(src_nodes: &[Node], dst_nodes: &[Node], fault: Option<&Fault>) -> Outcome {
    let stage = make_model(src_nodes);
    let plan = CpPlan::from_stage(&stage, "dst/.", "src/.");
    let job: Box<dyn Job> = Box::new(CpJob::new("cp", Arc::new(plan)));
    let dst = make_model(dst_nodes);
    let mut fs = Inject {
        inner: dst,
        syscall: fault.map_or("none", |f| f.syscall),
        when: 0,
        errno: fault.map_or(Errno::EEXIST, |f| f.errno),
        seen: 0,
    };
    if let Some(f) = fault {
        // The model's index of the faulted call, found the same way as for cp.
        let mut dry = make_model(dst_nodes);
        let trace = execute(
            vec![job.clone()],
            &[vec![]],
            &mut dry,
            &mut SerialScheduler,
            true,
        );
        fs.when = 1 + trace
            .events
            .iter()
            .filter(|e| e.op.syscall() == f.syscall)
            .position(|e| &*e.op.path().clone() == f.path)
            .expect("the model makes the faulted call");
    }
    let trace = execute(vec![job], &[vec![]], &mut fs, &mut SerialScheduler, true);
    let lines = trace
        .events
        .iter()
        .filter_map(|e| {
            let op = match &e.op {
                Op::Lstat { .. } => "lstat".to_string(),
                Op::Stat { .. } => "stat".to_string(),
                Op::Mkdir { .. } => "mkdir".to_string(),
                Op::Open { flags, .. } => format!("open {flags}"),
                _ => return None,
            };
            Some(format!("{op} {} = {}", e.op.path(), result_text(&e.result)))
        })
        .collect();
    let outcome = &trace.outcomes[0];
    Outcome {
        lines,
        messages: outcome
            .diagnostics
            .iter()
            .map(|(d, _)| d.message.clone())
            .collect(),
        status: match outcome.end {
            JobEnd::Exited(c) => c,
            JobEnd::Skipped => -1,
        },
    }
}

/// Drops the `lstat D = ok` real cp 9.1 makes right after its own successful
/// `mkdir D` (copy.c re-reads the new directory's mode for `-p`).
///
/// Known divergence: the CpJob model does not make that call yet (reported
/// to the lead: it moves op numbers and tokens, so it belongs in cp.rs with
/// new snapshots). It is dropped on both sides, so this comparison holds
/// before and after that change; `real_cp_lstats_each_directory_it_creates`
/// pins the real behaviour itself.
fn without_post_mkdir_lstat(lines: &[Line]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for l in lines {
        if let Some(prev) = out.last() {
            let dir = path_of(l);
            if l == &format!("lstat {dir} = ok") && prev == &format!("mkdir {dir} = ok") {
                continue;
            }
        }
        out.push(l.clone());
    }
    out
}

/// Runs both and asserts they agree; returns the real outcome (with the
/// known divergence dropped) for rule checks.
fn pin(src: &[Node], dst: &[Node], fault: Option<Fault>) -> Option<Outcome> {
    if !tools_present() {
        return None;
    }
    let mut real = real_cp(src, dst, fault.as_ref())?;
    let mut model = model_cp(src, dst, fault.as_ref());
    real.lines = without_post_mkdir_lstat(&real.lines);
    model.lines = without_post_mkdir_lstat(&model.lines);
    assert_eq!(
        model.lines, real.lines,
        "destination ops differ (left: model, right: cp)"
    );
    assert_eq!(
        model.messages, real.messages,
        "messages differ (left: model, right: cp)"
    );
    assert_eq!(model.status, real.status, "exit status differs");
    Some(real)
}

/// The path of a compared line `op[ flags] path = result`.
fn path_of(line: &str) -> &str {
    let (call, _) = line.rsplit_once(" = ").expect("a result");
    call.rsplit(' ').next().expect("a path")
}

/// A staged package as pip leaves it: sources first, `__pycache__` last.
const STAGE: &[Node] = &[
    Node::Dir("pkg"),
    Node::File("pkg/__init__.py", "x = 1\n"),
    Node::File("pkg/mod.py", "y = 2\n"),
    Node::Dir("pkg/sub"),
    Node::File("pkg/sub/deep.py", "z = 3\n"),
    Node::Dir("pkg/__pycache__"),
    Node::File("pkg/__pycache__/__init__.cpython-39.pyc", "pyc"),
    Node::File("zlast.txt", "after the package\n"),
];

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn new_directories_are_not_stated_and_new_files_use_o_excl() {
    let Some(real) = pin(STAGE, &[], None) else {
        return;
    };
    assert_eq!(real.status, 0);
    let created: BTreeSet<&str> = ["pkg", "pkg/sub", "pkg/__pycache__"].into();
    for l in &real.lines {
        let path = path_of(l);
        if l.starts_with("stat") || l.starts_with("lstat") {
            let parent = prefixrace::internals::fs::parent_of(path);
            assert!(
                !created.contains(parent),
                "cp stat'ed {path} under a directory it created: {l}"
            );
        }
        if l.starts_with("open") {
            assert!(
                l.starts_with("open O_WRONLY|O_CREAT|O_EXCL "),
                "a new file without O_EXCL: {l}"
            );
        }
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn traversal_is_in_inode_order_with_pycache_last() {
    let Some(real) = pin(STAGE, &[], None) else {
        return;
    };
    let order: Vec<&str> = real
        .lines
        .iter()
        .filter(|l| l.starts_with("mkdir") || l.starts_with("open"))
        .map(|l| path_of(l))
        .collect();
    assert_eq!(
        order,
        [
            "pkg",
            "pkg/__init__.py",
            "pkg/mod.py",
            "pkg/sub",
            "pkg/sub/deep.py",
            "pkg/__pycache__",
            "pkg/__pycache__/__init__.cpython-39.pyc",
            "zlast.txt"
        ],
        "not inode order (name order would put __pycache__ first)"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn mkdir_eexist_is_reported_skipped_and_cp_goes_on_to_exit_1() {
    let fault = Fault {
        syscall: "mkdir",
        path: "pkg/__pycache__",
        errno: Errno::EEXIST,
    };
    let Some(real) = pin(STAGE, &[], Some(fault)) else {
        return;
    };
    assert_eq!(real.status, 1);
    assert_eq!(
        real.messages,
        ["cp: cannot create directory 'dst/./pkg/__pycache__': File exists"],
        "cp's wording"
    );
    assert!(
        real.lines
            .last()
            .unwrap()
            .starts_with("open O_WRONLY|O_CREAT|O_EXCL zlast.txt"),
        "cp went on"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn o_excl_eexist_on_a_new_file_is_reported_and_cp_goes_on() {
    let fault = Fault {
        syscall: "open",
        path: "pkg/__pycache__/__init__.cpython-39.pyc",
        errno: Errno::EEXIST,
    };
    let Some(real) = pin(STAGE, &[], Some(fault)) else {
        return;
    };
    assert_eq!(real.status, 1);
    assert_eq!(
        real.messages,
        ["cp: cannot create regular file 'dst/./pkg/__pycache__/__init__.cpython-39.pyc': File exists"]
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn merging_into_existing_directories_stats_first() {
    let dst = &[Node::Dir("pkg"), Node::File("pkg/mod.py", "old\n")];
    let Some(real) = pin(STAGE, dst, None) else {
        return;
    };
    assert_eq!(real.status, 0);
    assert!(real.lines.contains(&"lstat pkg = ok".to_string()));
    assert!(real
        .lines
        .contains(&"stat pkg/__init__.py = ENOENT".to_string()));
    assert!(real
        .lines
        .contains(&"open O_WRONLY|O_TRUNC pkg/mod.py = ok".to_string()));
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn a_directory_onto_a_file_cannot_overwrite_non_directory() {
    let dst = &[Node::File("pkg", "a file where a directory goes\n")];
    let Some(real) = pin(STAGE, dst, None) else {
        return;
    };
    assert_eq!(real.status, 1);
    assert_eq!(
        real.messages,
        ["cp: cannot overwrite non-directory 'dst/./pkg' with directory 'src/./pkg'"]
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn real_cp_lstats_each_directory_it_creates() {
    if !tools_present() {
        return;
    }
    let Some(real) = real_cp(STAGE, &[], None) else {
        return;
    };
    for dir in ["pkg", "pkg/sub", "pkg/__pycache__"] {
        let mkdir = format!("mkdir {dir} = ok");
        let at = real
            .lines
            .iter()
            .position(|l| *l == mkdir)
            .expect("cp creates it");
        assert_eq!(
            real.lines[at + 1],
            format!("lstat {dir} = ok"),
            "{:?}",
            real.lines
        );
    }
}

/// The syscall of one `strace -f` line, without the PID strace puts first
/// (padded to a width that depends on the PID's digits).
fn call_of(line: &str) -> &str {
    line.trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start()
}
