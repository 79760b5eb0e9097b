//! The keys of the states an execution passes through: of its decision
//! points ([`DecisionKeys`], for the [`crate::state_graph::StateGraph`]) and
//! of the point where only one job is left ([`tail_key`], for
//! the known tails of `crate::tail`). What follows a state is a function of its key (and,
//! at a decision point, of the pick).

use std::hash::Hash;

use super::{JobEnd, JobOutcome, Progress};
use crate::job::{Job, Step};
use crate::op::OpResult;
use crate::schedule::JobId;
use crate::state_key::{hash_result, StateHasher, StateKey};

/// What every job has been handed: per job, a hash of the results of its ops
/// (what a job that cannot name its own state is keyed by).
#[derive(Debug, Clone)]
pub struct Histories(Vec<StateHasher>);

impl Histories {
    /// The histories of `jobs` jobs that ran nothing yet.
    pub fn new(jobs: usize) -> Histories {
        Histories(vec![StateHasher::default(); jobs])
    }

    /// `job` was handed `result`.
    pub fn handed(&mut self, job: JobId, result: &OpResult) {
        if let Some(h) = self.0.get_mut(job) {
            hash_result(h, result);
        }
    }

    /// `job`'s own state key, or else the key of the results it was handed.
    fn own(&self, job: JobId, of: &dyn Job) -> StateKey {
        match of.state_key() {
            Some(own) => own,
            None => self.0[job].finish128(),
        }
    }
}

/// The key of a decision point, kept incrementally: the filesystem's key
/// combined with the XOR of one part per job (whether it still runs, how it
/// ended, what it printed, and while it runs its own state, or the results
/// it has been handed, and the op it offers). Only the parts of the jobs
/// touched since the previous decision point are recomputed, so keying
/// costs O(jobs touched) per step, not O(jobs).
#[derive(Debug, Clone, Default)]
pub struct DecisionKeys {
    parts: Vec<StateKey>,
    all: StateKey,
}

impl DecisionKeys {
    /// The key of the decision point `at`, on a filesystem whose key is `fs`.
    pub fn key(&mut self, fs: StateKey, at: &Progress, histories: &Histories) -> StateKey {
        if self.parts.len() != at.jobs.len() {
            self.parts = (0..at.jobs.len())
                .map(|j| job_part(j, at, histories))
                .collect();
            self.all = self.parts.iter().fold(StateKey::default(), |a, &p| a ^ p);
        } else {
            for &j in &at.touched {
                let part = job_part(j, at, histories);
                self.all ^= self.parts[j] ^ part;
                self.parts[j] = part;
            }
        }
        let mut h = StateHasher::default();
        fs.hash(&mut h);
        self.all.hash(&mut h);
        h.finish128()
    }
}

/// Job `j`'s part of a decision point's key.
pub(crate) fn job_part(j: JobId, at: &Progress, histories: &Histories) -> StateKey {
    let mut h = StateHasher::default();
    j.hash(&mut h);
    let running = at.running[j];
    running.hash(&mut h);
    let outcome = &at.outcomes[j];
    hash_end(&outcome.end, &mut h);
    for (diagnostic, _event) in &outcome.diagnostics {
        diagnostic.hash(&mut h);
    }
    if running {
        histories.own(j, at.jobs[j].as_ref()).hash(&mut h);
        at.offered(j).hash(&mut h);
    }
    h.finish128()
}

fn hash_end(end: &JobEnd, h: &mut StateHasher) {
    match end {
        JobEnd::Exited(code) => (0u8, code).hash(h),
        JobEnd::Skipped => 1u8.hash(h),
    }
}

/// The key of the state where only `last` is left: the filesystem, what
/// every finished job ended with, and the last job's own state (or, when it
/// cannot name one, the results it has been handed) and next step.
pub fn tail_key(
    fs: StateKey,
    histories: &Histories,
    outcomes: &[JobOutcome],
    last: &dyn Job,
    last_id: JobId,
    next: &Step,
) -> StateKey {
    let mut h = StateHasher::default();
    fs.hash(&mut h);
    for (j, outcome) in outcomes.iter().enumerate() {
        hash_end(&outcome.end, &mut h);
        if j != last_id {
            // What the job printed, not when: the event index of a line
            // depends on the interleaving and does not change what follows.
            for (diagnostic, _event) in &outcome.diagnostics {
                diagnostic.hash(&mut h);
            }
        }
    }
    last_id.hash(&mut h);
    histories.own(last_id, last).hash(&mut h);
    next.hash(&mut h);
    h.finish128()
}
