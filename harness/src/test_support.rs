//! Builders shared by the unit tests of the modules that read events: the
//! conflicting pairs (`conflicts.rs`, `pairs/`) and op identities
//! (`directed/op_id.rs`), and the happens-before of dpor
//! (`dpor/happens_before.rs`).

use proptest::prelude::*;

use crate::execution::Event;
use crate::op::{Op, OpenFlags, Value};
use crate::schedule::JobId;

/// An event of `job` running `op`, which succeeded.
pub(crate) fn ev(job: JobId, op: Op) -> Event {
    Event {
        job,
        op,
        result: Ok(Value::Unit),
    }
}

/// `mkdir(p, 0755)`.
pub(crate) fn mkdir(p: &str) -> Op {
    Op::Mkdir {
        path: p.into(),
        mode: 0o755,
    }
}

/// `lstat(p)`.
pub(crate) fn lstat(p: &str) -> Op {
    Op::Lstat { path: p.into() }
}

/// `open(p, O_RDONLY)`.
pub(crate) fn open(p: &str) -> Op {
    Op::Open {
        path: p.into(),
        flags: OpenFlags::READ,
        mode: 0,
    }
}

/// A small random op over a few paths (the root among them), so that
/// every clause of the relation and the repeated paths of renames occur.
pub(crate) fn any_op() -> impl Strategy<Value = Op> {
    let path = prop::sample::select(vec!["", "a", "a/b", "a/b/c", "a/d", "e", "e/a"]);
    let flags = prop::sample::select(vec![
        OpenFlags::READ,
        OpenFlags::CREATE_NEW,
        OpenFlags {
            write: true,
            create: false,
            excl: false,
            trunc: true,
        },
    ]);
    (0u8..12, path.clone(), path, flags).prop_map(|(kind, p, q, flags)| {
        let (p, q): (std::sync::Arc<str>, std::sync::Arc<str>) = (p.into(), q.into());
        match kind {
            0 => Op::Lstat { path: p },
            1 => Op::Stat { path: p },
            2 => Op::Mkdir {
                path: p,
                mode: 0o755,
            },
            3 => Op::Open {
                path: p,
                flags,
                mode: 0o644,
            },
            4 => Op::Read { fd: 3, path: p },
            5 => Op::Close { fd: 3, path: p },
            6 => Op::Rename { from: p, to: q },
            7 => Op::Unlink { path: p },
            8 => Op::Rmdir { path: p },
            9 => Op::Symlink { target: q, path: p },
            10 => Op::Chmod {
                path: p,
                mode: 0o700,
            },
            _ => Op::Readdir { path: p },
        }
    })
}

/// Runs `job` alone on `fs` to its exit, where `strike` may give an op's
/// result instead of the filesystem (a fault: the op does not run); the
/// ops it ran, as `syscall path`, and its exit status. Panics if the job
/// waits: alone, nothing would end the wait.
pub(crate) fn run_job_alone(
    fs: &mut crate::fs::ModelFs,
    job: &mut dyn crate::job::Job,
    strike: &mut dyn FnMut(&Op) -> Option<crate::op::OpResult>,
) -> (Vec<String>, i32) {
    use crate::fs::Fs;
    use crate::job::Offer;
    let mut ops = Vec::new();
    loop {
        let offer = {
            let probe = |p: &str| fs.probe(p);
            job.poll(&probe)
        };
        match offer {
            Offer::Op => {
                let op = job.offered().clone();
                ops.push(format!("{} {}", op.syscall(), op.path()));
                let result = strike(&op).unwrap_or_else(|| fs.apply(&op));
                job.complete(&result);
            }
            Offer::Exit(code) => return (ops, code),
            Offer::Wait(c) => panic!("{} waits alone on {c:?}", job.label()),
        }
    }
}
