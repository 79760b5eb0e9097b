//! The brute-force enumerator: every schedule of a small scenario.
//!
//! It runs every sequence of choices (at every step, every runnable job) and
//! records the class fingerprint of each (see [`crate::dpor::fingerprint`]).
//! It is the reference DPOR is tested against: DPOR must explore exactly the
//! classes it finds, one execution each, and agree on whether a failure
//! exists. It also checks the dependence relation: two schedules of one class
//! must end alike (same verdict and same outcome as judged by the caller).

use std::collections::{BTreeMap, BTreeSet};

use crate::dpor::{fingerprint, run_once, Fingerprint, HappensBefore};
use crate::error::Result;
use crate::execution::ExecutionTrace;
use crate::schedule::JobId;
use crate::setup::Setup;

/// What the enumeration found.
#[derive(Debug, Clone, Default)]
pub struct Enumeration {
    /// Schedules run (every leaf of the choice tree).
    pub schedules: u64,
    /// The distinct class fingerprints, each with the outcome of its first schedule.
    pub classes: BTreeMap<Fingerprint, String>,
    /// The classes with a failing schedule.
    pub failing: BTreeSet<Fingerprint>,
    /// Classes whose schedules ended differently (the dependence relation
    /// called two orders equivalent that are not): `(fingerprint, first
    /// outcome, other outcome)`.
    pub inconsistent: Vec<(Fingerprint, String, String)>,
}

impl Enumeration {
    /// The class fingerprints, ascending.
    pub fn fingerprints(&self) -> BTreeSet<Fingerprint> {
        self.classes.keys().copied().collect()
    }
}

/// Enumerates every schedule of `setup`, up to `limit` schedules (`None`
/// when there are more). `judge` returns an execution's outcome (compared
/// within a class) and whether it failed.
pub fn enumerate(
    setup: &Setup,
    limit: u64,
    fresh: &dyn Fn() -> Result<Box<dyn crate::Fs>>,
    judge: &dyn Fn(&ExecutionTrace) -> (String, bool),
) -> Result<Option<Enumeration>> {
    let jobs = setup.job_count();
    let mut out = Enumeration::default();
    let mut stack: Vec<Vec<JobId>> = vec![Vec::new()];
    while let Some(prefix) = stack.pop() {
        if out.schedules == limit {
            return Ok(None);
        }
        let from = prefix.len();
        let run = run_once(setup, fresh, prefix, usize::MAX, Vec::new())?;
        out.schedules += 1;
        let hb = HappensBefore::new(&run.steps, jobs);
        let fp = fingerprint(&hb, jobs);
        let (outcome, failed) = judge(&run.trace);
        if failed {
            out.failing.insert(fp);
        }
        match out.classes.get(&fp) {
            Some(first) if *first != outcome => {
                out.inconsistent.push((fp, first.clone(), outcome));
            }
            Some(_) => {}
            None => {
                out.classes.insert(fp, outcome);
            }
        }
        let choices = &run.trace.schedule.choices;
        for k in (from..run.steps.len()).rev() {
            for alt in run.steps.enabled(k).into_iter().rev() {
                if alt != run.steps.chosen(k) {
                    let mut next = choices[..k].to_vec();
                    next.push(alt);
                    stack.push(next);
                }
            }
        }
    }
    Ok(Some(out))
}
