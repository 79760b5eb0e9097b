//! A fault point on the gate (`run --fault A@K:enospc`): the first call of
//! job `A` that the fault strikes, made once `K` of its gated syscalls have
//! been released. `K` counts the job's gated calls as `--kill` counts them;
//! the struck call may be that `K+1`-th gated call (an `openat` with
//! `O_CREAT`, a `mkdir`) or a `write`/`read` through a descriptor of a prefix
//! file made between two of them. The point the report prints is the one
//! actually struck, so replaying it strikes the same call.

use std::fmt;
use std::str::FromStr;

use super::kill::KillPoint;
use super::verdict::label;
use crate::fault::Fault;
use crate::schedule::JobId;

/// Where a fault is injected: job, count of its released gated calls, fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultPoint {
    /// The job struck (A is 0).
    pub job: JobId,
    /// How many of its gated syscalls are released before the struck call.
    pub after: usize,
    /// The fault.
    pub fault: Fault,
}

impl fmt::Display for FaultPoint {
    /// `A@3:enospc`, as `--fault` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", label(self.job), self.after, self.fault)
    }
}

impl FromStr for FaultPoint {
    type Err = String;

    /// `JOB@K:FAULT`: a [`KillPoint`] and a fault name.
    fn from_str(s: &str) -> Result<FaultPoint, String> {
        let (at, fault) = s.split_once(':').ok_or_else(|| {
            format!("{s:?}: expected JOB@K:FAULT, as in A@3:enospc (FAULT one of enospc, eio, eintr, short-write)")
        })?;
        let point: KillPoint = at.parse()?;
        let fault: Fault = fault.parse()?;
        Ok(FaultPoint {
            job: point.job,
            after: point.after,
            fault,
        })
    }
}

/// A fault that struck a call in an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Struck {
    /// The point asked for (`--fault`, or the seeded plan's choice).
    pub asked: FaultPoint,
    /// The point struck: the job's released gated calls before the struck
    /// call, which is at or after the asked count.
    pub point: FaultPoint,
    /// The struck call, strace-style (`write(<M/a.py>, 6)`), with the
    /// result the process saw (`= -1 ENOSPC`, `= 3` for half of a short
    /// write), once it returned.
    pub call: String,
    /// The result the process saw, rendered (`-1 ENOSPC`, `3`), or `?` if it
    /// died in the call.
    pub result: String,
    /// How many gated calls (of all jobs) had been released when it was
    /// struck: where it stands in the execution's trace.
    pub step: usize,
}

impl Struck {
    /// The trace line of the fault: `[A] enospc struck write(<M/a.py>, 6) = -1 ENOSPC`.
    pub fn trace_line(&self) -> String {
        format!(
            "[{}] {} struck {} = {}",
            label(self.point.job),
            self.point.fault,
            self.call,
            self.result
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_points_read_and_print_as_job_at_count_colon_fault() {
        let p: FaultPoint = "B@12:short-write".parse().unwrap();
        assert_eq!(
            p,
            FaultPoint {
                job: 1,
                after: 12,
                fault: Fault::ShortWrite
            }
        );
        assert_eq!(p.to_string(), "B@12:short-write");
        assert_eq!("J27@0:eio".parse::<FaultPoint>().unwrap().job, 27);
        for bad in [
            "A@1",
            "A@1:",
            "A@1:enospc2",
            "a@1:eio",
            "A@x:eio",
            ":eio",
            "A:eio",
        ] {
            assert!(bad.parse::<FaultPoint>().is_err(), "{bad}");
        }
    }
}
