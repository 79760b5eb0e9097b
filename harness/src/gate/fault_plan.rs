//! The seeded fault plan of `run --faults KINDS`: each execution strikes
//! one point, chosen from the run's seed and the execution's index alone
//! (never the clock or a PID): a job, a count of its gated calls below the
//! number it made in the serial reference, and one of the listed faults.
//! The call struck is then the job's first call at or after that count that
//! the fault strikes (`fault_point.rs`); when there is none, nothing is.

use super::fault_point::FaultPoint;
use crate::fault::Fault;
use crate::schedule::SplitMix64;

/// Keeps the plan's stream apart from the scheduler's and the entropy's.
const PLAN_SALT: u64 = 0x4641_554c_5450_4c4e;

/// The point execution `execution` of a run seeded with `seed` strikes:
/// `kinds` the faults to choose from (not empty), `calls[j]` how many gated
/// calls job `j` made in the serial reference (one entry per job).
pub fn planned(seed: u64, execution: u64, kinds: &[Fault], calls: &[usize]) -> FaultPoint {
    let mut rng = SplitMix64::for_execution(seed ^ PLAN_SALT, execution);
    let job = rng.below(calls.len().max(1) as u64) as usize;
    let made = calls.get(job).copied().unwrap_or(0);
    let after = rng.below(made.max(1) as u64) as usize;
    let fault = kinds[rng.below(kinds.len().max(1) as u64) as usize];
    FaultPoint { job, after, fault }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_a_function_of_the_seed_and_the_execution_within_the_reference() {
        let kinds = [Fault::NoSpace, Fault::Io];
        let calls = [30, 5];
        let points: Vec<FaultPoint> = (0..50).map(|e| planned(7, e, &kinds, &calls)).collect();
        let again: Vec<FaultPoint> = (0..50).map(|e| planned(7, e, &kinds, &calls)).collect();
        assert_eq!(points, again);
        assert_ne!(
            points,
            (0..50)
                .map(|e| planned(8, e, &kinds, &calls))
                .collect::<Vec<_>>()
        );
        assert!(points.iter().all(|p| p.after < calls[p.job]));
        assert!(points.iter().all(|p| kinds.contains(&p.fault)));
        for job in 0..2 {
            assert!(points.iter().any(|p| p.job == job));
        }
        for kind in kinds {
            assert!(points.iter().any(|p| p.fault == kind));
        }
        assert_eq!(planned(1, 0, &[Fault::Io], &[0]).after, 0);
    }
}
