//! distlib's `ScriptMaker` writing one console script, as a reusable piece of
//! pip's state machine (`_write_script`, `FileOperator.write_binary_file`
//! and `set_executable_mode`), pinned against pip 23.2.1 under strace
//! (docs/fidelity.md):
//!
//! 1. `stat(bin/NAME)`: the clobber check (pip clobbers, so the answer is
//!    not used);
//! 2. `ensure_dir(bin)`, unless this install already made it: `stat(bin)`,
//!    and when it is missing `mkdir(bin, 0777)`, which raises on any error,
//!    EEXIST included (the prefix itself is stated too by distlib; the model
//!    leaves that out, the prefix always exists);
//! 3. `stat(bin/NAME)`, and `unlink` when it exists;
//! 4. `open(O_WRONLY|O_CREAT|O_TRUNC, 0666)`, write, close; a failed
//!    write still closes the file (`with open(…)`), then raises, and the
//!    empty script stays without its mode (`tests/data/faults/pip-script-enospc.strace`);
//! 5. `stat(bin/NAME)` and `chmod` to its mode `| 0555`.
//!
//! Every error that raises aborts pip with its OSError line.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::content::Blob;
use crate::op::{Errno, Fd, Op, OpResult, OpenFlags, Value};

/// Where one script write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stage {
    Clobber,
    DirStat,
    Mkdir,
    Exists,
    Unlink,
    Open,
    Write(Fd),
    Close(Fd),
    /// The write failed with this; the file is closed, then the write
    /// raises.
    CloseAfterError(Fd, Errno),
    ModeStat,
    Chmod(u32),
    Done,
}

/// What the script write wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptStep {
    /// Run this op.
    Op(Op),
    /// Written and executable.
    Done,
    /// Raised this errno on this path.
    Failed(Errno, Arc<str>),
}

/// Progress of writing one script.
#[derive(Debug, Clone)]
pub struct ScriptWrite {
    path: Arc<str>,
    dir: Arc<str>,
    blob: Arc<Blob>,
    stage: Stage,
    failed: Option<(Errno, Arc<str>)>,
    made_dir: bool,
}

/// Hashes where the write is; the directory and the bytes follow from the
/// path within one plan.
impl Hash for ScriptWrite {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.path.hash(state);
        self.stage.hash(state);
        self.failed.hash(state);
        self.made_dir.hash(state);
    }
}

impl ScriptWrite {
    /// Starts writing `blob` to `path` (in directory `dir`); `dir_ensured`
    /// when this install already made `dir`, so distlib skips `ensure_dir`.
    pub fn new(path: Arc<str>, dir: Arc<str>, blob: Arc<Blob>, dir_ensured: bool) -> ScriptWrite {
        ScriptWrite {
            path,
            dir,
            blob,
            stage: Stage::Clobber,
            failed: None,
            made_dir: dir_ensured,
        }
    }

    /// True once this write (or an earlier one of the install) made the
    /// scripts directory: later scripts skip `ensure_dir`.
    pub fn dir_ensured(&self) -> bool {
        self.made_dir
    }

    /// The next op, or the outcome.
    pub fn step(&self) -> ScriptStep {
        if let Some((e, p)) = &self.failed {
            return ScriptStep::Failed(*e, p.clone());
        }
        let path = self.path.clone();
        ScriptStep::Op(match self.stage {
            Stage::Clobber | Stage::Exists | Stage::ModeStat => Op::Stat { path },
            Stage::DirStat => Op::Stat {
                path: self.dir.clone(),
            },
            Stage::Mkdir => Op::Mkdir {
                path: self.dir.clone(),
                mode: 0o777,
            },
            Stage::Unlink => Op::Unlink { path },
            Stage::Open => Op::Open {
                path,
                flags: OpenFlags::CREATE_TRUNC,
                mode: 0o666,
            },
            Stage::Write(fd) => Op::Write {
                fd,
                path,
                blob: self.blob.clone(),
            },
            Stage::Close(fd) | Stage::CloseAfterError(fd, _) => Op::Close { fd, path },
            Stage::Chmod(mode) => Op::Chmod { path, mode },
            Stage::Done => return ScriptStep::Done,
        })
    }

    /// Feeds the result of the op from [`ScriptWrite::step`].
    pub fn complete(&mut self, result: &OpResult) {
        let fail = |me: &mut ScriptWrite, e: Errno, path: Arc<str>| me.failed = Some((e, path));
        self.stage = match (self.stage, result) {
            (Stage::Clobber, _) if self.made_dir => Stage::Exists,
            (Stage::Clobber, _) => Stage::DirStat,
            (Stage::DirStat, Ok(_)) => Stage::Exists,
            (Stage::DirStat, Err(_)) => Stage::Mkdir,
            (Stage::Mkdir, Ok(_)) => {
                self.made_dir = true;
                Stage::Exists
            }
            (Stage::Exists, Ok(_)) => Stage::Unlink,
            (Stage::Exists, Err(_)) | (Stage::Unlink, Ok(_)) => Stage::Open,
            (Stage::Open, Ok(Value::Fd(fd))) => Stage::Write(*fd),
            (Stage::Write(fd), Ok(_)) => Stage::Close(fd),
            (Stage::Write(fd), Err(e)) => Stage::CloseAfterError(fd, *e),
            (Stage::CloseAfterError(_, e), _) => {
                fail(self, e, self.path.clone());
                self.stage
            }
            (Stage::Close(_), _) => Stage::ModeStat,
            (Stage::ModeStat, Ok(Value::Meta(m))) => Stage::Chmod((m.mode | 0o555) & 0o7777),
            (Stage::ModeStat, Ok(_)) => Stage::Chmod(0o755),
            (Stage::Chmod(_), Ok(_)) => Stage::Done,
            (Stage::Mkdir, Err(e)) => {
                fail(self, *e, self.dir.clone());
                self.stage
            }
            (_, Err(e)) => {
                fail(self, *e, self.path.clone());
                self.stage
            }
            (_, Ok(_)) => Stage::Done,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed write (recorded: `pip-script-enospc.strace`): the script
    /// is closed, then the write fails with the write's errno; no chmod.
    #[test]
    fn a_failed_write_closes_the_script_then_fails() {
        let mut w = ScriptWrite::new(
            "bin/t".into(),
            "bin".into(),
            Blob::new(b"#!".to_vec()),
            true,
        );
        let fd: Fd = 3;
        let results = [
            Err(Errno::ENOENT),
            Err(Errno::ENOENT),
            Ok(Value::Fd(fd)),
            Err(Errno::ENOSPC),
            Ok(Value::Unit),
        ];
        let mut ops = Vec::new();
        for result in &results {
            let ScriptStep::Op(op) = w.step() else {
                panic!("an op is left")
            };
            ops.push(op.syscall());
            w.complete(result);
        }
        assert_eq!(ops, ["stat", "stat", "open", "write", "close"]);
        assert_eq!(w.step(), ScriptStep::Failed(Errno::ENOSPC, "bin/t".into()));
    }
}
