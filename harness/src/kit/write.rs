//! Writing one file: in place, exclusively, or through a temporary file
//! renamed over the target; optionally with the open's mode, a `chmod`
//! after the close, and the error handling of pip's writers
//! ([`WriteErrors`]).

use std::sync::Arc;

use super::{Failure, Next, Primitive, TmpName, WriteHow};
use crate::content::Blob;
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

/// How a write treats the errors of the calls after its `open`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WriteErrors {
    /// Every failed call ends the write with its failure.
    #[default]
    Fail,
    /// Python's `with open(...)` in pip's wheel installer: the result of
    /// `close` is not looked at, and a failed `write` still closes the
    /// file (the `with` block's exit) before the write ends failed with
    /// the write's errno. Nothing is removed: the partial file stays
    /// (recorded: `tests/data/faults/pip-*.strace`).
    UncheckedClose,
    /// pip's `adjacent_tmp_file` (`INSTALLER`, `direct_url.json`,
    /// `RECORD`): its explicit `flush()` fails, the close flushes the
    /// same buffered bytes again, then closes; the write ends failed with
    /// the first errno (the second's, if the second fails too). No chmod,
    /// no rename: the temporary file stays, 0600, beside the target.
    FlushedAgainOnClose,
    /// `importlib`'s `_write_atomic` (the importer's and `py_compile`'s
    /// `.pyc`), whose every OSError the caller swallows: a failed `write`
    /// still closes the file; a failed `write`, `close` or `rename`
    /// unlinks the temporary file, then the write ends failed.
    BestEffort,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Open,
    Write(Fd),
    Close(Fd),
    Chmod,
    Rename,
    /// The rename failed with this; the temporary file is unlinked.
    UnlinkTemp(Box<Failure>),
    /// The write failed with this; the same bytes are written again
    /// ([`WriteErrors::FlushedAgainOnClose`]).
    WriteAgain(Fd, Box<Failure>),
    /// The write failed with this; the descriptor is closed before the
    /// write ends failed.
    CloseAfterError(Fd, Box<Failure>),
    Done,
    /// Boxed: a write in progress stays small, and jobs move it per op.
    Failed(Box<Failure>),
}

/// A file write in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteFile {
    path: Arc<str>,
    /// Where the bytes go first: the target, or its temporary name.
    written: Arc<str>,
    content: Arc<Blob>,
    how: WriteHow,
    flags: OpenFlags,
    /// The mode passed to `open`.
    open_mode: u32,
    /// A `chmod` of the written file after the close (before the rename).
    chmod_after_close: Option<u32>,
    /// No `write` call for empty content: open, then close.
    skip_empty_write: bool,
    errors: WriteErrors,
    phase: Phase,
}

impl WriteFile {
    /// Starts writing `content` to `path`; `job` names the temporary file
    /// of a [`TmpName::Unique`] write.
    pub fn new(path: &Arc<str>, content: &Arc<Blob>, how: WriteHow, job: &str) -> WriteFile {
        let written = match how {
            WriteHow::Atomic(TmpName::Shared) => format!("{path}.tmp").into(),
            WriteHow::Atomic(TmpName::Unique) => {
                format!("{path}.tmp.{}", job.replace('/', "_")).into()
            }
            WriteHow::InPlace | WriteHow::Exclusive | WriteHow::Tempfile { .. } => path.clone(),
        };
        let flags = match how {
            WriteHow::Exclusive => OpenFlags::CREATE_NEW,
            WriteHow::InPlace | WriteHow::Atomic(_) | WriteHow::Tempfile { .. } => {
                OpenFlags::CREATE_TRUNC
            }
        };
        WriteFile::build(path, written, content, how, flags)
    }

    fn build(
        path: &Arc<str>,
        written: Arc<str>,
        content: &Arc<Blob>,
        how: WriteHow,
        flags: OpenFlags,
    ) -> WriteFile {
        WriteFile {
            path: path.clone(),
            written,
            content: content.clone(),
            how,
            flags,
            open_mode: 0o644,
            chmod_after_close: None,
            skip_empty_write: false,
            errors: WriteErrors::Fail,
            phase: Phase::Open,
        }
    }

    /// Writes `content` to the temporary file `tmp`, created with `O_EXCL`
    /// (`mkstemp`, or `py_compile`'s `<pyc>.<id>`), then renames it over
    /// `path`.
    pub fn through_exclusive_temp(tmp: &Arc<str>, path: &Arc<str>, content: &Arc<Blob>) -> Self {
        let how = WriteHow::Atomic(TmpName::Unique);
        WriteFile::build(path, tmp.clone(), content, how, OpenFlags::CREATE_NEW)
    }

    /// Writes `content` to the temporary file `tmp`, opened
    /// `O_CREAT|O_TRUNC` (a fixed name such as portage's `<path>#new`),
    /// then renames it over `path`.
    pub fn through_temp(tmp: &Arc<str>, path: &Arc<str>, content: &Arc<Blob>) -> WriteFile {
        let how = WriteHow::Atomic(TmpName::Unique);
        WriteFile::build(path, tmp.clone(), content, how, OpenFlags::CREATE_TRUNC)
    }

    /// The same write with `mode` passed to `open` (0644 unless told).
    pub fn with_open_mode(mut self, mode: u32) -> WriteFile {
        self.open_mode = mode;
        self
    }

    /// The same write with a `chmod(mode)` of the written file after its
    /// close, before any rename (pip's executables, its `tempfile`s).
    pub fn with_chmod_after_close(mut self, mode: Option<u32>) -> WriteFile {
        self.chmod_after_close = mode;
        self
    }

    /// The same write without a `write` call when the content is empty
    /// (Python writes nothing for an empty string).
    pub fn skipping_empty_write(mut self) -> WriteFile {
        self.skip_empty_write = true;
        self
    }

    /// The same write with these error rules.
    pub fn with_errors(mut self, errors: WriteErrors) -> WriteFile {
        self.errors = errors;
        self
    }

    /// The write's progress alone, for a job whose own position already
    /// names the file and the way it is written (hashing the paths and
    /// the content again would only cost).
    pub fn progress_key(&self) -> impl std::hash::Hash + '_ {
        &self.phase
    }

    fn after_close(&self) -> Phase {
        if self.chmod_after_close.is_some() {
            Phase::Chmod
        } else {
            self.after_chmod()
        }
    }

    fn after_chmod(&self) -> Phase {
        if self.written != self.path {
            Phase::Rename
        } else {
            Phase::Done
        }
    }

    /// Where a write goes once `failure` happened and its descriptor is
    /// closed: a best-effort write through a temporary file unlinks it
    /// first; every other write ends failed.
    fn after_error(&self, failure: Box<Failure>) -> Phase {
        if self.errors == WriteErrors::BestEffort && self.written != self.path {
            Phase::UnlinkTemp(failure)
        } else {
            Phase::Failed(failure)
        }
    }

    fn fail(&mut self, syscall: &'static str, errno: Errno) {
        let failure = Failure::new(syscall, errno, &self.written);
        self.phase = Phase::Failed(Box::new(match syscall {
            "open" => failure.writing(),
            _ => failure,
        }));
    }
}

impl Primitive for WriteFile {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        self.offer(self.written.clone())
    }

    fn complete(&mut self, result: &OpResult) {
        self.take_result(result)
    }
}

impl WriteFile {
    /// [`Primitive::complete`] with the result of the op whose path is
    /// `done`, then [`Primitive::next`]: the op's path is moved into the
    /// next op rather than counted again (a job's hot path: pip writes
    /// every file of a wheel this way).
    pub fn advance(&mut self, done: Arc<str>, result: &OpResult) -> Next {
        self.take_result(result);
        if Arc::ptr_eq(&done, &self.written) {
            self.offer(done)
        } else {
            self.offer(self.written.clone())
        }
    }

    /// The next op, on `path` (the file written).
    fn offer(&self, path: Arc<str>) -> Next {
        match &self.phase {
            Phase::Open => Next::Op(Op::Open {
                path,
                flags: self.flags,
                mode: self.open_mode,
            }),
            Phase::Write(fd) => Next::Op(Op::Write {
                fd: *fd,
                path,
                blob: self.content.clone(),
            }),
            Phase::Close(fd) => Next::Op(Op::Close { fd: *fd, path }),
            Phase::Chmod => Next::Op(Op::Chmod {
                path,
                mode: self.chmod_after_close.unwrap_or(0o644),
            }),
            Phase::Rename => Next::Op(Op::Rename {
                from: path,
                to: self.path.clone(),
            }),
            Phase::UnlinkTemp(_) => Next::Op(Op::Unlink { path }),
            Phase::WriteAgain(fd, _) => Next::Op(Op::Write {
                fd: *fd,
                path,
                blob: self.content.clone(),
            }),
            Phase::CloseAfterError(fd, _) => Next::Op(Op::Close { fd: *fd, path }),
            Phase::Done => Next::Done,
            Phase::Failed(f) => Next::Fail((**f).clone()),
        }
    }

    fn take_result(&mut self, result: &OpResult) {
        let lenient = self.errors == WriteErrors::BestEffort;
        match (&self.phase, result) {
            (Phase::Open, Ok(Value::Fd(fd)))
                if self.skip_empty_write && self.content.is_empty() =>
            {
                self.phase = Phase::Close(*fd)
            }
            (Phase::Open, Ok(Value::Fd(fd))) => self.phase = Phase::Write(*fd),
            // An open that hands back no descriptor wrote nothing to close.
            (Phase::Open, Ok(_)) => self.phase = Phase::Done,
            (Phase::Open, Err(e)) => self.fail("open", *e),
            (Phase::Write(fd), Ok(_)) => self.phase = Phase::Close(*fd),
            (Phase::Write(fd), Err(e)) => {
                let failure = Box::new(Failure::new("write", *e, &self.written));
                self.phase = match self.errors {
                    WriteErrors::Fail => Phase::Failed(failure),
                    WriteErrors::UncheckedClose | WriteErrors::BestEffort => {
                        Phase::CloseAfterError(*fd, failure)
                    }
                    WriteErrors::FlushedAgainOnClose => Phase::WriteAgain(*fd, failure),
                };
            }
            (Phase::WriteAgain(fd, failure), result) => {
                let failure = match result {
                    Err(e) => Box::new(Failure::new("write", *e, &self.written)),
                    Ok(_) => failure.clone(),
                };
                self.phase = Phase::CloseAfterError(*fd, failure);
            }
            (Phase::CloseAfterError(_, failure), _) => {
                self.phase = self.after_error(failure.clone())
            }
            (Phase::Close(_), Err(e)) if self.errors == WriteErrors::Fail => self.fail("close", *e),
            (Phase::Close(_), Err(e)) if lenient => {
                let failure = Box::new(Failure::new("close", *e, &self.written));
                self.phase = self.after_error(failure);
            }
            (Phase::Close(_), _) => self.phase = self.after_close(),
            (Phase::Chmod, Ok(_)) => self.phase = self.after_chmod(),
            (Phase::Chmod, Err(e)) => self.fail("chmod", *e),
            (Phase::Rename, Ok(_)) => self.phase = Phase::Done,
            (Phase::Rename, Err(e)) => {
                let failure = Box::new(Failure::between("rename", *e, &self.written, &self.path));
                self.phase = if lenient {
                    Phase::UnlinkTemp(failure)
                } else {
                    Phase::Failed(failure)
                };
            }
            (Phase::UnlinkTemp(failure), _) => self.phase = Phase::Failed(failure.clone()),
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// An atomic write with a unique name: open the temporary file, write,
    /// close, rename over the target.
    #[test]
    fn an_atomic_write_renames_its_temporary_file_over_the_target() {
        let mut fs = model_with(&["bin/sh"]);
        let blob = Blob::new(b"x".to_vec());
        let how = WriteHow::Atomic(TmpName::Unique);
        let mut w = WriteFile::new(&"bin/sbang".into(), &blob, how, "a");
        let (ops, end) = run_on(&mut fs, &mut w);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "open bin/sbang.tmp.a",
                "write bin/sbang.tmp.a",
                "close bin/sbang.tmp.a",
                "rename bin/sbang.tmp.a",
            ]
        );
        assert!(fs.inode_of("bin/sbang").is_some());
        assert!(fs.inode_of("bin/sbang.tmp.a").is_none());
    }

    /// An exclusive write that finds the file there fails on `open`, as
    /// a write, with EEXIST.
    #[test]
    fn an_exclusive_write_fails_on_an_existing_file() {
        let blob = Blob::new(b"x".to_vec());
        let mut w = WriteFile::new(&"a.pyc".into(), &blob, WriteHow::Exclusive, "a");
        w.next(&|_| None);
        w.complete(&Err(Errno::EEXIST));
        let Next::Fail(f) = w.next(&|_| None) else {
            panic!("the write fails")
        };
        assert_eq!(
            (f.syscall, f.writing, f.errno),
            ("open", true, Errno::EEXIST)
        );
    }

    /// A shared temporary name is the same for every job.
    #[test]
    fn a_shared_temporary_name_does_not_depend_on_the_job() {
        let blob = Blob::new(b"x".to_vec());
        let how = WriteHow::Atomic(TmpName::Shared);
        let a = WriteFile::new(&"bin/sbang".into(), &blob, how, "a");
        let b = WriteFile::new(&"bin/sbang".into(), &blob, how, "b");
        assert_eq!(a.written, b.written);
        assert_eq!(&*a.written, "bin/sbang.tmp");
    }

    /// pip's write of an executable from a wheel: `open(O_CREAT|O_TRUNC,
    /// 0666)`, write, close, then `chmod(0755)`; the file ends executable.
    #[test]
    fn a_chmod_after_close_follows_the_close_with_its_mode() {
        let mut fs = model_with(&["bin/x"]);
        let blob = Blob::new(b"#!".to_vec());
        let mut w = WriteFile::new(&"bin/tool".into(), &blob, WriteHow::InPlace, "")
            .with_open_mode(0o666)
            .with_chmod_after_close(Some(0o755))
            .with_errors(WriteErrors::UncheckedClose);
        assert_eq!(
            w.next(&|_| None),
            Next::Op(Op::Open {
                path: "bin/tool".into(),
                flags: OpenFlags::CREATE_TRUNC,
                mode: 0o666,
            })
        );
        let (ops, end) = run_on(&mut fs, &mut w);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "open bin/tool",
                "write bin/tool",
                "close bin/tool",
                "chmod bin/tool"
            ]
        );
        assert_eq!(
            w.next(&|_| None),
            Next::Done,
            "a finished write offers nothing more"
        );
    }

    /// pip's metadata `tempfile`: opened `O_EXCL` 0600 under its own name,
    /// nothing written for empty content, chmod 0644, renamed over.
    #[test]
    fn an_exclusive_temporary_file_is_chmodded_then_renamed_without_a_write_of_nothing() {
        let mut fs = model_with(&["d.dist-info/METADATA"]);
        let blob = Blob::new(Vec::new());
        let mut w = WriteFile::through_exclusive_temp(
            &"d.dist-info/RECORDab.tmp".into(),
            &"d.dist-info/RECORD".into(),
            &blob,
        )
        .with_open_mode(0o600)
        .with_chmod_after_close(Some(0o644))
        .skipping_empty_write();
        assert_eq!(
            w.next(&|_| None),
            Next::Op(Op::Open {
                path: "d.dist-info/RECORDab.tmp".into(),
                flags: OpenFlags::CREATE_NEW,
                mode: 0o600,
            })
        );
        let (ops, end) = run_on(&mut fs, &mut w);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "open d.dist-info/RECORDab.tmp",
                "close d.dist-info/RECORDab.tmp",
                "chmod d.dist-info/RECORDab.tmp",
                "rename d.dist-info/RECORDab.tmp",
            ]
        );
        assert!(fs.inode_of("d.dist-info/RECORD").is_some());
    }

    /// Runs `w` with `results` handed in turn; the ops it offered and
    /// where it stopped.
    fn drive(w: &mut WriteFile, results: &[OpResult]) -> (Vec<String>, Next) {
        let mut ops = Vec::new();
        for result in results {
            let Next::Op(op) = w.next(&|_| None) else {
                panic!("an op is left")
            };
            ops.push(format!("{} {}", op.syscall(), op.path()));
            w.complete(result);
        }
        (ops, w.next(&|_| None))
    }

    /// `_write_atomic`'s best effort (recorded: `c-pyc-enospc.strace`): a
    /// failed write closes the file and unlinks the temporary one, no
    /// rename; a failed rename unlinks it too. Strict writes stop at the
    /// first failure.
    #[test]
    fn a_best_effort_write_unlinks_its_temporary_file_after_a_failed_write_or_rename() {
        let blob = Blob::new(b"pyc".to_vec());
        let start =
            || WriteFile::through_exclusive_temp(&"c/a.pyc.1".into(), &"c/a.pyc".into(), &blob);
        let fd: Fd = 3;
        let mut w = start().with_errors(WriteErrors::BestEffort);
        let (ops, end) = drive(
            &mut w,
            &[
                Ok(Value::Fd(fd)),
                Err(Errno::ENOSPC),
                Ok(Value::Unit),
                Ok(Value::Unit),
            ],
        );
        assert_eq!(
            ops,
            [
                "open c/a.pyc.1",
                "write c/a.pyc.1",
                "close c/a.pyc.1",
                "unlink c/a.pyc.1"
            ]
        );
        let Next::Fail(f) = end else {
            panic!("the write failed")
        };
        assert_eq!((f.syscall, f.errno), ("write", Errno::ENOSPC));

        let mut w = start().with_errors(WriteErrors::BestEffort);
        let results = [
            Ok(Value::Fd(fd)),
            Ok(Value::Written(3)),
            Ok(Value::Unit),
            Err(Errno::ENOENT),
            Ok(Value::Unit),
        ];
        let (ops, end) = drive(&mut w, &results);
        assert_eq!(ops[3..], ["rename c/a.pyc.1", "unlink c/a.pyc.1"]);
        let Next::Fail(f) = end else {
            panic!("the rename failed")
        };
        assert_eq!((f.syscall, f.errno), ("rename", Errno::ENOENT));
        let results = [Ok(Value::Fd(fd)), Err(Errno::EBADF)];

        let mut strict = start();
        strict.next(&|_| None);
        strict.complete(&results[0]);
        strict.next(&|_| None);
        strict.complete(&results[1]);
        let Next::Fail(f) = strict.next(&|_| None) else {
            panic!("a strict write stops")
        };
        assert_eq!((f.syscall, f.errno), ("write", Errno::EBADF));
    }

    /// pip's writers after a failed write (recorded:
    /// `pip-data-enospc.strace`, `pip-record-enospc.strace`): the wheel's
    /// files are closed and the write fails; the `tempfile`s write the
    /// same bytes again (the close's flush), close, and fail, with no
    /// chmod and no rename.
    #[test]
    fn pips_writers_close_after_a_failed_write_and_its_tempfiles_write_again() {
        let blob = Blob::new(b"abc".to_vec());
        let fd: Fd = 3;
        let mut file = WriteFile::new(&"m/a".into(), &blob, WriteHow::InPlace, "")
            .with_errors(WriteErrors::UncheckedClose);
        let (ops, end) = drive(
            &mut file,
            &[Ok(Value::Fd(fd)), Err(Errno::ENOSPC), Ok(Value::Unit)],
        );
        assert_eq!(ops, ["open m/a", "write m/a", "close m/a"]);
        assert!(matches!(end, Next::Fail(f) if f.syscall == "write" && f.errno == Errno::ENOSPC));

        let mut temp =
            WriteFile::through_exclusive_temp(&"d/RECORDab.tmp".into(), &"d/RECORD".into(), &blob)
                .with_chmod_after_close(Some(0o644))
                .with_errors(WriteErrors::FlushedAgainOnClose);
        let (ops, end) = drive(
            &mut temp,
            &[
                Ok(Value::Fd(fd)),
                Err(Errno::EIO),
                Ok(Value::Written(3)),
                Ok(Value::Unit),
            ],
        );
        assert_eq!(
            ops,
            [
                "open d/RECORDab.tmp",
                "write d/RECORDab.tmp",
                "write d/RECORDab.tmp",
                "close d/RECORDab.tmp"
            ]
        );
        assert!(matches!(end, Next::Fail(f) if f.syscall == "write" && f.errno == Errno::EIO));
    }
}
