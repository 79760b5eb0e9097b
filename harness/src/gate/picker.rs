//! What the tracer asks at each decision: which job to release, seeing the
//! call each runnable job would make next. Plain schedulers (`random`, `pct`,
//! `serial`, replay) only see the job ids ([`Plain`]); the race-directed
//! search (`directed.rs`) also reads the calls.

use super::call::Call;
use crate::schedule::{JobId, Scheduler};

/// One runnable job at a decision.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// The job.
    pub job: JobId,
    /// The call its oldest parked process would make.
    pub call: &'a Call,
    /// How many calls of this job were released before in this execution.
    pub index: usize,
    /// True when the job's last released call was this very call and it
    /// failed: a loop polling for something (`until [ -e F ]`).
    pub spins: bool,
}

/// Picks the job to release.
pub trait Picker {
    /// One of `offers` (never empty, by ascending job), at decision `step`;
    /// `None` when it cannot go on (a token that does not fit).
    fn pick(&mut self, offers: &[Offer<'_>], step: usize) -> Option<JobId>;
}

/// A model-side [`Scheduler`] on the gate: it sees the runnable jobs only.
pub struct Plain<'a>(pub &'a mut dyn Scheduler);

impl Picker for Plain<'_> {
    fn pick(&mut self, offers: &[Offer<'_>], step: usize) -> Option<JobId> {
        let runnable: Vec<JobId> = offers.iter().map(|o| o.job).collect();
        self.0.pick(&runnable, step)
    }
}
