//! Where an execution is disturbed: a crash point (a job killed after some
//! of its ops) or a fault point (a job's next op struck by a fault); and
//! their place in a replay token.

use std::fmt;

use crate::fault::Fault;
use crate::schedule::JobId;

/// Job `job` killed with `SIGKILL` after it has run `after_ops` ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CrashPoint {
    /// The killed job.
    pub job: JobId,
    /// How many of its ops it ran before the kill.
    pub after_ops: usize,
}

/// Job `job`'s op after its first `after_ops` ops struck by `fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultPoint {
    /// The job whose op is struck.
    pub job: JobId,
    /// How many of its ops it ran before the struck one.
    pub after_ops: usize,
    /// The fault.
    pub fault: Fault,
}

/// What disturbs an execution: a kill or a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Injection {
    /// A job killed ([`CrashPoint`]).
    Crash(CrashPoint),
    /// An op struck by a fault ([`FaultPoint`]).
    Fault(FaultPoint),
}

impl CrashPoint {
    /// `schedule_token` with this crash point appended: the token of a
    /// crashed execution (`t1.….k<job>.<ops>`).
    pub fn token(&self, schedule_token: &str) -> String {
        format!("{schedule_token}.k{}.{}", self.job, self.after_ops)
    }
}

impl FaultPoint {
    /// `schedule_token` with this fault point appended: the token of a
    /// faulted execution (`t1.….f<job>.<ops>.<fault>`).
    pub fn token(&self, schedule_token: &str) -> String {
        format!(
            "{schedule_token}.f{}.{}.{}",
            self.job, self.after_ops, self.fault
        )
    }
}

impl Injection {
    /// The disturbed job.
    pub fn job(&self) -> JobId {
        match self {
            Injection::Crash(c) => c.job,
            Injection::Fault(f) => f.job,
        }
    }

    /// How many of its ops the disturbed job ran before.
    pub fn after_ops(&self) -> usize {
        match self {
            Injection::Crash(c) => c.after_ops,
            Injection::Fault(f) => f.after_ops,
        }
    }

    /// `schedule_token` with this injection appended.
    pub fn token(&self, schedule_token: &str) -> String {
        match self {
            Injection::Crash(c) => c.token(schedule_token),
            Injection::Fault(f) => f.token(schedule_token),
        }
    }
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} after {} ops", self.job, self.after_ops)
    }
}

impl fmt::Display for FaultPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on job {}'s op after {} ops",
            self.fault, self.job, self.after_ops
        )
    }
}

impl fmt::Display for Injection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Injection::Crash(c) => c.fmt(f),
            Injection::Fault(p) => p.fmt(f),
        }
    }
}

/// Splits a replay token into its schedule token and, for a crashed or
/// faulted execution, its injection. A schedule token is `t1.<payload>`;
/// what follows its second `.` is the injection. A malformed injection is
/// an error naming it.
pub fn split_token(token: &str) -> Result<(&str, Option<Injection>), String> {
    let token = token.trim();
    let schedule_end = token
        .match_indices('.')
        .nth(1)
        .map_or(token.len(), |(i, _)| i);
    let (schedule, rest) = token.split_at(schedule_end);
    let Some(rest) = rest.strip_prefix('.') else {
        return Ok((token, None));
    };
    let fields: Vec<&str> = rest.split('.').collect();
    let number = |s: &str| s.parse::<usize>().ok();
    let parsed = match fields.as_slice() {
        [job, ops] if job.starts_with('k') => number(&job[1..])
            .zip(number(ops))
            .map(|(job, after_ops)| Injection::Crash(CrashPoint { job, after_ops })),
        [job, ops, fault] if job.starts_with('f') => number(&job[1..])
            .zip(number(ops))
            .zip(fault.parse::<Fault>().ok())
            .map(|((job, after_ops), fault)| {
                Injection::Fault(FaultPoint {
                    job,
                    after_ops,
                    fault,
                })
            }),
        _ => None,
    };
    match parsed {
        Some(injection) => Ok((schedule, Some(injection))),
        None => Err(format!(
            "the injection {:?} is neither .k<job>.<ops> (a crash) nor .f<job>.<ops>.<fault>",
            &token[schedule.len()..]
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_tokens_round_trip_and_plain_tokens_pass_through() {
        let point = CrashPoint {
            job: 1,
            after_ops: 1234,
        };
        let token = point.token("t1.AAEC");
        assert_eq!(token, "t1.AAEC.k1.1234");
        assert_eq!(
            split_token(&token),
            Ok(("t1.AAEC", Some(Injection::Crash(point))))
        );
        assert_eq!(split_token(" t1.AAEC \n"), Ok(("t1.AAEC", None)));
        assert!(split_token("t1.AAEC.k1").is_err());
        assert!(split_token("t1.AAEC.kx.2").is_err());
    }

    #[test]
    fn fault_tokens_round_trip_even_when_the_payload_starts_like_a_mark() {
        let point = FaultPoint {
            job: 0,
            after_ops: 7,
            fault: Fault::ShortWrite,
        };
        let token = point.token("t1.kfAB");
        assert_eq!(token, "t1.kfAB.f0.7.short-write");
        assert_eq!(
            split_token(&token),
            Ok(("t1.kfAB", Some(Injection::Fault(point))))
        );
        assert_eq!(split_token("t1.kfAB"), Ok(("t1.kfAB", None)));
        assert!(split_token("t1.AB.f0.7.enospc2").is_err());
        assert!(split_token("t1.AB.f0.7").is_err());
    }
}
