//! The verdict on one run of a crash or fault state to its end: did the
//! tools survive the fault, does the rerun recover the prefix, or not.

use std::collections::HashMap;
use std::sync::Mutex;

use super::point::Injection;
use super::recovery::{recover, rerun_of};
use crate::execution::{ExecutionTrace, JobOutcome};
use crate::fs::ModelFs;
use crate::oracle::Oracle;
use crate::schedule::JobId;
use crate::setup::Setup;
use crate::state_key::StateKey;

/// Recoveries already judged, by the state they start from.
pub(crate) type RecoveryMemo = Mutex<HashMap<(StateKey, Vec<JobId>), bool>>;

/// What became of one run of a disturbed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No job failed and the prefix is right, with no rerun.
    Survived,
    /// The rerun recovered the prefix.
    Recovered,
    /// The rerun did not.
    Unrecoverable,
}

/// Judges `trace`, the run after `point` that left `fs`: the prefix itself
/// when a fault made no job fail, else the recovery (on `fs`), judged once
/// per state it starts from (`memo`).
pub(crate) fn verdict(
    setup: &Setup,
    oracle: &Oracle,
    point: Injection,
    trace: &ExecutionTrace,
    fs: &mut ModelFs,
    memo: &RecoveryMemo,
) -> Verdict {
    let ends: Vec<_> = trace.outcomes.iter().map(|o| o.end.clone()).collect();
    let rerun = rerun_of(setup.scenario.recovery.rerun, &ends);
    if matches!(point, Injection::Fault(_))
        && trace.aborted.is_none()
        && !trace.outcomes.iter().any(JobOutcome::failed)
    {
        // Nothing failed: the prefix itself is judged. A rerun of no job
        // would leave it as it is, so its verdict is this one.
        match oracle.judge(trace).failure {
            None => return Verdict::Survived,
            Some(_) if rerun.is_empty() => return Verdict::Unrecoverable,
            Some(_) => {}
        }
    }
    let start = (fs.state_key(), rerun);
    // Nothing asks the recovery's key.
    fs.set_keyed(false);
    let known = memo
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&start)
        .copied();
    let recovered = trace.aborted.is_none()
        && known.unwrap_or_else(|| {
            let recovery = recover(setup, fs, &ends, false);
            let recovered = oracle.judge(&recovery.trace).failure.is_none();
            memo.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(start, recovered);
            recovered
        });
    match recovered {
        true => Verdict::Recovered,
        false => Verdict::Unrecoverable,
    }
}
