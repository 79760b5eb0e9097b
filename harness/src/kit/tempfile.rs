//! Writing one file the way Rust's `tempfile` crate persists one, as uv
//! does: create a temporary file with `O_EXCL` next to the target, fill
//! it (through a second `open(O_TRUNC)` when the bytes are copied with
//! `fs::copy`), rename it over the target, then a leftover `unlink` of
//! the temporary name that finds nothing, and the first descriptor closed.

use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::content::Blob;
use crate::fs::split_parent;
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Create,
    /// `fs::copy`'s own open of the temporary file.
    OpenCopy(Fd),
    Write {
        temp: Fd,
        to: Fd,
    },
    CloseCopy {
        temp: Fd,
        copy: Fd,
    },
    Persist(Fd),
    Unlink(Fd),
    CloseTemp(Fd),
    Done,
    Failed(Failure),
}

/// A `tempfile` write in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TempfileWrite {
    path: Arc<str>,
    temp: Arc<str>,
    content: Arc<Blob>,
    copy: bool,
    phase: Phase,
}

impl TempfileWrite {
    /// Starts writing `content` to `path` through a temporary file named
    /// for `job`; `copy` fills it with `fs::copy` (a second open).
    pub fn new(path: &Arc<str>, content: &Arc<Blob>, copy: bool, job: &str) -> TempfileWrite {
        let (dir, name) = split_parent(path);
        let job = job.replace('/', "_");
        let temp = match dir {
            "" => format!(".tmp.{name}.{job}"),
            dir => format!("{dir}/.tmp.{name}.{job}"),
        };
        TempfileWrite {
            path: path.clone(),
            temp: temp.into(),
            content: content.clone(),
            copy,
            phase: Phase::Create,
        }
    }

    fn fail(&mut self, syscall: &'static str, errno: Errno) {
        self.phase = Phase::Failed(Failure::new(syscall, errno, &self.temp).writing());
    }
}

impl Primitive for TempfileWrite {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        let path = self.temp.clone();
        Next::Op(match &self.phase {
            Phase::Create => Op::Open {
                path,
                flags: OpenFlags::CREATE_NEW,
                mode: 0o666,
            },
            Phase::OpenCopy(_) => Op::Open {
                path,
                flags: OpenFlags::CREATE_TRUNC,
                mode: 0o644,
            },
            Phase::Write { to, .. } => Op::Write {
                fd: *to,
                path,
                blob: self.content.clone(),
            },
            Phase::CloseCopy { copy, .. } => Op::Close { fd: *copy, path },
            Phase::Persist(_) => Op::Rename {
                from: path,
                to: self.path.clone(),
            },
            Phase::Unlink(_) => Op::Unlink { path },
            Phase::CloseTemp(fd) => Op::Close { fd: *fd, path },
            Phase::Done => return Next::Done,
            Phase::Failed(f) => return Next::Fail(f.clone()),
        })
    }

    fn complete(&mut self, result: &OpResult) {
        self.phase = match (&self.phase, result) {
            (Phase::Create, Ok(Value::Fd(fd))) if self.copy => Phase::OpenCopy(*fd),
            (Phase::Create, Ok(Value::Fd(fd))) => Phase::Write { temp: *fd, to: *fd },
            (Phase::OpenCopy(temp), Ok(Value::Fd(fd))) => Phase::Write {
                temp: *temp,
                to: *fd,
            },
            (Phase::Write { temp, to }, Ok(_)) if temp != to => Phase::CloseCopy {
                temp: *temp,
                copy: *to,
            },
            (Phase::Write { temp, .. }, Ok(_)) | (Phase::CloseCopy { temp, .. }, Ok(_)) => {
                Phase::Persist(*temp)
            }
            (Phase::Persist(fd), Ok(_)) => Phase::Unlink(*fd),
            // The temporary name is gone once persisted: ENOENT is the rule.
            (Phase::Unlink(fd), _) => Phase::CloseTemp(*fd),
            (Phase::CloseTemp(_), _) => Phase::Done,
            (Phase::Persist(_), Err(e)) => {
                let failure = Failure::between("rename", *e, &self.temp, &self.path);
                Phase::Failed(failure)
            }
            (Phase::Create | Phase::OpenCopy(_), Err(e)) => {
                self.fail("open", *e);
                return;
            }
            (Phase::Write { .. }, Err(e)) => {
                self.fail("write", *e);
                return;
            }
            (Phase::CloseCopy { .. }, Err(e)) => {
                self.fail("close", *e);
                return;
            }
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// A copied file: the temporary file made with O_EXCL, opened again to
    /// be copied into, renamed over the target; the leftover unlink finds
    /// nothing.
    #[test]
    fn a_copied_file_is_renamed_over_its_target() {
        let mut fs = model_with(&["sp/idna/core.py"]);
        let blob = Blob::new(b"new".to_vec());
        let mut w = TempfileWrite::new(&"sp/idna/core.py".into(), &blob, true, "uv");
        let (ops, end) = run_on(&mut fs, &mut w);
        assert_eq!(end, Next::Done);
        let t = "sp/idna/.tmp.core.py.uv";
        assert_eq!(
            ops,
            [
                format!("open {t}"),
                format!("open {t}"),
                format!("write {t}"),
                format!("close {t}"),
                format!("rename {t}"),
                format!("unlink {t}"),
                format!("close {t}"),
            ]
        );
        assert_eq!(fs.content("sp/idna/core.py").unwrap().to_bytes(), b"new");
    }
}
