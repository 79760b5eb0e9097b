//! A crash point: which job is killed, after how many of its ops; and its
//! place in a replay token.

use std::fmt;

use crate::schedule::JobId;

/// The separator between a schedule token and its crash point: `t1.…`
/// followed by `.k<job>.<ops>` (neither part uses `.` itself).
const MARK: &str = ".k";

/// Job `job` killed with `SIGKILL` after it has run `after_ops` ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CrashPoint {
    /// The killed job.
    pub job: JobId,
    /// How many of its ops it ran before the kill.
    pub after_ops: usize,
}

impl CrashPoint {
    /// `schedule_token` with this crash point appended: the token of a
    /// crashed execution.
    pub fn token(&self, schedule_token: &str) -> String {
        format!("{schedule_token}{MARK}{}.{}", self.job, self.after_ops)
    }
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} after {} ops", self.job, self.after_ops)
    }
}

/// Splits a replay token into its schedule token and, for a crashed
/// execution, its crash point. A malformed crash part is an error naming it.
pub fn split_token(token: &str) -> Result<(&str, Option<CrashPoint>), String> {
    let token = token.trim();
    let Some((schedule, crash)) = token.split_once(MARK) else {
        return Ok((token, None));
    };
    let parsed = crash
        .split_once('.')
        .and_then(|(job, ops)| Some((job.parse().ok()?, ops.parse().ok()?)));
    match parsed {
        Some((job, after_ops)) => Ok((schedule, Some(CrashPoint { job, after_ops }))),
        None => Err(format!(
            "the crash point {:?} is not .k<job>.<ops>",
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
        assert_eq!(split_token(&token), Ok(("t1.AAEC", Some(point))));
        assert_eq!(split_token(" t1.AAEC \n"), Ok(("t1.AAEC", None)));
        assert!(split_token("t1.AAEC.k1").is_err());
        assert!(split_token("t1.AAEC.kx.2").is_err());
    }
}
