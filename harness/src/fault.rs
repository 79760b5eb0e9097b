//! A fault injected into one op (`--faults enospc,eintr,short-write,eio`):
//! which calls it can strike, and what the struck call does and returns.
//!
//! The faults strike only where the real tools meet them:
//!
//! - `enospc` (the disk is full): a `write` of some bytes, an `open` that
//!   may create the file, `mkdir`, `symlink` and `link`. Nothing happens
//!   and the call fails with `ENOSPC`.
//! - `eio` (the device failed): a `write` of some bytes or a `read`. Nothing
//!   happens and the call fails with `EIO`.
//! - `eintr` (a signal arrived): a `write` of some bytes or a `read`.
//!   Nothing happens and the call fails with `EINTR`. Every tool modelled
//!   calls again: GNU cp's `safe_read`/`safe_write` loop on `EINTR`, and
//!   CPython retries since PEP 475. So the job is not handed the result and
//!   offers the same call again.
//! - `short-write` (the kernel wrote part of the buffer): a `write` of two
//!   bytes or more writes the first half and returns its length. cp's
//!   `full_write` and CPython's buffered writer write the rest with a
//!   second call, so the job's next call is `write` of the rest, and the
//!   job is handed the whole length once both are done. CPython's
//!   `_write_atomic` (a `.pyc`) makes one unbuffered write and does not
//!   look at its count: that job is handed the short count and goes on
//!   with the file cut short ([`crate::job::Job::writes_rest_of_short_write`]).

use std::fmt;
use std::str::FromStr;

use crate::content::Blob;
use crate::fs::Fs;
use crate::op::{Errno, Op, OpResult, Value};

/// One kind of fault an op can be struck by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// `ENOSPC`: no space left on the device.
    NoSpace,
    /// `EIO`: an input/output error.
    Io,
    /// `EINTR`: the call was interrupted by a signal; the tool calls again.
    Interrupted,
    /// The kernel wrote only the first half; the tool writes the rest.
    ShortWrite,
}

/// What a struck call did.
#[derive(Debug, Clone)]
pub struct Struck {
    /// The call that ran, as the trace shows it (for the second call of a
    /// short write, the `write` of the rest).
    pub ran: Op,
    /// Its result, as the trace shows it.
    pub result: OpResult,
    /// What the job is handed, or `None` when it is not handed anything
    /// yet and offers its call again (`EINTR`, the first half of a short
    /// write).
    pub handed: Option<OpResult>,
}

impl Fault {
    /// Every fault, in the order `--faults` lists them.
    pub const ALL: [Fault; 4] = [
        Fault::NoSpace,
        Fault::Interrupted,
        Fault::ShortWrite,
        Fault::Io,
    ];

    /// The name `--faults` and tokens use: `enospc`, `eio`, `eintr`,
    /// `short-write`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::NoSpace => "enospc",
            Fault::Io => "eio",
            Fault::Interrupted => "eintr",
            Fault::ShortWrite => "short-write",
        }
    }

    /// The errno the struck call fails with; `None` for a short write,
    /// which succeeds.
    pub fn errno(self) -> Option<Errno> {
        match self {
            Fault::NoSpace => Some(Errno::ENOSPC),
            Fault::Io => Some(Errno::EIO),
            Fault::Interrupted => Some(Errno::EINTR),
            Fault::ShortWrite => None,
        }
    }

    /// True when the real tool can meet this fault on `op`.
    pub fn strikes(self, op: &Op) -> bool {
        let writes_bytes = |least: u64| matches!(op, Op::Write { blob, .. } if blob.len() >= least);
        match self {
            Fault::NoSpace => {
                writes_bytes(1)
                    || matches!(op, Op::Open { flags, .. } if flags.create)
                    || matches!(op, Op::Mkdir { .. } | Op::Symlink { .. } | Op::Link { .. })
            }
            Fault::Io | Fault::Interrupted => writes_bytes(1) || matches!(op, Op::Read { .. }),
            Fault::ShortWrite => writes_bytes(2),
        }
    }

    /// Runs `op`, struck by this fault, on `fs`. `op` must be one this
    /// fault [strikes](Fault::strikes). A short write is handed to a tool
    /// that does not `write_rest` (CPython's `_write_atomic`), which goes
    /// on with the file cut short; the others are handed nothing yet.
    pub fn strike(self, op: &Op, write_rest: bool, fs: &mut dyn Fs) -> Struck {
        match (self.errno(), op) {
            (Some(errno), _) => Struck {
                ran: op.clone(),
                result: Err(errno),
                handed: (self != Fault::Interrupted).then_some(Err(errno)),
            },
            (None, Op::Write { fd, path, blob }) => {
                let half = Op::Write {
                    fd: *fd,
                    path: path.clone(),
                    blob: Blob::new(&blob.bytes()[..blob.bytes().len() / 2]),
                };
                let result = fs.apply(&half);
                let handed = match &result {
                    Ok(_) if write_rest => None,
                    other => Some(other.clone()),
                };
                Struck {
                    ran: half,
                    result,
                    handed,
                }
            }
            (None, other) => Struck {
                ran: other.clone(),
                result: fs.apply(other),
                handed: None,
            },
        }
    }

    /// The second call of a short write of `op` (its first half written):
    /// the `write` of the rest, which hands the job the whole length.
    pub fn rest_of_short_write(op: &Op, fs: &mut dyn Fs) -> Struck {
        let Op::Write { fd, path, blob } = op else {
            let result = fs.apply(op);
            return Struck {
                ran: op.clone(),
                handed: Some(result.clone()),
                result,
            };
        };
        let bytes = blob.bytes();
        let rest = Op::Write {
            fd: *fd,
            path: path.clone(),
            blob: Blob::new(&bytes[bytes.len() / 2..]),
        };
        let result = fs.apply(&rest);
        let handed = match &result {
            Ok(_) => Ok(Value::Written(blob.len())),
            Err(e) => Err(*e),
        };
        Struck {
            ran: rest,
            result,
            handed: Some(handed),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown fault {s:?}; expected enospc, eintr, short-write or eio")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::ModelFs;
    use crate::op::OpenFlags;

    fn write(fs: &mut ModelFs, bytes: &[u8]) -> (Op, crate::op::Fd) {
        fs.apply(&Op::Mkdir {
            path: "d".into(),
            mode: 0o755,
        })
        .unwrap();
        let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
            path: "d/f".into(),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o644,
        }) else {
            panic!("open failed")
        };
        let op = Op::Write {
            fd,
            path: "d/f".into(),
            blob: Blob::new(bytes.to_vec()),
        };
        (op, fd)
    }

    #[test]
    fn faults_strike_only_the_calls_the_real_tools_meet_them_on() {
        let mut fs = ModelFs::new();
        let (two, _) = write(&mut fs, b"ab");
        let mkdir = Op::Mkdir {
            path: "e".into(),
            mode: 0o755,
        };
        assert!(Fault::NoSpace.strikes(&two) && Fault::NoSpace.strikes(&mkdir));
        assert!(!Fault::Io.strikes(&mkdir) && !Fault::Interrupted.strikes(&mkdir));
        assert!(Fault::ShortWrite.strikes(&two));
        let Op::Write { fd, path, .. } = &two else {
            unreachable!()
        };
        let one = Op::Write {
            fd: *fd,
            path: path.clone(),
            blob: Blob::new(b"a".to_vec()),
        };
        assert!(!Fault::ShortWrite.strikes(&one), "one byte cannot be split");
        assert!(Fault::Io.strikes(&one));
    }

    #[test]
    fn an_errno_fault_changes_nothing_and_eintr_is_not_handed_to_the_job() {
        let mut fs = ModelFs::new();
        let (op, _) = write(&mut fs, b"abcd");
        let before = fs.tree();
        let full = Fault::NoSpace.strike(&op, true, &mut fs);
        assert_eq!(full.result, Err(Errno::ENOSPC));
        assert_eq!(full.handed, Some(Err(Errno::ENOSPC)));
        let eintr = Fault::Interrupted.strike(&op, true, &mut fs);
        assert_eq!(eintr.result, Err(Errno::EINTR));
        assert_eq!(eintr.handed, None, "the tool calls again");
        assert_eq!(fs.tree(), before);
    }

    #[test]
    fn a_short_write_writes_half_then_the_rest_and_the_file_ends_whole() {
        let mut fs = ModelFs::new();
        let (op, _) = write(&mut fs, b"abcde");
        let first = Fault::ShortWrite.strike(&op, true, &mut fs);
        assert_eq!(first.result, Ok(Value::Written(2)));
        assert_eq!(first.handed, None);
        let rest = Fault::rest_of_short_write(&op, &mut fs);
        assert_eq!(rest.result, Ok(Value::Written(3)));
        assert_eq!(rest.handed, Some(Ok(Value::Written(5))));
        let mut whole = ModelFs::new();
        let (op, _) = write(&mut whole, b"abcde");
        whole.apply(&op).unwrap();
        assert_eq!(fs.tree(), whole.tree());
    }

    #[test]
    fn fault_names_round_trip() {
        for f in Fault::ALL {
            assert_eq!(f.name().parse(), Ok(f));
        }
        assert!("enospc2".parse::<Fault>().is_err());
    }
}
