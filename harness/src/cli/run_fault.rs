//! The fault options of `prefixrace run` (`--fault JOB@K:FAULT`, `--faults
//! KINDS`): reading and checking them, and the report's lines about the
//! struck call (see docs/gate.md, "Injecting a fault").

use prefixrace::fault::Fault;
use prefixrace::internals::gate::fault_point::{FaultPoint, Struck};
use prefixrace::internals::gate::temp_names::blurred;
use prefixrace::internals::gate::verdict::label;
use prefixrace::internals::gate::walk_point::{walk_kinds, WalkKind};
use prefixrace::{Error, Result};

/// What `--fault` and `--faults` ask for.
#[derive(Debug, Clone, Default)]
pub struct FaultOptions {
    /// One point, struck in every execution.
    pub point: Option<FaultPoint>,
    /// The faults the seeded plan chooses from (empty: no plan).
    pub plan: Vec<Fault>,
    /// `--faults KINDS:all`: the kinds of points to walk, in order.
    pub walk: Option<Vec<WalkKind>>,
}

/// Reads `--fault` and `--faults` for `jobs` commands; `others` names the
/// options given that they cannot be combined with (`--kill`, `--model`…).
pub fn fault_options(
    fault: Option<&str>,
    faults: Option<&str>,
    jobs: usize,
    others: &[&str],
) -> Result<FaultOptions> {
    let given = match (fault, faults) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "--fault and --faults exclude each other: one point, or a seeded plan".into(),
            ))
        }
        (Some(_), None) => "--fault",
        (None, Some(_)) => "--faults",
        (None, None) => return Ok(FaultOptions::default()),
    };
    if let Some(other) = others.first() {
        return Err(Error::Usage(format!(
            "{given} cannot be combined with {other}"
        )));
    }
    let point = match fault {
        Some(p) => {
            let point: FaultPoint = p
                .parse()
                .map_err(|e| Error::Usage(format!("--fault {e}")))?;
            if point.job >= jobs {
                return Err(Error::Usage(format!(
                    "--fault {point}: there is no command {} (the commands are {})",
                    label(point.job),
                    (0..jobs).map(label).collect::<Vec<_>>().join(", ")
                )));
            }
            Some(point)
        }
        None => None,
    };
    let walk = match faults {
        Some(f) => walk_kinds(f).map_err(Error::Usage)?,
        None => None,
    };
    let mut plan = Vec::new();
    let seeded = faults.filter(|_| walk.is_none());
    for name in seeded.into_iter().flat_map(|f| f.split(',')) {
        let kind: Fault = name
            .trim()
            .parse()
            .map_err(|e| Error::Usage(format!("--faults {e}")))?;
        if !plan.contains(&kind) {
            plan.push(kind);
        }
    }
    Ok(FaultOptions { point, plan, walk })
}

/// The report's header line about the faults, if any.
pub fn header(options: &FaultOptions) -> Option<String> {
    if let Some(p) = options.point {
        return Some(format!(
            "fault: {} into the first call of {} it strikes once {} of its gated syscalls were released, then rerun what did not exit 0",
            p.fault,
            label(p.job),
            p.after
        ));
    }
    (!options.plan.is_empty()).then(|| {
        let kinds: Vec<&str> = options.plan.iter().map(|f| f.name()).collect();
        format!(
            "faults: a seeded plan, one point per execution, of {}; then rerun what did not exit 0",
            kinds.join(", ")
        )
    })
}

/// The struck call, in one line of the report.
pub fn struck_text(s: &Struck, last: &str) -> String {
    let asked = if s.asked == s.point {
        String::new()
    } else {
        format!(" (asked {}: the first call it strikes from there)", s.asked)
    };
    format!(
        "  fault: {}{asked} struck {} = {} (its last gated call: {})\n",
        s.point,
        blurred(&s.call),
        s.result,
        blurred(last)
    )
}

/// A plan's point that struck nothing, in one line of the report.
pub fn missed_text(asked: FaultPoint, execution: u64) -> String {
    format!(
        "  fault: execution {execution} asked {asked}: {} made no call {} strikes once {} of its gated syscalls were released; nothing was struck\n",
        label(asked.job),
        asked.fault,
        asked.after
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_options_read_one_point_or_a_plan_and_refuse_the_rest() {
        let one = fault_options(Some("B@3:eio"), None, 2, &[]).unwrap();
        assert_eq!(one.point.unwrap().to_string(), "B@3:eio");
        let plan = fault_options(None, Some("enospc, eio,enospc"), 2, &[]).unwrap();
        assert_eq!(plan.plan, [Fault::NoSpace, Fault::Io]);
        assert!(fault_options(Some("C@1:eio"), None, 2, &[]).is_err());
        assert!(fault_options(Some("A@1:eio"), Some("eio"), 2, &[]).is_err());
        assert!(fault_options(None, Some("crash"), 2, &[]).is_err());
        let walk = fault_options(None, Some("crash,eio:all"), 2, &[]).unwrap();
        assert_eq!(walk.walk.unwrap().len(), 2);
        assert!(walk.plan.is_empty());
        assert!(fault_options(None, Some("crash:every"), 2, &[]).is_err());
        assert!(fault_options(Some("A@1:eio"), Some("crash:all"), 2, &[]).is_err());
        assert!(fault_options(None, Some("crash:all"), 2, &["--kill"]).is_err());
        assert!(fault_options(Some("A@1:eio"), None, 2, &["--kill"]).is_err());
        assert!(fault_options(None, None, 2, &["--kill"])
            .unwrap()
            .point
            .is_none());
    }
}
