//! GNU `cp -Rp`'s copy of a staged tree into the prefix ([`CopyTree`]),
//! following a [`CpPlan`] (traversal order, modes, the [`CpOnExist`]
//! policy): the kit primitive `job/cp.rs` runs as a job.
//!
//! The rules, from coreutils' `src/copy.c` and the recorded traces
//! (`job/cp.rs` lists them): directories pre-order, `mkdir` with
//! `mode & 0700` and their mode restored after their contents; an entry
//! under a directory cp created is not stat'ed; new files `O_CREAT|O_EXCL`
//! 0600, existing ones truncated in place (`O_CREAT` again on ENOENT);
//! a symlink replaces a non-directory after an `unlink`. Every error is
//! one line in cp's wording, its subtree is skipped, the copy goes on, and
//! the copy ends failed. A failed write (cp 9.1's `copy_file_range`) is
//! `error copying 'SRC' to 'DST'`; the file is closed and left as it is,
//! without its mode (recorded under `tests/data/faults/`).

use std::hash::Hash;
use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::content::Blob;
use crate::job::{CpKind, CpOnExist, CpPlan, Diagnostic};
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};
use crate::state_key::{StateHasher, StateKey};

/// What cp knows about a destination directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DirState {
    /// Not reached yet.
    Unknown,
    /// cp created it in this run: its children are not stat'ed.
    Created,
    /// It existed: cp merges into it and stats each child.
    Merged,
}

/// What cp knows about every directory of the plan, with a key of it kept
/// up to date (the plan has thousands of entries; a key of the whole
/// vector at every step would cost more than the step).
#[derive(Debug, Clone)]
struct DirStates {
    states: Vec<DirState>,
    /// The XOR of the keys of every entry that is not `Unknown`.
    key: StateKey,
}

impl DirStates {
    fn new(n: usize) -> DirStates {
        DirStates {
            states: vec![DirState::Unknown; n],
            key: StateKey::default(),
        }
    }

    fn get(&self, i: usize) -> DirState {
        self.states[i]
    }

    fn set(&mut self, i: usize, state: DirState) {
        let entry = |s: DirState| match s {
            DirState::Unknown => StateKey::default(),
            known => StateKey::of(&(i, known)),
        };
        self.key ^= entry(self.states[i]) ^ entry(state);
        self.states[i] = state;
    }
}

/// The op cp is waiting on, and what it means.
#[derive(Debug, Clone, Hash)]
enum Pending {
    StatDir,
    Mkdir,
    /// `lstat` after `mkdir` failed with EEXIST (merging policies only).
    StatDirAfterEexist,
    /// `unlink` of an existing file before creating it again (`Replace`).
    UnlinkExisting,
    StatFile,
    OpenNew,
    OpenExisting,
    OpenRetryCreate,
    Write(Fd),
    Close,
    /// The close after a failed write: no chmod follows.
    CloseAfterError,
    ChmodFile,
    LstatLink,
    UnlinkForLink,
    Symlink,
    ChmodDir(usize),
}

/// A running `cp -Rp` of a planned tree.
#[derive(Debug, Clone)]
pub struct CopyTree {
    plan: Arc<CpPlan>,
    cursor: usize,
    states: DirStates,
    /// Directories whose mode is restored once their subtree is done.
    finalize: Vec<usize>,
    pending: Option<(Op, Pending)>,
    fd: Option<Fd>,
    failed: bool,
    diagnostics: Vec<Diagnostic>,
    /// The first failed call, for an installer that reports one line
    /// ([`Next::Fail`]); cp itself prints [`CopyTree::diagnostics`]. It
    /// follows from the diagnostics, so it is not part of the state key.
    first_failure: Option<Failure>,
}

impl CopyTree {
    /// The copy `plan` describes, not started.
    pub fn new(plan: Arc<CpPlan>) -> CopyTree {
        let n = plan.entries.len();
        CopyTree {
            plan,
            cursor: 0,
            states: DirStates::new(n),
            finalize: Vec::new(),
            pending: None,
            fd: None,
            failed: false,
            diagnostics: Vec::new(),
            first_failure: None,
        }
    }

    /// cp's error lines so far (`cp: cannot create regular file …`).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// True once any error was printed: cp exits 1 at the end.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Hashes the copy's state into `h`: where it is, what it knows of
    /// each directory, the op it waits on and what it printed (the plan is
    /// the job's, fixed).
    pub fn hash_state(&self, h: &mut StateHasher) {
        // Destructured whole, so that a new field cannot be forgotten here.
        let CopyTree {
            plan: _,
            // Follows from the diagnostics.
            first_failure: _,
            cursor,
            states,
            finalize,
            pending,
            fd,
            failed,
            diagnostics,
        } = self;
        (
            cursor,
            finalize,
            pending,
            fd,
            failed,
            diagnostics,
            states.key,
        )
            .hash(h);
    }

    fn dst(&self, i: usize) -> String {
        format!("{}/{}", self.plan.dst_display, self.plan.entries[i].path)
    }

    fn src(&self, i: usize) -> String {
        format!("{}/{}", self.plan.src_display, self.plan.entries[i].path)
    }

    /// cp prints `message` for the failed `call` (its syscall, errno and
    /// the entry it was copying).
    fn error(&mut self, call: (&'static str, Errno, usize), message: String) {
        self.failed = true;
        if self.first_failure.is_none() {
            let (syscall, errno, entry) = call;
            let failure = Failure::new(syscall, errno, &self.plan.entries[entry].path);
            self.first_failure = Some(match syscall {
                "open" => failure.writing(),
                _ => failure,
            });
        }
        self.diagnostics.push(Diagnostic {
            message: format!("cp: {message}"),
            fatal: true,
        });
    }

    /// Skips the subtree of the current entry after an error.
    fn skip_current(&mut self) {
        self.cursor = self.plan.entries[self.cursor].subtree_end;
    }

    fn parent_created(&self, i: usize) -> bool {
        match self.plan.entries[i].parent {
            Some(p) => self.states.get(p) == DirState::Created,
            None => false,
        }
    }

    fn plan_next(&mut self) -> Option<(Op, Pending)> {
        if let Some(&top) = self.finalize.last() {
            if self.cursor >= self.plan.entries[top].subtree_end {
                self.finalize.pop();
                let e = &self.plan.entries[top];
                return Some((
                    Op::Chmod {
                        path: e.path.clone(),
                        mode: e.mode,
                    },
                    Pending::ChmodDir(top),
                ));
            }
        }
        let i = self.cursor;
        let e = self.plan.entries.get(i)?;
        let created = self.parent_created(i);
        let path = e.path.clone();
        Some(match &e.kind {
            CpKind::Dir if created => (
                Op::Mkdir {
                    path,
                    mode: e.mode & 0o700,
                },
                Pending::Mkdir,
            ),
            CpKind::Dir => (Op::Lstat { path }, Pending::StatDir),
            CpKind::File(_) if created => (
                Op::Open {
                    path,
                    flags: OpenFlags::CREATE_NEW,
                    mode: 0o600,
                },
                Pending::OpenNew,
            ),
            CpKind::File(_) => (Op::Stat { path }, Pending::StatFile),
            CpKind::Symlink(target) if created => (
                Op::Symlink {
                    target: target.clone(),
                    path,
                },
                Pending::Symlink,
            ),
            CpKind::Symlink(_) => (Op::Lstat { path }, Pending::LstatLink),
        })
    }

    fn file_blob(&self) -> Arc<Blob> {
        match &self.plan.entries[self.cursor].kind {
            CpKind::File(b) => b.clone(),
            _ => unreachable!("file ops only run on file entries"),
        }
    }

    fn set(&mut self, op: Op, pending: Pending) {
        self.pending = Some((op, pending));
    }
}

impl Primitive for CopyTree {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        if self.pending.is_none() {
            self.pending = self.plan_next();
        }
        match (&self.pending, &self.first_failure) {
            (Some((op, _)), _) => Next::Op(op.clone()),
            (None, None) => Next::Done,
            (None, Some(failure)) => Next::Fail(failure.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        let Some((op, pending)) = self.pending.take() else {
            return;
        };
        let i = self.cursor;
        let path = op.path().clone();
        match pending {
            Pending::StatDir => match result {
                Err(Errno::ENOENT) => {
                    let mode = self.plan.entries[i].mode & 0o700;
                    self.set(Op::Mkdir { path, mode }, Pending::Mkdir);
                }
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => {
                    self.states.set(i, DirState::Merged);
                    self.finalize.push(i);
                    self.cursor += 1;
                }
                Ok(_) => {
                    let msg = format!(
                        "cannot overwrite non-directory '{}' with directory '{}'",
                        self.dst(i),
                        self.src(i)
                    );
                    self.error(("mkdir", Errno::ENOTDIR, i), msg);
                    self.skip_current();
                }
                Err(e) => {
                    self.error(
                        ("lstat", *e, i),
                        format!("cannot stat '{}': {}", self.dst(i), e.message()),
                    );
                    self.skip_current();
                }
            },
            Pending::Mkdir => match result {
                Ok(_) => {
                    self.states.set(i, DirState::Created);
                    self.finalize.push(i);
                    self.cursor += 1;
                }
                Err(Errno::EEXIST) if self.plan.on_exist != CpOnExist::Fail => {
                    self.set(Op::Lstat { path }, Pending::StatDirAfterEexist);
                }
                Err(e) => {
                    self.error(
                        ("mkdir", *e, i),
                        format!("cannot create directory '{}': {}", self.dst(i), e.message()),
                    );
                    self.skip_current();
                }
            },
            Pending::StatDirAfterEexist => match result {
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => {
                    self.states.set(i, DirState::Merged);
                    self.finalize.push(i);
                    self.cursor += 1;
                }
                _ => {
                    self.error(
                        ("mkdir", Errno::EEXIST, i),
                        format!(
                            "cannot create directory '{}': {}",
                            self.dst(i),
                            Errno::EEXIST.message()
                        ),
                    );
                    self.skip_current();
                }
            },
            Pending::UnlinkExisting => match result {
                Ok(_) | Err(Errno::ENOENT) => self.set(
                    Op::Open {
                        path,
                        flags: OpenFlags::CREATE_NEW,
                        mode: 0o600,
                    },
                    Pending::OpenNew,
                ),
                Err(e) => {
                    self.error(
                        ("unlink", *e, i),
                        format!("cannot remove '{}': {}", self.dst(i), e.message()),
                    );
                    self.cursor += 1;
                }
            },
            Pending::StatFile => match result {
                Err(Errno::ENOENT) => self.set(
                    Op::Open {
                        path,
                        flags: OpenFlags::CREATE_NEW,
                        mode: 0o600,
                    },
                    Pending::OpenNew,
                ),
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => {
                    self.error(
                        ("open", Errno::EISDIR, i),
                        format!(
                            "cannot overwrite directory '{}' with non-directory",
                            self.dst(i)
                        ),
                    );
                    self.cursor += 1;
                }
                Ok(_) if self.plan.on_exist == CpOnExist::Replace => {
                    self.set(Op::Unlink { path }, Pending::UnlinkExisting)
                }
                Ok(_) => self.set(
                    Op::Open {
                        path,
                        flags: OpenFlags::TRUNC,
                        mode: 0,
                    },
                    Pending::OpenExisting,
                ),
                Err(e) => {
                    self.error(
                        ("stat", *e, i),
                        format!("cannot stat '{}': {}", self.dst(i), e.message()),
                    );
                    self.cursor += 1;
                }
            },
            Pending::OpenNew | Pending::OpenExisting | Pending::OpenRetryCreate => match result {
                Ok(Value::Fd(fd)) => {
                    self.fd = Some(*fd);
                    let blob = self.file_blob();
                    self.set(
                        Op::Write {
                            fd: *fd,
                            path,
                            blob,
                        },
                        Pending::Write(*fd),
                    );
                }
                Err(Errno::EEXIST)
                    if matches!(pending, Pending::OpenNew)
                        && self.plan.on_exist == CpOnExist::Merge =>
                {
                    self.set(
                        Op::Open {
                            path,
                            flags: OpenFlags::TRUNC,
                            mode: 0,
                        },
                        Pending::OpenExisting,
                    )
                }
                Err(Errno::ENOENT) if matches!(pending, Pending::OpenExisting) => self.set(
                    Op::Open {
                        path,
                        flags: OpenFlags::CREATE,
                        mode: 0o600,
                    },
                    Pending::OpenRetryCreate,
                ),
                Err(e) => {
                    let msg = if matches!(pending, Pending::OpenExisting) {
                        format!("cannot open '{}' for writing: {}", self.dst(i), e.message())
                    } else {
                        format!(
                            "cannot create regular file '{}': {}",
                            self.dst(i),
                            e.message()
                        )
                    };
                    self.error(("open", *e, i), msg);
                    self.cursor += 1;
                }
                Ok(_) => self.cursor += 1,
            },
            Pending::Write(fd) => match result {
                Err(e) => {
                    // cp 9.1 copies with copy_file_range and words its
                    // failure so (copy.c, sparse_copy); it then closes both
                    // files and skips the rest of copy_reg: no times, no
                    // mode, and the partial file stays (recorded:
                    // tests/data/faults/cp-write-enospc.strace).
                    self.error(
                        ("write", *e, i),
                        format!(
                            "error copying '{}' to '{}': {}",
                            self.src(i),
                            self.dst(i),
                            e.message()
                        ),
                    );
                    self.set(Op::Close { fd, path }, Pending::CloseAfterError);
                }
                Ok(_) => self.set(Op::Close { fd, path }, Pending::Close),
            },
            Pending::CloseAfterError => {
                self.fd = None;
                self.cursor += 1;
            }
            Pending::Close => {
                self.fd = None;
                let mode = self.plan.entries[i].mode;
                self.set(Op::Chmod { path, mode }, Pending::ChmodFile);
            }
            Pending::ChmodFile => {
                if let Err(e) = result {
                    self.error(
                        ("chmod", *e, i),
                        format!(
                            "preserving permissions for '{}': {}",
                            self.dst(i),
                            e.message()
                        ),
                    );
                }
                self.cursor += 1;
            }
            Pending::LstatLink => match result {
                Err(Errno::ENOENT) => {
                    let CpKind::Symlink(target) = self.plan.entries[i].kind.clone() else {
                        unreachable!()
                    };
                    self.set(Op::Symlink { target, path }, Pending::Symlink);
                }
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => {
                    self.error(
                        ("symlink", Errno::EISDIR, i),
                        format!(
                            "cannot overwrite directory '{}' with non-directory",
                            self.dst(i)
                        ),
                    );
                    self.cursor += 1;
                }
                Ok(_) => self.set(Op::Unlink { path }, Pending::UnlinkForLink),
                Err(e) => {
                    self.error(
                        ("lstat", *e, i),
                        format!("cannot stat '{}': {}", self.dst(i), e.message()),
                    );
                    self.cursor += 1;
                }
            },
            Pending::UnlinkForLink => match result {
                Ok(_) | Err(Errno::ENOENT) => {
                    let CpKind::Symlink(target) = self.plan.entries[i].kind.clone() else {
                        unreachable!()
                    };
                    self.set(Op::Symlink { target, path }, Pending::Symlink);
                }
                Err(e) => {
                    self.error(
                        ("unlink", *e, i),
                        format!("cannot remove '{}': {}", self.dst(i), e.message()),
                    );
                    self.cursor += 1;
                }
            },
            Pending::Symlink => {
                if let Err(e) = result {
                    self.error(
                        ("symlink", *e, i),
                        format!(
                            "cannot create symbolic link '{}': {}",
                            self.dst(i),
                            e.message()
                        ),
                    );
                }
                self.cursor += 1;
            }
            Pending::ChmodDir(d) => {
                if let Err(e) = result {
                    self.error(
                        ("chmod", *e, d),
                        format!(
                            "preserving permissions for '{}': {}",
                            self.dst(d),
                            e.message()
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Fs;
    use crate::kit::test_support::{model_with, run_on, run_on_striking};

    fn plan() -> Arc<CpPlan> {
        let blob = Blob::new(b"print(1)\n".to_vec());
        Arc::new(CpPlan::from_ordered(
            vec![
                ("pkg".into(), CpKind::Dir, 0o755),
                ("pkg/a.py".into(), CpKind::File(blob), 0o644),
                ("pkg/link".into(), CpKind::Symlink("a.py".into()), 0o777),
            ],
            "/p/.",
            "/stage/.",
        ))
    }

    /// Into an empty prefix: the directory is new (`lstat` ENOENT, `mkdir`
    /// with mode & 0700), so its entries are not stat'ed; files are
    /// created `O_EXCL`, given their mode, and the directory gets its mode
    /// back last.
    #[test]
    fn a_new_directory_is_made_and_its_entries_created_without_a_stat() {
        let mut fs = model_with(&["other"]);
        let mut copy = CopyTree::new(plan());
        let (ops, end) = run_on(&mut fs, &mut copy);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "lstat pkg",
                "mkdir pkg",
                "open pkg/a.py",
                "write pkg/a.py",
                "close pkg/a.py",
                "chmod pkg/a.py",
                "symlink pkg/link",
                "chmod pkg",
            ]
        );
        assert!(copy.diagnostics().is_empty() && !copy.failed());
    }

    /// A file where the directory goes: cp's own line, the subtree
    /// skipped, and the copy ends failed with that call.
    #[test]
    fn a_non_directory_in_the_way_skips_the_subtree_and_fails_the_copy() {
        let mut fs = model_with(&["pkg"]);
        let mut copy = CopyTree::new(plan());
        let (ops, end) = run_on(&mut fs, &mut copy);
        assert_eq!(ops, ["lstat pkg"]);
        let Next::Fail(failure) = end else {
            panic!("the copy fails")
        };
        assert_eq!((failure.syscall, &*failure.path), ("mkdir", "pkg"));
        let lines: Vec<&str> = copy
            .diagnostics()
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            lines,
            ["cp: cannot overwrite non-directory '/p/./pkg' with directory '/stage/./pkg'"]
        );
    }

    /// A write that fails (ENOSPC): cp 9.1's line, the file closed but
    /// not chmodded (it stays 0600, partial), and the copy goes on with
    /// the next entry and ends failed.
    #[test]
    fn a_failed_write_closes_the_file_without_its_mode_and_goes_on() {
        let mut fs = model_with(&["other"]);
        let mut copy = CopyTree::new(plan());
        let (ops, _) = run_on_striking(&mut fs, &mut copy, &mut |op| {
            matches!(op, Op::Write { .. }).then_some(Err(Errno::ENOSPC))
        });
        assert_eq!(
            ops,
            [
                "lstat pkg",
                "mkdir pkg",
                "open pkg/a.py",
                "write pkg/a.py",
                "close pkg/a.py",
                "symlink pkg/link",
                "chmod pkg",
            ]
        );
        let lines: Vec<&str> = copy
            .diagnostics()
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            lines,
            ["cp: error copying '/stage/./pkg/a.py' to '/p/./pkg/a.py': No space left on device"]
        );
        assert!(copy.failed());
        assert_eq!(fs.tree().get("pkg/a.py").map(|e| e.mode), Some(0o600));
    }
}
