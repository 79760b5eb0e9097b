//! Wakeup sequences and wakeup trees (Abdulla, Aronis, Jonsson, Sagonas,
//! POPL 2014, optimal DPOR).
//!
//! A [`WakeupSeq`] is a sequence of events `notdep(e)·e'` taken from one
//! execution, with happens-before restricted to it, so that it can be
//! compared with branches found in other executions. A [`WakeupTree`] is the
//! ordered set of branches still to explore at one node of the search; a new
//! sequence is inserted unless an existing branch already covers it.

use crate::op::Op;
use crate::schedule::dependence::{dependent_as, mutates};
use crate::schedule::{DporSteps, JobId};

use super::happens_before::HappensBefore;

/// One event of a wakeup sequence.
#[derive(Debug, Clone)]
struct Item {
    job: JobId,
    op: Op,
    /// Whether it changes anything (the last event's result may change once
    /// reordered, so it is judged without its result).
    mutates: bool,
}

/// A sequence of events to run from a node, with happens-before among them.
///
/// Removing a job's first event ([`WakeupSeq::remove_first`]) only marks
/// it: a job's removed events are always its first ones, so each event's
/// count of a job's earlier events that happen before it is read as that
/// count minus the job's removed events (at least 0).
#[derive(Debug, Clone)]
pub struct WakeupSeq {
    jobs: usize,
    items: Vec<Item>,
    /// `clocks[i * jobs + q]`: how many events of job `q` earlier in the
    /// sequence happen before item `i`.
    clocks: Vec<u32>,
    /// Per job, its items' indices, ascending.
    of_job: Vec<Vec<u32>>,
    /// Per job, how many of its first items were removed.
    gone: Vec<u32>,
    /// Per item, whether it was removed.
    removed: Vec<bool>,
    /// Items not removed.
    left: usize,
}

impl WakeupSeq {
    /// The events `events` (indices into an execution, ascending) of the
    /// execution of `steps` whose happens-before is `hb`.
    pub fn new(events: &[usize], steps: &DporSteps, hb: &HappensBefore, jobs: usize) -> Self {
        let last = events.last().copied();
        // For each job, the positions within the job of its events in `events`.
        let mut seqs: Vec<Vec<u32>> = vec![Vec::new(); jobs];
        let mut of_job: Vec<Vec<u32>> = vec![Vec::new(); jobs];
        for (i, &e) in events.iter().enumerate() {
            seqs[hb.job(e)].push(hb.seq(e));
            of_job[hb.job(e)].push(i as u32);
        }
        let mut clocks = Vec::with_capacity(events.len() * jobs);
        let items = events
            .iter()
            .map(|&e| {
                let own = hb.job(e);
                // Jobs not in `e`'s clock (never its own) have no event
                // before it.
                let row = clocks.len();
                clocks.resize(row + jobs, 0);
                for &(q, n) in hb.clock(e) {
                    let q = q as usize;
                    let bound = if q == own { hb.seq(e) - 1 } else { n };
                    clocks[row + q] = seqs[q].partition_point(|&s| s <= bound) as u32;
                }
                let op = steps.executed(e).clone();
                Item {
                    job: own,
                    mutates: if Some(e) == last {
                        mutates(&op, None)
                    } else {
                        steps.mutates(e)
                    },
                    op,
                }
            })
            .collect();
        WakeupSeq {
            jobs,
            items,
            clocks,
            of_job,
            gone: vec![0; jobs],
            removed: vec![false; events.len()],
            left: events.len(),
        }
    }

    /// True when the sequence has no events.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The events left, in order.
    fn remaining(&self) -> impl Iterator<Item = &Item> {
        self.items
            .iter()
            .zip(&self.removed)
            .filter(|(_, &r)| !r)
            .map(|(i, _)| i)
    }

    /// The jobs of the sequence, in order.
    pub fn jobs(&self) -> Vec<JobId> {
        self.remaining().map(|i| i.job).collect()
    }

    /// True when `job`, whose next op is `next` (with whether it mutates),
    /// is a weak initial of the sequence: its first event in the sequence has
    /// no predecessor in it, or it has no event in it and its next op is
    /// independent of all of them.
    pub fn weak_initial(&self, job: JobId, next: Option<(&Op, bool)>) -> bool {
        match self.of_job[job].get(self.gone[job] as usize) {
            Some(&first) => {
                let at = first as usize * self.jobs;
                self.clocks[at..at + self.jobs]
                    .iter()
                    .zip(&self.gone)
                    .all(|(&c, &g)| c <= g)
            }
            None => next.is_some_and(|(op, m)| {
                self.remaining()
                    .all(|i| !dependent_as(op, m, &i.op, i.mutates))
            }),
        }
    }

    /// Removes the first event of `job`, if any (`w \ p`).
    pub fn remove_first(&mut self, job: JobId) {
        if let Some(&first) = self.of_job[job].get(self.gone[job] as usize) {
            self.removed[first as usize] = true;
            self.gone[job] += 1;
            self.left -= 1;
        }
    }
}

/// One branch of a wakeup tree: a job's next step and what follows it.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The job that steps.
    pub job: JobId,
    /// The op it runs there.
    pub op: Op,
    /// Whether that op mutates there.
    pub mutates: bool,
    /// The branches below.
    pub below: WakeupTree,
}

/// The ordered branches still to explore at one node.
#[derive(Debug, Clone, Default)]
pub struct WakeupTree {
    /// Branches, in exploration order.
    pub branches: Vec<Branch>,
}

impl WakeupTree {
    /// True when nothing is left to explore.
    pub fn is_empty(&self) -> bool {
        self.branches.is_empty()
    }

    /// Number of leaves (pending executions).
    pub fn leaves(&self) -> usize {
        self.branches.iter().map(|b| b.below.leaves().max(1)).sum()
    }

    /// Inserts `w` (the paper's `insert[E](w, wut)`): walks down through the
    /// first branch whose job is a weak initial of what is left of `w`; when
    /// it reaches a leaf, `w` is already covered; otherwise what is left is
    /// added as a new last branch. Returns true when the tree grew.
    pub fn insert(&mut self, mut w: WakeupSeq) -> bool {
        let mut node = self;
        let mut root = true;
        loop {
            if !root && node.branches.is_empty() {
                return false;
            }
            match node
                .branches
                .iter()
                .position(|b| w.weak_initial(b.job, Some((&b.op, b.mutates))))
            {
                Some(i) => {
                    w.remove_first(node.branches[i].job);
                    node = &mut node.branches[i].below;
                    root = false;
                }
                None => {
                    if w.is_empty() {
                        return false;
                    }
                    node.branches.push(chain(w));
                    return true;
                }
            }
        }
    }

    /// Removes and returns the first branch.
    pub fn pop_first(&mut self) -> Option<Branch> {
        (!self.branches.is_empty()).then(|| self.branches.remove(0))
    }
}

/// The sequence (not empty) as a single chain of branches.
fn chain(w: WakeupSeq) -> Branch {
    let mut below = WakeupTree::default();
    let mut items: Vec<Item> = w
        .items
        .into_iter()
        .zip(w.removed)
        .filter(|(_, r)| !r)
        .map(|(i, _)| i)
        .collect();
    let first = items.remove(0);
    for item in items.into_iter().rev() {
        below = WakeupTree {
            branches: vec![Branch {
                job: item.job,
                op: item.op,
                mutates: item.mutates,
                below,
            }],
        };
    }
    Branch {
        job: first.job,
        op: first.op,
        mutates: first.mutates,
        below,
    }
}

impl Branch {
    /// The jobs along the leftmost path of this branch.
    pub fn leftmost_jobs(&self) -> Vec<JobId> {
        let mut jobs = vec![self.job];
        let mut tree = &self.below;
        while let Some(first) = tree.branches.first() {
            jobs.push(first.job);
            tree = &first.below;
        }
        jobs
    }

    /// The jobs along the leftmost path of this branch, and for every node
    /// below the first, the branches left beside that path.
    pub fn leftmost(self) -> (Vec<JobId>, Vec<WakeupTree>) {
        let mut jobs = vec![self.job];
        let mut rest = Vec::new();
        let mut tree = self.below;
        while let Some(first) = tree.pop_first() {
            jobs.push(first.job);
            rest.push(tree);
            tree = first.below;
        }
        (jobs, rest)
    }
}
