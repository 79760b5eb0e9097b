//! A Python process importing modules from the prefix (CPython 3.9).
//!
//! The rules, from `importlib._bootstrap_external` (`SourceLoader.get_code`,
//! `set_data`, `_write_atomic`):
//! - the importer is not runnable until the module's source exists: a wait
//!   condition, never a spin loop. If it never appears the process fails with
//!   `ModuleNotFoundError`;
//! - it reads the source and the cached `.pyc`; a `.pyc` compiled from the
//!   source bytes now present is used as is and nothing is written;
//! - otherwise it compiles and writes the bytecode: the missing directories
//!   up to `__pycache__` are created with `mkdir(0777)`, continuing on EEXIST
//!   and silently giving up on any other error; then `<pyc>.<id>` is opened
//!   `O_EXCL`, written, and renamed over the `.pyc`; on error the temp file is
//!   unlinked and the write silently given up;
//! - an importer never fails because of a concurrent creator.
//!
//! One documented simplification: CPython stats the source and validates the
//! `.pyc` by the source's mtime and size before reading the source; the model
//! reads the source first and validates by the source digest the `.pyc` records.

use std::sync::Arc;

use super::held::lend_held_op;
use super::{Condition, Diagnostic, HeldOp, Job, Step, Writing, Written};
use crate::content::{Blob, Digest};
use crate::fs::parent_of;
use crate::kit::{WriteErrors, WriteFile};
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};
use crate::state_key::StateKey;

/// One module the importer imports, with its paths resolved.
#[derive(Debug, Clone)]
pub struct ImportModule {
    /// Dotted name, e.g. `Cython.Shadow`.
    pub name: String,
    /// Source file relative to the prefix root.
    pub source: Arc<str>,
    /// The `.pyc` CPython would write.
    pub pyc: Arc<str>,
    /// Temporary `<pyc>.<id>` name.
    pub tmp: Arc<str>,
}

#[derive(Debug, Clone, Hash)]
enum Pending {
    OpenSource,
    ReadSource(Fd),
    CloseSource,
    OpenPyc,
    ReadPyc(Fd),
    ClosePyc,
    IsDir(Vec<Arc<str>>),
    Mkdir(Vec<Arc<str>>),
    /// `set_data`'s atomic write of the `.pyc` through `<pyc>.<id>`,
    /// every error swallowed.
    WriteTmp(Writing),
}

/// A running `python3 -c 'import M'`.
#[derive(Debug, Clone)]
pub struct ImportJob {
    /// The op offered, held until its result comes back.
    held: HeldOp,
    label: String,
    modules: Arc<Vec<ImportModule>>,
    index: usize,
    started: bool,
    pending: Option<(Op, Pending)>,
    source: Option<Digest>,
    pyc_valid: bool,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
}

impl ImportJob {
    /// An importer of `modules`, in order.
    pub fn new(label: impl Into<String>, modules: Vec<ImportModule>) -> ImportJob {
        ImportJob {
            held: HeldOp::default(),
            label: label.into(),
            modules: Arc::new(modules),
            index: 0,
            started: false,
            pending: None,
            source: None,
            pyc_valid: false,
            exit: None,
            diagnostics: Vec::new(),
        }
    }

    fn module(&self) -> &ImportModule {
        &self.modules[self.index]
    }

    fn next_module(&mut self) {
        self.index += 1;
        self.started = false;
        self.source = None;
        self.pyc_valid = false;
    }

    fn set(&mut self, op: Op, p: Pending) {
        self.pending = Some((op, p));
    }

    /// Starts `set_data`: find the missing directories above the `.pyc`.
    fn start_set_data(&mut self) {
        let pycache: Arc<str> = parent_of(&self.module().pyc).into();
        self.set(
            Op::Stat {
                path: pycache.clone(),
            },
            Pending::IsDir(vec![pycache]),
        );
    }

    fn start_write(&mut self) {
        let blob = Blob::bytecode(&self.source.unwrap_or_else(|| Digest::of(b"")));
        let m = self.module();
        let write = WriteFile::through_exclusive_temp(&m.tmp, &m.pyc, &blob)
            .with_errors(WriteErrors::BestEffort);
        let (op, writing) = Writing::start(write);
        self.set(op, Pending::WriteTmp(writing));
    }
}

impl ImportJob {
    /// The next step, worked out from the job's state; [`Job::poll`] holds
    /// its op until the result comes back.
    fn next_step(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        if let Some(code) = self.exit {
            return Step::Exit(code);
        }
        if self.pending.is_none() {
            let Some(m) = self.modules.get(self.index) else {
                return Step::Exit(0);
            };
            if !self.started {
                let cond = Condition::Exists {
                    path: m.source.to_string(),
                    kind: Kind::File,
                };
                if !cond.holds(probe) {
                    return Step::Wait(cond);
                }
                self.started = true;
            }
            let source = m.source.clone();
            self.set(
                Op::Open {
                    path: source,
                    flags: OpenFlags::READ,
                    mode: 0,
                },
                Pending::OpenSource,
            );
        }
        match &self.pending {
            Some((op, _)) => Step::Op(op.clone()),
            None => Step::Exit(0),
        }
    }
}

impl Job for ImportJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        "python3"
    }

    lend_held_op!();

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
        let Some((op, pending)) = self.pending.take() else {
            return;
        };
        let path = op.path().clone();
        match pending {
            Pending::OpenSource => match result {
                Ok(Value::Fd(fd)) => self.set(Op::Read { fd: *fd, path }, Pending::ReadSource(*fd)),
                Err(e) => {
                    let name = self.module().name.clone();
                    let message = match e {
                        Errno::ENOENT => format!("ModuleNotFoundError: No module named '{name}'"),
                        e => format!(
                            "OSError: [Errno {}] {}: '{}'",
                            e.number(),
                            e.message(),
                            path
                        ),
                    };
                    self.diagnostics.push(Diagnostic {
                        message,
                        fatal: true,
                    });
                    self.exit = Some(1);
                }
                Ok(_) => self.next_module(),
            },
            Pending::ReadSource(fd) => {
                if let Ok(Value::Data(c)) = result {
                    self.source = Some(c.digest());
                }
                self.set(Op::Close { fd, path }, Pending::CloseSource);
            }
            Pending::CloseSource => {
                let pyc = self.module().pyc.clone();
                self.set(
                    Op::Open {
                        path: pyc,
                        flags: OpenFlags::READ,
                        mode: 0,
                    },
                    Pending::OpenPyc,
                );
            }
            Pending::OpenPyc => match result {
                Ok(Value::Fd(fd)) => self.set(Op::Read { fd: *fd, path }, Pending::ReadPyc(*fd)),
                _ => self.start_set_data(),
            },
            Pending::ReadPyc(fd) => {
                self.pyc_valid = match (result, self.source) {
                    (Ok(Value::Data(c)), Some(src)) => c.bytecode_source() == Some(src),
                    _ => false,
                };
                self.set(Op::Close { fd, path }, Pending::ClosePyc);
            }
            Pending::ClosePyc => {
                if self.pyc_valid {
                    self.next_module();
                } else {
                    self.start_set_data();
                }
            }
            Pending::IsDir(mut missing) => match result {
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => {
                    missing.pop();
                    match missing.pop() {
                        Some(dir) => self.set(
                            Op::Mkdir {
                                path: dir.clone(),
                                mode: 0o777,
                            },
                            Pending::Mkdir(missing),
                        ),
                        None => self.start_write(),
                    }
                }
                _ => {
                    let parent: Arc<str> = parent_of(&path).into();
                    if parent.is_empty() {
                        // The prefix root exists: the path just stat'ed is
                        // the topmost missing directory, made first.
                        match missing.pop() {
                            Some(dir) => self.set(
                                Op::Mkdir {
                                    path: dir,
                                    mode: 0o777,
                                },
                                Pending::Mkdir(missing),
                            ),
                            None => self.start_write(),
                        }
                    } else {
                        missing.push(parent.clone());
                        self.set(Op::Stat { path: parent }, Pending::IsDir(missing));
                    }
                }
            },
            Pending::Mkdir(mut rest) => match result {
                Ok(_) | Err(Errno::EEXIST) => match rest.pop() {
                    Some(dir) => self.set(
                        Op::Mkdir {
                            path: dir,
                            mode: 0o777,
                        },
                        Pending::Mkdir(rest),
                    ),
                    None => self.start_write(),
                },
                Err(_) => self.next_module(),
            },
            Pending::WriteTmp(writing) => match writing.complete(path, result) {
                Written::Op(op, writing) => self.set(op, Pending::WriteTmp(writing)),
                Written::Done | Written::Failed(..) => self.next_module(),
            },
        }
    }

    fn stalled(&mut self) -> i32 {
        if let Some(m) = self.modules.get(self.index) {
            let message = format!("ModuleNotFoundError: No module named '{}'", m.name);
            self.diagnostics.push(Diagnostic {
                message,
                fatal: true,
            });
        }
        self.exit = Some(1);
        1
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    fn writes_rest_of_short_write(&self) -> bool {
        // `_write_atomic`: one `FileIO.write`, its count not looked at.
        !matches!(self.pending, Some((_, Pending::WriteTmp(_))))
    }

    fn state_key(&self) -> Option<StateKey> {
        // Destructured whole, so that a new field cannot be forgotten here.
        let ImportJob {
            label: _,
            modules: _,
            // The op offered: the decision point keys it beside the job.
            held: _,
            index,
            started,
            pending,
            source,
            pyc_valid,
            exit,
            diagnostics,
        } = self;
        Some(StateKey::of(&(
            index,
            started,
            pending,
            source,
            pyc_valid,
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

    /// A module right under the prefix root: its `__pycache__` is made
    /// (the root itself exists) and the bytecode written into it.
    #[test]
    fn a_top_level_module_gets_its_pycache_made() {
        let mut fs = ModelFs::new();
        let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
            path: "m.py".into(),
            flags: OpenFlags::CREATE_TRUNC,
            mode: 0o644,
        }) else {
            panic!("cannot create m.py")
        };
        fs.apply(&Op::Close {
            fd,
            path: "m.py".into(),
        })
        .unwrap();
        let module = ImportModule {
            name: "m".into(),
            source: "m.py".into(),
            pyc: "__pycache__/m.cpython-311.pyc".into(),
            tmp: "__pycache__/m.cpython-311.pyc.7".into(),
        };
        let mut job = ImportJob::new("python3", vec![module]);
        let (_, code) = run_job_alone(&mut fs, &mut job, &mut |_| None);
        assert_eq!(code, 0);
        assert!(fs.tree().get("__pycache__/m.cpython-311.pyc").is_some());
    }
}
