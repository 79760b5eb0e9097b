//! Class fingerprints: one deterministic number per Mazurkiewicz class.
//!
//! Two executions are equivalent when they order every pair of dependent
//! events the same way (the same happens-before, see
//! [`super::happens_before`]). The canonical representative of a class is
//! its lexicographically least linearization: at each step, the lowest job
//! whose next event has all its predecessors placed. Jobs are deterministic,
//! so the job sequence of that linearization identifies the class; its
//! SHA-256, cut to 128 bits, is the fingerprint, printed as 32 hex digits.

use sha2::{Digest, Sha256};

use super::happens_before::HappensBefore;
use crate::schedule::JobId;

/// The fingerprint of a class.
pub type Fingerprint = u128;

/// The lexicographically least linearization of `hb` (lowest job first), as jobs.
pub fn canonical_order(hb: &HappensBefore, jobs: usize) -> Vec<JobId> {
    let mut queues: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); jobs];
    for k in 0..hb.len() {
        queues[hb.job(k)].push_back(k);
    }
    let mut placed = vec![0u32; jobs];
    let ready = |k: usize, placed: &[u32]| {
        let own = hb.job(k);
        hb.clock(k)
            .iter()
            .enumerate()
            .all(|(q, &c)| q == own || placed[q] >= c)
    };
    let mut out = Vec::with_capacity(hb.len());
    while out.len() < hb.len() {
        let job = (0..jobs)
            .find(|&q| queues[q].front().is_some_and(|&k| ready(k, &placed)))
            .expect("happens-before is acyclic");
        queues[job].pop_front();
        placed[job] += 1;
        out.push(job);
    }
    out
}

/// The fingerprint of the class of the execution with happens-before `hb`.
pub fn fingerprint(hb: &HappensBefore, jobs: usize) -> Fingerprint {
    let mut hasher = Sha256::new();
    for job in canonical_order(hb, jobs) {
        hasher.update((job as u32).to_le_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(bytes)
}

/// A fingerprint as 32 lowercase hex digits.
pub fn hex(fp: Fingerprint) -> String {
    format!("{fp:032x}")
}
