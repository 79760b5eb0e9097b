//! Systematic exploration with dynamic partial-order reduction.
//!
//! What is implemented (see `docs/exploration.md`): stateless **optimal
//! DPOR** with sleep sets and wakeup trees (Abdulla, Aronis, Jonsson,
//! Sagonas, POPL 2014, Algorithm 2), explored depth-first. Every detected
//! race `e ⋖ e'` inserts its reversal `notdep(e)·e'` into the wakeup tree at
//! the branch point `pre(e)` unless a job asleep there is a weak initial of
//! it or an existing branch covers it. Every execution forces the branch
//! prefix; jobs are deterministic, so this reproduces the state. On the
//! model it is resumed from a copy of the state taken along the execution
//! before, at the deepest step at most the branch point, and its
//! happens-before and fingerprint extend the shared prefix's ([`path`]);
//! elsewhere it is re-run from scratch. It is sound under the
//! dependence relation of [`crate::schedule::dependence`]; each execution is
//! one Mazurkiewicz class (no sleep-set blocked executions), which the class
//! fingerprints of [`fingerprint()`] let tests check exactly.
//!
//! Race-directed order: after the first (serial) execution, the branch that
//! reverses the pair chosen by [`target`] (a `mkdir` above a later op's
//! path) is explored first, with the rest of the first execution's subtree
//! suspended; then the search resumes depth-first. A two-job race whose
//! window is one step is then found in the second execution.
//!
//! Parallelism (`--jobs`): an execution is a pure function of its inputs
//! (forced prefix, where the sleep set starts, the sleep set), and so are
//! its happens-before, class fingerprint and whatever the caller computes
//! from its trace. With more than one thread, the search runs each
//! execution on the calling thread while a rayon pool judges the one
//! before (the search moves on before that one is judged, and counts and
//! judges executions strictly in its order, stopping at the same failure),
//! so races, wakeup trees, sleep sets, judging, the budget and the first
//! failure are those of the sequential search for any number of threads.
//!
//! Stopping and stepping: [`DporOptions`] caps the search by executions
//! (or not at all), by a deadline or by a callback, each ending it cleanly
//! as incomplete with [`Coverage::branches_left`]; [`DporSearch`] hands the
//! executions out one at a time, for callers that interleave it with other
//! work.
//!
//! Sharding (`--shard I/N`): every shard runs the whole sequential search,
//! which is deterministic, and judges (analyzes, commits, counts) only the
//! executions whose 0-based index in it is I−1 modulo N, as random and pct
//! shards do; the others' executions are run only for their races. The
//! shards together judge every execution of the unsharded search exactly
//! once, under its global index. Dealing subtrees instead does not divide
//! the work: races found beneath one shard's branches rediscover the
//! others' (see `docs/exploration.md`).

mod fingerprint;
mod happens_before;
mod machine;
mod options;
mod path;
mod stepped;
mod target;
mod wakeup;

pub use fingerprint::{canonical_order, fingerprint, hex, Fingerprint};
pub use happens_before::HappensBefore;
pub(crate) use machine::{Machine, Strike};
pub use options::DporOptions;
pub use stepped::{DporExecution, DporSearch};
pub use wakeup::{Branch, WakeupSeq, WakeupTree};

use std::collections::BTreeSet;

use crate::execution::ExecutionTrace;
use crate::schedule::{Asleep, DporScheduler, DporSteps, JobId};
use crate::setup::Setup;
use path::{Key, Path};

/// How much of the space an exploration covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Equivalence classes (Mazurkiewicz traces) explored: distinct class
    /// fingerprints among the executions.
    pub classes: u64,
    /// True when every class was explored (by the shards together, when
    /// sharded: this shard's search ran to its end).
    pub complete: bool,
    /// Why the run is not complete, when it is not.
    pub reason: Option<String>,
    /// The distinct class fingerprints explored, ascending.
    pub fingerprints: Vec<Fingerprint>,
    /// Executions the search ran in order, whether this shard judged them
    /// or not (equal to the executions judged when unsharded).
    pub searched: u64,
    /// Branches still pending when the search stopped: the leaves of the
    /// wakeup trees along the current branch (each is at least one more
    /// execution, and exploring it may add more), plus 1 while the rest of
    /// the first execution's subtree is suspended behind the race-directed
    /// branch. 0 when `complete`; a lower bound of the executions left
    /// otherwise. At a failure: the branches pending when the failing
    /// execution started (the same for every number of threads).
    pub branches_left: u64,
}

/// One execution run by the driver.
pub struct DporRun {
    /// The trace (without events).
    pub trace: ExecutionTrace,
    /// What the scheduler saw.
    pub steps: DporSteps,
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

/// The outcome of a DPOR exploration, before the failure is replayed. A
/// shard's counts are those of the executions it judged.
pub struct DporResult {
    /// Executions judged (all the search ran, when unsharded).
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
    /// The first failing execution's choices, with its 1-based index in
    /// the whole search (the same in every shard).
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
    /// The first execution's steps (a copy costs O(steps + jobs): see
    /// [`DporSteps`]).
    steps: DporSteps,
    /// Sequences found meanwhile at `at` that `job` starts (weakly).
    pending: Vec<WakeupSeq>,
}

/// A fresh filesystem per execution.
type Fresh<'a> = &'a dyn Fn() -> crate::Result<Box<dyn crate::Fs>>;

/// A fresh filesystem per execution, from any thread.
type FreshSync<'a> = &'a (dyn Fn() -> crate::Result<Box<dyn crate::Fs>> + Sync);

/// Judges an execution, given what was computed from it: its notes and
/// whether it failed.
pub type Commit<'a, T> = &'a dyn Fn(&ExecutionTrace, T) -> (Vec<String>, bool);

/// An execution the search has moved past but not yet judged (parallel
/// searches judge it while the next one runs).
struct Unjudged {
    trace: ExecutionTrace,
    blocked: bool,
    fp: Fingerprint,
    /// Branches pending when it started (see [`Coverage::branches_left`]).
    branches_left: u64,
}

/// How executions are run.
enum Exec<'a, T> {
    /// One after another, on the calling thread, each resumed from the
    /// deepest state it shares with the one before (see [`path`]).
    Sequential {
        fresh: Fresh<'a>,
        analyze: &'a dyn Fn(&ExecutionTrace) -> T,
    },
    /// On the calling thread too, while `pool` judges the execution
    /// before.
    Parallel {
        fresh: FreshSync<'a>,
        analyze: &'a (dyn Fn(&ExecutionTrace) -> T + Sync),
        pool: rayon::ThreadPool,
    },
}

/// Where the search is.
#[derive(Debug, Clone)]
enum Phase {
    /// The first (serial) execution is next.
    First,
    /// The race-directed branch is next: its node and jobs.
    Targeted { at: usize, jobs: Vec<JobId> },
    /// Depth-first over the wakeup trees.
    Branches,
}

/// Why a search stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Failure,
    Budget,
    Deadline,
    Stopped,
}

/// What one step of the search did.
enum Advanced {
    /// It ran an execution.
    Ran,
    /// It stopped before running one, or at a failure.
    Stopped(Stop),
    /// Nothing is left to explore.
    Complete,
}

/// The state of one exploration.
struct Search<'a, T> {
    setup: &'a Setup,
    exec: Exec<'a, T>,
    commit: Commit<'a, T>,
    options: DporOptions<'a>,
    jobs: usize,
    result: DporResult,
    fingerprints: BTreeSet<Fingerprint>,
    nodes: Vec<Node>,
    suspended: Option<Suspended>,
    /// The current execution: its steps and happens-before, and states to
    /// resume the next one from.
    path: Path,
    phase: Phase,
    /// Executions started (judged or not).
    started: u64,
    /// The execution started last, when it is not judged yet.
    unjudged: Option<Unjudged>,
    /// How many executions had started when the first execution's subtree
    /// turned out redundant (it counts unless one of those failed).
    redundant_after: Option<u64>,
    /// Executions taken in the search's order so far (judged or another
    /// shard's).
    position: u64,
    /// When set, each execution this shard judges is kept here for the
    /// caller ([`DporSearch`]).
    hand_out: Option<Option<DporExecution>>,
    /// Branches pending when the failing execution started, once a
    /// parallel search judged it (it has moved on since).
    failed_branches_left: Option<u64>,
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
        budget: Some(budget),
        ..DporOptions::default()
    };
    explore_with(setup, &options, fresh, judge)
}

/// Like [`explore`], with every option (see the module documentation for
/// shards).
pub fn explore_with(
    setup: &Setup,
    options: &DporOptions<'_>,
    fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    judge: &dyn Fn(&ExecutionTrace) -> (Vec<String>, bool),
) -> crate::Result<DporResult> {
    let analyze = |_: &ExecutionTrace| ();
    let commit = |trace: &ExecutionTrace, (): ()| judge(trace);
    let exec = Exec::Sequential {
        fresh,
        analyze: &analyze,
    };
    let mut search = Search::new(setup, options, exec, &commit);
    search.run()?;
    Ok(search.into_result())
}

/// Like [`explore_with`], running executions on `threads` worker threads
/// (see the module documentation): `analyze` computes, on any thread, what
/// depends only on an execution's trace; `commit` gets it, in the order of
/// the sequential search, and judges the execution (its notes and whether
/// it failed). The result is the same for every `threads`.
pub fn explore_parallel<T: Send>(
    setup: &Setup,
    options: &DporOptions<'_>,
    threads: usize,
    fresh: &(dyn Fn() -> crate::Result<Box<dyn crate::Fs>> + Sync),
    analyze: &(dyn Fn(&ExecutionTrace) -> T + Sync),
    commit: Commit<'_, T>,
) -> crate::Result<DporResult> {
    let exec = if threads <= 1 {
        Exec::Sequential { fresh, analyze }
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| crate::Error::Usage(format!("cannot start worker threads: {e}")))?;
        Exec::Parallel {
            fresh,
            analyze,
            pool,
        }
    };
    let mut search = Search::new(setup, options, exec, commit);
    search.run()?;
    Ok(search.into_result())
}

impl<'a, T: Send> Search<'a, T> {
    fn new(
        setup: &'a Setup,
        options: &DporOptions<'a>,
        exec: Exec<'a, T>,
        commit: Commit<'a, T>,
    ) -> Search<'a, T> {
        let jobs = setup.job_count();
        Search {
            setup,
            exec,
            commit,
            options: *options,
            jobs,
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
                    searched: 0,
                    branches_left: 0,
                },
                failure: None,
                notes: BTreeSet::new(),
            },
            fingerprints: BTreeSet::new(),
            nodes: Vec::new(),
            suspended: None,
            path: Path::new(jobs),
            phase: Phase::First,
            started: 0,
            unjudged: None,
            redundant_after: None,
            position: 0,
            hand_out: None,
            failed_branches_left: None,
        }
    }

    /// The result, with the coverage filled in.
    fn into_result(self) -> DporResult {
        let mut result = self.result;
        result.coverage.searched = self.position;
        result.coverage.fingerprints = self.fingerprints.into_iter().collect();
        result.coverage.classes = result.coverage.fingerprints.len() as u64;
        result
    }

    /// Runs the search until it is complete or stops.
    fn run(&mut self) -> crate::Result<()> {
        let stop = loop {
            match self.advance()? {
                Advanced::Ran => continue,
                Advanced::Stopped(stop) => break Some(stop),
                Advanced::Complete => break None,
            }
        };
        self.conclude(stop);
        Ok(())
    }

    /// Judges what is left to judge and fills in why the search ended
    /// (`stop`, or `None` when it is complete).
    fn conclude(&mut self, mut stop: Option<Stop>) {
        if stop != Some(Stop::Failure) && self.judge_unjudged() {
            stop = Some(Stop::Failure);
        }
        if let Some(after) = self.redundant_after {
            let failed_before = self.result.failure.as_ref().is_some_and(|f| f.0 <= after);
            self.result.redundant = u64::from(!failed_before);
        }
        let pending = match (stop, self.failed_branches_left) {
            (Some(Stop::Failure), Some(left)) => left,
            _ => self.branches_left(),
        };
        let started = self.started;
        let coverage = &mut self.result.coverage;
        coverage.branches_left = if stop.is_some() { pending } else { 0 };
        coverage.reason = match stop {
            None => {
                coverage.complete = true;
                None
            }
            Some(Stop::Failure) => Some("stopped at the first failure".into()),
            Some(Stop::Budget) if self.options.budget == Some(0) => {
                Some("the budget (--schedules) is 0".into())
            }
            Some(Stop::Budget) => Some(format!(
                "budget of {} executions spent with {pending} branches still to explore",
                self.options.budget.unwrap_or(0)
            )),
            Some(Stop::Deadline) => Some(format!(
                "time limit reached after {started} executions with {pending} branches still to explore"
            )),
            Some(Stop::Stopped) => Some(format!(
                "stopped after {started} executions with {pending} branches still to explore"
            )),
        };
    }

    /// Branches still pending (see [`Coverage::branches_left`]).
    fn branches_left(&self) -> u64 {
        let leaves: usize = self.nodes.iter().map(|n| n.wut.leaves()).sum();
        leaves as u64 + u64::from(self.suspended.is_some())
    }

    /// Why the search should not start another execution, if it should not.
    fn should_stop(&self) -> Option<Stop> {
        if self.options.budget.is_some_and(|b| self.started >= b) {
            return Some(Stop::Budget);
        }
        if self.options.stop.is_some_and(|stop| stop()) {
            return Some(Stop::Stopped);
        }
        if self
            .options
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Some(Stop::Deadline);
        }
        None
    }

    /// Runs one execution and makes it the current one (`self.path`).
    /// Returns false when it or the one before turned out to fail (the
    /// search stops there). A sequential search judges it at once; a
    /// parallel one judges it while the next execution runs (see
    /// [`Self::judge_unjudged`]).
    fn execute(
        &mut self,
        forced: Vec<JobId>,
        sleep_from: usize,
        sleep: Vec<Asleep>,
    ) -> crate::Result<bool> {
        self.started += 1;
        let key = (forced, sleep_from, sleep);
        match &self.exec {
            Exec::Sequential { fresh, analyze } => {
                let (fresh, analyze) = (*fresh, *analyze);
                let (trace, blocked) = run_here(&mut self.path, self.setup, fresh, key)?;
                let fp = self.path.fingerprint();
                let extra = self.mine().then(|| analyze(&trace));
                let mine = extra.is_some();
                let failed = self.judge(&trace, blocked, fp, extra);
                if let Some(slot) = self.hand_out.as_mut().filter(|_| mine) {
                    *slot = Some(DporExecution {
                        index: self.position,
                        trace,
                        fingerprint: fp,
                        blocked,
                    });
                }
                Ok(!failed)
            }
            Exec::Parallel {
                fresh,
                analyze,
                pool,
            } => {
                // Judge the previous execution on the pool while this one
                // runs here (the current branch's state stays on this thread).
                let (fresh, analyze) = (*fresh, *analyze);
                let branches_left = self.branches_left();
                let unjudged = self.unjudged.take();
                let analyzed = unjudged.is_some() && self.mine();
                let mut extra = None;
                let ran = pool.in_place_scope(|scope| {
                    if let Some(u) = unjudged.as_ref().filter(|_| analyzed) {
                        let extra = &mut extra;
                        scope.spawn(move |_| *extra = Some(analyze(&u.trace)));
                    }
                    run_here(&mut self.path, self.setup, fresh, key)
                });
                if let Some(u) = unjudged {
                    if self.judge(&u.trace, u.blocked, u.fp, extra) {
                        self.failed_branches_left = Some(u.branches_left);
                        return Ok(false);
                    }
                }
                let (trace, blocked) = ran?;
                let fp = self.path.fingerprint();
                self.unjudged = Some(Unjudged {
                    trace,
                    blocked,
                    fp,
                    branches_left,
                });
                Ok(true)
            }
        }
    }

    /// Judges the execution left unjudged, if any (at the end of the
    /// search); true when it failed.
    fn judge_unjudged(&mut self) -> bool {
        let Some(u) = self.unjudged.take() else {
            return false;
        };
        let extra = self.mine().then(|| match &self.exec {
            Exec::Sequential { analyze, .. } => analyze(&u.trace),
            Exec::Parallel { analyze, pool, .. } => pool.install(|| analyze(&u.trace)),
        });
        let failed = self.judge(&u.trace, u.blocked, u.fp, extra);
        if failed {
            self.failed_branches_left = Some(u.branches_left);
        }
        failed
    }

    /// True when the next execution to judge, in the search's order, is
    /// this shard's.
    fn mine(&self) -> bool {
        self.options.shard.owns(self.position)
    }

    /// Takes the next execution in the search's order: counts and judges
    /// it when it is this shard's (`extra` is what was computed from it
    /// then), else only steps past it. True when it failed.
    fn judge(
        &mut self,
        trace: &ExecutionTrace,
        blocked: bool,
        fp: Fingerprint,
        extra: Option<T>,
    ) -> bool {
        self.position += 1;
        let Some(extra) = extra else {
            // Another shard's: it judges and counts it.
            return false;
        };
        let r = &mut self.result;
        r.executions += 1;
        r.blocked += u64::from(blocked);
        r.ops_executed += trace.schedule.choices.len() as u64;
        self.fingerprints.insert(fp);
        let (notes, failed) = (self.commit)(trace, extra);
        r.notes.extend(notes);
        if failed {
            r.failure = Some((self.position, trace.schedule.choices.clone()));
        }
        failed
    }

    /// Appends the nodes of the current execution from step `from` on; the
    /// first ones get the branches left beside a wakeup path (`rest`).
    fn grow(&mut self, from: usize, rest: Vec<WakeupTree>) {
        let mut rest = rest.into_iter();
        let steps = &self.path.steps;
        for k in from..steps.len() {
            self.nodes.push(Node {
                chosen: steps.chosen(k),
                chosen_mutates: steps.mutates(k),
                sleep: steps.sleep(k).to_vec(),
                wut: rest.next().unwrap_or_default(),
            });
        }
    }

    /// One step of the search: runs the next execution, or says why it
    /// does not.
    fn advance(&mut self) -> crate::Result<Advanced> {
        match std::mem::replace(&mut self.phase, Phase::Branches) {
            Phase::First => self.first(),
            Phase::Targeted { at, jobs } => self.targeted(at, jobs),
            Phase::Branches => self.next_branch(),
        }
    }

    /// The first (serial) execution; picks the race-directed branch.
    fn first(&mut self) -> crate::Result<Advanced> {
        if let Some(stop) = self.should_stop() {
            self.phase = Phase::First;
            return Ok(Advanced::Stopped(stop));
        }
        if !self.execute(Vec::new(), 0, Vec::new())? {
            return Ok(Advanced::Stopped(Stop::Failure));
        }
        self.grow(0, Vec::new());
        let steps = &self.path.steps;
        match target::target(steps, &self.path.hb).filter(|_| self.options.race_directed) {
            Some((at, events)) => {
                let jobs: Vec<JobId> = events.iter().map(|&i| steps.chosen(i)).collect();
                self.suspended = Some(Suspended {
                    at,
                    job: steps.chosen(at),
                    mutates: steps.mutates(at),
                    steps: steps.clone(),
                    pending: Vec::new(),
                });
                self.phase = Phase::Targeted { at, jobs };
            }
            None => self.add_races(0),
        }
        Ok(Advanced::Ran)
    }

    /// The race-directed branch, at node `at`, running `jobs`.
    fn targeted(&mut self, at: usize, jobs: Vec<JobId>) -> crate::Result<Advanced> {
        if let Some(stop) = self.should_stop() {
            self.phase = Phase::Targeted { at, jobs };
            return Ok(Advanced::Stopped(stop));
        }
        self.nodes.truncate(at + 1);
        self.nodes[at].chosen = jobs[0];
        let mut forced: Vec<JobId> = self.nodes[..at].iter().map(|n| n.chosen).collect();
        forced.extend(&jobs);
        let sleep = self.nodes[at].sleep.clone();
        if !self.execute(forced, at, sleep)? {
            return Ok(Advanced::Stopped(Stop::Failure));
        }
        self.nodes[at].chosen_mutates = self.path.steps.mutates(at);
        self.grow(at + 1, Vec::new());
        self.add_races(0);
        Ok(Advanced::Ran)
    }

    /// The deepest pending branch, depth first.
    fn next_branch(&mut self) -> crate::Result<Advanced> {
        loop {
            let deepest = self.nodes.iter().rposition(|n| !n.wut.is_empty());
            if let Some(at) = self.suspended.as_ref().map(|s| s.at) {
                if deepest.is_none_or(|k| k <= at) {
                    self.resume();
                    continue;
                }
            }
            let Some(k) = deepest else {
                return Ok(Advanced::Complete);
            };
            if let Some(stop) = self.should_stop() {
                return Ok(Advanced::Stopped(stop));
            }
            self.nodes.truncate(k + 1);
            let node = &mut self.nodes[k];
            node.sleep.push(Asleep {
                job: node.chosen,
                mutates: node.chosen_mutates,
            });
            let branch = node.wut.pop_first().expect("a pending branch");
            node.chosen = branch.job;
            node.chosen_mutates = branch.mutates;
            let (jobs, rest) = branch.leftmost();
            let sleep = normalized(&node.sleep);
            let mut forced: Vec<JobId> = self.nodes[..k].iter().map(|n| n.chosen).collect();
            forced.extend(jobs);
            if !self.execute(forced, k, sleep)? {
                return Ok(Advanced::Stopped(Stop::Failure));
            }
            self.nodes[k].chosen_mutates = self.path.steps.mutates(k);
            self.grow(k + 1, rest);
            self.add_races(k);
            return Ok(Advanced::Ran);
        }
    }

    /// Inserts the reversal of every race of the current execution whose
    /// later event is at `from` or after.
    fn add_races(&mut self, from: usize) {
        let jobs = self.jobs;
        let Search {
            path,
            nodes,
            suspended,
            ..
        } = self;
        let (steps, hb) = (&path.steps, &path.hb);
        for (e, e2) in hb.races(from) {
            let w = WakeupSeq::new(&hb.reversal(e, e2), steps, hb, jobs);
            let node = &mut nodes[e];
            let weak = |w: &WakeupSeq, q: JobId, m: bool| {
                w.weak_initial(q, steps.offered_by(e, q).map(|op| (op, m)))
            };
            if weak(&w, steps.chosen(e), steps.mutates(e))
                || node.sleep.iter().any(|a| weak(&w, a.job, a.mutates))
            {
                continue;
            }
            if let Some(s) = suspended.as_mut().filter(|s| s.at == e) {
                if weak(&w, s.job, s.mutates) {
                    s.pending.push(w);
                    continue;
                }
            }
            node.wut.insert(w);
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
        let Some(steps) = with_sleep(&s.steps, at, sleep) else {
            self.redundant_after = Some(self.started);
            for w in s.pending {
                self.nodes[at].wut.insert(w);
            }
            return;
        };
        node.chosen = s.job;
        node.chosen_mutates = s.mutates;
        self.path.load(at, steps);
        self.grow(at + 1, Vec::new());
        for mut w in s.pending {
            w.remove_first(s.job);
            self.insert_along(at + 1, w);
        }
        self.add_races(at);
    }

    /// Inserts `w` below node `from - 1`'s current branch: along the current
    /// execution while its jobs are weak initials, then into the first
    /// node's tree where they are not.
    fn insert_along(&mut self, from: usize, mut w: WakeupSeq) {
        let steps = &self.path.steps;
        for (k, node) in self
            .nodes
            .iter_mut()
            .enumerate()
            .take(steps.len())
            .skip(from)
        {
            if w.weak_initial(node.chosen, Some((steps.executed(k), steps.mutates(k)))) {
                w.remove_first(node.chosen);
                continue;
            }
            node.wut.insert(w);
            return;
        }
    }
}

/// Runs the execution of `key` on this thread and makes it the current
/// one of `path`: resumed from the current branch's state where it can be,
/// else from scratch.
fn run_here(
    path: &mut Path,
    setup: &Setup,
    fresh: Fresh<'_>,
    key: Key,
) -> crate::Result<(ExecutionTrace, bool)> {
    if let Some(ran) = path.run(setup, fresh, &key)? {
        return Ok(ran);
    }
    let (forced, sleep_from, sleep) = key;
    let run = run_once(setup, fresh, forced, sleep_from, sleep)?;
    path.load(sleep_from, run.steps);
    Ok((run.trace, run.blocked))
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
fn with_sleep(steps: &DporSteps, at: usize, mut sleep: Vec<Asleep>) -> Option<DporSteps> {
    let mut out = steps.clone();
    let mut last: Option<JobId> = None;
    for m in at..steps.len() {
        sleep.retain(|a| steps.is_enabled(m, a.job));
        if m > at {
            let awake = |j: JobId| !sleep.iter().any(|a| a.job == j);
            let choice = last
                .filter(|&l| steps.is_enabled(m, l) && awake(l))
                .or_else(|| steps.first_enabled(m, awake))?;
            if choice != steps.chosen(m) {
                return None;
            }
        }
        out.set_sleep(m, sleep.clone());
        steps.sleep_after(m, &mut sleep);
        last = Some(steps.chosen(m));
    }
    Some(out)
}
