//! The race-directed scheduler's work list: every conflict of the serial
//! reference run, as targets, in the order they are tried.
//!
//! Targets come from one execution, the serial reference, recorded with
//! its events:
//! - a **reversal** for every conflicting pair of ops of two jobs that can
//!   overlap (neither waits for the other to exit): hold the job of the
//!   earlier op just before it, run the other job until its op has run;
//! - a **window** for every two consecutive ops of one job on one path
//!   (the second resolving the path, not a descriptor op) and every
//!   destructive op of another job on that path: hold the first job just
//!   after its first op, run the other until its op has run.
//!
//! Order: targets are grouped by kind (`Candidate::kind`: tier, aim,
//! jobs and syscalls). Round `r` takes the `r`-th target of every kind,
//! kinds ordered by tier then by where their first target appears in the
//! reference run; so the list tries one target of every kind before a
//! second of any, and those whose racer makes the exposed op fail first.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::execution::{Event, ExecutionTrace};
use crate::op::Errno;
use crate::schedule::JobId;

use super::op_id::{identities, OpId};
use super::target::{descriptor_op, destructive, tier, Aim, Hold, Lead, Target};
use crate::conflicts::conflicting_events;

/// The ordered targets of one setup.
#[derive(Debug, Clone, Default)]
pub struct WorkList {
    /// The targets, in the order they are tried (at most the limit given).
    pub targets: Vec<Target>,
    /// Targets found in all, before the limit.
    pub found: usize,
    /// Conflicting pairs of the runs between jobs that can overlap.
    pub pairs: usize,
    /// Whether the runs include the round-robin run.
    pub round_robin: bool,
    /// Of the targets found, the windows.
    pub windows: usize,
}

/// Which jobs can run at the same time: neither waits, directly or
/// through others, for the other to exit.
struct Overlap {
    jobs: usize,
    /// `waits[a * jobs + b]`: job `a` starts only after `b` exited.
    waits: Vec<bool>,
}

impl Overlap {
    fn new(deps: &[Vec<JobId>]) -> Overlap {
        let jobs = deps.len();
        let mut waits = vec![false; jobs * jobs];
        for from in 0..jobs {
            let mut stack = deps[from].clone();
            while let Some(d) = stack.pop() {
                if !std::mem::replace(&mut waits[from * jobs + d], true) {
                    stack.extend_from_slice(&deps[d]);
                }
            }
        }
        Overlap { jobs, waits }
    }

    fn can_overlap(&self, a: JobId, b: JobId) -> bool {
        a != b
            && a < self.jobs
            && b < self.jobs
            && !self.waits[a * self.jobs + b]
            && !self.waits[b * self.jobs + a]
    }
}

/// The errors jobs were seen to go on after: (job, syscall, errno) of
/// every failed op of a job that exited 0 in the same run.
struct Tolerated(HashSet<(JobId, &'static str, Errno)>);

impl Tolerated {
    fn of(runs: &[&ExecutionTrace]) -> Tolerated {
        let mut seen = HashSet::new();
        for run in runs {
            for e in &run.events {
                if let Err(errno) = e.result {
                    if run.outcomes.get(e.job).is_some_and(|o| !o.failed()) {
                        seen.insert((e.job, e.op.syscall(), errno));
                    }
                }
            }
        }
        Tolerated(seen)
    }

    fn contains(&self, job: JobId, syscall: &'static str, errno: Errno) -> bool {
        self.0.contains(&(job, syscall, errno))
    }
}

/// A target before its ops are named: event indices into one run.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    run: usize,
    aim: Aim,
    hold: usize,
    exposed: usize,
    racer: usize,
    tier: u8,
}

/// What makes two targets alike (see `Candidate::kind`).
type Kind = (
    u8,
    Aim,
    usize,
    &'static str,
    &'static str,
    usize,
    &'static str,
);

impl Candidate {
    fn kind(&self, events: &[Event]) -> Kind {
        (
            self.tier,
            self.aim,
            events[self.hold].job,
            events[self.hold].op.syscall(),
            events[self.exposed].op.syscall(),
            events[self.racer].job,
            events[self.racer].op.syscall(),
        )
    }

    fn target(&self, ids: &[OpId], schedule: &Arc<[JobId]>) -> Target {
        Target {
            lead: match self.aim {
                // Up to the held op.
                Aim::Reverse => Lead {
                    schedule: schedule.clone(),
                    steps: self.hold,
                    then_held_first: false,
                },
                // Through the op opening the window; or, when the racer's
                // op came before it, up to the racer's op, then the held
                // job to the window.
                Aim::Window if self.racer > self.hold => Lead {
                    schedule: schedule.clone(),
                    steps: self.hold + 1,
                    then_held_first: false,
                },
                Aim::Window => Lead {
                    schedule: schedule.clone(),
                    steps: self.racer,
                    then_held_first: true,
                },
            },
            aim: self.aim,
            hold: match self.aim {
                Aim::Reverse => Hold::Before(ids[self.hold].clone()),
                Aim::Window => Hold::After(ids[self.hold].clone()),
            },
            exposed: ids[self.exposed].clone(),
            racer: ids[self.racer].clone(),
            tier: self.tier,
        }
    }
}

impl WorkList {
    /// The work list of the executions `runs` (recorded with events) of
    /// jobs with dependency edges `deps`: every target of each, once, in
    /// order, the first `limit` of them kept.
    pub fn from_runs(runs: &[&ExecutionTrace], deps: &[Vec<JobId>], limit: usize) -> WorkList {
        let overlap = Overlap::new(deps);
        let mut list = WorkList::default();
        // (run, anchor event, candidate), in run order.
        let mut found: Vec<(usize, Candidate)> = Vec::new();
        let tolerated = Tolerated::of(runs);
        for (r, run) in runs.iter().enumerate() {
            let (pairs, windows) = candidates_of(r, &run.events, &overlap, &tolerated, &mut found);
            list.pairs += pairs;
            list.windows += windows;
        }
        list.found = found.len();
        // Kinds by tier, then where their first target is anchored.
        found.sort_by_key(|(at, c)| (*at, c.run));
        let mut kinds: BTreeMap<Kind, (usize, Vec<Candidate>)> = BTreeMap::new();
        for (order, (_, c)) in found.into_iter().enumerate() {
            let kind = c.kind(&runs[c.run].events);
            kinds.entry(kind).or_insert((order, Vec::new())).1.push(c);
        }
        let mut ordered: Vec<(u8, usize, Vec<Candidate>)> = kinds
            .into_iter()
            .map(|(kind, (first, cs))| (kind.0, first, cs))
            .collect();
        ordered.sort_by_key(|(tier, first, _)| (*tier, *first));
        let ids: Vec<Vec<OpId>> = runs.iter().map(|r| identities(&r.events)).collect();
        let schedules: Vec<Arc<[JobId]>> = runs
            .iter()
            .map(|r| Arc::from(r.schedule.choices.as_slice()))
            .collect();
        let mut seen = HashSet::new();
        let mut queues: Vec<std::vec::IntoIter<Candidate>> = ordered
            .into_iter()
            .map(|(_, _, cs)| cs.into_iter())
            .collect();
        // One target of every kind per round, until the limit.
        while list.targets.len() < limit && !queues.is_empty() {
            queues.retain_mut(|q| {
                if list.targets.len() >= limit {
                    return true;
                }
                match q.next() {
                    Some(c) => {
                        let target = c.target(&ids[c.run], &schedules[c.run]);
                        if seen.insert((target.hold.clone(), target.racer.clone())) {
                            list.targets.push(target);
                        }
                        true
                    }
                    None => false,
                }
            });
        }
        list
    }

    /// Number of targets kept.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when there is nothing to aim at.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// Appends the candidates of run `run` to `found`, each with the event it
/// is anchored at; returns the run's conflicting pairs and windows.
fn candidates_of(
    run: usize,
    events: &[Event],
    overlap: &Overlap,
    tolerated: &Tolerated,
    found: &mut Vec<(usize, Candidate)>,
) -> (usize, usize) {
    let tier = |aim, racer: &Event, exposed: &Event| {
        tier(aim, &racer.op, &exposed.op, |errno| {
            tolerated.contains(exposed.job, exposed.op.syscall(), errno)
        })
    };
    let mut pairs = 0;
    for (i, j) in conflicting_events(events) {
        if !overlap.can_overlap(events[i].job, events[j].job) {
            continue;
        }
        pairs += 1;
        found.push((
            i,
            Candidate {
                run,
                aim: Aim::Reverse,
                hold: i,
                exposed: i,
                racer: j,
                tier: tier(Aim::Reverse, &events[j], &events[i]),
            },
        ));
    }
    // Destructive ops by path, then windows against them.
    let mut destroyers: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, e) in events.iter().enumerate() {
        if destructive(&e.op) {
            for p in std::iter::once(e.op.path()).chain(e.op.path2()) {
                destroyers.entry(&**p).or_default().push(k);
            }
        }
    }
    // The last op of each (job, path) seen so far.
    let mut last_on: BTreeMap<(JobId, &str), usize> = BTreeMap::new();
    let mut windows = 0;
    for (k, e) in events.iter().enumerate() {
        let path = &**e.op.path();
        if !descriptor_op(&e.op) {
            if let Some(&first) = last_on.get(&(e.job, path)) {
                for &y in destroyers.get(path).map(Vec::as_slice).unwrap_or_default() {
                    if !overlap.can_overlap(e.job, events[y].job) {
                        continue;
                    }
                    windows += 1;
                    found.push((
                        first,
                        Candidate {
                            run,
                            aim: Aim::Window,
                            hold: first,
                            exposed: k,
                            racer: y,
                            tier: tier(Aim::Window, &events[y], e),
                        },
                    ));
                }
            }
        }
        last_on.insert((e.job, path), k);
    }
    (pairs, windows)
}
