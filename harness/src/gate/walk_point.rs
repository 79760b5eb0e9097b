//! A point of a walk (`run --faults KINDS:all`): a job, a count of its
//! released gated syscalls, and what happens there: a crash (the kill of
//! `--kill JOB@K`) or a fault (the strike of `--fault JOB@K:FAULT`).
//! `KINDS:all` reads as the kinds to walk, in the order given.

use std::fmt;

use super::fault_point::FaultPoint;
use super::kill::KillPoint;
use super::verdict::label;
use crate::fault::Fault;
use crate::schedule::JobId;

/// What a walk does at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkKind {
    /// `crash`: SIGKILL of the job's process group, as `--kill`.
    Crash,
    /// A fault, as `--fault`.
    Fault(Fault),
}

impl WalkKind {
    /// Its name in `--faults`: `crash`, `enospc`, ….
    pub fn name(self) -> &'static str {
        match self {
            WalkKind::Crash => "crash",
            WalkKind::Fault(f) => f.name(),
        }
    }
}

/// One point of a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkPoint {
    /// The job.
    pub job: JobId,
    /// How many of its gated syscalls are released before it.
    pub after: usize,
    /// Crash or fault.
    pub kind: WalkKind,
}

impl WalkPoint {
    /// The `--kill` point of a crash.
    pub fn kill(self) -> Option<KillPoint> {
        (self.kind == WalkKind::Crash).then_some(KillPoint {
            job: self.job,
            after: self.after,
        })
    }

    /// The `--fault` point of a fault.
    pub fn fault(self) -> Option<FaultPoint> {
        match self.kind {
            WalkKind::Crash => None,
            WalkKind::Fault(fault) => Some(FaultPoint {
                job: self.job,
                after: self.after,
                fault,
            }),
        }
    }
}

impl fmt::Display for WalkPoint {
    /// `A@3` for a crash (as `--kill` takes it), `A@3:enospc` for a fault
    /// (as `--fault` takes it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            WalkKind::Crash => write!(f, "{}@{}", label(self.job), self.after),
            WalkKind::Fault(fault) => write!(f, "{}@{}:{fault}", label(self.job), self.after),
        }
    }
}

/// Reads `--faults KINDS:all`: the kinds to walk, in order, without
/// repeats; `None` when `value` has no `:` (the seeded plan of
/// `--faults KINDS`).
pub fn walk_kinds(value: &str) -> Result<Option<Vec<WalkKind>>, String> {
    let Some((kinds, mode)) = value.rsplit_once(':') else {
        return Ok(None);
    };
    if mode != "all" {
        return Err(format!(
            "--faults {value}: {mode:?} is not a mode; KINDS:all walks every point (KINDS from crash, enospc, eio, eintr, short-write)"
        ));
    }
    let mut walk = Vec::new();
    for name in kinds.split(',').map(str::trim) {
        let kind = match name {
            "crash" => WalkKind::Crash,
            other => WalkKind::Fault(
                other
                    .parse()
                    .map_err(|e: String| format!("--faults {value}: {e} (or crash)"))?,
            ),
        };
        if !walk.contains(&kind) {
            walk.push(kind);
        }
    }
    Ok(Some(walk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_all_reads_as_the_kinds_in_order_and_anything_else_is_refused() {
        assert_eq!(walk_kinds("enospc,eio").unwrap(), None);
        assert_eq!(
            walk_kinds("crash, enospc,crash:all").unwrap(),
            Some(vec![WalkKind::Crash, WalkKind::Fault(Fault::NoSpace)])
        );
        for bad in [
            "crash:every",
            "crash:",
            "crash,boom:all",
            ":all",
            "enospc:ALL",
        ] {
            assert!(walk_kinds(bad).is_err(), "{bad}");
        }
        let crash = WalkPoint {
            job: 1,
            after: 4,
            kind: WalkKind::Crash,
        };
        assert_eq!(crash.to_string(), "B@4");
        assert_eq!(crash.kill().unwrap().to_string(), "B@4");
        assert!(crash.fault().is_none());
        let fault = WalkPoint {
            kind: WalkKind::Fault(Fault::ShortWrite),
            ..crash
        };
        assert_eq!(fault.to_string(), "B@4:short-write");
        assert_eq!(fault.fault().unwrap().to_string(), "B@4:short-write");
        assert!(fault.kill().is_none());
    }
}
