//! Systematic exploration with dynamic partial-order reduction.
//!
//! What is implemented (see `docs/exploration.md`): stateless **optimal
//! DPOR** with sleep sets and wakeup trees (Abdulla, Aronis, Jonsson,
//! Sagonas, POPL 2014, Algorithm 2), explored depth-first. Every detected
//! race `e ⋖ e'` inserts its reversal `notdep(e)·e'` into the wakeup tree at
//! the branch point `pre(e)` unless a job asleep there is a weak initial of
//! it or an existing branch covers it. Every execution is re-run from
//! scratch on a fresh filesystem by forcing the branch prefix; jobs are
//! deterministic, so this reproduces the state. It is sound under the
//! dependence relation of [`crate::schedule::dependence`]; each execution is
//! one Mazurkiewicz class (no sleep-set blocked executions), which the class
//! fingerprints of [`fingerprint`] let tests check exactly.
//!
//! Race-directed order: after the first (serial) execution, the branch that
//! reverses the pair chosen by [`target`] (a `mkdir` above a later op's
//! path) is explored first, with the rest of the first execution's subtree
//! suspended; then the search resumes depth-first. A two-job race whose
//! window is one step is then found in the second execution.
//!
//! Sharding (`--shard I/N`): every shard runs the same first execution; the
//! branches pending after it are dealt round-robin; a shard treats the
//! others' as explored (asleep) and explores its own and everything found
//! beneath them (see `docs/exploration.md`).

mod fingerprint;
mod happens_before;
mod target;
mod wakeup;

pub use fingerprint::{canonical_order, fingerprint, hex, Fingerprint};
pub use happens_before::HappensBefore;
pub use wakeup::{Branch, WakeupSeq, WakeupTree};

use std::collections::BTreeSet;

use crate::execution::ExecutionTrace;
use crate::schedule::{Asleep, DporScheduler, DporStep, JobId};
use crate::setup::Setup;
use crate::shard::Shard;

/// How much of the space an exploration covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Equivalence classes (Mazurkiewicz traces) explored: distinct class
    /// fingerprints among the executions.
    pub classes: u64,
    /// True when every class (of this shard's part) was explored.
    pub complete: bool,
    /// Why the run is not complete, when it is not.
    pub reason: Option<String>,
    /// The distinct class fingerprints explored, ascending.
    pub fingerprints: Vec<Fingerprint>,
}

/// One execution run by the driver.
pub struct DporRun {
    /// The trace (without events).
    pub trace: ExecutionTrace,
    /// What the scheduler saw.
    pub steps: Vec<DporStep>,
    /// Sleep-set blocked, or a forced choice was not runnable.
    pub blocked: bool,
}

/// Runs `setup` once on a fresh filesystem from `fresh`, forcing `forced`
/// and keeping the sleep set `sleep` from step `sleep_from` on.
pub fn run_once(
    setup: &Setup,
    fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    forced: Vec<JobId>,
    sleep_from: usize,
    sleep: Vec<Asleep>,
) -> crate::Result<DporRun> {
    let mut scheduler = DporScheduler::new(forced, sleep_from, sleep);
    let mut fs = fresh()?;
    let trace = setup.run(fs.as_mut(), &mut scheduler, false);
    Ok(DporRun {
        trace,
        blocked: scheduler.blocked || scheduler.diverged,
        steps: scheduler.steps,
    })
}

/// The outcome of a DPOR exploration, before the failure is replayed.
pub struct DporResult {
    /// Executions run.
    pub executions: u64,
    /// Executions that ended sleep-set blocked or diverged from their
    /// forced prefix (0 when the search is optimal).
    pub blocked: u64,
    /// 1 when the first execution's class turned out to lie in the
    /// race-directed branch's subtree, which explores it again; else 0.
    pub redundant: u64,
    /// Ops executed.
    pub ops_executed: u64,
    /// Coverage.
    pub coverage: Coverage,
    /// The first failing execution's choices, with its 1-based index.
    pub failure: Option<(u64, Vec<JobId>)>,
    /// Distinct notes.
    pub notes: BTreeSet<String>,
}

/// One node of the current branch of the exploration tree: the state after
/// the events before it.
#[derive(Debug, Clone)]
struct Node {
    /// The job whose branch is being explored.
    chosen: JobId,
    /// Whether its op there mutates (judged with its result).
    chosen_mutates: bool,
    /// The sleep set on entry plus the jobs whose branches are explored.
    sleep: Vec<Asleep>,
    /// The branches still to explore.
    wut: WakeupTree,
}

/// The rest of the first execution's subtree, set aside while the
/// race-directed branch is explored.
struct Suspended {
    /// The node where the race-directed branch leaves the first execution.
    at: usize,
    /// The job the first execution ran there.
    job: JobId,
    /// Whether its op there mutates.
    mutates: bool,
    /// The first execution.
    run: DporRun,
    /// Sequences found meanwhile at `at` that `job` starts (weakly).
    pending: Vec<WakeupSeq>,
}

/// The state of one exploration.
struct Search<'a> {
    setup: &'a Setup,
    fresh: &'a dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    judge: &'a dyn Fn(&ExecutionTrace) -> (Vec<String>, bool),
    jobs: usize,
    result: DporResult,
    fingerprints: BTreeSet<Fingerprint>,
    nodes: Vec<Node>,
    suspended: Option<Suspended>,
}

/// What a DPOR exploration is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct DporOptions {
    /// At most this many executions.
    pub budget: u64,
    /// The part of the search to explore.
    pub shard: Shard,
    /// Explore the race-directed branch second (unsharded searches only).
    pub race_directed: bool,
}

/// Explores `setup` systematically within `budget` executions, race-directed
/// branch first. `judge` judges an execution (returns its notes and whether
/// it failed).
pub fn explore(
    setup: &Setup,
    budget: u64,
    fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    judge: &dyn Fn(&ExecutionTrace) -> (Vec<String>, bool),
) -> crate::Result<DporResult> {
    let options = DporOptions {
        budget,
        shard: Shard::WHOLE,
        race_directed: true,
    };
    explore_with(setup, &options, fresh, judge)
}

/// Like [`explore`], with every option (see the module documentation for
/// shards). The race-directed branch is used only by the unsharded search.
pub fn explore_with(
    setup: &Setup,
    options: &DporOptions,
    fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    judge: &dyn Fn(&ExecutionTrace) -> (Vec<String>, bool),
) -> crate::Result<DporResult> {
    let DporOptions {
        budget,
        shard,
        race_directed,
    } = *options;
    let race_directed = race_directed && shard.is_whole();
    let mut search = Search {
        setup,
        fresh,
        judge,
        jobs: setup.job_count(),
        result: DporResult {
            executions: 0,
            blocked: 0,
            redundant: 0,
            ops_executed: 0,
            coverage: Coverage {
                classes: 0,
                complete: false,
                reason: None,
                fingerprints: Vec::new(),
            },
            failure: None,
            notes: BTreeSet::new(),
        },
        fingerprints: BTreeSet::new(),
        nodes: Vec::new(),
        suspended: None,
    };
    search.run(budget, shard, race_directed)?;
    let mut result = search.result;
    result.coverage.fingerprints = search.fingerprints.into_iter().collect();
    result.coverage.classes = result.coverage.fingerprints.len() as u64;
    Ok(result)
}

/// Why a search stopped early.
enum Stop {
    Failure,
    Budget,
}

impl Search<'_> {
    fn run(&mut self, budget: u64, shard: Shard, race_directed: bool) -> crate::Result<()> {
        match self.search(budget, shard, race_directed)? {
            None => self.result.coverage.complete = true,
            Some(Stop::Failure) => {
                self.result.coverage.reason = Some("stopped at the first failure".into());
            }
            Some(Stop::Budget) if budget == 0 => {
                self.result.coverage.reason = Some("the budget (--schedules) is 0".into());
            }
            Some(Stop::Budget) => {
                let pending: usize = self.nodes.iter().map(|n| n.wut.leaves()).sum::<usize>()
                    + usize::from(self.suspended.is_some());
                self.result.coverage.reason = Some(format!(
                    "budget of {budget} executions spent with {pending} branches still to explore"
                ));
            }
        }
        Ok(())
    }

    /// Runs one execution and judges it; returns it with its happens-before.
    fn execute(
        &mut self,
        forced: Vec<JobId>,
        sleep_from: usize,
        sleep: Vec<Asleep>,
    ) -> crate::Result<(DporRun, HappensBefore, bool)> {
        let run = run_once(self.setup, self.fresh, forced, sleep_from, sleep)?;
        let hb = HappensBefore::new(&run.steps, self.jobs);
        let r = &mut self.result;
        r.executions += 1;
        r.blocked += u64::from(run.blocked);
        r.ops_executed += run.trace.schedule.choices.len() as u64;
        let fp = fingerprint(&hb, self.jobs);
        self.fingerprints.insert(fp);
        let (notes, failed) = (self.judge)(&run.trace);
        r.notes.extend(notes);
        if failed {
            r.failure = Some((r.executions, run.trace.schedule.choices.clone()));
        }
        Ok((run, hb, failed))
    }

    /// Appends the nodes of `run` from step `from` on; the first ones get
    /// the branches left beside a wakeup path (`rest`).
    fn grow(&mut self, run: &DporRun, from: usize, rest: Vec<WakeupTree>) {
        let mut rest = rest.into_iter();
        for s in &run.steps[from..] {
            self.nodes.push(Node {
                chosen: s.chosen,
                chosen_mutates: s.mutates,
                sleep: s.sleep.clone(),
                wut: rest.next().unwrap_or_default(),
            });
        }
    }

    /// The search; `None` when it is complete.
    fn search(
        &mut self,
        budget: u64,
        shard: Shard,
        race_directed: bool,
    ) -> crate::Result<Option<Stop>> {
        if budget == 0 {
            return Ok(Some(Stop::Budget));
        }
        let (first, hb, failed) = self.execute(Vec::new(), 0, Vec::new())?;
        if failed {
            return Ok(Some(Stop::Failure));
        }
        self.grow(&first, 0, Vec::new());
        match target::target(&first.steps, &hb).filter(|_| race_directed) {
            Some((at, events)) => {
                let jobs: Vec<JobId> = events.iter().map(|&i| first.steps[i].chosen).collect();
                self.suspended = Some(Suspended {
                    at,
                    job: first.steps[at].chosen,
                    mutates: first.steps[at].mutates,
                    run: first,
                    pending: Vec::new(),
                });
                if self.result.executions >= budget {
                    return Ok(Some(Stop::Budget));
                }
                self.nodes.truncate(at + 1);
                self.nodes[at].chosen = jobs[0];
                let mut forced: Vec<JobId> = self.nodes[..at].iter().map(|n| n.chosen).collect();
                forced.extend(&jobs);
                let sleep = self.nodes[at].sleep.clone();
                let (run, hb, failed) = self.execute(forced, at, sleep)?;
                self.nodes[at].chosen_mutates = run.steps[at].mutates;
                if failed {
                    return Ok(Some(Stop::Failure));
                }
                self.grow(&run, at + 1, Vec::new());
                self.add_races(&run, &hb, 0);
            }
            None => {
                self.add_races(&first, &hb, 0);
                if !shard.is_whole() {
                    self.deal(shard);
                }
            }
        }
        loop {
            let deepest = self.nodes.iter().rposition(|n| !n.wut.is_empty());
            if let Some(at) = self.suspended.as_ref().map(|s| s.at) {
                if deepest.is_none_or(|k| k <= at) {
                    self.resume();
                    continue;
                }
            }
            let Some(k) = deepest else {
                return Ok(None);
            };
            self.nodes.truncate(k + 1);
            let node = &mut self.nodes[k];
            node.sleep.push(Asleep {
                job: node.chosen,
                mutates: node.chosen_mutates,
            });
            let branch = node.wut.pop_first().expect("a pending branch");
            node.chosen = branch.job;
            node.chosen_mutates = branch.mutates;
            if branch.foreign {
                // Another shard's: explored, as far as this shard is concerned.
                continue;
            }
            if self.result.executions >= budget {
                // Put it back for the count of what is left.
                let node = &mut self.nodes[k];
                node.wut.branches.insert(0, branch);
                return Ok(Some(Stop::Budget));
            }
            let (jobs, rest) = branch.leftmost();
            let sleep = normalized(&node.sleep);
            let mut forced: Vec<JobId> = self.nodes[..k].iter().map(|n| n.chosen).collect();
            forced.extend(jobs);
            let (run, hb, failed) = self.execute(forced, k, sleep)?;
            self.nodes[k].chosen_mutates = run.steps[k].mutates;
            if failed {
                return Ok(Some(Stop::Failure));
            }
            self.grow(&run, k + 1, rest);
            self.add_races(&run, &hb, k);
        }
    }

    /// Inserts the reversal of every race of `run` whose later event is at
    /// `from` or after.
    fn add_races(&mut self, run: &DporRun, hb: &HappensBefore, from: usize) {
        let jobs = self.jobs;
        for (e, e2) in hb.races(from) {
            let w = WakeupSeq::new(&hb.reversal(e, e2), &run.steps, hb, jobs);
            let step = &run.steps[e];
            let node = &mut self.nodes[e];
            let weak = |w: &WakeupSeq, q: JobId, m: bool| {
                w.weak_initial(q, step.offered_by(q).map(|op| (op, m)))
            };
            if weak(&w, step.chosen, step.mutates)
                || node.sleep.iter().any(|a| weak(&w, a.job, a.mutates))
            {
                continue;
            }
            if let Some(s) = self.suspended.as_mut().filter(|s| s.at == e) {
                if weak(&w, s.job, s.mutates) {
                    s.pending.push(w);
                    continue;
                }
            }
            node.wut.insert(w);
        }
    }

    /// Deals the branches pending after the first execution round-robin:
    /// the ones `shard` does not own are marked foreign.
    fn deal(&mut self, shard: Shard) {
        let mut index = 0u64;
        for node in &mut self.nodes {
            for b in &mut node.wut.branches {
                b.foreign = !shard.owns(index);
                index += 1;
            }
        }
    }

    /// Resumes the first execution's subtree after the race-directed branch.
    /// The first execution is reused when, with the sleep set the branch
    /// leaves, the scheduler would make the same choices. Otherwise it ran
    /// a job asleep there, so its class lies in the race-directed subtree,
    /// already explored: the first execution's branch is dropped, as if it
    /// had never been chosen, and the sequences kept for it are inserted at
    /// its node like any other.
    fn resume(&mut self) {
        let s = self.suspended.take().expect("a suspended subtree");
        let at = s.at;
        self.nodes.truncate(at + 1);
        let node = &mut self.nodes[at];
        node.sleep.push(Asleep {
            job: node.chosen,
            mutates: node.chosen_mutates,
        });
        let sleep = normalized(&node.sleep);
        let Some(steps) = with_sleep(&s.run.steps, at, sleep) else {
            self.result.redundant = 1;
            for w in s.pending {
                self.nodes[at].wut.insert(w);
            }
            return;
        };
        node.chosen = s.job;
        node.chosen_mutates = s.mutates;
        let run = DporRun {
            trace: s.run.trace,
            steps,
            blocked: false,
        };
        let hb = HappensBefore::new(&run.steps, self.jobs);
        self.grow(&run, at + 1, Vec::new());
        for mut w in s.pending {
            w.remove_first(s.job);
            self.insert_along(at + 1, w, &run.steps);
        }
        self.add_races(&run, &hb, at);
    }

    /// Inserts `w` below node `from - 1`'s current branch: along the current
    /// execution while its jobs are weak initials, then into the first
    /// node's tree where they are not.
    fn insert_along(&mut self, from: usize, mut w: WakeupSeq, steps: &[DporStep]) {
        for (node, step) in self.nodes.iter_mut().zip(steps).skip(from) {
            if w.weak_initial(node.chosen, Some((step.executed(), step.mutates))) {
                w.remove_first(node.chosen);
                continue;
            }
            node.wut.insert(w);
            return;
        }
    }
}

/// `sleep` sorted by job, one entry per job (a mutating one when in doubt).
fn normalized(sleep: &[Asleep]) -> Vec<Asleep> {
    let mut out = sleep.to_vec();
    out.sort_unstable_by_key(|a| (a.job, !a.mutates));
    out.dedup_by_key(|a| a.job);
    out
}

/// The steps of `steps` (an execution) as the DPOR scheduler would record
/// them when forced up to step `at` and given the sleep set `sleep` there,
/// or `None` when it would choose differently somewhere.
fn with_sleep(steps: &[DporStep], at: usize, mut sleep: Vec<Asleep>) -> Option<Vec<DporStep>> {
    let mut out = steps.to_vec();
    let mut last: Option<JobId> = None;
    for m in at..steps.len() {
        let st = &steps[m];
        sleep.retain(|a| st.enabled.contains(&a.job));
        if m > at {
            let awake = |j: &JobId| !sleep.iter().any(|a| a.job == *j);
            let choice = last
                .filter(|l| st.enabled.contains(l) && awake(l))
                .or_else(|| st.enabled.iter().copied().find(awake))?;
            if choice != st.chosen {
                return None;
            }
        }
        out[m].sleep = sleep.clone();
        st.sleep_after(&mut sleep);
        last = Some(st.chosen);
    }
    Some(out)
}
