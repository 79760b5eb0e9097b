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
use crate::schedule::{DporStep, JobId};

use super::happens_before::HappensBefore;

/// One event of a wakeup sequence.
#[derive(Debug, Clone)]
struct Item {
    job: JobId,
    op: Op,
    /// Whether it changes anything (the last event's result may change once
    /// reordered, so it is judged without its result).
    mutates: bool,
    /// For each job, how many of its events earlier in the sequence happen
    /// before this one.
    clock: Vec<u32>,
}

/// A sequence of events to run from a node, with happens-before among them.
#[derive(Debug, Clone)]
pub struct WakeupSeq {
    items: Vec<Item>,
}

impl WakeupSeq {
    /// The events `events` (indices into an execution, ascending) of the
    /// execution of `steps` whose happens-before is `hb`.
    pub fn new(events: &[usize], steps: &[DporStep], hb: &HappensBefore, jobs: usize) -> Self {
        let last = events.last().copied();
        // For each job, the positions within the job of its events in `events`.
        let mut seqs: Vec<Vec<u32>> = vec![Vec::new(); jobs];
        for &e in events {
            seqs[hb.job(e)].push(hb.seq(e));
        }
        let items = events
            .iter()
            .map(|&e| {
                let clock = hb.clock(e);
                let own = hb.job(e);
                let counts = (0..jobs)
                    .map(|q| {
                        let bound = if q == own { hb.seq(e) - 1 } else { clock[q] };
                        seqs[q].partition_point(|&s| s <= bound) as u32
                    })
                    .collect();
                let op = steps[e].executed().clone();
                Item {
                    job: own,
                    mutates: if Some(e) == last {
                        mutates(&op, None)
                    } else {
                        steps[e].mutates
                    },
                    op,
                    clock: counts,
                }
            })
            .collect();
        WakeupSeq { items }
    }

    /// True when the sequence has no events.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The jobs of the sequence, in order.
    pub fn jobs(&self) -> Vec<JobId> {
        self.items.iter().map(|i| i.job).collect()
    }

    /// True when `job`, whose next op is `next` (with whether it mutates),
    /// is a weak initial of the sequence: its first event in the sequence has
    /// no predecessor in it, or it has no event in it and its next op is
    /// independent of all of them.
    pub fn weak_initial(&self, job: JobId, next: Option<(&Op, bool)>) -> bool {
        match self.items.iter().find(|i| i.job == job) {
            Some(first) => first.clock.iter().all(|&c| c == 0),
            None => next.is_some_and(|(op, m)| {
                self.items
                    .iter()
                    .all(|i| !dependent_as(op, m, &i.op, i.mutates))
            }),
        }
    }

    /// Removes the first event of `job`, if any (`w \ p`).
    pub fn remove_first(&mut self, job: JobId) {
        if let Some(at) = self.items.iter().position(|i| i.job == job) {
            self.items.remove(at);
            for i in &mut self.items[at..] {
                i.clock[job] = i.clock[job].saturating_sub(1);
            }
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

/// The sequence as a single chain of branches.
fn chain(w: WakeupSeq) -> Branch {
    let mut below = WakeupTree::default();
    let mut items = w.items;
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
