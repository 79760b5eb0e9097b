//! The exploration loop: a fresh filesystem per execution, jobs run under a
//! scheduler, the oracle judges. Executions run in parallel with rayon; the
//! result never depends on the number of threads, because execution `i`
//! always gets the same scheduler stream and the first failure is the one
//! with the lowest index.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use crate::dpor::Coverage;
use crate::dpor_feed::DporFeed;
use crate::error::{Error, Result};
use crate::execution::{Event, ExecutionTrace, Ran};
use crate::fs::FsKind;
use crate::oracle::{FailureKind, Judgement, Oracle};
use crate::pairs::{ExecutionPairs, PairCounts, PairTally, ShapeCache};
use crate::pct_bound::PctBound;
use crate::portfolio::{Plan, Slot};
use crate::schedule::{ReplayScheduler, Schedule, SchedulerKind};
use crate::setup::Setup;
use crate::shard::Shard;
use crate::state_graph::StateGraph;
use crate::tail::TailMemo;

/// The budget of random, pct, directed and auto runs when none is given
/// (dpor's default is no budget: to the end of its search).
pub const DEFAULT_SCHEDULES: u64 = 1000;

/// Options of one exploration.
#[derive(Clone)]
pub struct ExploreOptions {
    /// The scheduler.
    pub scheduler: SchedulerKind,
    /// Budget: the number of executions to try.
    pub schedules: u64,
    /// The seed.
    pub seed: u64,
    /// Worker threads (1 = no parallelism).
    pub threads: usize,
    /// The filesystem every execution runs on.
    pub fs: FsKind,
    /// Which share of the executions (random, pct) or of the search tree
    /// (dpor) to run.
    pub shard: Shard,
    /// Called with the number of executions done so far (for progress bars).
    pub progress: Option<Arc<dyn Fn(u64) + Send + Sync>>,
    /// Count the conflicting pairs of ops the executions exercise (see
    /// `docs/exploration.md`). Costs recording every event of every execution,
    /// so it is off by default; the CLI always turns it on.
    pub count_pairs: bool,
    /// Reuse the rests of executions that reach a state seen before, once
    /// only one job is left (the known tails). Changes nothing but speed;
    /// applies to random and PCT runs on the model.
    pub reuse_tails: bool,
    /// Shrink the first failure before reporting it.
    /// Off, the failing execution is reported as it ran: sooner, with a
    /// longer story and token.
    pub shrink: bool,
    /// Stop starting executions after this long; the report then says the
    /// run was cut short (verdict incomplete, unless something failed).
    pub time_limit: Option<std::time::Duration>,
    /// Faults injected into the executions ([`crate::crash`]): with
    /// `crash`, every op of every passing execution is also a crash point,
    /// recovered by rerunning the build. Runs on the model only.
    pub faults: crate::crash::Faults,
}

impl std::fmt::Debug for ExploreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExploreOptions")
            .field("scheduler", &self.scheduler)
            .field("schedules", &self.schedules)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("fs", &self.fs)
            .field("shard", &self.shard)
            .field("count_pairs", &self.count_pairs)
            .field("reuse_tails", &self.reuse_tails)
            .field("shrink", &self.shrink)
            .field("time_limit", &self.time_limit)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            scheduler: SchedulerKind::Random,
            schedules: 1000,
            seed: 0,
            threads: 1,
            fs: FsKind::Model,
            shard: Shard::WHOLE,
            progress: None,
            count_pairs: false,
            reuse_tails: true,
            shrink: true,
            time_limit: None,
            faults: crate::crash::Faults::NONE,
        }
    }
}

/// A failing execution, with everything needed to explain and replay it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// 1-based index of the execution within the exploration; `None` for a replay.
    pub execution: Option<u64>,
    /// The schedule's replay token.
    pub token: String,
    /// The execution, with every event recorded.
    pub trace: ExecutionTrace,
    /// The verdict.
    pub judgement: Judgement,
}

impl Failure {
    /// Why it failed.
    pub fn kind(&self) -> &FailureKind {
        self.judgement
            .failure
            .as_ref()
            .expect("a Failure always has a failure")
    }
}

/// The outcome of an exploration.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Executions run up to and including the first failure (or all, on a pass).
    pub executions: u64,
    /// Ops executed in those executions.
    pub ops_executed: u64,
    /// Ops of the serial reference run.
    pub reference_ops: usize,
    /// The first failure, by execution index.
    pub first_failure: Option<Failure>,
    /// Distinct notes seen in the counted executions, sorted.
    pub notes: Vec<String>,
    /// Each note with the 1-based index of the first counted execution
    /// that printed it (lets `merge` keep only the notes of executions up to
    /// the merged first failure).
    pub note_first_execution: BTreeMap<String, u64>,
    /// Ops of each counted execution, in execution order (the executions of
    /// this shard only, when sharded).
    pub execution_ops: Vec<u64>,
    /// The conflicting pairs the counted executions exercised, when
    /// [`ExploreOptions::count_pairs`] was set.
    pub pairs: Option<PairCounts>,
    /// Those pairs in compact form, for sharded
    /// runs (which `merge` unions); empty otherwise.
    pub pair_set: Vec<String>,
    /// For random and pct runs: the PCT miss-probability bound.
    pub pct_bound: Option<PctBound>,
    /// The shard explored (whole unless `--shard` was given).
    pub shard: Shard,
    /// For systematic schedulers (dpor): the classes explored and whether
    /// the whole space was covered.
    pub coverage: Option<Coverage>,
    /// Counted executions that stopped early at a known tail
    /// ([`ExploreOptions::reuse_tails`]). A measure of speed only: reports
    /// leave it out, because it can depend on the thread count.
    pub reused_tails: u64,
    /// Of those, the executions that got to their known tail by walking the
    /// [`StateGraph`], without running an op. Speed only, like `reused_tails`.
    pub walked_executions: u64,
    /// Portfolio and race-directed runs: which scheduler, and which
    /// target, ran the first failing execution.
    pub found_by: Option<String>,
    /// Portfolio and race-directed runs: the work list and how much of it
    /// the executions aimed at and met.
    pub directed: Option<DirectedCoverage>,
    /// Why the run stopped before its budget or search ended (a time
    /// limit; a race-directed run's budget ending before its work list).
    pub stopped: Option<String>,
    /// With `--faults crash`: the crash points met and what became of them.
    pub faults: Option<crate::crash::FaultCounts>,
}

/// How much of the race-directed work list an exploration covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectedCoverage {
    /// Targets in the work list.
    pub targets: u64,
    /// Conflicting pairs of the serial reference between jobs that can overlap.
    pub pairs: u64,
    /// Of the targets, windows.
    pub windows: u64,
    /// Executions aimed at a target.
    pub aimed: u64,
    /// Of those, the executions that met their aim: the racer's op ran
    /// while the held job was held.
    pub met: u64,
    /// Whether the round-robin run was recorded besides the serial and
    /// opposite runs ([`crate::directed::ROUND_ROBIN_PAIR_BUDGET`]).
    #[serde(default)]
    pub round_robin: bool,
}

/// What an exploration concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No failure in everything it was asked to check.
    Pass,
    /// A job failed or the prefix diverged.
    Fail,
    /// No failure found, but the run did not finish what it set out to
    /// check: a dpor search cut short, a time limit, a work list not done.
    Incomplete,
}

impl Verdict {
    /// `pass`, `fail` or `incomplete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Incomplete => "incomplete",
        }
    }
}

impl Exploration {
    /// The verdict: a failure fails; a run cut short (time limit, dpor
    /// search not finished, work list not done, crash and fault points not
    /// all tried or not in every order) is incomplete; the rest pass.
    pub fn verdict(&self) -> Verdict {
        let faults_cut = self
            .faults
            .is_some_and(|f| !f.complete || f.one_order_after);
        if self.first_failure.is_some() {
            Verdict::Fail
        } else if self.stopped.is_some()
            || self.coverage.as_ref().is_some_and(|c| !c.complete)
            || faults_cut
        {
            Verdict::Incomplete
        } else {
            Verdict::Pass
        }
    }

    /// The exploration that ends at execution 1 because a saved failure
    /// ([`crate::check::regressions`]) still fails: `failure` is that
    /// execution, `found_by` says where it was saved, and `reference_ops`
    /// are the serial reference's ops.
    pub fn regression(failure: Failure, reference_ops: usize, found_by: String) -> Exploration {
        let ops = failure.trace.schedule.choices.len() as u64;
        let notes = failure.judgement.notes.clone();
        Exploration {
            executions: 1,
            ops_executed: ops,
            reference_ops,
            note_first_execution: notes.iter().map(|n| (n.clone(), 1)).collect(),
            notes,
            first_failure: Some(failure),
            execution_ops: vec![ops],
            pairs: None,
            pair_set: Vec::new(),
            pct_bound: None,
            shard: Shard::WHOLE,
            coverage: None,
            reused_tails: 0,
            walked_executions: 0,
            found_by: Some(found_by),
            directed: None,
            stopped: None,
            faults: None,
        }
    }

    /// Why the run is incomplete, when it is.
    pub fn incomplete_reason(&self) -> Option<String> {
        if self.verdict() != Verdict::Incomplete {
            return None;
        }
        self.stopped.clone().or_else(|| {
            self.coverage.as_ref().map(|c| {
                c.reason
                    .clone()
                    .unwrap_or_else(|| "the search did not finish".into())
            })
        })
    }
}

/// An execution index with what runs it.
type Slotted = (u64, Slot);

struct Outcome {
    index: u64,
    /// What ran it.
    slot: Slot,
    /// Aimed schedulers: whether the execution met its aim.
    aim_met: Option<bool>,
    /// Dpor slots: the choices (the search keeps no trace).
    choices: Vec<usize>,
    /// Dpor slots: the search has no execution after this one.
    search_ended: bool,
    steps: u64,
    judgement: Arc<Judgement>,
    /// Its conflicting pairs, when counted.
    pairs: Option<ExecutionPairs>,
    /// Stopped early at a known tail.
    reused: bool,
    /// Got there by walking the state graph.
    walked: bool,
}

/// The PCT bound of a run of `runs` executions of at most `k` ops with
/// `n` jobs under `scheduler`; random runs get the depth-2 bound of an
/// equally long `pct:2` run.
pub fn pct_bound(scheduler: SchedulerKind, n: usize, k: u64, runs: u64) -> Option<PctBound> {
    let depth = match scheduler {
        SchedulerKind::Pct { depth } => depth as u64,
        SchedulerKind::Random => 2,
        SchedulerKind::Serial
        | SchedulerKind::Dpor
        | SchedulerKind::Directed
        | SchedulerKind::Auto => return None,
    };
    Some(PctBound::new(
        &scheduler.to_string(),
        depth,
        n as u64,
        k,
        runs,
    ))
}

/// Executions kept for their crash points: 1-based index and choices.
type Kept = Mutex<Vec<(u64, crate::crash::KeptSchedule)>>;

/// Explores `setup` under `options`.
pub fn explore(setup: &Setup, options: &ExploreOptions) -> Result<Exploration> {
    let oracle = Oracle::new(setup)?;
    if !options.faults.any() {
        return explore_executions(setup, options, &oracle, None);
    }
    if options.fs != FsKind::Model {
        return Err(Error::Usage(format!(
            "--faults {} runs on the model filesystem; drop --fs real",
            options.faults
        )));
    }
    if !options.shard.is_whole() {
        return Err(Error::Usage(format!(
            "--faults {} cannot be sharded",
            options.faults
        )));
    }
    // Tails and the state graph stop executions early: the crash points
    // need every execution's whole schedule.
    // With a time limit, the search gets half of it and the points the
    // rest (and whatever the search leaves unused): a long search no
    // longer leaves the points no time at all.
    let base = ExploreOptions {
        reuse_tails: false,
        time_limit: options.time_limit.map(|limit| limit / 2),
        ..options.clone()
    };
    let kept = Kept::default();
    let started = Instant::now();
    let mut ex = explore_executions(setup, &base, &oracle, Some(&kept))?;
    let mut executions = kept.into_inner().unwrap_or_else(|e| e.into_inner());
    executions.sort_by_key(|(index, _)| *index);
    let failing = ex.first_failure.as_ref().and_then(|f| f.execution);
    // The crash points of the passing executions counted (with `crash:all`,
    // of every execution: the search went on past its first failure).
    let every = options.faults.every_execution;
    executions.retain(|(index, _)| *index <= ex.executions && (every || Some(*index) != failing));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let deadline = options.time_limit.map(|limit| started + limit);
    let pass = crate::crash::explore_crashes(
        setup,
        &oracle,
        &executions,
        &pool,
        deadline,
        options.faults,
    )?;
    ex.faults = Some(pass.counts);
    if ex.stopped.is_none() {
        ex.stopped = pass.stopped;
    }
    if let (None, Some((execution, point, choices))) = (&ex.first_failure, pass.first) {
        let mut fs = options.fs.fresh_unkeyed()?;
        let schedule = Schedule { choices };
        let token = point.token(&schedule.token());
        let crashed = crate::crash::replay(setup, &oracle, point, schedule, fs.as_mut())?;
        ex.first_failure = Some(Failure {
            execution: Some(execution),
            token,
            trace: crashed.trace,
            judgement: crashed.judgement,
        });
    }
    Ok(ex)
}

/// Explores the executions of `setup` under `options`, judged by
/// `oracle`; with `kept`, every execution's schedule is kept there.
fn explore_executions(
    setup: &Setup,
    options: &ExploreOptions,
    oracle: &Oracle,
    kept: Option<&Kept>,
) -> Result<Exploration> {
    let budget = if options.scheduler.is_deterministic_per_run() {
        options.schedules.min(1)
    } else {
        options.schedules
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let jobs = setup.job_count();
    let steps = oracle.reference_steps();
    options.fs.fresh()?;
    if options.scheduler == SchedulerKind::Dpor {
        return explore_systematically(setup, options, oracle, kept);
    }
    let aimed = matches!(
        options.scheduler,
        SchedulerKind::Directed | SchedulerKind::Auto
    );
    if aimed && !options.shard.is_whole() {
        return Err(Error::Usage(format!(
            "--shard: the {} scheduler cannot be sharded (its dpor and work-list parts are one sequence); use random, pct or dpor",
            options.scheduler
        )));
    }
    let work_list = match aimed {
        true => Arc::new(crate::directed::work_list(
            setup,
            usize::try_from(budget).unwrap_or(usize::MAX),
        )?),
        false => Arc::default(),
    };
    let mut plan = Plan::new(options.scheduler, options.seed, work_list);
    let reuse_tails = options.reuse_tails && options.fs == FsKind::Model;
    let memo = TailMemo::new(TailMemo::DEFAULT_CAPACITY, options.count_pairs);
    let shapes = ShapeCache::new(jobs);
    // One state graph per worker thread, so that walking it takes no lock
    // per step; each is locked once per execution, by its own thread only.
    let threads = options.threads.max(1);
    let graphs: Vec<Mutex<StateGraph>> = (0..threads)
        .map(|_| Mutex::new(StateGraph::new(StateGraph::DEFAULT_CAPACITY / threads)))
        .collect();
    let run_one = |index: u64, slot: Slot, plan: &Plan| -> Result<Outcome> {
        let mut scheduler = plan.scheduler(&slot, jobs, steps);
        let mut fs = options.fs.fresh()?;
        if reuse_tails {
            let slot_of_thread = rayon::current_thread_index().unwrap_or(0) % threads;
            let mut graph = graphs[slot_of_thread]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let ran = setup.run_with_tails(
                fs.as_mut(),
                scheduler.as_mut(),
                &memo,
                Some(&mut graph),
                Some(oracle.raw_reference()),
                options.count_pairs,
            );
            let aim_met = scheduler.aim_met();
            return Ok(match ran {
                Ran::Known {
                    tail,
                    events,
                    walked,
                } => {
                    let known = memo.get(tail.key).expect("known tails are never dropped");
                    // The tail's events follow those before it.
                    let pairs = known.events.as_ref().map(|after| {
                        let whole: Vec<&Event> = events.iter().chain(after.iter()).collect();
                        shapes.execution(&whole)
                    });
                    Outcome {
                        index,
                        slot,
                        steps: tail.at_step as u64 + known.steps,
                        judgement: known.judgement,
                        pairs,
                        reused: true,
                        walked,
                        aim_met,
                        choices: Vec::new(),
                        search_ended: false,
                    }
                }
                Ran::Complete { trace, tail } => {
                    let steps = trace.schedule.choices.len() as u64;
                    let judgement = Arc::new(oracle.judge(&trace));
                    if let (Some(tail), None) = (tail, &trace.aborted) {
                        let after = trace.events.get(tail.at_step..).unwrap_or_default();
                        let rest = steps - tail.at_step as u64;
                        memo.remember(tail.key, rest, judgement.clone(), after);
                    }
                    Outcome {
                        index,
                        slot,
                        steps,
                        judgement,
                        pairs: options.count_pairs.then(|| shapes.execution(&trace.events)),
                        reused: false,
                        walked: false,
                        aim_met,
                        choices: Vec::new(),
                        search_ended: false,
                    }
                }
            });
        }
        let trace = setup.run(fs.as_mut(), scheduler.as_mut(), options.count_pairs);
        Ok(Outcome {
            index,
            slot,
            steps: trace.schedule.choices.len() as u64,
            judgement: Arc::new(oracle.judge(&trace)),
            pairs: options.count_pairs.then(|| shapes.execution(&trace.events)),
            reused: false,
            walked: false,
            aim_met: scheduler.aim_met(),
            choices: match kept {
                Some(_) => trace.schedule.choices,
                None => Vec::new(),
            },
            search_ended: false,
        })
    };
    // Batches start small, so that an early failure is reported without
    // running a whole batch after it, and grow to keep every thread busy
    // (an outcome's pairs are a split per row of its shape: small). Which
    // executions run never depends on the batch size: the first failure is
    // the lowest failing index.
    let full_batch = (options.threads.max(1) as u64 * 32).max(8);
    let mut batch = (options.threads.max(1) as u64 * 2).clamp(4, full_batch);
    let deadline = options.time_limit.map(|limit| Instant::now() + limit);
    let done = AtomicU64::new(0);
    let mut executions = 0;
    let mut ops_executed = 0;
    let mut note_first_execution = BTreeMap::new();
    let mut execution_ops = Vec::new();
    let mut pairs = PairTally::default();
    let mut failing: Option<(u64, Slot, Vec<usize>)> = None;
    // `crash:all` runs the whole search past a failure, for the crash
    // points of every execution; the failure reported is still the first.
    let keep_going = kept.is_some() && options.faults.every_execution;
    let mut first_failing: Option<(u64, Slot, Vec<usize>)> = None;
    let mut reused_tails = 0;
    let mut walked = 0;
    let mut aimed_at = 0u64;
    let mut aims_met = 0u64;
    let mut stopped = None;
    let mut dpor_ended = false;
    let mut next = 0;
    let mut plan_ended = false;
    let (coverage, ()) = std::thread::scope(|scope| -> Result<(Option<Coverage>, ())> {
        let mut feed = plan.uses_dpor().then(|| {
            let shapes = options.count_pairs.then_some(&shapes);
            DporFeed::start(scope, setup, oracle, options.fs, shapes)
        });
        while next < budget && failing.is_none() && !plan_ended && !dpor_ended {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                stopped = Some(format!(
                    "the time limit of {} s was reached after {executions} executions",
                    options.time_limit.unwrap_or_default().as_secs_f64(),
                ));
                break;
            }
            let end = (next + batch).min(budget);
            let mut slots = Vec::new();
            for i in next..end {
                match plan.next_slot() {
                    Some(slot) => slots.push((i, slot)),
                    None => {
                        plan_ended = true;
                        break;
                    }
                }
            }
            let (runs, dpors): (Vec<Slotted>, Vec<Slotted>) = slots
                .into_iter()
                .filter(|(i, _)| options.shard.owns(*i))
                .partition(|(_, slot)| !matches!(slot, Slot::Dpor { .. }));
            let plan_ref = &plan;
            let feed_ref = &mut feed;
            let (ran, fed) = pool.install(|| {
                rayon::join(
                    || -> Result<Vec<Outcome>> {
                        runs.into_par_iter()
                            .map(|(i, slot)| {
                                let o = run_one(i, slot, plan_ref);
                                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                                if let Some(p) = &options.progress {
                                    p(n);
                                }
                                o
                            })
                            .collect()
                    },
                    || -> Vec<Option<Outcome>> {
                        dpors
                            .into_iter()
                            .map(|(index, slot)| {
                                let feed = feed_ref.as_mut()?;
                                let fed = feed.next_execution()?;
                                done.fetch_add(1, Ordering::Relaxed);
                                Some(Outcome {
                                    search_ended: feed.ended(),
                                    index,
                                    slot,
                                    steps: fed.choices.len() as u64,
                                    judgement: fed.judgement,
                                    pairs: fed.pairs,
                                    reused: false,
                                    walked: false,
                                    aim_met: None,
                                    choices: fed.choices,
                                })
                            })
                            .collect()
                    },
                )
            });
            // A dpor slot with no execution: the search ended there.
            let mut outcomes: Vec<Option<Outcome>> = ran?.into_iter().map(Some).collect();
            outcomes.extend(fed);
            let index_of = |o: &Option<Outcome>| o.as_ref().map_or(u64::MAX, |o| o.index);
            outcomes.sort_by_key(index_of);
            let first_end = outcomes.iter().position(Option::is_none);
            for (k, o) in outcomes.into_iter().enumerate() {
                let Some(o) = o else {
                    dpor_ended = true;
                    break;
                };
                if first_end.is_some_and(|e| k >= e) {
                    break;
                }
                executions += 1;
                ops_executed += o.steps;
                reused_tails += o.reused as u64;
                walked += o.walked as u64;
                if let Some(met) = o.aim_met {
                    aimed_at += 1;
                    aims_met += met as u64;
                }
                execution_ops.push(o.steps);
                if let Some(found) = &o.pairs {
                    pairs.add(o.index + 1, found);
                }
                for n in &o.judgement.notes {
                    note_first_execution.entry(n.clone()).or_insert(o.index + 1);
                }
                if let Some(kept) = kept {
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    kept.push((o.index + 1, crate::crash::KeptSchedule::new(&o.choices)));
                }
                if o.judgement.failure.is_some() {
                    if keep_going {
                        // `crash:all`: the first failure is kept, the search goes on.
                        first_failing.get_or_insert((o.index, o.slot, o.choices));
                        continue;
                    }
                    failing = Some((o.index, o.slot, o.choices));
                    break;
                }
                if o.search_ended {
                    // Every class has been explored: nothing left to find.
                    dpor_ended = true;
                    break;
                }
            }
            next = end;
            batch = (batch * 2).min(full_batch);
        }
        let coverage = match feed {
            Some(feed) => Some(feed.finish()?),
            None => None,
        };
        Ok((coverage, ()))
    })?;
    let failing = failing.or(first_failing);
    // The dpor part of a portfolio ended without a failure: the space is covered.
    let (first_failure, found_by) = match failing {
        Some((index, slot, choices)) => {
            let mut fs = options.fs.fresh_unkeyed()?;
            let trace = match &slot {
                Slot::Dpor { .. } => {
                    let mut replay = ReplayScheduler::new(Schedule { choices });
                    setup.run(fs.as_mut(), &mut replay, true)
                }
                _ => {
                    let mut scheduler = plan.scheduler(&slot, jobs, steps);
                    setup.run(fs.as_mut(), scheduler.as_mut(), true)
                }
            };
            let judgement = oracle.judge(&trace);
            let found_by = aimed.then(|| plan.describe(&slot, &setup.labels()));
            (
                Some(shrunk(setup, oracle, options, index + 1, trace, judgement)?),
                found_by,
            )
        }
        None => (None, None),
    };
    let directed = aimed.then(|| DirectedCoverage {
        targets: plan.work_list().len() as u64,
        pairs: plan.work_list().pairs as u64,
        windows: plan.work_list().windows as u64,
        aimed: aimed_at,
        met: aims_met,
        round_robin: plan.work_list().round_robin,
    });
    let mut coverage = coverage;
    if let (Some(c), None, None) = (&mut coverage, &stopped, &first_failure) {
        if !c.complete {
            c.reason = Some(format!(
                "the budget of {budget} executions ended before dpor's search did; {}",
                c.reason.as_deref().unwrap_or("dpor ran part of it")
            ));
        }
    }
    if options.scheduler == SchedulerKind::Directed
        && !plan_ended
        && stopped.is_none()
        && first_failure.is_none()
    {
        stopped = Some(format!(
            "the budget of {budget} executions ended before the work list did ({} of {} targets tried)",
            aimed_at,
            plan.work_list().len()
        ));
    }
    Ok(Exploration {
        executions,
        ops_executed,
        reference_ops: steps,
        first_failure,
        notes: note_first_execution.keys().cloned().collect(),
        note_first_execution,
        pair_set: if options.count_pairs && !options.shard.is_whole() {
            pairs.to_compact()
        } else {
            Vec::new()
        },
        pairs: options.count_pairs.then(|| pairs.counts()),
        pct_bound: pct_bound(
            options.scheduler,
            jobs,
            execution_ops.iter().copied().max().unwrap_or(0),
            executions,
        ),
        execution_ops,
        shard: options.shard,
        coverage,
        reused_tails,
        walked_executions: walked,
        found_by,
        directed,
        stopped,
        faults: None,
    })
}

/// The failure of execution `execution` (1-based), shrunk (see
/// [`crate::shrink`]) unless `options` say not to.
fn shrunk(
    setup: &Setup,
    oracle: &Oracle,
    options: &ExploreOptions,
    execution: u64,
    trace: ExecutionTrace,
    judgement: Judgement,
) -> Result<Failure> {
    let better = if options.shrink {
        match crate::shrink::record(setup, options.fs, &trace.schedule.choices)? {
            Some(recorded) => {
                crate::shrink::shrink(setup, oracle, options.fs, &recorded, &judgement)?
            }
            None => None,
        }
    } else {
        None
    };
    let (trace, judgement) = better.unwrap_or((trace, judgement));
    Ok(failure_of(execution, trace, judgement))
}

/// The failure of execution `execution` (1-based), as `trace` tells it.
fn failure_of(execution: u64, trace: ExecutionTrace, judgement: Judgement) -> Failure {
    Failure {
        execution: Some(execution),
        token: trace.schedule.token(),
        trace,
        judgement,
    }
}

/// Explores `setup` with DPOR, only the shard's part of the search when
/// sharded. Executions, their judging and their pairs run on `threads`
/// workers; the search takes them in its sequential order, so the result
/// does not depend on `threads` (see [`crate::dpor`]).
fn explore_systematically(
    setup: &Setup,
    options: &ExploreOptions,
    oracle: &Oracle,
    kept: Option<&Kept>,
) -> Result<Exploration> {
    let fresh = || options.fs.fresh_unkeyed();
    let shapes = ShapeCache::new(setup.job_count());
    // What depends only on the execution: its verdict, and its pairs.
    let analyze = |trace: &ExecutionTrace| {
        let j = oracle.judge(trace);
        let pairs = if options.count_pairs {
            // The DPOR driver keeps no events; replay the schedule with them.
            options.fs.fresh_unkeyed().ok().map(|mut fs| {
                let mut scheduler = ReplayScheduler::new(trace.schedule.clone());
                let replayed = setup.run(fs.as_mut(), &mut scheduler, true);
                shapes.execution(&replayed.events)
            })
        } else {
            None
        };
        (j.notes, j.failure.is_some(), pairs)
    };
    let progress = options.progress.clone();
    let counted = std::cell::Cell::new(0u64);
    let execution_ops = std::cell::RefCell::new(Vec::new());
    let pairs = std::cell::RefCell::new(PairTally::default());
    // `crash:all` runs the whole search past a failure, for the crash
    // points of every execution; the failure reported is still the first.
    let keep_going = kept.is_some() && options.faults.every_execution;
    let first_failing: std::cell::RefCell<Option<(u64, Vec<usize>)>> = Default::default();
    let commit =
        |trace: &ExecutionTrace,
         (notes, failed, found): (Vec<String>, bool, Option<ExecutionPairs>)| {
            counted.set(counted.get() + 1);
            let failed = match (failed, keep_going) {
                (true, true) => {
                    first_failing
                        .borrow_mut()
                        .get_or_insert_with(|| (counted.get(), trace.schedule.choices.clone()));
                    false
                }
                _ => failed,
            };
            if let Some(p) = &progress {
                p(counted.get());
            }
            if let Some(kept) = kept {
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                kept.push((
                    counted.get(),
                    crate::crash::KeptSchedule::new(&trace.schedule.choices),
                ));
            }
            execution_ops
                .borrow_mut()
                .push(trace.schedule.choices.len() as u64);
            if let Some(found) = found {
                pairs.borrow_mut().add(counted.get(), &found);
            }
            (notes, failed)
        };
    let dpor = crate::dpor::DporOptions {
        // No budget given (u64::MAX): to the end of the search, as loom does.
        budget: (options.schedules != u64::MAX).then_some(options.schedules),
        shard: options.shard,
        deadline: options.time_limit.map(|limit| Instant::now() + limit),
        ..Default::default()
    };
    let found =
        crate::dpor::explore_parallel(setup, &dpor, options.threads, &fresh, &analyze, &commit)?;
    let first_failure = match found.failure.or(first_failing.into_inner()) {
        Some((execution, choices)) => {
            // When shrinking, one run records both the events of the trace
            // and the steps shrinking needs.
            let recorded = match options.shrink {
                true => crate::shrink::record(setup, options.fs, &choices)?,
                false => None,
            };
            let failure = match recorded {
                Some(recorded) => {
                    let judgement = oracle.judge(&recorded.trace);
                    let better =
                        crate::shrink::shrink(setup, oracle, options.fs, &recorded, &judgement)?;
                    let (trace, judgement) = better.unwrap_or((recorded.trace, judgement));
                    failure_of(execution, trace, judgement)
                }
                // Not shrinking, or the schedule cannot be recorded (then
                // recording it again inside `shrunk` would fail the same way).
                None => {
                    let mut fs = options.fs.fresh_unkeyed()?;
                    let mut scheduler = ReplayScheduler::new(Schedule { choices });
                    let trace = setup.run(fs.as_mut(), &mut scheduler, true);
                    let judgement = oracle.judge(&trace);
                    failure_of(execution, trace, judgement)
                }
            };
            Some(failure)
        }
        None => None,
    };
    Ok(Exploration {
        executions: found.executions,
        ops_executed: found.ops_executed,
        reference_ops: oracle.reference_steps(),
        first_failure,
        note_first_execution: BTreeMap::new(),
        notes: found.notes.into_iter().collect(),
        execution_ops: execution_ops.into_inner(),
        pair_set: if options.count_pairs && !options.shard.is_whole() {
            pairs.borrow_mut().to_compact()
        } else {
            Vec::new()
        },
        pairs: options.count_pairs.then(|| pairs.borrow_mut().counts()),
        pct_bound: None,
        shard: options.shard,
        coverage: Some(found.coverage),
        reused_tails: 0,
        walked_executions: 0,
        found_by: None,
        directed: None,
        stopped: None,
        faults: None,
    })
}

/// The outcome of replaying one token.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The replayed execution, with every event.
    pub trace: ExecutionTrace,
    /// The verdict, with the token.
    pub failure: Option<Failure>,
    /// Notes of the execution.
    pub notes: Vec<String>,
}

/// Replays the schedule of `token` on `setup`, on a filesystem of kind `fs`.
pub fn replay(setup: &Setup, token: &str, fs: FsKind) -> Result<Replay> {
    let (schedule_token, crash) =
        crate::crash::split_token(token).map_err(|e| Error::Usage(format!("--token: {e}")))?;
    let schedule =
        Schedule::from_token(schedule_token).map_err(|e| Error::Usage(format!("--token: {e}")))?;
    let oracle = Oracle::new(setup)?;
    if let Some(point) = crash {
        let mut fs = fs.fresh()?;
        let crashed = crate::crash::replay(setup, &oracle, point, schedule, fs.as_mut())?;
        if let Some(reason) = &crashed.trace.aborted {
            return Err(Error::Usage(format!(
                "--token does not replay on {} under {}: {reason} (is it from another scenario or strategy?)",
                setup.scenario.name, setup.strategy
            )));
        }
        let notes = crashed.judgement.notes.clone();
        let failure = crashed.judgement.failure.is_some().then(|| Failure {
            execution: None,
            token: point.token(schedule_token),
            trace: crashed.trace.clone(),
            judgement: crashed.judgement,
        });
        return Ok(Replay {
            trace: crashed.trace,
            failure,
            notes,
        });
    }
    let expected = schedule.choices.len();
    let mut fs = fs.fresh()?;
    let trace = setup.run(fs.as_mut(), &mut ReplayScheduler::new(schedule), true);
    if let Some(reason) = &trace.aborted {
        return Err(Error::Usage(format!(
            "--token does not replay on {} under {}: {reason} (is it from another scenario or strategy?)",
            setup.scenario.name, setup.strategy
        )));
    }
    if trace.schedule.choices.len() != expected {
        return Err(Error::Usage(format!(
            "--token does not replay on {} under {}: it has {expected} steps, the execution took {} (is it from another scenario or strategy?)",
            setup.scenario.name,
            setup.strategy,
            trace.schedule.choices.len()
        )));
    }
    let judgement = oracle.judge(&trace);
    let notes = judgement.notes.clone();
    let failure = judgement.failure.is_some().then(|| Failure {
        execution: None,
        token: trace.schedule.token(),
        trace: trace.clone(),
        judgement,
    });
    Ok(Replay {
        trace,
        failure,
        notes,
    })
}
