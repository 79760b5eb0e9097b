//! pip 21.1.2 installing a wheel straight into the prefix.
//!
//! The rules, from `pip/_internal/operations/install/wheel.py` and the
//! recorded traces (`cython.direct.trace.gz`):
//! - each file, in the wheel's RECORD (zip) order: `makedirs(parent)` that
//!   ignores EEXIST; `stat(dest)`, and `unlink(dest)` if it exists; then
//!   `open(dest, O_WRONLY|O_CREAT|O_TRUNC, 0666)`, write, close, and
//!   `chmod(dest, 0755)` for executables. Not atomic;
//! - after all files, every installed `.py` is byte-compiled in sorted path
//!   order with `py_compile`: `stat(src)` (isfile), `lstat(pyc)`, read the
//!   source, `makedirs(__pycache__)` ignoring EEXIST, then the `.pyc` is
//!   written atomically: `<pyc>.<id>` opened `O_EXCL`, written, renamed over
//!   the target. Any OSError there is swallowed (the `.pyc` is left out);
//! - then the console scripts of `entry_points.txt`, each as distlib's
//!   `ScriptMaker` writes it ([`ScriptWrite`]);
//! - then `INSTALLER` and `direct_url.json` via a temp file in the same
//!   directory (`O_EXCL`, 0600), chmod 0644 and `rename`; `REQUESTED` with a
//!   plain open; `RECORD` last, via temp file and rename;
//! - any other OSError aborts pip with
//!   `ERROR: Could not install packages due to an OSError: [Errno N] msg: 'path'`;
//!   a failed `write` names no path (`[Errno 28] No space left on device`:
//!   Python's OSError from `write` carries no file name). Nothing is rolled
//!   back: the files already extracted, the partial file (closed by its
//!   `with` block) and a `tempfile` whose write failed (written again by
//!   its close's flush, not renamed) stay in the prefix
//!   (`tests/data/faults/`, `docs/faults.md`).

use std::sync::Arc;

use super::script_write::{ScriptStep, ScriptWrite};
use super::{Diagnostic, Job, Offer, Writing, Written};
use crate::content::{bytecode_source, Blob};
use crate::fs::{parent_of, split_parent};
use crate::kit::{Makedirs, MakedirsStep, WriteErrors, WriteFile, WriteHow};
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};
use crate::state_key::StateKey;

/// One file pip extracts from the wheel.
#[derive(Debug, Clone)]
pub struct PipFile {
    /// Destination relative to the prefix root.
    pub path: Arc<str>,
    /// The bytes.
    pub blob: Arc<Blob>,
    /// True when the zip entry carries an executable bit.
    pub executable: bool,
}

/// One `.py` pip byte-compiles.
#[derive(Debug, Clone)]
pub struct CompileItem {
    /// The source, relative to the prefix root.
    pub source: Arc<str>,
    /// The `__pycache__` directory.
    pub pycache: Arc<str>,
    /// Its parent (`parent_of(pycache)`, what `makedirs` stats first),
    /// named once per plan rather than once per execution.
    pub pycache_parent: Arc<str>,
    /// The final `.pyc`.
    pub pyc: Arc<str>,
    /// The temporary `<pyc>.<id>` name.
    pub tmp: Arc<str>,
    /// The bytecode of the source as the plan writes it, made once per plan
    /// (its SHA-256 is not recomputed per execution); used when the source
    /// read back holds exactly those bytes.
    pub bytecode: Option<Arc<Blob>>,
}

/// A metadata file written at the end.
#[derive(Debug, Clone)]
pub struct MetaFile {
    /// Final path.
    pub path: Arc<str>,
    /// Temporary path, when written via temp file and rename.
    pub tmp: Option<Arc<str>>,
    /// The bytes.
    pub blob: Arc<Blob>,
}

/// Everything one pip install does, precomputed.
#[derive(Debug, Clone)]
pub struct PipPlan {
    /// Files in extraction order.
    pub files: Vec<PipFile>,
    /// Sources to compile, sorted.
    pub compile: Vec<CompileItem>,
    /// Console scripts, written after compiling, in pip's order.
    pub scripts: Vec<PipFile>,
    /// Metadata files, in pip's order.
    pub metadata: Vec<MetaFile>,
    /// The prefix as pip prints it in errors.
    pub prefix_display: String,
}

impl PipPlan {
    /// The plan with a `RECORD` that also lists the metadata files pip
    /// writes after the files (`INSTALLER`, `direct_url.json`, `REQUESTED`)
    /// and itself, as every real pip's does (pip 23.2.1's uninstall reads
    /// it: a `.dist-info` whose files are all listed is moved whole). The
    /// plain plan keeps the model's shorter `RECORD`, which the snapshots
    /// pin.
    pub fn recording_metadata(mut self) -> PipPlan {
        let listed: Vec<Arc<str>> = self.metadata.iter().map(|m| m.path.clone()).collect();
        if let Some(record) = self
            .metadata
            .iter_mut()
            .find(|m| m.path.ends_with("/RECORD"))
        {
            let mut text = record.blob.bytes().to_vec();
            for path in listed {
                text.extend_from_slice(path.as_bytes());
                text.extend_from_slice(b",,\n");
            }
            record.blob = Blob::new(text);
        }
        self
    }
}

/// A stable, name-like token of 8 characters derived from `seed`, standing in
/// for `tempfile`'s random names.
pub fn temp_token(seed: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let d = crate::content::Digest::of(seed.as_bytes());
    d.0[..8]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

impl PipPlan {
    /// Plans an install of `files` (in RECORD order), then of the console
    /// `scripts` pip generates. `python_tag` names the
    /// bytecode (`cpython-39`); `id` stands in for Python's `id(path)` in
    /// temporary `.pyc` names; `dist_info` is the `.dist-info` directory, if any.
    pub fn new(
        files: Vec<PipFile>,
        scripts: Vec<PipFile>,
        python_tag: &str,
        id: u64,
        dist_info: Option<&str>,
        prefix_display: &str,
        compile: bool,
    ) -> PipPlan {
        let mut sources: Vec<Arc<str>> = files
            .iter()
            .filter(|f| f.path.ends_with(".py"))
            .map(|f| f.path.clone())
            .collect();
        sources.sort();
        sources.dedup();
        // The last blob written to each path: what a source holds once
        // every file is in place.
        let written: std::collections::BTreeMap<&str, &Arc<Blob>> =
            files.iter().map(|f| (&*f.path, &f.blob)).collect();
        let compile = if compile {
            sources
                .into_iter()
                .map(|source| {
                    let (dir, name) = split_parent(&source);
                    let stem = name.trim_end_matches(".py");
                    let pycache = if dir.is_empty() {
                        "__pycache__".to_string()
                    } else {
                        format!("{dir}/__pycache__")
                    };
                    let pyc = format!("{pycache}/{stem}.{python_tag}.pyc");
                    let tmp = format!("{pyc}.{id}");
                    CompileItem {
                        bytecode: written.get(&*source).map(|b| Blob::bytecode(&b.digest())),
                        source: source.clone(),
                        pycache_parent: dir.into(),
                        pycache: pycache.into(),
                        pyc: pyc.into(),
                        tmp: tmp.into(),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut metadata = Vec::new();
        if let Some(di) = dist_info {
            let mut installed: Vec<&str> = files.iter().map(|f| &*f.path).collect();
            installed.extend(compile.iter().map(|c| &*c.pyc));
            installed.extend(scripts.iter().map(|f| &*f.path));
            let tmp = |name: &str| -> Option<Arc<str>> {
                Some(
                    format!(
                        "{di}/{name}{}.tmp",
                        temp_token(&format!("{di}/{name}#{id}"))
                    )
                    .into(),
                )
            };
            metadata.push(MetaFile {
                path: format!("{di}/INSTALLER").into(),
                tmp: tmp("INSTALLER"),
                blob: Blob::new(b"pip\n".to_vec()),
            });
            metadata.push(MetaFile {
                path: format!("{di}/direct_url.json").into(),
                tmp: tmp("direct_url.json"),
                blob: Blob::new(
                    format!("{{\"archive_info\": {{}}, \"url\": \"file:///{di}.whl\"}}")
                        .into_bytes(),
                ),
            });
            metadata.push(MetaFile {
                path: format!("{di}/REQUESTED").into(),
                tmp: None,
                blob: Blob::new(Vec::new()),
            });
            let mut record = String::new();
            for p in &installed {
                record.push_str(p);
                record.push_str(",,\n");
            }
            metadata.push(MetaFile {
                path: format!("{di}/RECORD").into(),
                tmp: tmp("RECORD"),
                blob: Blob::new(record.into_bytes()),
            });
        }
        PipPlan {
            files,
            compile,
            scripts,
            metadata,
            prefix_display: prefix_display.to_string(),
        }
    }
}

#[derive(Debug, Clone, Hash)]
enum Pending {
    FileMakedirs(Makedirs),
    FileStat,
    FileUnlink,
    /// The file's `open(O_CREAT|O_TRUNC, 0666)`, write, close and, for an
    /// executable, `chmod(0755)`.
    FileWrite(Writing),
    CompileIsFile,
    CompileLstatPyc,
    CompileOpenSource,
    CompileRead(Fd),
    CompileCloseSource,
    CompileMakedirs(Makedirs),
    /// `py_compile`'s `.pyc` written through `<pyc>.<id>`, every error
    /// swallowed.
    CompileWrite(Writing),
    Script(ScriptWrite),
    /// A metadata file: `tempfile` (`O_EXCL`, 0600), chmod 0644 and
    /// rename, or a plain open.
    MetaWrite(Writing),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Phase {
    Files,
    Compile,
    Scripts,
    Metadata,
    Done,
}

/// A running pip install.
#[derive(Debug, Clone)]
pub struct PipJob {
    label: String,
    plan: Arc<PipPlan>,
    phase: Phase,
    index: usize,
    pending: Option<(Op, Pending)>,
    source: Option<crate::content::Digest>,
    /// distlib's `ensured`: this install made the scripts directory.
    scripts_dir_made: bool,
    /// The last call that failed was a `write`: pip's message names no
    /// file.
    write_failed: bool,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
}

impl PipJob {
    /// A pip job that will execute `plan`.
    pub fn new(label: impl Into<String>, plan: Arc<PipPlan>) -> PipJob {
        PipJob {
            label: label.into(),
            plan,
            phase: Phase::Files,
            index: 0,
            pending: None,
            source: None,
            scripts_dir_made: false,
            write_failed: false,
            exit: None,
            diagnostics: Vec::new(),
        }
    }

    fn abort(&mut self, errno: Errno, path: &str) {
        let full = crate::op::join_display(&self.plan.prefix_display, path);
        self.abort_with(format!(
            "ERROR: Could not install packages due to an OSError: [Errno {}] {}: '{}'",
            errno.number(),
            errno.message(),
            full
        ));
    }

    /// Aborts after a failed `write`, whose OSError names no file.
    fn abort_unnamed(&mut self, errno: Errno) {
        self.abort_with(format!(
            "ERROR: Could not install packages due to an OSError: [Errno {}] {}",
            errno.number(),
            errno.message(),
        ));
    }

    fn abort_with(&mut self, message: String) {
        self.diagnostics.push(Diagnostic {
            message,
            fatal: true,
        });
        self.exit = Some(1);
    }

    fn begin(&mut self) -> Option<(Op, Pending)> {
        loop {
            match self.phase {
                Phase::Files => match self.plan.files.get(self.index) {
                    Some(f) => {
                        let parent = parent_of(&f.path);
                        if parent.is_empty() {
                            return Some((
                                Op::Stat {
                                    path: f.path.clone(),
                                },
                                Pending::FileStat,
                            ));
                        }
                        let md = Makedirs::new(parent.into());
                        let MakedirsStep::Op(op) = md.step() else {
                            unreachable!("makedirs starts with a stat")
                        };
                        return Some((op, Pending::FileMakedirs(md)));
                    }
                    None => self.advance_phase(Phase::Compile),
                },
                Phase::Compile => match self.plan.compile.get(self.index) {
                    Some(c) => {
                        return Some((
                            Op::Stat {
                                path: c.source.clone(),
                            },
                            Pending::CompileIsFile,
                        ))
                    }
                    None => self.advance_phase(Phase::Scripts),
                },
                Phase::Scripts => match self.plan.scripts.get(self.index) {
                    Some(f) => {
                        let write = ScriptWrite::new(
                            f.path.clone(),
                            parent_of(&f.path).into(),
                            f.blob.clone(),
                            self.scripts_dir_made,
                        );
                        let ScriptStep::Op(op) = write.step() else {
                            unreachable!("a script write starts with a stat")
                        };
                        return Some((op, Pending::Script(write)));
                    }
                    None => self.advance_phase(Phase::Metadata),
                },
                Phase::Metadata => match self.plan.metadata.get(self.index) {
                    Some(m) => {
                        let write = match &m.tmp {
                            Some(tmp) => WriteFile::through_exclusive_temp(tmp, &m.path, &m.blob)
                                .with_open_mode(0o600)
                                .with_chmod_after_close(Some(0o644))
                                .with_errors(WriteErrors::FlushedAgainOnClose),
                            None => WriteFile::new(&m.path, &m.blob, WriteHow::InPlace, "")
                                .with_open_mode(0o666)
                                .with_errors(WriteErrors::UncheckedClose),
                        }
                        .skipping_empty_write();
                        return Some(first_op(write, Pending::MetaWrite));
                    }
                    None => self.advance_phase(Phase::Done),
                },
                Phase::Done => return None,
            }
        }
    }

    fn advance_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.index = 0;
    }

    fn next_item(&mut self) {
        self.index += 1;
    }

    fn file(&self) -> &PipFile {
        &self.plan.files[self.index]
    }

    fn item(&self) -> &CompileItem {
        &self.plan.compile[self.index]
    }

    /// Goes on with the current item's write: its next op, or the next
    /// item. The compile phase swallows a failure; the others abort pip.
    fn after_write(&mut self, written: Written, wrap: fn(Writing) -> Pending) {
        match written {
            Written::Op(op, writing) => self.pending = Some((op, wrap(writing))),
            Written::Failed(errno, _) if self.phase != Phase::Compile && self.write_failed => {
                self.abort_unnamed(errno)
            }
            Written::Failed(errno, path) if self.phase != Phase::Compile => {
                self.abort(errno, &path)
            }
            Written::Done | Written::Failed(..) => self.next_item(),
        }
    }

    fn makedirs_next(&mut self, mut md: Makedirs, result: &OpResult, in_compile: bool) {
        if let Some(MakedirsStep::Failed(e, path)) = md.complete(result) {
            if in_compile {
                self.next_item();
            } else {
                self.abort(e, &path);
            }
            return;
        }
        match md.step() {
            MakedirsStep::Op(op) => {
                let p = if in_compile {
                    Pending::CompileMakedirs(md)
                } else {
                    Pending::FileMakedirs(md)
                };
                self.pending = Some((op, p));
            }
            MakedirsStep::Done => {
                if in_compile {
                    let source = self.source.expect("source read before compiling");
                    let item = self.item();
                    let blob = match &item.bytecode {
                        Some(made) if bytecode_source(made.bytes()) == Some(source) => made.clone(),
                        _ => Blob::bytecode(&source),
                    };
                    let write = WriteFile::through_exclusive_temp(&item.tmp, &item.pyc, &blob)
                        .with_errors(WriteErrors::BestEffort);
                    self.pending = Some(first_op(write, Pending::CompileWrite));
                } else {
                    let path = self.file().path.clone();
                    self.pending = Some((Op::Stat { path }, Pending::FileStat));
                }
            }
            MakedirsStep::Failed(..) => unreachable!("failures are reported by complete"),
        }
    }
}

/// The first op of `write`, with the pending state that drives it.
fn first_op(write: WriteFile, wrap: fn(Writing) -> Pending) -> (Op, Pending) {
    let (op, writing) = Writing::start(write);
    (op, wrap(writing))
}

/// pip's write of an extracted file: `open(O_CREAT|O_TRUNC, 0666)`,
/// write, close (not checked), `chmod(0755)` for an executable.
fn file_write(file: &PipFile) -> WriteFile {
    WriteFile::new(&file.path, &file.blob, WriteHow::InPlace, "")
        .with_open_mode(0o666)
        .with_chmod_after_close(file.executable.then_some(0o755))
        .with_errors(WriteErrors::UncheckedClose)
}

impl Job for PipJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        "pip"
    }

    fn poll(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        if let Some(code) = self.exit {
            return Offer::Exit(code);
        }
        if self.pending.is_none() {
            self.pending = self.begin();
        }
        match &self.pending {
            Some(_) => Offer::Op,
            None => Offer::Exit(0),
        }
    }

    fn offered(&self) -> &Op {
        &self
            .pending
            .as_ref()
            .expect("the last poll offered an op")
            .0
    }

    fn complete(&mut self, result: &OpResult) {
        let Some((op, pending)) = self.pending.take() else {
            return;
        };
        if result.is_err() {
            self.write_failed = matches!(op, Op::Write { .. });
        }
        // The path moves into the next op: no reference count touched.
        let path = op.into_path();
        let set = |job: &mut PipJob, op: Op, p: Pending| job.pending = Some((op, p));
        match pending {
            Pending::FileMakedirs(md) => self.makedirs_next(md, result, false),
            Pending::FileStat => match result {
                Ok(_) => set(self, Op::Unlink { path }, Pending::FileUnlink),
                Err(_) => {
                    self.pending = Some(first_op(file_write(self.file()), Pending::FileWrite))
                }
            },
            Pending::FileUnlink => match result {
                Ok(_) => self.pending = Some(first_op(file_write(self.file()), Pending::FileWrite)),
                Err(e) => self.abort(*e, &path),
            },
            Pending::FileWrite(writing) => {
                self.after_write(writing.complete(path, result), Pending::FileWrite)
            }
            Pending::CompileIsFile => match result {
                Ok(Value::Meta(m)) if m.kind == Kind::File => {
                    let pyc = self.item().pyc.clone();
                    set(self, Op::Lstat { path: pyc }, Pending::CompileLstatPyc);
                }
                _ => self.next_item(),
            },
            Pending::CompileLstatPyc => match result {
                Ok(Value::Meta(m)) if m.kind != Kind::File => self.next_item(),
                _ => {
                    let source = self.item().source.clone();
                    set(
                        self,
                        Op::Open {
                            path: source,
                            flags: OpenFlags::READ,
                            mode: 0,
                        },
                        Pending::CompileOpenSource,
                    );
                }
            },
            Pending::CompileOpenSource => match result {
                Ok(Value::Fd(fd)) => {
                    set(self, Op::Read { fd: *fd, path }, Pending::CompileRead(*fd))
                }
                _ => self.next_item(),
            },
            Pending::CompileRead(fd) => {
                self.source = match result {
                    Ok(Value::Data(c)) => Some(c.digest()),
                    _ => None,
                };
                set(self, Op::Close { fd, path }, Pending::CompileCloseSource);
            }
            Pending::CompileCloseSource => {
                if self.source.is_none() {
                    self.next_item();
                    return;
                }
                let item = self.item();
                let md = Makedirs::with_parent(item.pycache.clone(), item.pycache_parent.clone());
                let MakedirsStep::Op(op) = md.step() else {
                    unreachable!("makedirs starts with a stat")
                };
                set(self, op, Pending::CompileMakedirs(md));
            }
            Pending::CompileMakedirs(md) => self.makedirs_next(md, result, true),
            Pending::CompileWrite(writing) => {
                self.after_write(writing.complete(path, result), Pending::CompileWrite)
            }
            Pending::Script(mut write) => {
                write.complete(result);
                self.scripts_dir_made = write.dir_ensured();
                match write.step() {
                    ScriptStep::Op(op) => set(self, op, Pending::Script(write)),
                    ScriptStep::Done => self.next_item(),
                    ScriptStep::Failed(e, _) if self.write_failed => self.abort_unnamed(e),
                    ScriptStep::Failed(e, path) => self.abort(e, &path),
                }
            }
            Pending::MetaWrite(writing) => {
                self.after_write(writing.complete(path, result), Pending::MetaWrite)
            }
        }
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    fn writes_rest_of_short_write(&self) -> bool {
        // py_compile's `_write_atomic`: one `FileIO.write`, its count not
        // looked at.
        !matches!(self.pending, Some((_, Pending::CompileWrite(_))))
    }

    fn state_key(&self) -> Option<StateKey> {
        // Destructured whole, so that a new field cannot be forgotten here.
        let PipJob {
            label: _,
            plan: _,
            phase,
            index,
            pending,
            source,
            scripts_dir_made,
            write_failed,
            exit,
            diagnostics,
        } = self;
        Some(StateKey::of(&(
            phase,
            index,
            pending,
            source,
            scripts_dir_made,
            write_failed,
            exit,
            diagnostics,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{Fs, ModelFs};
    use crate::test_support::run_job_alone;

    /// Runs `job` alone on `fs`, the first `write` of a path ending in
    /// `struck` failing with `errno`; the ops run and the exit status.
    fn run_failing_write(
        job: &mut PipJob,
        fs: &mut ModelFs,
        struck: &str,
        errno: Errno,
    ) -> (Vec<String>, i32) {
        let mut failed = false;
        run_job_alone(fs, job, &mut |op| match op {
            Op::Write { path, .. } if !failed && path.ends_with(struck) => {
                failed = true;
                Some(Err(errno))
            }
            _ => None,
        })
    }

    fn plan() -> Arc<PipPlan> {
        let file = |path: &str, text: &str| PipFile {
            path: path.into(),
            blob: Blob::new(text.as_bytes().to_vec()),
            executable: false,
        };
        Arc::new(PipPlan::new(
            vec![
                file("m/a.py", "X = 1\n"),
                file("m/b.txt", "data\n"),
                file("m-1.0.dist-info/METADATA", "Name: m\n"),
            ],
            Vec::new(),
            "cpython-311",
            1,
            Some("m-1.0.dist-info"),
            "pp",
            false,
        ))
    }

    /// A failed write of a wheel's file (recorded: `pip-data-enospc.strace`):
    /// the file is closed, pip aborts with a line that names no file, and
    /// what it wrote stays.
    #[test]
    fn a_failed_file_write_closes_the_file_and_names_no_path() {
        let mut fs = ModelFs::new();
        let mut job = PipJob::new("pip", plan());
        let (ops, code) = run_failing_write(&mut job, &mut fs, "m/b.txt", Errno::ENOSPC);
        assert_eq!(code, 1);
        assert_eq!(ops[ops.len() - 2..], ["write m/b.txt", "close m/b.txt"]);
        assert_eq!(
            job.diagnostics()[0].message,
            "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"
        );
        let tree = fs.tree();
        assert_eq!(tree.get("m/b.txt").map(|e| e.size), Some(0));
        assert_eq!(tree.get("m/a.py").map(|e| e.size), Some(6));
    }

    /// A failed write of `RECORD`'s tempfile (recorded:
    /// `pip-record-enospc.strace`): the close writes it again, and the
    /// tempfile stays, 0600, not renamed.
    #[test]
    fn a_failed_record_write_leaves_its_tempfile_written_again() {
        let mut fs = ModelFs::new();
        let mut job = PipJob::new("pip", plan());
        let (ops, code) = run_failing_write(&mut job, &mut fs, ".tmp", Errno::EIO);
        assert_eq!(code, 1);
        let tmp = &plan().metadata[0]
            .tmp
            .clone()
            .expect("INSTALLER goes through a tempfile");
        assert_eq!(
            ops[ops.len() - 3..],
            [
                format!("write {tmp}"),
                format!("write {tmp}"),
                format!("close {tmp}")
            ]
        );
        assert_eq!(
            fs.tree().get(tmp).map(|e| (e.mode, e.size)),
            Some((0o600, 4))
        );
    }
}
