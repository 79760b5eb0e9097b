//! A kill point on the gate (`run --kill A@K`): job `A` is killed with
//! `SIGKILL`, its whole process group, once `K` of its gated syscalls have
//! been released, while it is parked at its `K+1`-th. The point is a count
//! of the job's own gated calls, so it does not depend on how the other
//! jobs were interleaved, and a token replayed with the same point kills at
//! the same call.

use std::fmt;
use std::str::FromStr;

use super::call::Call;
use super::verdict::label;
use crate::schedule::JobId;

/// Where a job is killed: after `after` of its gated syscalls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KillPoint {
    /// The job killed (A is 0).
    pub job: JobId,
    /// How many of its gated syscalls are released before the kill.
    pub after: usize,
}

impl fmt::Display for KillPoint {
    /// `A@3`, as `--kill` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", label(self.job), self.after)
    }
}

impl FromStr for KillPoint {
    type Err = String;

    /// `JOB@K`: JOB a job label (`A`…`Z`, `J26`…), K a count of gated syscalls.
    fn from_str(s: &str) -> Result<KillPoint, String> {
        let bad = || {
            format!(
                "{s:?}: expected JOB@K, a job letter and a count of its gated syscalls, as in A@3"
            )
        };
        let (job, after) = s.split_once('@').ok_or_else(bad)?;
        let job = match job.as_bytes() {
            [c @ b'A'..=b'Z'] => usize::from(c - b'A'),
            [b'J', digits @ ..] if !digits.is_empty() => {
                let n: usize = job[1..].parse().map_err(|_| bad())?;
                if n < 26 {
                    return Err(bad());
                }
                n
            }
            _ => return Err(bad()),
        };
        let after = after.parse().map_err(|_| bad())?;
        Ok(KillPoint { job, after })
    }
}

/// A kill that happened in an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Killed {
    /// Where.
    pub point: KillPoint,
    /// The call the job was parked at, never made.
    pub before: Call,
    /// How many gated calls (of all jobs) had been released when it was
    /// killed: where the kill stands in the execution's trace.
    pub step: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_points_read_and_print_as_job_at_count() {
        let k: KillPoint = "B@12".parse().unwrap();
        assert_eq!(k, KillPoint { job: 1, after: 12 });
        assert_eq!(k.to_string(), "B@12");
        assert_eq!("J27@0".parse::<KillPoint>().unwrap().job, 27);
        assert_eq!("J27@0".parse::<KillPoint>().unwrap().to_string(), "J27@0");
        for bad in ["A", "a@1", "A@", "A@-1", "AB@1", "J3@1", "@4", "A@x"] {
            assert!(bad.parse::<KillPoint>().is_err(), "{bad}");
        }
    }
}
