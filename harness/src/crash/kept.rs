//! An execution's schedule kept for its crash and fault points, run-length
//! encoded: a long installer's execution is thousands of picks, mostly
//! runs of one job, and a search keeps every one of its executions.

use crate::schedule::JobId;

/// A schedule as runs of one job: `(job, picks)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeptSchedule {
    runs: Vec<(u32, u32)>,
}

impl KeptSchedule {
    /// Encodes `choices`.
    pub fn new(choices: &[JobId]) -> KeptSchedule {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for &job in choices {
            match runs.last_mut() {
                Some((last, picks)) if *last as usize == job && *picks < u32::MAX => *picks += 1,
                _ => runs.push((job as u32, 1)),
            }
        }
        runs.shrink_to_fit();
        KeptSchedule { runs }
    }

    /// The picks again.
    pub fn choices(&self) -> Vec<JobId> {
        let len = self.runs.iter().map(|&(_, n)| n as usize).sum();
        let mut choices = Vec::with_capacity(len);
        for &(job, picks) in &self.runs {
            choices.extend(std::iter::repeat_n(job as JobId, picks as usize));
        }
        choices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_schedules_round_trip_in_a_run_per_switch() {
        let choices = [0, 0, 0, 1, 1, 0, 2, 2, 2, 2];
        let kept = KeptSchedule::new(&choices);
        assert_eq!(kept.runs.len(), 4);
        assert_eq!(kept.choices(), choices);
        assert_eq!(KeptSchedule::new(&[]).choices(), Vec::<JobId>::new());
    }
}
