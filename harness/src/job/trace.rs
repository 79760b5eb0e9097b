//! A recorded process, replayed op by op (from an strace log).
//!
//! A [`TraceJob`] re-issues the prefix ops a real process made, in the order
//! it made them, and compares each result with the recorded one. While they
//! agree it simply goes on. When a new interleaving makes a result differ, a
//! job whose tool is known reacts the way that tool does (the rules of
//! `cp.rs`, `pip.rs` and `import.rs`):
//! - `cp`: a failed `mkdir` prints `cp: cannot create directory '…': File
//!   exists` and skips the subtree; a failed `O_EXCL` create prints `cp: cannot
//!   create regular file '…': …`; an entry that appeared under a directory cp
//!   merges into is overwritten (`O_TRUNC`); a failed `write` prints `cp: error
//!   writing '…': …` and gives that file up (no more writes, no chmod; it is
//!   still closed); cp goes on and exits 1;
//! - `pip`: EEXIST on `mkdir` is ignored; a destination that vanished is not
//!   unlinked, one that appeared is unlinked first; errors while byte-compiling
//!   (in `__pycache__`) are swallowed; any other OSError aborts with
//!   `ERROR: Could not install packages due to an OSError: …`, naming the
//!   path unless it came from a `write`;
//! - `python`: like the import model it is not runnable until the sources
//!   and directories it read exist (a wait condition); EEXIST on `mkdir` is
//!   ignored, a `__pycache__` that is missing now is made (`mkdir 0777`), any
//!   other failure while writing bytecode silently gives the write up, and the
//!   bytecode it writes is compiled from the source bytes it read;
//! - anything else: the first difference fails the job with a divergence such
//!   as `recorded 0, got EEXIST (File exists)`, the conservative verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use super::held::lend_held_op;
use super::{Condition, Diagnostic, HeldOp, Job, Step};
use crate::content::Blob;
use crate::fs::parent_of;
use crate::op::{join_display, Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

/// The tool a recorded process was, judged from its `execve` line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TraceProgram {
    /// GNU `cp`.
    Cp,
    /// pip (`pip`, `pip3`, or `python -m pip`).
    Pip,
    /// A Python interpreter that is not running pip (an importer).
    Python,
    /// Any other program, by its name.
    Other(String),
}

impl TraceProgram {
    /// Judges the tool from the program path and arguments of an `execve`.
    pub fn from_argv(argv: &[String]) -> TraceProgram {
        let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
        let Some(first) = argv.first() else {
            return TraceProgram::Other("unknown".into());
        };
        let name = base(first);
        if name == "cp" {
            return TraceProgram::Cp;
        }
        if name == "pip" || name.starts_with("pip3") {
            return TraceProgram::Pip;
        }
        if name.starts_with("python") {
            let runs_pip = argv
                .windows(2)
                .any(|w| w[0] == "-m" && (w[1] == "pip" || w[1].starts_with("pip.")));
            return if runs_pip {
                TraceProgram::Pip
            } else {
                TraceProgram::Python
            };
        }
        TraceProgram::Other(name)
    }

    /// The name written in scenario files: `cp`, `pip`, `python` or the program.
    pub fn name(&self) -> &str {
        match self {
            TraceProgram::Cp => "cp",
            TraceProgram::Pip => "pip",
            TraceProgram::Python => "python",
            TraceProgram::Other(n) => n,
        }
    }

    /// Parses a name written by [`TraceProgram::name`].
    pub fn from_name(name: &str) -> TraceProgram {
        match name {
            "cp" => TraceProgram::Cp,
            "pip" => TraceProgram::Pip,
            "python" => TraceProgram::Python,
            other => TraceProgram::Other(other.to_string()),
        }
    }
}

/// What a recorded syscall returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedResult {
    /// It succeeded with this value (0, a descriptor, a byte count).
    Ok(i64),
    /// It failed with this errno.
    Err(Errno),
}

impl RecordedResult {
    /// True when the live result is the same outcome: both succeeded, or both
    /// failed with the same errno. Descriptor numbers and counts may differ.
    pub fn agrees_with(&self, got: &OpResult) -> bool {
        match (self, got) {
            (RecordedResult::Ok(_), Ok(_)) => true,
            (RecordedResult::Err(a), Err(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for RecordedResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordedResult::Ok(v) => write!(f, "{v}"),
            RecordedResult::Err(e) => write!(f, "{e}"),
        }
    }
}

/// One recorded prefix op. Descriptor ops carry the descriptor number the
/// recorded process saw; the job maps it to the live one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOp {
    /// The op, with recorded descriptor numbers.
    pub op: Op,
    /// What it returned when recorded.
    pub result: RecordedResult,
}

/// A whole recorded process: who it was and what it did to the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSpec {
    /// The tool, which decides how the job reacts to a different result.
    pub program: TraceProgram,
    /// The recorded command line (for reports and cp's messages).
    pub argv: Vec<String>,
    /// The recorded exit status.
    pub exit: i32,
    /// The prefix ops, in order.
    pub ops: Vec<RecordedOp>,
}

impl TraceSpec {
    /// True when the recorded process created a regular file at `path`
    /// (an exclusive or plain create, or a rename onto it) and succeeded.
    pub fn creates_file(&self, path: &str) -> bool {
        self.ops.iter().any(|r| {
            matches!(r.result, RecordedResult::Ok(_))
                && match &r.op {
                    Op::Open { path: p, flags, .. } => flags.create && &**p == path,
                    Op::Rename { to, .. } | Op::Link { to, .. } => &**to == path,
                    _ => false,
                }
        })
    }
}

/// A skipped part of the recording, after the tool gave something up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Skip {
    /// Every op on this path or below it.
    Subtree(Arc<str>),
    /// Every op on this recorded descriptor, until it is reused by an open.
    Fd(Fd),
    /// Every write on this recorded descriptor, until it is reused by an
    /// open (cp gave the file's copy up; it still closes it).
    WritesOn(Fd),
    /// A chmod of this path (cp gave its copy up: no mode is set).
    ModeOf(Arc<str>),
}

/// A running replay of a [`TraceSpec`].
#[derive(Debug, Clone)]
pub struct TraceJob {
    /// The op offered, held until its result comes back.
    held: HeldOp,
    label: String,
    spec: Arc<TraceSpec>,
    prefix_display: String,
    cursor: usize,
    /// An op the tool makes that the recording does not have (a retry).
    inserted: Option<Op>,
    /// Recorded descriptor -> live descriptor.
    fds: BTreeMap<Fd, Fd>,
    /// The bytes of each recorded write, by op index, made once and shared.
    blobs: Arc<Vec<Option<Arc<Blob>>>>,
    skips: BTreeSet<Skip>,
    /// Directories cp found existing and merges into.
    merged: BTreeSet<Arc<str>>,
    /// Directories this job created.
    created: BTreeSet<Arc<str>>,
    /// Digests of the sources this job read, for the bytecode it writes.
    sources: BTreeMap<Arc<str>, crate::content::Digest>,
    /// Recorded descriptors written to since they were opened.
    written_fds: BTreeSet<Fd>,
    /// Recorded ops the tool no longer makes (an unlink of a vanished file).
    skip_one: BTreeSet<usize>,
    /// The inserted op stands before the recorded op at the cursor, which
    /// still runs after it (pip's unlink before open).
    inserted_then_advance: bool,
    failed: bool,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
}

impl TraceJob {
    /// A job replaying `spec`; `prefix_display` is how the tool printed the prefix.
    pub fn new(label: impl Into<String>, spec: Arc<TraceSpec>, prefix_display: &str) -> TraceJob {
        let blobs = Arc::new(write_blobs(&spec.ops));
        TraceJob {
            held: HeldOp::default(),
            label: label.into(),
            spec,
            prefix_display: prefix_display.trim_end_matches('/').to_string(),
            cursor: 0,
            inserted: None,
            fds: BTreeMap::new(),
            blobs,
            skips: BTreeSet::new(),
            merged: BTreeSet::new(),
            created: BTreeSet::new(),
            sources: BTreeMap::new(),
            written_fds: BTreeSet::new(),
            skip_one: BTreeSet::new(),
            inserted_then_advance: false,
            failed: false,
            exit: None,
            diagnostics: Vec::new(),
        }
    }

    fn skipped(&self, op: &Op) -> bool {
        let fd = match op {
            Op::Write { fd, .. }
            | Op::Close { fd, .. }
            | Op::Read { fd, .. }
            | Op::Flock { fd, .. } => Some(*fd),
            _ => None,
        };
        if let Some(fd) = fd {
            if self.skips.contains(&Skip::Fd(fd)) || !self.fds.contains_key(&fd) {
                return true;
            }
        }
        let given_up = match op {
            Op::Write { fd, .. } => self.skips.contains(&Skip::WritesOn(*fd)),
            Op::Chmod { path, .. } => self.skips.contains(&Skip::ModeOf(path.clone())),
            _ => false,
        };
        if given_up {
            return true;
        }
        let paths = [Some(op.path()), op.path2()];
        self.skips.iter().any(|s| match s {
            Skip::Subtree(dir) => paths
                .iter()
                .flatten()
                .any(|p| ***p == **dir || is_below(p, dir)),
            Skip::Fd(_) | Skip::WritesOn(_) | Skip::ModeOf(_) => false,
        })
    }

    /// The recorded op at the cursor translated to live descriptors.
    fn live(&self, recorded: &Op) -> Op {
        match recorded {
            Op::Write { fd, path, blob } => {
                // Bytecode of a source this job read carries that source's
                // digest, as CPython's does.
                let read_source = pyc_source(path).and_then(|src| self.sources.get(src.as_str()));
                let bytes = match read_source {
                    Some(d) if !self.written_fds.contains(fd) => Blob::bytecode(d),
                    Some(_) => Blob::new(Vec::new()),
                    None => self.blobs[self.cursor]
                        .clone()
                        .unwrap_or_else(|| blob.clone()),
                };
                Op::Write {
                    fd: self.fds[fd],
                    path: path.clone(),
                    blob: bytes,
                }
            }
            Op::Close { fd, path } => Op::Close {
                fd: self.fds[fd],
                path: path.clone(),
            },
            Op::Read { fd, path } => Op::Read {
                fd: self.fds[fd],
                path: path.clone(),
            },
            Op::Flock { fd, path, call } => Op::Flock {
                fd: self.fds[fd],
                path: path.clone(),
                call: call.clone(),
            },
            other => other.clone(),
        }
    }

    /// The full path as the tool prints it.
    fn shown(&self, path: &str) -> String {
        match self.spec.program {
            TraceProgram::Cp => format!("{}/./{path}", self.prefix_display),
            _ => join_display(&self.prefix_display, path),
        }
    }

    /// The source path cp names beside `path`: its source operand joined
    /// with the path (`/stage/./lib/x`), as cp prints it.
    fn source_shown(&self, path: &str) -> String {
        let operands: Vec<&String> = self
            .spec
            .argv
            .iter()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        match operands.len() {
            n if n >= 2 => format!("{}/{path}", operands[n - 2].trim_end_matches('/')),
            _ => path.to_string(),
        }
    }

    fn say(&mut self, message: String, fatal: bool) {
        if fatal {
            self.failed = true;
        }
        self.diagnostics.push(Diagnostic { message, fatal });
    }

    /// A directory found existing that this job did not create is merged into.
    fn note_existing(&mut self, path: &Arc<str>, kind: Kind) {
        if kind == Kind::Dir && !self.created.contains(path) {
            self.merged.insert(path.clone());
        }
    }

    /// The next recorded op after the cursor that acts on `path`.
    fn next_on(&self, path: &str) -> Option<&Op> {
        self.spec.ops[self.cursor + 1..]
            .iter()
            .map(|r| &r.op)
            .find(|op| &**op.path() == path)
    }

    fn open_fd(result: &RecordedResult) -> Option<Fd> {
        match result {
            RecordedResult::Ok(v) if *v >= 0 => Some(*v as Fd),
            _ => None,
        }
    }

    fn kill_fd(&mut self, recorded: &RecordedOp) {
        if let Some(fd) = Self::open_fd(&recorded.result) {
            if matches!(recorded.op, Op::Open { .. }) {
                self.skips.insert(Skip::Fd(fd));
                self.fds.remove(&fd);
            }
        }
    }

    /// Reacts like GNU cp to a result that differs from the recording.
    fn react_cp(&mut self, rec: &RecordedOp, got: &OpResult) {
        let path = rec.op.path().clone();
        let parent_merged = self.merged.contains(parent_of(&path));
        match (&rec.op, got) {
            (Op::Mkdir { .. }, Err(Errno::EEXIST)) if parent_merged => {
                // cp would have lstat'ed first and merged into the directory.
                self.merged.insert(path);
                self.cursor += 1;
            }
            (Op::Mkdir { .. }, Err(e)) => {
                let msg = format!(
                    "cp: cannot create directory '{}': {}",
                    self.shown(&path),
                    e.message()
                );
                self.say(msg, true);
                self.skips.insert(Skip::Subtree(path));
                self.cursor += 1;
            }
            (Op::Open { flags, .. }, Err(Errno::EEXIST)) if flags.excl && parent_merged => {
                // Under a merged directory cp stats first and overwrites.
                self.inserted = Some(Op::Open {
                    path,
                    flags: OpenFlags::TRUNC,
                    mode: 0,
                });
            }
            (Op::Open { flags, .. }, Err(Errno::ENOENT)) if !flags.create && flags.write => {
                self.inserted = Some(Op::Open {
                    path,
                    flags: OpenFlags::CREATE,
                    mode: 0o600,
                });
            }
            (Op::Open { flags, .. }, Err(e)) if flags.write => {
                let msg = if flags.create {
                    format!(
                        "cp: cannot create regular file '{}': {}",
                        self.shown(&path),
                        e.message()
                    )
                } else {
                    format!(
                        "cp: cannot open '{}' for writing: {}",
                        self.shown(&path),
                        e.message()
                    )
                };
                self.say(msg, true);
                self.kill_fd(rec);
                self.cursor += 1;
            }
            (Op::Lstat { .. } | Op::Stat { .. }, Ok(Value::Meta(m))) => {
                self.note_existing(&path, m.kind);
                let next = self.next_on(&path).cloned();
                match next {
                    Some(Op::Mkdir { .. }) if m.kind == Kind::Dir => {
                        // Existing directory: merge, no mkdir.
                        self.cursor += 1;
                        let skip_to = self.spec.ops[self.cursor..]
                            .iter()
                            .position(|r| matches!(&r.op, Op::Mkdir { path: p, .. } if *p == path))
                            .map(|i| self.cursor + i);
                        if let Some(i) = skip_to {
                            // Everything between stays; only the mkdir goes.
                            self.skip_one.insert(i);
                        }
                    }
                    Some(Op::Mkdir { .. }) => {
                        let msg = format!(
                            "cp: cannot overwrite non-directory '{}' with directory '{}'",
                            self.shown(&path),
                            self.source_shown(&path)
                        );
                        self.say(msg, true);
                        self.skips.insert(Skip::Subtree(path));
                        self.cursor += 1;
                    }
                    Some(Op::Open { flags, .. }) if flags.excl && m.kind == Kind::Dir => {
                        let msg = format!(
                            "cp: cannot overwrite directory '{}' with non-directory",
                            self.shown(&path)
                        );
                        self.say(msg, true);
                        self.skips.insert(Skip::Subtree(path));
                        self.cursor += 1;
                    }
                    _ => self.cursor += 1,
                }
            }
            (Op::Lstat { .. } | Op::Stat { .. }, _) => self.cursor += 1,
            (Op::Chmod { .. }, Err(e)) => {
                let msg = format!(
                    "cp: preserving permissions for '{}': {}",
                    self.shown(&path),
                    e.message()
                );
                self.say(msg, true);
                self.cursor += 1;
            }
            (Op::Write { fd, .. }, Err(e)) => {
                // cp gives the file up: it closes it, sets no mode and
                // goes on to the next entry (coreutils 9.1, recorded in
                // tests/data/faults/).
                let msg = format!("cp: error writing '{}': {}", self.shown(&path), e.message());
                self.say(msg, true);
                self.skips.insert(Skip::WritesOn(*fd));
                self.skips.insert(Skip::ModeOf(path));
                self.cursor += 1;
            }
            (Op::Symlink { .. }, Err(e)) => {
                let msg = format!(
                    "cp: cannot create symbolic link '{}': {}",
                    self.shown(&path),
                    e.message()
                );
                self.say(msg, true);
                self.cursor += 1;
            }
            (Op::Unlink { .. }, Err(Errno::ENOENT)) => self.cursor += 1,
            (Op::Readdir { .. } | Op::Close { .. }, _) => self.cursor += 1,
            _ => self.diverge(rec, got),
        }
    }

    /// Reacts like pip 21.1.2 to a result that differs from the recording.
    fn react_pip(&mut self, rec: &RecordedOp, got: &OpResult) {
        let path = rec.op.path().clone();
        let compiling = path.contains("__pycache__");
        match (&rec.op, got) {
            (Op::Mkdir { .. }, Err(Errno::EEXIST)) => self.cursor += 1,
            (Op::Stat { .. } | Op::Lstat { .. }, Err(_)) => {
                // os.path.exists() is now false: no unlink.
                if let Some(i) = self.spec.ops[self.cursor + 1..]
                    .iter()
                    .position(|r| matches!(&r.op, Op::Unlink { path: p } if *p == path))
                {
                    let at = self.cursor + 1 + i;
                    let only_stats_between = self.spec.ops[self.cursor + 1..at]
                        .iter()
                        .all(|r| !r.op.is_mutation() || **r.op.path() != *path);
                    if only_stats_between {
                        self.skip_one.insert(at);
                    }
                }
                self.cursor += 1;
            }
            (Op::Stat { .. } | Op::Lstat { .. }, Ok(Value::Meta(m))) => {
                // os.path.exists() is now true: pip unlinks before opening.
                let next = self.next_on(&path).cloned();
                if m.kind == Kind::File
                    && matches!(next, Some(Op::Open { flags, .. }) if flags.create)
                {
                    self.inserted_then_advance = true;
                    self.inserted = Some(Op::Unlink { path });
                } else {
                    self.cursor += 1;
                }
            }
            (Op::Open { flags, .. }, Err(Errno::ENOENT))
                if !flags.write && !flags.create && in_dist_info(&path) =>
            {
                // Reading an installed distribution's metadata (pip lists
                // site-packages after installing, through importlib.metadata):
                // a file that is gone is missing metadata, not an error.
                self.kill_fd(rec);
                self.cursor += 1;
            }
            (_, Err(_)) if compiling => {
                self.kill_fd(rec);
                if matches!(rec.op, Op::Mkdir { .. }) {
                    self.skips.insert(Skip::Subtree(path));
                }
                self.cursor += 1;
            }
            (_, Err(e)) if rec.op.is_mutation() => {
                let said = format!(
                    "ERROR: Could not install packages due to an OSError: [Errno {}] {}",
                    e.number(),
                    e.message()
                );
                // A failed write's OSError names no file (pip 21.1.2 under
                // a full disk, recorded in tests/data/faults/); a failed
                // call on a path names it.
                let msg = match rec.op {
                    Op::Write { .. } => said,
                    _ => format!("{said}: '{}'", join_display(&self.prefix_display, &path)),
                };
                self.say(msg, true);
                self.exit = Some(1);
            }
            (_, Ok(_)) => self.cursor += 1,
            _ => self.diverge(rec, got),
        }
    }

    /// Reacts like CPython writing bytecode to a result that differs.
    fn react_python(&mut self, rec: &RecordedOp, got: &OpResult) {
        let path = rec.op.path().clone();
        let bytecode = is_bytecode(&path);
        match (&rec.op, got) {
            (Op::Mkdir { .. }, Err(Errno::EEXIST)) => self.cursor += 1,
            // `__pycache__` was there when recorded and is not now: CPython's
            // set_data makes it (mkdir 0777; EEXIST fine, other errors give up).
            (Op::Stat { .. } | Op::Lstat { .. }, Err(Errno::ENOENT))
                if matches!(rec.result, RecordedResult::Ok(_)) && path.ends_with("__pycache__") =>
            {
                self.inserted_then_advance = true;
                self.inserted = Some(Op::Mkdir { path, mode: 0o777 });
            }
            // The import system probes many places; a different answer to a
            // stat only changes where it looks next.
            (Op::Stat { .. } | Op::Lstat { .. }, _) => self.cursor += 1,
            // A cached .pyc that is not there (yet): Python would compile
            // instead; the recording has no such writes, so it writes nothing.
            (Op::Open { flags, .. }, Err(_)) if bytecode && !flags.write => {
                self.kill_fd(rec);
                self.cursor += 1;
            }
            (Op::Mkdir { .. }, Err(_)) => {
                self.skips.insert(Skip::Subtree(path));
                self.cursor += 1;
            }
            (_, Err(_)) if bytecode && rec.op.is_mutation() => {
                self.kill_fd(rec);
                self.cursor += 1;
            }
            (_, Ok(_)) => self.cursor += 1,
            _ => self.diverge(rec, got),
        }
    }

    /// What a recorded importer must wait for before `rec`: a Python process
    /// reads sources and lists directories that existed when it was
    /// recorded, and like the import model it is not runnable until they
    /// exist (an import that starts too early is not this race). Bytecode it
    /// read is not waited for: without it Python compiles instead.
    fn awaits(&self, rec: &RecordedOp) -> Option<Condition> {
        // A lock the process took: it blocked until the holder let go.
        if let (Op::Flock { path, .. }, RecordedResult::Ok(_)) = (&rec.op, rec.result) {
            return Some(Condition::Unlocked {
                path: path.to_string(),
            });
        }
        if self.spec.program != TraceProgram::Python || !matches!(rec.result, RecordedResult::Ok(_))
        {
            return None;
        }
        let (path, kind) = match &rec.op {
            Op::Open { path, flags, .. } if !flags.write && !is_bytecode(path) => {
                (path, Kind::File)
            }
            Op::Readdir { path } => (path, Kind::Dir),
            _ => return None,
        };
        Some(Condition::Exists {
            path: path.to_string(),
            kind,
        })
    }

    /// The conservative verdict: the tool is unknown, so a different result fails.
    fn diverge(&mut self, rec: &RecordedOp, got: &OpResult) {
        let got = match got {
            Ok(Value::Fd(fd)) => fd.to_string(),
            Ok(Value::Written(n)) => n.to_string(),
            Ok(_) => "0".to_string(),
            Err(e) => e.to_string(),
        };
        let msg = format!(
            "divergence at {}: recorded {}, got {got}",
            rec.op.display_with(&self.prefix_display),
            rec.result
        );
        self.say(msg, true);
        self.exit = Some(1);
    }
}

/// The bytes each recorded write stands for. The log does not hold file
/// contents, so a write of n bytes at offset k of `path` gets stand-in bytes
/// seeded by `path@k`, where `path` is the name the file ends under (a temp
/// file renamed into place counts as its final name, since temp names are
/// random): every replay, and every job writing the same file the same way,
/// writes the same bytes. A `.pyc` gets the model's bytecode of the source
/// this process wrote, so the oracle judges it valid as CPython would.
fn write_blobs(ops: &[RecordedOp]) -> Vec<Option<Arc<Blob>>> {
    let mut out = vec![None; ops.len()];
    let final_name = final_names(ops);
    let mut open: BTreeMap<Fd, (Arc<str>, u64)> = BTreeMap::new();
    let mut written: BTreeMap<Arc<str>, Vec<u8>> = BTreeMap::new();
    for (i, r) in ops.iter().enumerate() {
        match (&r.op, r.result) {
            (Op::Open { path, flags, .. }, RecordedResult::Ok(fd)) if fd >= 0 => {
                if flags.trunc || flags.excl {
                    written.remove(path);
                }
                open.insert(fd as Fd, (path.clone(), 0));
            }
            (Op::Close { fd, .. }, _) => {
                open.remove(fd);
            }
            (Op::Rename { from, to }, RecordedResult::Ok(_)) => {
                if let Some(bytes) = written.remove(from) {
                    written.insert(to.clone(), bytes);
                }
            }
            (Op::Write { fd, path, blob }, _) => {
                let offset = open.get(fd).map(|(_, o)| *o).unwrap_or(0);
                let bytes = match pyc_source(path) {
                    Some(source) if offset == 0 => written
                        .get(source.as_str())
                        .map(|src| Blob::bytecode(&crate::content::Digest::of(src))),
                    Some(_) => Some(Blob::new(Vec::new())),
                    None => None,
                }
                .unwrap_or_else(|| {
                    let name = final_name.get(&**path).copied().unwrap_or(&**path);
                    Blob::synthetic(format!("{name}@{offset}").as_bytes(), blob.len())
                });
                written
                    .entry(path.clone())
                    .or_default()
                    .extend_from_slice(bytes.bytes());
                if let Some(entry) = open.get_mut(fd) {
                    entry.1 += blob.len();
                }
                out[i] = Some(bytes);
            }
            _ => {}
        }
    }
    out
}

/// For each path a successful rename moves away, the name it finally ends
/// under (following chains of renames).
fn final_names(ops: &[RecordedOp]) -> BTreeMap<&str, &str> {
    let mut next: BTreeMap<&str, &str> = BTreeMap::new();
    for r in ops {
        if let (Op::Rename { from, to }, RecordedResult::Ok(_)) = (&r.op, r.result) {
            next.entry(&**from).or_insert(&**to);
        }
    }
    let mut out = BTreeMap::new();
    for &start in next.keys() {
        let mut name = start;
        for _ in 0..16 {
            match next.get(name) {
                Some(&to) if to != start => name = to,
                _ => break,
            }
        }
        out.insert(start, name);
    }
    out
}

/// `d/X.py` for `d/__pycache__/X.<tag>.pyc` (or its `.pyc.<id>` temp file).
fn pyc_source(path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/')?;
    let base = dir.strip_suffix("__pycache__")?.trim_end_matches('/');
    if !name.contains(".pyc") {
        return None;
    }
    let stem = name.split('.').next()?;
    Some(if base.is_empty() {
        format!("{stem}.py")
    } else {
        format!("{base}/{stem}.py")
    })
}

/// True for `__pycache__` contents and `.pyc` files.
/// True when `path` lies inside a `NAME.dist-info` directory.
fn in_dist_info(path: &str) -> bool {
    path.split('/')
        .rev()
        .skip(1)
        .any(|part| part.ends_with(".dist-info"))
}

fn is_bytecode(path: &str) -> bool {
    path.contains("__pycache__") || path.ends_with(".pyc") || path.contains(".pyc.")
}

fn is_below(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

impl TraceJob {
    /// The next step, worked out from the job's state; [`Job::poll`] holds
    /// its op until the result comes back.
    fn next_step(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        if let Some(code) = self.exit {
            return Step::Exit(code);
        }
        if let Some(op) = &self.inserted {
            return Step::Op(op.clone());
        }
        while let Some(rec) = self.spec.ops.get(self.cursor) {
            if self.skip_one.contains(&self.cursor) || self.skipped(&rec.op) {
                self.cursor += 1;
                continue;
            }
            if let Some(condition) = self.awaits(rec) {
                if !condition.holds(probe) {
                    return Step::Wait(condition);
                }
            }
            return Step::Op(self.live(&rec.op));
        }
        let code = if self.failed { 1 } else { self.spec.exit };
        self.exit = Some(code);
        Step::Exit(code)
    }
}

impl Job for TraceJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        match self.spec.program {
            TraceProgram::Cp => "cp",
            TraceProgram::Pip => "pip",
            TraceProgram::Python => "python3",
            TraceProgram::Other(_) => "traced",
        }
    }

    lend_held_op!();

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
        let Some(rec) = self.spec.ops.get(self.cursor).cloned() else {
            return;
        };
        if let Some(extra) = self.inserted.take() {
            // A retry the tool makes: its descriptor stands for the recorded one.
            match (&extra, result) {
                (Op::Open { .. }, Ok(Value::Fd(fd))) => {
                    if let Some(rfd) = Self::open_fd(&rec.result) {
                        self.fds.insert(rfd, *fd);
                    }
                    self.cursor += 1;
                }
                (_, Ok(_)) if self.inserted_then_advance => {
                    self.inserted_then_advance = false;
                    self.cursor += 1;
                }
                (_, Err(e)) => {
                    let errno = *e;
                    self.inserted_then_advance = false;
                    let failed = RecordedOp {
                        op: extra.clone(),
                        result: RecordedResult::Ok(0),
                    };
                    match self.spec.program {
                        TraceProgram::Cp => {
                            let msg = format!(
                                "cp: cannot open '{}' for writing: {}",
                                self.shown(extra.path()),
                                errno.message()
                            );
                            self.say(msg, true);
                            self.kill_fd(&rec);
                            self.cursor += 1;
                        }
                        TraceProgram::Pip => self.react_pip(&failed, result),
                        TraceProgram::Python => self.react_python(&failed, result),
                        _ => self.diverge(&failed, result),
                    }
                }
                _ => self.cursor += 1,
            }
            return;
        }
        if let (Op::Open { .. }, Some(rfd), Ok(Value::Fd(fd))) =
            (&rec.op, Self::open_fd(&rec.result), result)
        {
            self.fds.insert(rfd, *fd);
            self.skips.remove(&Skip::Fd(rfd));
            self.skips.remove(&Skip::WritesOn(rfd));
            self.written_fds.remove(&rfd);
        }
        if let Op::Write { fd, .. } = &rec.op {
            self.written_fds.insert(*fd);
        }
        if let (Op::Read { path, .. }, Ok(Value::Data(content))) = (&rec.op, result) {
            self.sources.insert(path.clone(), content.digest());
        }
        if let Op::Close { fd, .. } = &rec.op {
            self.fds.remove(fd);
        }
        if let (Op::Mkdir { path, .. }, Ok(_)) = (&rec.op, result) {
            self.created.insert(path.clone());
        }
        if rec.result.agrees_with(result) {
            if let (Op::Lstat { path } | Op::Stat { path }, Ok(Value::Meta(m))) = (&rec.op, result)
            {
                self.note_existing(path, m.kind);
            }
            self.cursor += 1;
            return;
        }
        match self.spec.program {
            TraceProgram::Cp => self.react_cp(&rec, result),
            TraceProgram::Pip => self.react_pip(&rec, result),
            TraceProgram::Python => self.react_python(&rec, result),
            TraceProgram::Other(_) => self.diverge(&rec, result),
        }
    }

    fn stalled(&mut self) -> i32 {
        let waited = self
            .spec
            .ops
            .get(self.cursor)
            .and_then(|rec| self.awaits(rec));
        if let Some(Condition::Exists { path, .. }) = waited {
            let msg = format!(
                "ModuleNotFoundError: {} never appeared",
                join_display(&self.prefix_display, &path)
            );
            self.say(msg, true);
        }
        self.exit = Some(1);
        1
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{Fs, ModelFs};
    use crate::record::op_line::parse_ops;

    /// Runs `ops` recorded as `program` on `fs` to the end, alone.
    fn replay(
        program: TraceProgram,
        ops: &[&str],
        fs: &mut ModelFs,
    ) -> (i32, Vec<String>, Vec<Op>) {
        replay_striking(program, ops, fs, usize::MAX, Errno::EIO)
    }

    /// Runs `ops` recorded as `program` on `fs` to the end, alone, except
    /// that the `strike`-th op issued (0-based) fails with `errno`
    /// unapplied (a fault on the real disk).
    fn replay_striking(
        program: TraceProgram,
        ops: &[&str],
        fs: &mut ModelFs,
        strike: usize,
        errno: Errno,
    ) -> (i32, Vec<String>, Vec<Op>) {
        let spec = TraceSpec {
            program,
            argv: Vec::new(),
            exit: 0,
            ops: parse_ops(ops).unwrap(),
        };
        let mut job = TraceJob::new("t", Arc::new(spec), "/p");
        let mut issued = Vec::new();
        loop {
            let probe = |p: &str| fs.probe(p);
            match job.step(&probe) {
                Step::Op(op) => {
                    let result = match issued.len() == strike {
                        true => Err(errno),
                        false => fs.apply(&op),
                    };
                    issued.push(op);
                    job.complete(&result);
                }
                Step::Exit(code) => {
                    let msgs = job.diagnostics().iter().map(|d| d.message.clone());
                    return (code, msgs.collect(), issued);
                }
                Step::Wait(_) => unreachable!("trace jobs never wait"),
            }
        }
    }

    /// A traced cp whose write fails gives that file up as cp 9.1 does
    /// (`tests/data/faults/`): no second write, no chmod, the file still
    /// closed; the next file is copied; exit 1.
    #[test]
    fn cp_gives_a_file_whose_write_failed_up_and_copies_the_next() {
        let ops = [
            r#"open("a", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3"#,
            r#"write(3, 4) = 4"#,
            r#"write(3, 4) = 4"#,
            r#"close(3) = 0"#,
            r#"chmod("a", 0644) = 0"#,
            r#"open("b", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3"#,
            r#"write(3, 2) = 2"#,
            r#"close(3) = 0"#,
            r#"chmod("b", 0644) = 0"#,
        ];
        let mut fs = ModelFs::new();
        let (code, msgs, issued) =
            replay_striking(TraceProgram::Cp, &ops, &mut fs, 1, Errno::ENOSPC);
        assert_eq!(code, 1);
        assert_eq!(
            msgs,
            ["cp: error writing '/p/./a': No space left on device"]
        );
        let calls: Vec<String> = issued
            .iter()
            .map(|o| format!("{} {}", o.syscall(), o.path()))
            .collect();
        assert_eq!(
            calls,
            ["open a", "write a", "close a", "open b", "write b", "close b", "chmod b"]
        );
        let tree = fs.tree();
        assert_eq!(tree.get("a").map(|e| (e.size, e.mode)), Some((0, 0o600)));
        assert_eq!(tree.get("b").map(|e| (e.size, e.mode)), Some((2, 0o644)));
    }

    /// A traced pip whose write fails names no path, as pip 21.1.2 does
    /// (`write`'s OSError has no file name); a failed create names it.
    #[test]
    fn pip_names_no_path_for_a_failed_write() {
        let ops = [
            r#"open("d", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4"#,
            r#"write(4, 3) = 3"#,
            r#"close(4) = 0"#,
        ];
        let said = |strike| {
            let mut fs = ModelFs::new();
            replay_striking(TraceProgram::Pip, &ops, &mut fs, strike, Errno::ENOSPC)
        };
        let (code, msgs, _) = said(1);
        assert_eq!(code, 1);
        assert_eq!(
            msgs,
            ["ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"]
        );
        assert_eq!(
            said(0).1,
            ["ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device: '/p/d'"]
        );
    }

    fn mkdir(fs: &mut ModelFs, path: &str) {
        fs.apply(&Op::Mkdir {
            path: path.into(),
            mode: 0o755,
        })
        .unwrap();
    }

    fn touch(fs: &mut ModelFs, path: &str) {
        let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
            path: path.into(),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o644,
        }) else {
            panic!("cannot create {path}")
        };
        fs.apply(&Op::Close {
            fd,
            path: path.into(),
        })
        .unwrap();
    }

    const COPY: &[&str] = &[
        r#"lstat("d") = -1 ENOENT"#,
        r#"mkdir("d", 0700) = 0"#,
        r#"open("d/f", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3"#,
        r#"write(3, 5) = 5"#,
        r#"close(3) = 0"#,
        r#"mkdir("d/__pycache__", 0700) = 0"#,
        r#"open("d/__pycache__/f.cpython-39.pyc", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3"#,
        r#"close(3) = 0"#,
    ];

    #[test]
    fn cp_prints_its_mkdir_error_skips_the_subtree_and_exits_1() {
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d");
        mkdir(&mut fs, "d/__pycache__");
        let mut ops = COPY.to_vec();
        ops.remove(0); // cp created d: no lstat, children go straight to create
        let (code, msgs, issued) = replay(TraceProgram::Cp, &ops, &mut fs);
        assert_eq!(code, 1);
        assert_eq!(msgs, ["cp: cannot create directory '/p/./d': File exists"]);
        assert_eq!(issued.len(), 1, "the subtree of d is skipped: {issued:?}");
    }

    #[test]
    fn cp_merges_into_a_directory_that_appeared_and_overwrites_its_files() {
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d");
        touch(&mut fs, "d/f");
        let (code, msgs, issued) = replay(TraceProgram::Cp, COPY, &mut fs);
        assert_eq!((code, msgs.len()), (0, 0), "{msgs:?}");
        assert!(!issued
            .iter()
            .any(|o| matches!(o, Op::Mkdir { path, .. } if &**path == "d")));
        assert!(issued.contains(&Op::Open {
            path: "d/f".into(),
            flags: OpenFlags::TRUNC,
            mode: 0
        }));
        assert_eq!(fs.tree().get("d/f").map(|e| e.size), Some(5));
    }

    #[test]
    fn cp_reports_the_o_excl_collision_under_a_directory_it_created() {
        let mut fs = ModelFs::new();
        let mut ops = COPY[..5].to_vec();
        ops.insert(2, r#"stat("elsewhere") = -1 ENOENT"#);
        // Another job creates d/f between cp's mkdir and its open.
        let spec = TraceSpec {
            program: TraceProgram::Cp,
            argv: vec![],
            exit: 0,
            ops: parse_ops(&ops).unwrap(),
        };
        let mut job = TraceJob::new("t", Arc::new(spec), "/p");
        let mut steps = 0;
        let code = loop {
            if steps == 3 {
                touch(&mut fs, "d/f");
            }
            let probe = |p: &str| fs.probe(p);
            match job.step(&probe) {
                Step::Op(op) => {
                    let r = fs.apply(&op);
                    job.complete(&r);
                    steps += 1;
                }
                Step::Exit(code) => break code,
                Step::Wait(_) => unreachable!(),
            }
        };
        assert_eq!(code, 1);
        assert_eq!(
            job.diagnostics()[0].message,
            "cp: cannot create regular file '/p/./d/f': File exists"
        );
    }

    const PIP_FILE: &[&str] = &[
        r#"stat("f") = -1 ENOENT"#,
        r#"open("f", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4"#,
        r#"write(4, 3) = 3"#,
        r#"close(4) = 0"#,
    ];

    #[test]
    fn pip_unlinks_a_file_that_appeared_and_skips_the_unlink_of_one_that_vanished() {
        let mut fs = ModelFs::new();
        touch(&mut fs, "f");
        let (code, msgs, issued) = replay(TraceProgram::Pip, PIP_FILE, &mut fs);
        assert_eq!((code, msgs.len()), (0, 0), "{msgs:?}");
        assert_eq!(issued[1], Op::Unlink { path: "f".into() });

        let mut fs = ModelFs::new();
        let ops = [
            r#"stat("f") = 0"#,
            r#"unlink("f") = 0"#,
            PIP_FILE[1],
            PIP_FILE[2],
            PIP_FILE[3],
        ];
        let (code, _, issued) = replay(TraceProgram::Pip, &ops, &mut fs);
        assert_eq!(code, 0);
        assert!(
            !issued.iter().any(|o| matches!(o, Op::Unlink { .. })),
            "{issued:?}"
        );
    }

    #[test]
    fn pip_ignores_eexist_on_mkdir_and_aborts_on_other_errors() {
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d");
        let ops = [
            r#"mkdir("d", 0777) = 0"#,
            r#"open("d/f", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4"#,
            r#"close(4) = 0"#,
        ];
        assert_eq!(replay(TraceProgram::Pip, &ops, &mut fs).0, 0);
        let mut fs = ModelFs::new();
        let (code, msgs, _) = replay(TraceProgram::Pip, &ops[1..], &mut fs);
        assert_eq!(code, 1);
        assert_eq!(
            msgs,
            ["ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: '/p/d/f'"]
        );
    }

    /// Recorded with real pip 23.2.1 under the gate (two pips of MarkupSafe
    /// 3.0.2, `run --model … --trace`): after writing RECORD, pip lists
    /// site-packages and opens each `*.dist-info/METADATA` read-only; when
    /// the other pip has just unlinked it, the open fails with ENOENT and
    /// pip still prints "Successfully installed" and exits 0.
    #[test]
    fn pip_reading_installed_metadata_that_vanished_goes_on() {
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d");
        mkdir(&mut fs, "d/m-1.dist-info");
        let ops = [
            r#"open("d/m-1.dist-info/METADATA", O_RDONLY) = 4"#,
            r#"read(4) = 10"#,
            r#"close(4) = 0"#,
            r#"mkdir("d/x", 0777) = 0"#,
        ];
        let (code, msgs, issued) = replay(TraceProgram::Pip, &ops, &mut fs);
        assert_eq!((code, msgs.len()), (0, 0), "{msgs:?}");
        assert!(
            issued.iter().any(|o| matches!(o, Op::Mkdir { .. })),
            "{issued:?}"
        );
        // The same failure outside a .dist-info directory still aborts.
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d");
        let ops = [r#"open("d/data.txt", O_RDONLY) = 4"#, r#"close(4) = 0"#];
        assert_eq!(replay(TraceProgram::Pip, &ops, &mut fs).0, 1);
    }

    #[test]
    fn python_gives_up_bytecode_silently_and_unknown_tools_diverge() {
        let ops = [
            r#"mkdir("__pycache__", 0777) = 0"#,
            r#"open("__pycache__/m.cpython-39.pyc.1", O_WRONLY|O_CREAT|O_EXCL, 0644) = 3"#,
            r#"write(3, 40) = 40"#,
            r#"close(3) = 0"#,
            r#"rename("__pycache__/m.cpython-39.pyc.1", "__pycache__/m.cpython-39.pyc") = 0"#,
        ];
        let mut fs = ModelFs::new();
        touch(&mut fs, "__pycache__");
        let (code, msgs, _) = replay(TraceProgram::Python, &ops, &mut fs);
        assert_eq!((code, msgs.len()), (0, 0), "{msgs:?}");
        let mut fs = ModelFs::new();
        touch(&mut fs, "__pycache__");
        let (code, msgs, issued) = replay(TraceProgram::Other("tool".into()), &ops, &mut fs);
        assert_eq!(code, 1);
        assert_eq!(issued.len(), 1);
        assert_eq!(
            msgs,
            ["divergence at mkdir(\"/p/__pycache__\", 0777): recorded 0, got EEXIST (File exists)"]
        );
    }

    #[test]
    fn cp_refuses_to_put_a_directory_over_a_file_that_appeared() {
        let mut fs = ModelFs::new();
        touch(&mut fs, "d");
        let spec = TraceSpec {
            program: TraceProgram::Cp,
            argv: ["cp", "-Rp", "/s/.", "/p"].map(String::from).to_vec(),
            exit: 0,
            ops: parse_ops(COPY).unwrap(),
        };
        let mut job = TraceJob::new("t", Arc::new(spec), "/p");
        let code = loop {
            let probe = |p: &str| fs.probe(p);
            match job.step(&probe) {
                Step::Op(op) => {
                    let r = fs.apply(&op);
                    job.complete(&r);
                }
                Step::Exit(code) => break code,
                Step::Wait(_) => unreachable!(),
            }
        };
        assert_eq!(code, 1);
        let msgs: Vec<&str> = job
            .diagnostics()
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            msgs,
            ["cp: cannot overwrite non-directory '/p/./d' with directory '/s/./d'"]
        );
    }

    #[test]
    fn temp_files_renamed_into_place_write_the_final_files_bytes() {
        let run = |tmp: &str| {
            let lines = [
                format!(r#"open("d/{tmp}", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3"#),
                r#"write(3, 7) = 7"#.to_string(),
                r#"close(3) = 0"#.to_string(),
                format!(r#"rename("d/{tmp}", "d/INSTALLER") = 0"#),
            ];
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            write_blobs(&parse_ops(&lines).unwrap())[1]
                .clone()
                .unwrap()
                .digest()
        };
        assert_eq!(run("INSTALLERab12cd34.tmp"), run("INSTALLERzz99yy88.tmp"));
        let other = write_blobs(
            &parse_ops(&[
                r#"open("d/X", O_WRONLY|O_CREAT, 0600) = 3"#,
                r#"write(3, 7) = 7"#,
            ])
            .unwrap(),
        )[1]
        .clone()
        .unwrap()
        .digest();
        assert_ne!(run("INSTALLERab12cd34.tmp"), other);
    }

    #[test]
    fn python_bytecode_is_compiled_from_the_source_it_read_and_makes_a_missing_pycache() {
        let mut fs = ModelFs::new();
        let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
            path: "m.py".into(),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o644,
        }) else {
            panic!()
        };
        fs.apply(&Op::Write {
            fd,
            path: "m.py".into(),
            blob: Blob::new(b"X = 1\n".to_vec()),
        })
        .unwrap();
        fs.apply(&Op::Close {
            fd,
            path: "m.py".into(),
        })
        .unwrap();
        let ops = [
            r#"open("m.py", O_RDONLY) = 3"#,
            r#"read(3) = 6"#,
            r#"close(3) = 0"#,
            r#"stat("__pycache__") = 0"#,
            r#"open("__pycache__/m.cpython-311.pyc.77", O_WRONLY|O_CREAT|O_EXCL, 0644) = 3"#,
            r#"write(3, 120) = 120"#,
            r#"close(3) = 0"#,
            r#"rename("__pycache__/m.cpython-311.pyc.77", "__pycache__/m.cpython-311.pyc") = 0"#,
        ];
        let (code, msgs, issued) = replay(TraceProgram::Python, &ops, &mut fs);
        assert_eq!((code, msgs.len()), (0, 0), "{msgs:?}");
        assert!(
            issued.contains(&Op::Mkdir {
                path: "__pycache__".into(),
                mode: 0o777
            }),
            "{issued:?}"
        );
        let tree = fs.tree();
        let source = tree.get("m.py").unwrap().digest;
        assert_eq!(
            tree.get("__pycache__/m.cpython-311.pyc")
                .unwrap()
                .bytecode_source,
            source
        );
    }

    #[test]
    fn a_python_waiting_for_a_source_that_never_appears_fails_when_stalled() {
        let fs = ModelFs::new();
        let spec = TraceSpec {
            program: TraceProgram::Python,
            argv: vec![],
            exit: 0,
            ops: parse_ops(&[r#"open("m.py", O_RDONLY) = 3"#, r#"close(3) = 0"#]).unwrap(),
        };
        let mut job = TraceJob::new("t", Arc::new(spec), "/p");
        let probe = |p: &str| fs.probe(p);
        assert_eq!(
            job.step(&probe),
            Step::Wait(Condition::Exists {
                path: "m.py".into(),
                kind: Kind::File
            })
        );
        assert_eq!(job.stalled(), 1);
        assert_eq!(
            job.diagnostics()[0].message,
            "ModuleNotFoundError: /p/m.py never appeared"
        );
        assert_eq!(job.step(&probe), Step::Exit(1));
    }

    #[test]
    fn pyc_writes_carry_bytecode_of_the_recorded_source() {
        assert_eq!(
            pyc_source("a/b/__pycache__/m.cpython-39.pyc").as_deref(),
            Some("a/b/m.py")
        );
        assert_eq!(
            pyc_source("__pycache__/m.cpython-39.pyc.17").as_deref(),
            Some("m.py")
        );
        assert_eq!(pyc_source("a/m.py"), None);
    }

    /// Two recorded uvs that each took the prefix `flock`: replayed
    /// together, the second waits until the first's close releases it,
    /// with the lock file's descriptor mapped to its live number.
    #[test]
    fn a_recorded_flock_waits_for_the_holder_and_uses_the_live_descriptor() {
        let spec = |exit| TraceSpec {
            program: TraceProgram::Other("uv".into()),
            argv: vec![],
            exit,
            ops: parse_ops(&[
                r#"open(".lock", O_WRONLY|O_CREAT, 0644) = 7"#,
                r#"flock(7) = 0"#,
                r#"close(7) = 0"#,
            ])
            .unwrap(),
        };
        let mut fs = ModelFs::new();
        let mut first = TraceJob::new("a", Arc::new(spec(0)), "/p");
        let mut second = TraceJob::new("b", Arc::new(spec(0)), "/p");
        let run = |job: &mut TraceJob, fs: &mut ModelFs| -> Step {
            let step = job.step(&|p: &str| fs.probe(p));
            if let Step::Op(op) = &step {
                let result = fs.apply(op);
                job.complete(&result);
            }
            step
        };
        // a opens and locks; b opens, then waits.
        assert!(matches!(
            run(&mut first, &mut fs),
            Step::Op(Op::Open { .. })
        ));
        assert_eq!(
            run(&mut first, &mut fs),
            Step::Op(Op::Flock {
                fd: 3,
                path: ".lock".into(),
                call: crate::op::LockCall::Flock,
            })
        );
        assert!(matches!(
            run(&mut second, &mut fs),
            Step::Op(Op::Open { .. })
        ));
        assert!(matches!(
            run(&mut second, &mut fs),
            Step::Wait(Condition::Unlocked { .. })
        ));
        assert!(matches!(
            run(&mut first, &mut fs),
            Step::Op(Op::Close { .. })
        ));
        assert_eq!(
            run(&mut second, &mut fs),
            Step::Op(Op::Flock {
                fd: 4,
                path: ".lock".into(),
                call: crate::op::LockCall::Flock,
            })
        );
        assert!(matches!(
            run(&mut second, &mut fs),
            Step::Op(Op::Close { .. })
        ));
        assert_eq!(run(&mut second, &mut fs), Step::Exit(0));
    }
}
