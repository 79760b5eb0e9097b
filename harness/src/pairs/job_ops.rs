//! The ops of each job of a shape, as pairs see them: what shapes compare,
//! and each op's identity.
//!
//! An op's identity counts the earlier ops of its job with the same
//! syscall and paths (`pairs::identities`). A shape built from a known
//! one ([`super::delta`]) keeps most of its ops, and a kept op whose count
//! did not change keeps its identity: only fresh ops, and kept ops whose
//! count moved (a fresh or gone op of the same syscall and paths came
//! before them), hash their names again.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::execution::Event;
use crate::op::Op;
use crate::state_key::{KeyHasher, StateHasher, StateKey};

use super::delta::Delta;
use super::op_identity;

/// One job's ops, in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobOps {
    /// Per op, what shapes compare: its syscall, paths and, for `open`,
    /// its flags (what [`crate::schedule::dependence::dependent`] and
    /// identities look at), not its descriptor, mode or bytes.
    pub keys: Vec<StateKey>,
    /// Per op, what its identity counts: its job, syscall and paths.
    names: Vec<StateKey>,
    /// Per op, how many ops of the job up to it (itself included) have
    /// its name.
    occurrences: Vec<u32>,
    /// Per op, its identity (`op_identity`); empty until
    /// [`identify`] fills it.
    pub ids: Vec<u64>,
}

/// The ops of every job of the execution `events` (of at least `jobs`
/// jobs), their identities not yet filled in.
pub fn job_ops<E: Borrow<Event>>(events: &[E], jobs: usize) -> Vec<JobOps> {
    let mut ops: Vec<JobOps> = vec![JobOps::default(); jobs];
    let mut counts: HashMap<StateKey, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
    for e in events {
        let e = e.borrow();
        if ops.len() <= e.job {
            ops.resize(e.job + 1, JobOps::default());
        }
        let mut h = StateHasher::default();
        h.write_usize(e.job);
        h.write(e.op.syscall().as_bytes());
        h.write(e.op.path().as_bytes());
        match e.op.path2() {
            Some(to) => h.write(to.as_bytes()),
            None => h.write_u8(0),
        }
        let name = h.finish128();
        if let Op::Open { flags, .. } = &e.op {
            flags.hash(&mut h);
        }
        let count = counts.entry(name).or_insert(0);
        *count += 1;
        let job = &mut ops[e.job];
        job.keys.push(h.finish128());
        job.names.push(name);
        job.occurrences.push(*count);
    }
    ops
}

/// Fills in the identities of `ops`, the ops of `events` ([`job_ops`]),
/// taking those of the ops kept from `base` whose occurrence did not move.
pub fn identify<E: Borrow<Event>>(
    ops: &mut [JobOps],
    base: Option<(&[JobOps], &Delta)>,
    events: &[E],
) {
    let mut at = vec![0u32; ops.len()];
    for e in events {
        let e = e.borrow();
        let op = at[e.job];
        at[e.job] += 1;
        let job = &mut ops[e.job];
        let occurrence = job.occurrences[op as usize];
        let known = base.and_then(|(known, delta)| {
            let old = delta.job(e.job).old_index(op)? as usize;
            let was = &known[e.job];
            (was.occurrences[old] == occurrence).then(|| was.ids[old])
        });
        job.ids
            .push(known.unwrap_or_else(|| op_identity(e.job, &e.op, occurrence)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairs::identities;
    use crate::test_support::{any_op, ev};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn identities_taken_from_a_known_shape_are_those_of_the_ops(
            a in prop::collection::vec((0usize..2, any_op()), 0..30),
            b in prop::collection::vec((0usize..2, any_op()), 0..30),
        ) {
            let known: Vec<Event> = a.into_iter().map(|(job, op)| ev(job, op)).collect();
            // The new execution: the known one with its middle replaced.
            let cut = known.len() / 3;
            let mut events: Vec<Event> = known[..cut].to_vec();
            events.extend(b.into_iter().map(|(job, op)| ev(job, op)));
            events.extend(known[2 * cut..].iter().cloned());
            let mut was = job_ops(&known, 2);
            identify(&mut was, None, &known);
            let mut ops = job_ops(&events, 2);
            let delta = Delta::between(&was, &ops);
            identify(&mut ops, Some((&was, &delta)), &events);
            let mut expected: Vec<Vec<u64>> = vec![Vec::new(); 2];
            for (e, id) in events.iter().zip(identities(&events)) {
                expected[e.job].push(id);
            }
            let ids: Vec<Vec<u64>> = ops.into_iter().map(|j| j.ids).collect();
            prop_assert_eq!(ids, expected);
        }
    }
}
