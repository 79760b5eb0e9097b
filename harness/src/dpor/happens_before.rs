//! Happens-before over the events of one execution, as sparse vector
//! clocks: each event's clock lists only the jobs with events before it
//! (a dense row of every job per event cost 4 bytes × jobs × events, 68 MB
//! and a quadratic copy for 1,000 one-file installs, whose events each
//! follow a few jobs' only).
//!
//! The order is program order, plus the dependence relation of
//! [`crate::schedule::dependence`] between events of different jobs, plus
//! enabling edges (a job that became runnable right after event `e` runs its
//! next op after `e`). Building it is near-linear: instead of comparing every
//! pair of events, an [`AccessIndex`] remembers, per path and per job, the
//! last event that named, mutated, created or listed it, so each event finds
//! the latest dependent event of every other job with a few map look-ups per
//! ancestor of its paths. The paths an op names and the entries it changes
//! are [`crate::schedule::dependence`]'s, the one enumeration the relation,
//! the conflicting pairs ([`crate::conflicts`]) and this index share.

use std::collections::HashMap;

use crate::op::Op;
use crate::schedule::dependence::{named_paths, namespace_changes, parent};
use crate::schedule::{DporSteps, JobId};

/// Happens-before over the events of one execution.
///
/// It is built event by event ([`HappensBefore::extend`]) and can be cut
/// back to a prefix ([`HappensBefore::truncate`]): the DPOR driver keeps one
/// for the current branch of its search, so an execution that shares its
/// first `k` events with the one before only adds its own events.
pub struct HappensBefore {
    jobs: usize,
    /// The clocks of the events, one after another: for event `k`,
    /// `entries[starts[k]..starts[k + 1]]` holds `(q, n)`, ascending by job,
    /// for each job `q` with `n > 0` of its events before or at `k`.
    entries: Vec<(u32, u32)>,
    /// Where each event's clock starts in `entries`.
    starts: Vec<u32>,
    /// Each event's predecessor in its job, 1-based (0: none).
    prev: Vec<u32>,
    /// The event that made each event's job runnable just before it,
    /// 1-based (0: none). With `prev`, what happens before an event without
    /// its own dependence edges (a copy of its clock without them cost
    /// 4 bytes × jobs × events, 68 MB for 1,000 one-file installs).
    enabled_by: Vec<u32>,
    /// 1-based position of each event within its job.
    seq: Vec<u32>,
    /// The job of each event.
    job: Vec<JobId>,
    /// For each event, the latest earlier dependent event of every other job
    /// that has one, ascending.
    conflicts: Vec<Vec<usize>>,
    /// The changes of `last_of` and `enabler` made by the events, with the
    /// values before, so that [`HappensBefore::truncate`] can undo them
    /// (O(changes), not O(jobs) per event: a copy of both per event cost
    /// 8 bytes × jobs × events, 136 MB for 1,000 one-file installs).
    state_undo: Vec<StateChange>,
    /// The length of `state_undo` before each event.
    state_marks: Vec<u32>,
    /// Every job's last event so far, 1-based (0: none).
    last_of: Vec<u32>,
    /// The event that made each job runnable, not yet consumed, 1-based.
    enabler: Vec<u32>,
    /// The per-path index of last accesses, with its undo log.
    index: AccessIndex,
    /// The length of the index's undo log before each event.
    marks: Vec<usize>,
    /// Per job, its events, ascending.
    of_job: Vec<Vec<u32>>,
}

impl HappensBefore {
    /// Computes happens-before over `steps` of an execution of `jobs` jobs.
    pub fn new(steps: &DporSteps, jobs: usize) -> HappensBefore {
        let mut hb = HappensBefore::empty(jobs);
        hb.extend(steps);
        hb
    }

    /// Happens-before over no events yet, for executions of `jobs` jobs.
    pub fn empty(jobs: usize) -> HappensBefore {
        HappensBefore {
            jobs,
            entries: Vec::new(),
            starts: Vec::new(),
            prev: Vec::new(),
            enabled_by: Vec::new(),
            seq: Vec::new(),
            job: Vec::new(),
            conflicts: Vec::new(),
            state_undo: Vec::new(),
            state_marks: Vec::new(),
            last_of: vec![0; jobs],
            enabler: vec![0; jobs],
            index: AccessIndex::new(jobs),
            marks: Vec::new(),
            of_job: vec![Vec::new(); jobs],
        }
    }

    /// Cuts the order back to its first `len` events (no-op when shorter).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        for change in self
            .state_undo
            .drain(self.state_marks[len] as usize..)
            .rev()
        {
            match change {
                StateChange::LastOf(q, old) => self.last_of[q as usize] = old,
                StateChange::Enabler(q, old) => self.enabler[q as usize] = old,
            }
        }
        self.index.undo_to(self.marks[len]);
        self.entries.truncate(self.starts[len] as usize);
        self.starts.truncate(len);
        self.prev.truncate(len);
        self.enabled_by.truncate(len);
        self.seq.truncate(len);
        self.job.truncate(len);
        self.conflicts.truncate(len);
        self.state_marks.truncate(len);
        self.marks.truncate(len);
        for events in &mut self.of_job {
            while events.last().is_some_and(|&e| e as usize >= len) {
                events.pop();
            }
        }
    }

    /// Adds the events of `steps` (the whole execution) after the ones
    /// already ordered: `steps[self.len()..]`.
    pub fn extend(&mut self, steps: &DporSteps) {
        let jobs = self.jobs;
        // The clock being built: dense, zero but for the jobs in `touched`.
        let mut c = Clock {
            dense: vec![0u32; jobs],
            touched: Vec::new(),
        };
        let mut best = Vec::with_capacity(jobs);
        for k in self.len()..steps.len() {
            self.marks.push(self.index.undo_len());
            self.state_marks.push(self.state_undo.len() as u32);
            if k > 0 {
                for q in steps.newly_enabled(k) {
                    let old = std::mem::replace(&mut self.enabler[q], k as u32);
                    self.state_undo.push(StateChange::Enabler(q as u32, old));
                }
            }
            let p = steps.chosen(k);
            let op = steps.executed(k);
            let mutates = steps.mutates(k);
            let prev = self.last_of[p];
            if prev > 0 {
                c.join(self.clock(prev as usize - 1));
            }
            let e = std::mem::take(&mut self.enabler[p]);
            if e > 0 {
                self.state_undo.push(StateChange::Enabler(p as u32, e));
                c.join(self.clock(e as usize - 1));
            }
            let count = match self.last_of[p] {
                0 => 1,
                i => self.seq[i as usize - 1] + 1,
            };
            c.join(&[(p as u32, count)]);
            self.prev.push(prev);
            self.enabled_by.push(e);
            let touched = self.index.touched(op, mutates);
            let mine = self.index.latest_dependent(&touched, mutates, p, &mut best);
            for &i in &mine {
                c.join(self.clock(i));
            }
            self.starts.push(self.entries.len() as u32);
            c.drain_into(&mut self.entries);
            self.index.record(&touched, mutates, p, k);
            self.seq.push(count);
            self.job.push(p);
            self.conflicts.push(mine);
            self.of_job[p].push(k as u32);
            let old = std::mem::replace(&mut self.last_of[p], k as u32 + 1);
            self.state_undo.push(StateChange::LastOf(p as u32, old));
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

    /// The clock of event `k`: `(q, n)` for each job `q` of which `n > 0`
    /// events happen before or at `k`, ascending by job.
    pub fn clock(&self, k: usize) -> &[(u32, u32)] {
        let from = self.starts[k] as usize;
        let to = self
            .starts
            .get(k + 1)
            .map_or(self.entries.len(), |&s| s as usize);
        &self.entries[from..to]
    }

    /// How many events of job `q` happen before or at event `k`.
    pub fn count(&self, k: usize, q: JobId) -> u32 {
        let clock = self.clock(k);
        clock
            .binary_search_by_key(&(q as u32), |&(j, _)| j)
            .map_or(0, |i| clock[i].1)
    }

    /// The job of event `k`.
    pub fn job(&self, k: usize) -> JobId {
        self.job[k]
    }

    /// The events of job `q`, ascending.
    pub fn events_of(&self, q: JobId) -> &[u32] {
        &self.of_job[q]
    }

    /// 1-based position of event `k` within its job.
    pub fn seq(&self, k: usize) -> u32 {
        self.seq[k]
    }

    /// True when event `a` happens before event `b` (a < b).
    pub fn before(&self, a: usize, b: usize) -> bool {
        a < b && self.count(b, self.job[a]) >= self.seq[a]
    }

    /// True when `a` happens before `b` through program order and enabling
    /// of `b`'s job, ignoring `b`'s own dependence edges.
    pub fn locally_before(&self, a: usize, b: usize) -> bool {
        let q = self.job[a];
        let through = |x: u32| x > 0 && self.count(x as usize - 1, q) >= self.seq[a];
        a < b && (q == self.job[b] || through(self.prev[b]) || through(self.enabled_by[b]))
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

/// One change of the building state by an event: a job's last event or
/// its pending enabling event, with the value before (1-based, 0: none).
#[derive(Debug, Clone, Copy)]
enum StateChange {
    LastOf(u32, u32),
    Enabler(u32, u32),
}

/// A clock being built, as a dense row that is zero but for `touched`, so
/// that joining costs the entries joined, not the number of jobs.
struct Clock {
    dense: Vec<u32>,
    touched: Vec<u32>,
}

impl Clock {
    /// Joins the sparse clock `other` (entries `(job, count)`).
    fn join(&mut self, other: &[(u32, u32)]) {
        for &(q, n) in other {
            let d = &mut self.dense[q as usize];
            if *d == 0 {
                self.touched.push(q);
            }
            *d = (*d).max(n);
        }
    }

    /// Appends the clock to `out` in sparse form, ascending by job, and
    /// clears it.
    fn drain_into(&mut self, out: &mut Vec<(u32, u32)>) {
        self.touched.sort_unstable();
        for q in self.touched.drain(..) {
            out.push((q, std::mem::take(&mut self.dense[q as usize])));
        }
    }
}

/// The strict ancestors of `path`, `""` (the root) first.
#[cfg(test)]
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let root = (!path.is_empty()).then_some("");
    root.into_iter()
        .chain(path.match_indices('/').map(move |(i, _)| &path[..i]))
}

/// The roles a path's slot records, each the last event of every job
/// (1-based, 0 for none).
const ANY: usize = 0; // named the path (any op)
const MUTATING: usize = 1; // named the path and mutated
const CHANGED: usize = 2; // created, removed or renamed the entry at the path
const BELOW: usize = 3; // named a path strictly below it
const CHANGED_IN: usize = 4; // created, removed or renamed an entry of the directory
const LISTED: usize = 5; // listed the directory
const ROLES: usize = 6;

/// Maps of path look-ups are only queried, never iterated.
type PathMap = crate::fast_hash::Fast;

/// The path ids one op touches, looked up once for both
/// [`AccessIndex::latest_dependent`] and [`AccessIndex::record`].
#[derive(Default)]
struct Touched {
    /// The paths it names.
    named: [Option<u32>; 2],
    /// The entries it creates, removes or renames (when it mutates), each
    /// with its directory.
    changed: [Option<(u32, u32)>; 2],
    /// The directory it lists.
    listed: Option<u32>,
}

/// Last accesses per path and job, for finding dependent events quickly.
/// Each path gets a small id (kept across truncations: ids only name
/// paths), and the ids of its strict ancestors are kept with it. Every
/// change of the table is logged, so it can be cut back to an earlier event.
///
/// The table is sparse: each (path, role) slot lists only the jobs that
/// touched it (a dense row of every job per slot cost 24 bytes × paths ×
/// jobs, 290 MB for 1,000 one-file installs, whose paths are each touched
/// by one job or all).
struct AccessIndex {
    jobs: usize,
    ids: HashMap<Box<str>, u32, PathMap>,
    /// `ROLES` slots per path id: the (job, last event) entries of the
    /// jobs that touched it in that role (an entry undone to 0 stays).
    last: Vec<Vec<(u32, u32)>>,
    /// Where job `job`'s entry of slot `slot` is in `last[slot]`, keyed by
    /// `slot << 32 | job`; only queried, never iterated.
    position: HashMap<u64, u32, PathMap>,
    /// Per path id, its strict ancestors' ids: a range of `ancestor_ids`.
    ancestors: Vec<(u32, u32)>,
    ancestor_ids: Vec<u32>,
    /// The entries changed (slot, index in it), with their values before.
    undo: Vec<(u32, u32, u32)>,
}

impl AccessIndex {
    fn new(jobs: usize) -> AccessIndex {
        AccessIndex {
            jobs,
            ids: HashMap::default(),
            last: Vec::new(),
            position: HashMap::default(),
            ancestors: Vec::new(),
            ancestor_ids: Vec::new(),
            undo: Vec::new(),
        }
    }

    /// The length of the undo log.
    fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Undoes every change logged after the log had `len` entries.
    fn undo_to(&mut self, len: usize) {
        for (slot, at, old) in self.undo.drain(len..).rev() {
            self.last[slot as usize][at as usize].1 = old;
        }
    }

    fn id(&mut self, path: &str) -> u32 {
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        // A path's strict ancestors are its parent's, then its parent.
        let range = if path.is_empty() {
            (self.ancestor_ids.len() as u32, 0)
        } else {
            let up = self.id(parent(path));
            let (from, len) = self.ancestors[up as usize];
            let start = self.ancestor_ids.len();
            self.ancestor_ids
                .extend_from_within(from as usize..(from + len) as usize);
            self.ancestor_ids.push(up);
            (start as u32, len + 1)
        };
        let id = self.ancestors.len() as u32;
        self.ids.insert(path.into(), id);
        self.ancestors.push(range);
        self.last
            .extend(std::iter::repeat_with(Vec::new).take(ROLES));
        id
    }

    /// The strict ancestors of path `id`, as a range of `ancestor_ids`.
    fn ancestors_of(&self, id: u32) -> std::ops::Range<usize> {
        let (from, len) = self.ancestors[id as usize];
        from as usize..(from + len) as usize
    }

    /// The ids of what `op` touches (its changes only when it `mutates`).
    fn touched(&mut self, op: &Op, mutates: bool) -> Touched {
        let mut t = Touched::default();
        for (slot, path) in t.named.iter_mut().zip(named_paths(op)) {
            *slot = path.map(|p| self.id(p));
        }
        if mutates {
            for (slot, path) in t.changed.iter_mut().zip(namespace_changes(op)) {
                *slot = path.map(|p| (self.id(p), self.id(parent(p))));
            }
        }
        if let Op::Readdir { path } = op {
            t.listed = Some(self.id(path));
        }
        t
    }

    fn set(&mut self, id: u32, role: usize, p: JobId, at: u32) {
        let slot = id as usize * ROLES + role;
        let entries = &mut self.last[slot];
        let i = *self
            .position
            .entry((slot as u64) << 32 | p as u64)
            .or_insert_with(|| {
                entries.push((p as u32, 0));
                entries.len() as u32 - 1
            });
        let old = std::mem::replace(&mut entries[i as usize].1, at);
        if old != at {
            self.undo.push((slot as u32, i, old));
        }
    }

    /// The (job, last event) entries of path `id` in `role`.
    fn get(&self, id: u32, role: usize) -> &[(u32, u32)] {
        &self.last[id as usize * ROLES + role]
    }

    /// Records event `k` of job `p`, which touched `t` (and changed
    /// something when `mutates`).
    fn record(&mut self, t: &Touched, mutates: bool, p: JobId, k: usize) {
        let at = k as u32 + 1;
        for id in t.named.iter().flatten().copied() {
            self.set(id, ANY, p, at);
            if mutates {
                self.set(id, MUTATING, p, at);
            }
            for i in self.ancestors_of(id) {
                self.set(self.ancestor_ids[i], BELOW, p, at);
            }
        }
        for &(id, dir) in t.changed.iter().flatten() {
            self.set(id, CHANGED, p, at);
            self.set(dir, CHANGED_IN, p, at);
        }
        if let Some(id) = t.listed {
            self.set(id, LISTED, p, at);
        }
    }

    /// The latest recorded event of every job but `p` dependent with an op
    /// that touched `t` (and changed something when `mutates`), ascending.
    /// `best` is scratch space.
    fn latest_dependent(
        &self,
        t: &Touched,
        mutates: bool,
        p: JobId,
        best: &mut Vec<u32>,
    ) -> Vec<usize> {
        best.clear();
        best.resize(self.jobs, 0);
        let take = |best: &mut [u32], v: &[(u32, u32)]| {
            for &(q, at) in v {
                let b = &mut best[q as usize];
                *b = (*b).max(at);
            }
        };
        for id in t.named.iter().flatten().copied() {
            take(best, self.get(id, if mutates { ANY } else { MUTATING }));
            for i in self.ancestors_of(id) {
                take(best, self.get(self.ancestor_ids[i], CHANGED));
            }
        }
        if let Some(id) = t.listed {
            take(best, self.get(id, CHANGED_IN));
        }
        for &(id, dir) in t.changed.iter().flatten() {
            take(best, self.get(id, BELOW));
            take(best, self.get(dir, LISTED));
        }
        best[p] = 0;
        let mut out: Vec<usize> = best
            .iter()
            .filter(|&&b| b > 0)
            .map(|&b| b as usize - 1)
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::dependence::{dependent, dependent_as, mutates};
    use crate::test_support::any_op;
    use proptest::prelude::*;

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
            let touched = index.touched(op, mutates(op, None));
            let found = index.latest_dependent(&touched, mutates(op, None), me, &mut Vec::new());
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
            index.record(&touched, mutates(op, None), me, k);
        }
    }

    const JOBS: usize = 3;

    /// Steps of an execution of [`JOBS`] jobs: each a chosen job, the op
    /// it runs when it was not runnable at the step before (else the op it
    /// offered there), and which other jobs are runnable (offering a read
    /// of the root when they were not), so that enabling edges come and go.
    fn steps_of(raw: &[(usize, Op, u8)]) -> DporSteps {
        let mut steps = DporSteps::new();
        let mut pending: Vec<Option<Op>> = vec![None; JOBS];
        for (chosen, op, others) in raw {
            for (q, pending) in pending.iter_mut().enumerate() {
                if q != *chosen && others & (1 << q) == 0 {
                    *pending = None;
                } else if pending.is_none() {
                    *pending = Some(match q == *chosen {
                        true => op.clone(),
                        false => Op::Stat { path: "".into() },
                    });
                }
            }
            let enabled: Vec<JobId> = (0..JOBS).filter(|&q| pending[q].is_some()).collect();
            steps.record(&enabled, &pending, *chosen, Vec::new());
            let ran = pending[*chosen]
                .take()
                .expect("the chosen job offers an op");
            steps.set_mutates(steps.len() - 1, mutates(&ran, None));
        }
        steps
    }

    /// Everything an order answers: clocks, latest conflicts, `before`
    /// and `locally_before` of every pair of events.
    type Answers = (Vec<Vec<u32>>, Vec<Vec<usize>>, Vec<bool>, Vec<bool>);

    /// Everything the order answers, for comparing two of them.
    fn answers(hb: &HappensBefore) -> Answers {
        let n = hb.len();
        let pairs = (0..n).flat_map(|a| (0..n).map(move |b| (a, b)));
        (
            (0..n)
                .map(|k| (0..JOBS).map(|q| hb.count(k, q)).collect())
                .collect(),
            (0..n).map(|k| hb.conflicts(k).to_vec()).collect(),
            pairs.clone().map(|(a, b)| hb.before(a, b)).collect(),
            pairs.map(|(a, b)| hb.locally_before(a, b)).collect(),
        )
    }

    fn any_steps() -> impl Strategy<Value = Vec<(usize, Op, u8)>> {
        prop::collection::vec((0..JOBS, any_op(), 0u8..8), 0..30)
    }

    proptest! {
        /// Cutting the order back to a prefix and extending it with another
        /// execution (what the search does between executions, through the
        /// undo logs of the building state and the sparse access index)
        /// gives exactly the order built from scratch.
        #[test]
        fn truncating_and_extending_equals_building_from_scratch(
            a in any_steps(),
            b in any_steps(),
            cut in 0usize..30,
        ) {
            let shared = cut.min(a.len());
            let mut first = a[..shared].to_vec();
            first.extend(b);
            let (first, second) = (steps_of(&first), steps_of(&a));
            let mut hb = HappensBefore::new(&first, JOBS);
            hb.truncate(shared);
            hb.extend(&second);
            let scratch = HappensBefore::new(&second, JOBS);
            prop_assert_eq!(answers(&hb), answers(&scratch));
            prop_assert_eq!(hb.races(0), scratch.races(0));
        }

        /// `before` and `locally_before` are those of the transitive
        /// closure of the edges, built pairwise: program order, enabling
        /// (into the next event of a job from the event before the step
        /// it became runnable at) and dependence between jobs (only for
        /// `before`; `locally_before` ignores the later event's own).
        #[test]
        fn the_order_is_the_closure_of_its_edges(raw in any_steps()) {
            let steps = steps_of(&raw);
            let hb = HappensBefore::new(&steps, JOBS);
            let n = steps.len();
            // Edges into each event: local ones, and dependence ones.
            let mut local: Vec<Vec<usize>> = vec![Vec::new(); n];
            let mut dep: Vec<Vec<usize>> = vec![Vec::new(); n];
            for b in 0..n {
                let p = steps.chosen(b);
                let prev = (0..b).rev().find(|&a| steps.chosen(a) == p);
                local[b].extend(prev);
                let enabled_at = (prev.map_or(1, |x| x + 1).max(1)..=b)
                    .rev()
                    .find(|&k| !steps.is_enabled(k - 1, p) && steps.is_enabled(k, p));
                local[b].extend(enabled_at.map(|k| k - 1));
                for a in 0..b {
                    let dependent = dependent_as(
                        steps.executed(a),
                        steps.mutates(a),
                        steps.executed(b),
                        steps.mutates(b),
                    );
                    if steps.chosen(a) != p && dependent {
                        dep[b].push(a);
                    }
                }
            }
            // reach[b][a]: a happens before or is b.
            let mut reach = vec![vec![false; n]; n];
            for b in 0..n {
                reach[b][b] = true;
                for &x in local[b].iter().chain(&dep[b]) {
                    let from = reach[x].clone();
                    for (to, r) in reach[b].iter_mut().zip(from) {
                        *to |= r;
                    }
                }
            }
            for (b, reach_b) in reach.iter().enumerate() {
                for (a, &r) in reach_b.iter().enumerate() {
                    let locally = local[b].iter().any(|&x| reach[x][a]);
                    prop_assert_eq!(hb.before(a, b), a < b && r, "{} {}", a, b);
                    prop_assert_eq!(hb.locally_before(a, b), a < b && locally, "{} {}", a, b);
                }
            }
        }
    }
}
