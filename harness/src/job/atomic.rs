//! An installer that never exposes a missing or half-written file: every file
//! is written to a temporary name in its target directory, then renamed over
//! the target.
//!
//! This is the discipline of uv's wheel linker when the target exists (a
//! temporary link in `tempdir_in(parent)`, then `rename`, see
//! `crates/install-wheel-rs/src/linker.rs` and astral-sh/uv#1546), of rsync
//! without `--inplace` (`.NAME.XXXXXX`, then `rename`), and of pip itself for
//! `.pyc` files and metadata (`adjacent_tmp_file` + `os.replace`). Note that
//! pypa/installer does *not* do this: its `SchemeDictionaryDestination`
//! raises `FileExistsError` when a target exists and writes in place.
//!
//! The rules, per file in wheel (RECORD) order:
//! - `makedirs(parent)` ignoring EEXIST, as pip;
//! - `open(DIR/.NAME.TOKEN, O_WRONLY|O_CREAT|O_EXCL, 0600)`, write, close,
//!   `chmod` to the final mode (0644, or 0755 for executables);
//! - `rename(DIR/.NAME.TOKEN, DIR/NAME)`; on failure the temp file is unlinked
//!   and the install aborts;
//! - then byte-compilation and metadata exactly as pip 21.1.2 (already
//!   atomic there), by running a [`PipJob`] with no files left to extract.

use std::sync::Arc;

use super::{Diagnostic, Job, Offer, PipJob, PipPlan};
use crate::fs::{parent_of, split_parent};
use crate::kit::{Makedirs, MakedirsStep};
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

#[derive(Debug, Clone)]
enum Pending {
    Makedirs(Makedirs),
    OpenTmp,
    Write(Fd),
    Close,
    Chmod,
    Rename,
    UnlinkTmp(Errno),
}

/// What the job names for one file, worked out once per job (not per
/// execution): every execution clones the job and walks the same files.
#[derive(Debug)]
struct Prepared {
    /// Per file of the plan: its temporary name ([`AtomicWriteJob::temp_name`]).
    tmp: Vec<Arc<str>>,
    /// Per file of the plan: its parent directory and that directory's
    /// parent (what `makedirs` stats first), `None` at the prefix root.
    parent: Vec<Option<(Arc<str>, Arc<str>)>>,
    /// The plan compile and metadata run from, once every file is in place.
    rest: Arc<PipPlan>,
}

/// A running atomic-rename install of one wheel.
#[derive(Clone)]
pub struct AtomicWriteJob {
    label: String,
    plan: Arc<PipPlan>,
    prepared: Arc<Prepared>,
    index: usize,
    pending: Option<(Op, Pending)>,
    /// Compile and metadata, once every file is in place.
    rest: Option<PipJob>,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
    synced: usize,
}

impl AtomicWriteJob {
    /// An install of `plan`; `salt` makes this job's temporary names differ
    /// from those of any other job (real tools draw them at random).
    pub fn new(label: impl Into<String>, plan: Arc<PipPlan>, salt: u64) -> AtomicWriteJob {
        let tmp = plan
            .files
            .iter()
            .map(|f| Self::temp_name(&f.path, salt))
            .collect();
        let mut parent: Vec<Option<(Arc<str>, Arc<str>)>> = Vec::with_capacity(plan.files.len());
        for f in &plan.files {
            let (dir, _) = split_parent(&f.path);
            // Files of one directory come together: share its names.
            let same = parent
                .last()
                .and_then(|p| p.clone())
                .filter(|(p, _)| **p == *dir);
            parent.push(match same {
                Some(p) => Some(p),
                None => (!dir.is_empty()).then(|| (dir.into(), parent_of(dir).into())),
            });
        }
        let mut rest = PipPlan {
            files: Vec::new(),
            ..(*plan).clone()
        };
        // Temporary metadata names are random in real installers;
        // salt them so two installers never share one.
        for m in &mut rest.metadata {
            if m.tmp.is_some() {
                m.tmp = Some(Self::temp_name(&format!("{}.tmp", m.path), salt));
            }
        }
        AtomicWriteJob {
            label: label.into(),
            plan,
            prepared: Arc::new(Prepared {
                tmp,
                parent,
                rest: Arc::new(rest),
            }),
            index: 0,
            pending: None,
            rest: None,
            exit: None,
            diagnostics: Vec::new(),
            synced: 0,
        }
    }

    /// The temporary name of `path`: `DIR/.NAME.TOKEN`, in the same directory.
    pub fn temp_name(path: &str, salt: u64) -> Arc<str> {
        let (dir, name) = split_parent(path);
        let token = super::temp_token(&format!("{salt}:{path}"));
        if dir.is_empty() {
            format!(".{name}.{token}").into()
        } else {
            format!("{dir}/.{name}.{token}").into()
        }
    }

    fn abort(&mut self, errno: Errno, path: &str) {
        self.diagnostics.push(Diagnostic {
            message: format!(
                "error: Failed to install: '{}/{}': {} (os error {})",
                self.plan.prefix_display,
                path,
                errno.message(),
                errno.number()
            ),
            fatal: true,
        });
        self.exit = Some(1);
    }

    fn tmp(&self) -> Arc<str> {
        self.prepared.tmp[self.index].clone()
    }

    fn open_tmp(&mut self) {
        self.pending = Some((
            Op::Open {
                path: self.tmp(),
                flags: OpenFlags::CREATE_NEW,
                mode: 0o600,
            },
            Pending::OpenTmp,
        ));
    }

    /// Plans the next file, or hands over to compile and metadata.
    fn begin(&mut self) {
        if self.index >= self.plan.files.len() {
            if self.rest.is_none() {
                self.rest = Some(PipJob::new(self.label.clone(), self.prepared.rest.clone()));
            }
            return;
        }
        let Some((parent, its_parent)) = self.prepared.parent[self.index].clone() else {
            self.open_tmp();
            return;
        };
        let md = Makedirs::with_parent(parent, its_parent);
        let MakedirsStep::Op(op) = md.step() else {
            unreachable!("makedirs starts with a stat")
        };
        self.pending = Some((op, Pending::Makedirs(md)));
    }

    fn sync(&mut self) {
        if let Some(rest) = &self.rest {
            let inner = rest.diagnostics();
            if inner.len() > self.synced {
                self.diagnostics
                    .extend(inner[self.synced..].iter().cloned());
                self.synced = inner.len();
            }
        }
    }
}

impl Job for AtomicWriteJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        "install"
    }

    fn poll(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        if let Some(code) = self.exit {
            return Offer::Exit(code);
        }
        if self.pending.is_none() && self.rest.is_none() {
            self.begin();
        }
        if self.pending.is_some() {
            return Offer::Op;
        }
        match &mut self.rest {
            Some(rest) => rest.poll(probe),
            None => Offer::Exit(0),
        }
    }

    fn offered(&self) -> &Op {
        match (&self.pending, &self.rest) {
            (Some((op, _)), _) => op,
            (None, Some(rest)) => rest.offered(),
            (None, None) => panic!("the last poll offered no op"),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        let Some((op, pending)) = self.pending.take() else {
            if let Some(rest) = &mut self.rest {
                rest.complete(result);
                self.sync();
            }
            return;
        };
        let path = op.into_path();
        let target = || self.plan.files[self.index].path.clone();
        match pending {
            Pending::Makedirs(mut md) => {
                if let Some(MakedirsStep::Failed(e, dir)) = md.complete(result) {
                    self.abort(e, &dir);
                    return;
                }
                match md.step() {
                    MakedirsStep::Op(op) => self.pending = Some((op, Pending::Makedirs(md))),
                    MakedirsStep::Done => self.open_tmp(),
                    MakedirsStep::Failed(..) => unreachable!("reported by complete"),
                }
            }
            Pending::OpenTmp => match result {
                Ok(Value::Fd(fd)) => {
                    let blob = self.plan.files[self.index].blob.clone();
                    self.pending = Some((
                        Op::Write {
                            fd: *fd,
                            path,
                            blob,
                        },
                        Pending::Write(*fd),
                    ));
                }
                Err(e) => self.abort(*e, &path),
                Ok(_) => self.index += 1,
            },
            Pending::Write(fd) => match result {
                Ok(_) => self.pending = Some((Op::Close { fd, path }, Pending::Close)),
                Err(e) => self.abort(*e, &path),
            },
            Pending::Close => {
                let mode = if self.plan.files[self.index].executable {
                    0o755
                } else {
                    0o644
                };
                self.pending = Some((Op::Chmod { path, mode }, Pending::Chmod));
            }
            Pending::Chmod => match result {
                Ok(_) => {
                    self.pending = Some((
                        Op::Rename {
                            from: path,
                            to: target(),
                        },
                        Pending::Rename,
                    ))
                }
                Err(e) => self.abort(*e, &path),
            },
            Pending::Rename => match result {
                Ok(_) => self.index += 1,
                Err(e) => self.pending = Some((Op::Unlink { path }, Pending::UnlinkTmp(*e))),
            },
            Pending::UnlinkTmp(e) => {
                let target = target();
                self.abort(e, &target)
            }
        }
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}
