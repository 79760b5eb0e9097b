//! Class fingerprints: one deterministic number per Mazurkiewicz class.
//!
//! Two executions are equivalent when they order every pair of dependent
//! events the same way (the same happens-before, see
//! [`super::happens_before`]). The canonical representative of a class is
//! its lexicographically least linearization: at each step, the lowest job
//! whose next event has all its predecessors placed. Jobs are deterministic,
//! so the job sequence of that linearization identifies the class; its
//! SHA-256, cut to 128 bits, is the fingerprint, printed as 32 hex digits.
//!
//! [`Canonical`] computes the same fingerprint for the DPOR driver's
//! successive executions without starting over: a step of the
//! linearization that looked only at events the next execution shares is
//! the same step there, so only the rest is linearized and hashed again.

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
            .all(|&(q, c)| q as usize == own || placed[q as usize] >= c)
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

/// The SHA-256 state is kept after every this many jobs of the order.
const HASH_EVERY: usize = 256;

/// The canonical linearization of the current execution of a search, kept
/// from one execution to the next (see the module documentation).
pub(crate) struct Canonical {
    jobs: usize,
    /// The linearization so far, as jobs.
    order: Vec<JobId>,
    /// For each step of `order`, the latest event looked at by it or any
    /// step before (the front event of every job up to the one placed).
    reach: Vec<usize>,
    /// Per job, the first step of `order` that looked at it when it had no
    /// event left (`usize::MAX`: none).
    empty_at: Vec<usize>,
    /// `states[i]`: the hash of `order[..i * HASH_EVERY]`.
    states: Vec<Sha256>,
}

impl Canonical {
    /// Nothing linearized yet, for executions of `jobs` jobs.
    pub(crate) fn new(jobs: usize) -> Canonical {
        Canonical {
            jobs,
            order: Vec::new(),
            reach: Vec::new(),
            empty_at: vec![usize::MAX; jobs],
            states: vec![Sha256::new()],
        }
    }

    /// The fingerprint of the execution whose happens-before is `hb`, which
    /// shares its first `shared` events with the execution linearized last.
    /// Equal to [`fingerprint`]`(hb, jobs)`.
    pub(crate) fn fingerprint(&mut self, hb: &HappensBefore, shared: usize) -> Fingerprint {
        let jobs = self.jobs;
        // The steps that looked only at shared events, and not at a job
        // with none left that has events after them now.
        let mut keep = self.reach.partition_point(|&r| r < shared);
        for q in 0..jobs {
            if hb
                .events_of(q)
                .last()
                .is_some_and(|&e| e as usize >= shared)
            {
                keep = keep.min(self.empty_at[q]);
            }
        }
        self.order.truncate(keep);
        self.reach.truncate(keep);
        for e in &mut self.empty_at {
            if *e >= keep {
                *e = usize::MAX;
            }
        }
        self.states.truncate(keep / HASH_EVERY + 1);
        let mut placed = vec![0u32; jobs];
        for &q in &self.order {
            placed[q] += 1;
        }
        let mut reach = self.reach.last().copied().unwrap_or(0);
        let ready = |k: usize, placed: &[u32]| {
            let own = hb.job(k);
            hb.clock(k)
                .iter()
                .all(|&(q, c)| q as usize == own || placed[q as usize] >= c)
        };
        while self.order.len() < hb.len() {
            let step = self.order.len();
            let mut chosen = None;
            for q in 0..jobs {
                match hb.events_of(q).get(placed[q] as usize) {
                    None => {
                        if self.empty_at[q] == usize::MAX {
                            self.empty_at[q] = step;
                        }
                    }
                    Some(&k) => {
                        let k = k as usize;
                        reach = reach.max(k);
                        if ready(k, &placed) {
                            chosen = Some(q);
                            break;
                        }
                    }
                }
            }
            let q = chosen.expect("happens-before is acyclic");
            placed[q] += 1;
            self.order.push(q);
            self.reach.push(reach);
        }
        let from = (self.states.len() - 1) * HASH_EVERY;
        let mut hasher = self.states.last().expect("the empty hash").clone();
        for (t, &q) in self.order.iter().enumerate().skip(from) {
            if t > from && t % HASH_EVERY == 0 {
                self.states.push(hasher.clone());
            }
            hasher.update((q as u32).to_le_bytes());
        }
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        u128::from_be_bytes(bytes)
    }
}
