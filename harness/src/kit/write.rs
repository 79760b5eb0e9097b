//! Writing one file: in place, exclusively, or through a temporary file
//! renamed over the target.

use std::sync::Arc;

use super::{Failure, Next, Primitive, TmpName, WriteHow};
use crate::content::Blob;
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Open,
    Write(Fd),
    Close(Fd),
    Rename,
    Done,
    Failed(Failure),
}

/// A file write in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteFile {
    path: Arc<str>,
    /// Where the bytes go first: the target, or its temporary name.
    written: Arc<str>,
    content: Arc<Blob>,
    how: WriteHow,
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
        WriteFile {
            path: path.clone(),
            written,
            content: content.clone(),
            how,
            phase: Phase::Open,
        }
    }

    fn flags(&self) -> OpenFlags {
        match self.how {
            WriteHow::Exclusive => OpenFlags::CREATE_NEW,
            WriteHow::InPlace | WriteHow::Atomic(_) | WriteHow::Tempfile { .. } => {
                OpenFlags::CREATE_TRUNC
            }
        }
    }

    fn fail(&mut self, syscall: &'static str, errno: Errno) {
        let failure = Failure::new(syscall, errno, &self.written);
        self.phase = Phase::Failed(match syscall {
            "open" => failure.writing(),
            _ => failure,
        });
    }
}

impl Primitive for WriteFile {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        let path = self.written.clone();
        match &self.phase {
            Phase::Open => Next::Op(Op::Open {
                path,
                flags: self.flags(),
                mode: 0o644,
            }),
            Phase::Write(fd) => Next::Op(Op::Write {
                fd: *fd,
                path,
                blob: self.content.clone(),
            }),
            Phase::Close(fd) => Next::Op(Op::Close { fd: *fd, path }),
            Phase::Rename => Next::Op(Op::Rename {
                from: path,
                to: self.path.clone(),
            }),
            Phase::Done => Next::Done,
            Phase::Failed(f) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        match (&self.phase, result) {
            (Phase::Open, Ok(Value::Fd(fd))) => self.phase = Phase::Write(*fd),
            (Phase::Open, Err(e)) => self.fail("open", *e),
            (Phase::Write(fd), Ok(_)) => self.phase = Phase::Close(*fd),
            (Phase::Write(_), Err(e)) => self.fail("write", *e),
            (Phase::Close(_), Ok(_)) if self.written != self.path => self.phase = Phase::Rename,
            (Phase::Close(_), Ok(_)) | (Phase::Rename, Ok(_)) => self.phase = Phase::Done,
            (Phase::Close(_), Err(e)) => self.fail("close", *e),
            (Phase::Rename, Err(e)) => {
                let failure = Failure::between("rename", *e, &self.written, &self.path);
                self.phase = Phase::Failed(failure);
            }
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
}
