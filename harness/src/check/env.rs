//! The environment knobs: what `PROPTEST_CASES` and `LOOM_MAX_PREEMPTIONS`
//! are to proptest and loom.
//!
//! | variable | value | default |
//! |---|---|---|
//! | `PREFIXRACE_SCHEDULES` | executions to try, at least 1 | 1000 (dpor: none, to the end of its search) |
//! | `PREFIXRACE_SEED` | a number, or `random` for a fresh one (printed in every report and failure) | 0 |
//! | `PREFIXRACE_SCHEDULER` | `auto`, `directed`, `random`, `pct`, `pct:D`, `serial`, `dpor` | `auto` |
//! | `PREFIXRACE_JOBS` | worker threads, at least 1 | every core |
//! | `PREFIXRACE_TIME_LIMIT` | seconds (a decimal number) | none |
//!
//! A knob applies only where the code (the `Check` builder) or the command
//! line (a flag) leaves the setting unset: explicit beats the environment,
//! which beats the default. A bad value is one line naming the variable
//! (`PREFIXRACE_JOBS=0: …`): exit 2 in the CLI, a panic in `Check`.
//! Each variable is read only when it is needed, so a bad value of one the
//! run does not use is not an error.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::limits::MAX_WORKER_THREADS;
use crate::schedule::SchedulerKind;

/// `PREFIXRACE_SCHEDULES`: the budget of executions.
pub const SCHEDULES: &str = "PREFIXRACE_SCHEDULES";
/// `PREFIXRACE_SEED`: the seed, or `random`.
pub const SEED: &str = "PREFIXRACE_SEED";
/// `PREFIXRACE_SCHEDULER`: the scheduler.
pub const SCHEDULER: &str = "PREFIXRACE_SCHEDULER";
/// `PREFIXRACE_JOBS`: worker threads.
pub const JOBS: &str = "PREFIXRACE_JOBS";
/// `PREFIXRACE_TIME_LIMIT`: seconds before no more executions start.
pub const TIME_LIMIT: &str = "PREFIXRACE_TIME_LIMIT";

/// Every knob, in the order of the table above.
pub const ALL: &[&str] = &[SCHEDULES, SEED, SCHEDULER, JOBS, TIME_LIMIT];

/// A seed and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// Given: by the code, a flag, or `PREFIXRACE_SEED=N`.
    Fixed(u64),
    /// Drawn afresh for this run because `PREFIXRACE_SEED=random`.
    Random(u64),
}

impl Seed {
    /// The seed's value.
    pub fn value(self) -> u64 {
        match self {
            Seed::Fixed(s) | Seed::Random(s) => s,
        }
    }

    /// How reports print it: `7`, or `7 (PREFIXRACE_SEED=random; rerun with PREFIXRACE_SEED=7)`.
    pub fn describe(self) -> String {
        match self {
            Seed::Fixed(s) => s.to_string(),
            Seed::Random(s) => format!("{s} ({SEED}=random; rerun with {SEED}={s})"),
        }
    }
}

/// The raw value of `var`, if set (and not empty).
fn raw(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

fn bad(var: &str, value: &str, expected: &str) -> Error {
    Error::Usage(format!("{var}={value}: {expected}"))
}

/// `PREFIXRACE_SCHEDULES`, if set.
pub fn schedules() -> Result<Option<u64>> {
    raw(SCHEDULES).map(|v| parse_schedules(&v)).transpose()
}

/// Parses a `PREFIXRACE_SCHEDULES` value.
pub fn parse_schedules(value: &str) -> Result<u64> {
    match value.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(bad(
            SCHEDULES,
            value,
            "expected a whole number of executions, at least 1",
        )),
    }
}

/// `PREFIXRACE_SEED`, if set.
pub fn seed() -> Result<Option<Seed>> {
    raw(SEED).map(|v| parse_seed(&v)).transpose()
}

/// Parses a `PREFIXRACE_SEED` value: a number, or `random` for a fresh seed.
pub fn parse_seed(value: &str) -> Result<Seed> {
    let v = value.trim();
    if v == "random" {
        return Ok(Seed::Random(fresh_seed()));
    }
    v.parse::<u64>()
        .map(Seed::Fixed)
        .map_err(|_| bad(SEED, value, "expected a whole number or `random`"))
}

/// A seed nobody chose: from the process's random hasher keys, which the
/// standard library draws from the OS. Never from the clock, so two runs
/// started in the same instant still differ.
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x7072_6566_6978_7261); // "prefixra"
    h.finish() >> 1 // below 2^63: easy to type back
}

/// `PREFIXRACE_SCHEDULER`, if set.
pub fn scheduler() -> Result<Option<SchedulerKind>> {
    raw(SCHEDULER).map(|v| parse_scheduler(&v)).transpose()
}

/// Parses a `PREFIXRACE_SCHEDULER` value.
pub fn parse_scheduler(value: &str) -> Result<SchedulerKind> {
    value
        .trim()
        .parse()
        .map_err(|e: String| Error::Usage(format!("{SCHEDULER}={value}: {e}")))
}

/// `PREFIXRACE_JOBS`, if set.
pub fn jobs() -> Result<Option<usize>> {
    raw(JOBS).map(|v| parse_jobs(&v)).transpose()
}

/// Parses a `PREFIXRACE_JOBS` value.
pub fn parse_jobs(value: &str) -> Result<usize> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_WORKER_THREADS).contains(&n) => Ok(n),
        _ => Err(bad(
            JOBS,
            value,
            &format!("expected a whole number of worker threads, from 1 to {MAX_WORKER_THREADS}"),
        )),
    }
}

/// `PREFIXRACE_TIME_LIMIT`, if set.
pub fn time_limit() -> Result<Option<Duration>> {
    raw(TIME_LIMIT).map(|v| parse_time_limit(&v)).transpose()
}

/// Parses a `PREFIXRACE_TIME_LIMIT` value: seconds, above 0 and below 1e9.
pub fn parse_time_limit(value: &str) -> Result<Duration> {
    match value.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t < 1e9 => Ok(Duration::from_secs_f64(t)),
        _ => Err(bad(
            TIME_LIMIT,
            value,
            "expected a number of seconds between 0 and 1e9",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_values_parse() {
        assert_eq!(parse_schedules(" 7 ").unwrap(), 7);
        assert_eq!(parse_seed("42").unwrap(), Seed::Fixed(42));
        assert!(matches!(parse_seed("random").unwrap(), Seed::Random(_)));
        assert_eq!(
            parse_scheduler("pct:2").unwrap(),
            SchedulerKind::Pct { depth: 2 }
        );
        assert_eq!(parse_jobs("3").unwrap(), 3);
        assert_eq!(
            parse_time_limit("1.5").unwrap(),
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn bad_values_are_one_line_naming_the_variable() {
        let cases = [
            (
                parse_schedules("0").unwrap_err(),
                "PREFIXRACE_SCHEDULES=0: ",
            ),
            (
                parse_schedules("many").unwrap_err(),
                "PREFIXRACE_SCHEDULES=many: ",
            ),
            (parse_seed("-1").unwrap_err(), "PREFIXRACE_SEED=-1: "),
            (
                parse_scheduler("fast").unwrap_err(),
                "PREFIXRACE_SCHEDULER=fast: ",
            ),
            (parse_jobs("0").unwrap_err(), "PREFIXRACE_JOBS=0: "),
            (
                parse_time_limit("soon").unwrap_err(),
                "PREFIXRACE_TIME_LIMIT=soon: ",
            ),
            (
                parse_time_limit("-3").unwrap_err(),
                "PREFIXRACE_TIME_LIMIT=-3: ",
            ),
        ];
        for (e, prefix) in cases {
            let e = e.to_string();
            assert!(e.starts_with(prefix), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn random_seeds_differ_and_say_how_to_rerun() {
        let (a, b) = (fresh_seed(), fresh_seed());
        assert_ne!(a, b);
        let shown = Seed::Random(a).describe();
        assert!(shown.contains(&format!("rerun with PREFIXRACE_SEED={a}")));
    }
}
