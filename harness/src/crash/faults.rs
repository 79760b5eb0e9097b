//! Which faults an exploration injects (`--faults`).

use std::fmt;
use std::str::FromStr;

use crate::fault::Fault;

/// The faults an exploration injects into its executions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Kill each job after each of its ops, then rerun the build
    /// ([`crate::crash`]).
    pub crash: bool,
    /// The faults that strike each op they can ([`crate::fault`]), one at
    /// a time, each followed by the same rerun: a bit per [`Fault::ALL`]
    /// entry (see [`Faults::with`] and [`Faults::strikes`]).
    strike_mask: u8,
    /// Try the crash and fault points of every execution, even after one
    /// with an unrecoverable state (`crash:all`, or `:all` after any
    /// kind), for complete counts. Without it the points stop after that
    /// execution.
    pub every_execution: bool,
}

impl Faults {
    /// No faults: executions run as the jobs would undisturbed.
    pub const NONE: Faults = Faults {
        crash: false,
        strike_mask: 0,
        every_execution: false,
    };

    /// Crash points, up to the first execution with an unrecoverable one.
    pub const CRASH: Faults = Faults {
        crash: true,
        strike_mask: 0,
        every_execution: false,
    };

    /// These faults, with `fault` also striking each op it can.
    pub const fn with(self, fault: Fault) -> Faults {
        Faults {
            strike_mask: self.strike_mask | 1 << fault as u8,
            ..self
        }
    }

    /// The faults that strike ops, in [`Fault::ALL`]'s order.
    pub fn strikes(&self) -> impl Iterator<Item = Fault> + '_ {
        Fault::ALL
            .into_iter()
            .filter(|&f| self.strike_mask & (1 << f as u8) != 0)
    }

    /// True when some fault strikes ops.
    pub fn strikes_any(&self) -> bool {
        self.strike_mask != 0
    }

    /// True when some fault is injected.
    pub fn any(&self) -> bool {
        self.crash || self.strikes_any()
    }

    /// These faults without the ones that strike ops: crashes only.
    pub(crate) fn without_strikes(self) -> Faults {
        Faults {
            strike_mask: 0,
            ..self
        }
    }

    /// These faults without crashes: the ones that strike ops only.
    pub(crate) fn without_crash(self) -> Faults {
        Faults {
            crash: false,
            ..self
        }
    }
}

impl FromStr for Faults {
    type Err = String;

    /// A comma-separated list of `crash`, `enospc`, `eintr`,
    /// `short-write`, `eio` (or `none`); `:all` after any of them tries
    /// every execution's points.
    fn from_str(s: &str) -> Result<Faults, String> {
        let mut faults = Faults::NONE;
        for item in s.split(',').map(str::trim) {
            let kind = match item.strip_suffix(":all") {
                Some(kind) => {
                    faults.every_execution = true;
                    kind
                }
                None => item,
            };
            match kind {
                "crash" => faults.crash = true,
                "none" => {}
                other => match other.parse::<Fault>() {
                    Ok(fault) => faults = faults.with(fault),
                    Err(_) => {
                        return Err(format!(
                            "unknown fault {other:?}; expected crash, enospc, eintr, short-write, eio or none (each may end in :all)"
                        ))
                    }
                },
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    /// The list `--faults` takes: `crash,enospc`, with `:all` after the
    /// last kind when every execution's points are tried; `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<&str> = self
            .crash
            .then_some("crash")
            .into_iter()
            .chain(self.strikes().map(Fault::name))
            .collect();
        if kinds.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&kinds.join(","))?;
        if self.every_execution {
            f.write_str(":all")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_by_name_and_print_back() {
        assert_eq!("crash".parse(), Ok(Faults::CRASH));
        let all: Faults = "crash:all".parse().unwrap();
        assert!(all.crash && all.every_execution && !all.strikes_any());
        assert_eq!(all.to_string(), "crash:all");
        assert_eq!("none".parse(), Ok(Faults::NONE));
        let some: Faults = "eio, enospc,crash".parse().unwrap();
        assert!(some.crash);
        assert_eq!(
            some.strikes().collect::<Vec<_>>(),
            [Fault::NoSpace, Fault::Io]
        );
        assert_eq!(some.to_string(), "crash,enospc,eio");
        assert_eq!(some.to_string().parse(), Ok(some));
        let strikes: Faults = "short-write,eintr:all".parse().unwrap();
        assert_eq!(strikes.to_string(), "eintr,short-write:all");
        assert!(strikes.any() && !strikes.crash);
        assert!("crsh"
            .parse::<Faults>()
            .unwrap_err()
            .contains("unknown fault"));
    }
}
