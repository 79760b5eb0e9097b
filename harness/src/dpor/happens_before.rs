//! Happens-before over the events of one execution, as vector clocks.
//!
//! The order is program order, plus the dependence relation of
//! [`crate::schedule::dependence`] between events of different jobs, plus
//! enabling edges (a job that became runnable right after event `e` runs its
//! next op after `e`). Building it is near-linear: instead of comparing every
//! pair of events, an [`AccessIndex`] remembers, per path and per job, the
//! last event that named, mutated, created or listed it, so each event finds
//! the latest dependent event of every other job with a few map look-ups per
//! ancestor of its paths.

use std::collections::HashMap;

use crate::op::Op;
use crate::schedule::{DporStep, JobId};

/// Happens-before over the events of one execution.
pub struct HappensBefore {
    jobs: usize,
    /// `clocks[k * jobs + q]`: how many events of job `q` happen before or
    /// at event `k`.
    clocks: Vec<u32>,
    /// The same without `k`'s own dependence edges (program order and enabling only).
    local: Vec<u32>,
    /// 1-based position of each event within its job.
    seq: Vec<u32>,
    /// The job of each event.
    job: Vec<JobId>,
    /// For each event, the latest earlier dependent event of every other job
    /// that has one, ascending.
    conflicts: Vec<Vec<usize>>,
}

impl HappensBefore {
    /// Computes happens-before over `steps` of an execution of `jobs` jobs.
    pub fn new(steps: &[DporStep], jobs: usize) -> HappensBefore {
        let n = steps.len();
        let mut clocks = vec![0u32; n * jobs];
        let mut local = vec![0u32; n * jobs];
        let mut seq = Vec::with_capacity(n);
        let mut job = Vec::with_capacity(n);
        let mut conflicts = Vec::with_capacity(n);
        let mut last_of: Vec<Option<usize>> = vec![None; jobs];
        let mut count = vec![0u32; jobs];
        let mut enabler: Vec<Option<usize>> = vec![None; jobs];
        let mut index = AccessIndex::new(jobs);
        let mut c = vec![0u32; jobs];
        for k in 0..n {
            if k > 0 {
                for &q in &steps[k].enabled {
                    if !steps[k - 1].enabled.contains(&q) {
                        enabler[q] = Some(k - 1);
                    }
                }
            }
            let p = steps[k].chosen;
            let op = steps[k].executed();
            match last_of[p] {
                Some(i) => c.copy_from_slice(&clocks[i * jobs..(i + 1) * jobs]),
                None => c.iter_mut().for_each(|x| *x = 0),
            }
            if let Some(e) = enabler[p].take() {
                join(&mut c, &clocks[e * jobs..(e + 1) * jobs]);
            }
            count[p] += 1;
            c[p] = count[p];
            local[k * jobs..(k + 1) * jobs].copy_from_slice(&c);
            let mine = index.latest_dependent(op, p);
            for &i in &mine {
                join(&mut c, &clocks[i * jobs..(i + 1) * jobs]);
            }
            clocks[k * jobs..(k + 1) * jobs].copy_from_slice(&c);
            index.record(op, p, k);
            seq.push(count[p]);
            job.push(p);
            conflicts.push(mine);
            last_of[p] = Some(k);
        }
        HappensBefore {
            jobs,
            clocks,
            local,
            seq,
            job,
            conflicts,
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// True for an execution without events.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// The clock of event `k`: for each job, how many of its events happen
    /// before or at `k`.
    pub fn clock(&self, k: usize) -> &[u32] {
        &self.clocks[k * self.jobs..(k + 1) * self.jobs]
    }

    /// The job of event `k`.
    pub fn job(&self, k: usize) -> JobId {
        self.job[k]
    }

    /// 1-based position of event `k` within its job.
    pub fn seq(&self, k: usize) -> u32 {
        self.seq[k]
    }

    /// True when event `a` happens before event `b` (a < b).
    pub fn before(&self, a: usize, b: usize) -> bool {
        a < b && self.clocks[b * self.jobs + self.job[a]] >= self.seq[a]
    }

    /// True when `a` happens before `b` through program order and enabling
    /// of `b`'s job, ignoring `b`'s own dependence edges.
    pub fn locally_before(&self, a: usize, b: usize) -> bool {
        a < b && self.local[b * self.jobs + self.job[a]] >= self.seq[a]
    }

    /// The latest earlier dependent event of every other job, for event `k`.
    pub fn conflicts(&self, k: usize) -> &[usize] {
        &self.conflicts[k]
    }

    /// The races of the execution whose later event is at `from` or after:
    /// pairs (e, e') of dependent events of different jobs where e happens
    /// before e' only through their direct edge. Ordered by e', then e.
    pub fn races(&self, from: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for k in from..self.len() {
            let cands = &self.conflicts[k];
            for &j in cands {
                if self.locally_before(j, k) {
                    continue;
                }
                let covered = cands.iter().any(|&i| i != j && self.before(j, i));
                if !covered {
                    out.push((j, k));
                }
            }
        }
        out
    }

    /// The events `notdep(e)·e'` that reverse the pair (e, e'): the events
    /// between them that do not happen after `e`, then `e'`.
    pub fn reversal(&self, e: usize, e2: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (e + 1..e2).filter(|&i| !self.before(e, i)).collect();
        v.push(e2);
        v
    }
}

fn join(into: &mut [u32], other: &[u32]) {
    for (a, b) in into.iter_mut().zip(other) {
        *a = (*a).max(*b);
    }
}

/// The entries an op creates, removes or renames (as in `dependence.rs`).
fn namespace_changes(op: &Op) -> Vec<&str> {
    match op {
        Op::Mkdir { path, .. }
        | Op::Rmdir { path }
        | Op::Unlink { path }
        | Op::Symlink { path, .. } => vec![path],
        Op::Open { path, flags, .. } if flags.create => vec![path],
        Op::Rename { from, to } => vec![from, to],
        _ => Vec::new(),
    }
}

/// Every path an op names.
fn named_paths(op: &Op) -> Vec<&str> {
    let mut paths: Vec<&str> = vec![op.path()];
    if let Some(to) = op.path2() {
        paths.push(to);
    }
    paths
}

/// The strict ancestors of `path`, `""` (the root) first.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let root = (!path.is_empty()).then_some("");
    root.into_iter()
        .chain(path.match_indices('/').map(move |(i, _)| &path[..i]))
}

/// The directory holding `path` (`""` for a top-level entry).
fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Per path, the last event of each job (1-based, 0 for none) in each role.
#[derive(Clone)]
struct Slot {
    /// Named the path (any op).
    any: Vec<u32>,
    /// Named the path and mutated.
    mutating: Vec<u32>,
    /// Created, removed or renamed the entry at the path.
    changed: Vec<u32>,
    /// Named a path strictly below it.
    below: Vec<u32>,
    /// Created, removed or renamed an entry of the directory at the path.
    changed_in: Vec<u32>,
    /// Listed the directory at the path.
    listed: Vec<u32>,
}

/// Last accesses per path and job, for finding dependent events quickly.
struct AccessIndex {
    jobs: usize,
    slots: HashMap<String, Slot>,
}

impl AccessIndex {
    fn new(jobs: usize) -> AccessIndex {
        AccessIndex {
            jobs,
            slots: HashMap::new(),
        }
    }

    fn slot(&mut self, path: &str) -> &mut Slot {
        if !self.slots.contains_key(path) {
            let empty = vec![0; self.jobs];
            self.slots.insert(
                path.to_string(),
                Slot {
                    any: empty.clone(),
                    mutating: empty.clone(),
                    changed: empty.clone(),
                    below: empty.clone(),
                    changed_in: empty.clone(),
                    listed: empty,
                },
            );
        }
        self.slots.get_mut(path).expect("just inserted")
    }

    /// Records event `k` of job `p`, running `op`.
    fn record(&mut self, op: &Op, p: JobId, k: usize) {
        let at = k as u32 + 1;
        let mutates = op.is_mutation();
        for x in named_paths(op) {
            let s = self.slot(x);
            s.any[p] = at;
            if mutates {
                s.mutating[p] = at;
            }
            for c in ancestors(x) {
                self.slot(c).below[p] = at;
            }
        }
        for c in namespace_changes(op) {
            self.slot(c).changed[p] = at;
            self.slot(parent(c)).changed_in[p] = at;
        }
        if let Op::Readdir { path } = op {
            self.slot(path).listed[p] = at;
        }
    }

    /// The latest recorded event of every job but `p` dependent with `op`, ascending.
    fn latest_dependent(&self, op: &Op, p: JobId) -> Vec<usize> {
        let mut best = vec![0u32; self.jobs];
        let mut take = |v: &[u32]| {
            for (b, x) in best.iter_mut().zip(v) {
                *b = (*b).max(*x);
            }
        };
        let mutates = op.is_mutation();
        for x in named_paths(op) {
            if let Some(s) = self.slots.get(x) {
                take(if mutates { &s.any } else { &s.mutating });
            }
            for c in ancestors(x) {
                if let Some(s) = self.slots.get(c) {
                    take(&s.changed);
                }
            }
        }
        if let Op::Readdir { path } = op {
            if let Some(s) = self.slots.get(&**path) {
                take(&s.changed_in);
            }
        }
        for c in namespace_changes(op) {
            if let Some(s) = self.slots.get(c) {
                take(&s.below);
            }
            if let Some(s) = self.slots.get(parent(c)) {
                take(&s.listed);
            }
        }
        best[p] = 0;
        let mut out: Vec<usize> = best
            .into_iter()
            .filter(|&b| b > 0)
            .map(|b| b as usize - 1)
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::dependence::dependent;

    #[test]
    fn ancestors_include_the_root() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["", "a", "a/b"]);
        assert_eq!(ancestors("a").collect::<Vec<_>>(), [""]);
        assert_eq!(ancestors("").count(), 0);
    }

    /// The index finds exactly the latest dependent event of each job that
    /// a pairwise scan with `dependent` finds.
    #[test]
    fn the_index_agrees_with_the_pairwise_relation() {
        use crate::op::OpenFlags;
        let p = |s: &str| -> std::sync::Arc<str> { s.into() };
        let ops = vec![
            Op::Mkdir {
                path: p("a"),
                mode: 0o755,
            },
            Op::Stat { path: p("a/b/c") },
            Op::Readdir { path: p("a") },
            Op::Open {
                path: p("a/b"),
                flags: OpenFlags::READ,
                mode: 0,
            },
            Op::Rename {
                from: p("t/x"),
                to: p("a/y"),
            },
            Op::Chmod {
                path: p("a"),
                mode: 0o700,
            },
            Op::Mkdir {
                path: p("a/b"),
                mode: 0o755,
            },
            Op::Lstat { path: p("a/y") },
            Op::Readdir { path: p("t") },
            Op::Unlink { path: p("a/b") },
            Op::Stat { path: p("a") },
        ];
        let jobs = 3;
        let mut index = AccessIndex::new(jobs);
        for (k, op) in ops.iter().enumerate() {
            let me = k % jobs;
            let found = index.latest_dependent(op, me);
            let mut expected = Vec::new();
            for q in 0..jobs {
                if q == me {
                    continue;
                }
                if let Some(i) = (0..k)
                    .rev()
                    .find(|&i| i % jobs == q && dependent(&ops[i], op))
                {
                    expected.push(i);
                }
            }
            expected.sort_unstable();
            assert_eq!(found, expected, "event {k}: {op:?}");
            index.record(op, me, k);
        }
    }
}
