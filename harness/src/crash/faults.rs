//! Which faults an exploration injects (`--faults`).

use std::fmt;
use std::str::FromStr;

/// The faults an exploration injects into its executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Kill each job after each of its ops, then rerun the build
    /// ([`crate::crash`]).
    pub crash: bool,
}

impl Faults {
    /// No faults: executions run as the jobs would undisturbed.
    pub const NONE: Faults = Faults { crash: false };

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

    /// A comma-separated list: `crash` (or `none`).
    fn from_str(s: &str) -> Result<Faults, String> {
        let mut faults = Faults::NONE;
        for kind in s.split(',').map(str::trim) {
            match kind {
                "crash" => faults.crash = true,
                "none" => {}
                k if NOT_YET.contains(&k) => {
                    return Err(format!(
                        "the fault {k:?} is not modelled yet; only \"crash\" is"
                    ))
                }
                other => {
                    return Err(format!(
                        "unknown fault {other:?}; expected \"crash\" or \"none\""
                    ))
                }
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.crash { "crash" } else { "none" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_by_name_and_refuse_what_is_not_modelled() {
        assert_eq!("crash".parse(), Ok(Faults { crash: true }));
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
