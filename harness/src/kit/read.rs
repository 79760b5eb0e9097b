//! Reading a file whole, as a consumer of the installed tree does:
//! `open(O_RDONLY)`, `read`, `close`.

use std::sync::Arc;

use super::{Failure, Next, Primitive};
use crate::op::{Fd, Kind, Op, OpResult, OpenFlags, Value};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Open,
    Read(Fd),
    Close(Fd),
    Done,
    Failed(Failure),
}

/// A read in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadFile {
    path: Arc<str>,
    phase: Phase,
}

impl ReadFile {
    /// Starts reading `path`.
    pub fn new(path: &Arc<str>) -> ReadFile {
        ReadFile {
            path: path.clone(),
            phase: Phase::Open,
        }
    }
}

impl Primitive for ReadFile {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        let path = self.path.clone();
        match &self.phase {
            Phase::Open => Next::Op(Op::Open {
                path,
                flags: OpenFlags::READ,
                mode: 0,
            }),
            Phase::Read(fd) => Next::Op(Op::Read { fd: *fd, path }),
            Phase::Close(fd) => Next::Op(Op::Close { fd: *fd, path }),
            Phase::Done => Next::Done,
            Phase::Failed(f) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        self.phase = match (&self.phase, result) {
            (Phase::Open, Ok(Value::Fd(fd))) => Phase::Read(*fd),
            (Phase::Read(fd), Ok(_)) => Phase::Close(*fd),
            (Phase::Close(_), Ok(_)) => Phase::Done,
            (Phase::Open, Err(e)) => Phase::Failed(Failure::new("open", *e, &self.path)),
            (Phase::Read(_), Err(e)) => Phase::Failed(Failure::new("read", *e, &self.path)),
            (Phase::Close(_), Err(e)) => Phase::Failed(Failure::new("close", *e, &self.path)),
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        };
    }
}
