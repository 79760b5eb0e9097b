//! Which faults an exploration injects (`--faults`).

use std::fmt;
use std::str::FromStr;

/// The faults an exploration injects into its executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Kill each job after each of its ops, then rerun the build
    /// ([`crate::crash`]).
    pub crash: bool,
    /// With `crash`: try the crash points of every execution, even after
    /// one with an unrecoverable crash state (`crash:all`), for complete
    /// counts. Without it the crash points stop after that execution.
    pub every_execution: bool,
}

impl Faults {
    /// No faults: executions run as the jobs would undisturbed.
    pub const NONE: Faults = Faults {
        crash: false,
        every_execution: false,
    };

    /// Crash points, up to the first execution with an unrecoverable one.
    pub const CRASH: Faults = Faults {
        crash: true,
        every_execution: false,
    };

    /// True when some fault is injected.
    pub fn any(&self) -> bool {
        self.crash
    }
}

/// The fault kinds the issue names that are not modelled yet: asked for,
/// they are refused by name rather than ignored.
const NOT_YET: [&str; 4] = ["enospc", "eintr", "short-write", "eio"];

impl FromStr for Faults {
    type Err = String;

    /// A comma-separated list: `crash`, `crash:all` (or `none`).
    fn from_str(s: &str) -> Result<Faults, String> {
        let mut faults = Faults::NONE;
        for kind in s.split(',').map(str::trim) {
            match kind {
                "crash" => faults.crash = true,
                "crash:all" => {
                    faults.crash = true;
                    faults.every_execution = true;
                }
                "none" => {}
                k if NOT_YET.contains(&k) => {
                    return Err(format!(
                        "the fault {k:?} is not modelled yet; only \"crash\" is"
                    ))
                }
                other => {
                    return Err(format!(
                        "unknown fault {other:?}; expected \"crash\", \"crash:all\" or \"none\""
                    ))
                }
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.crash, self.every_execution) {
            (false, _) => "none",
            (true, false) => "crash",
            (true, true) => "crash:all",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_by_name_and_refuse_what_is_not_modelled() {
        assert_eq!("crash".parse(), Ok(Faults::CRASH));
        let all: Faults = "crash:all".parse().unwrap();
        assert!(all.crash && all.every_execution);
        assert_eq!(all.to_string(), "crash:all");
        assert_eq!("none".parse(), Ok(Faults::NONE));
        assert!("enospc"
            .parse::<Faults>()
            .unwrap_err()
            .contains("not modelled yet"));
        assert!("crsh"
            .parse::<Faults>()
            .unwrap_err()
            .contains("unknown fault"));
    }
}
