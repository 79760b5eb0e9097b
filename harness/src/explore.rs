//! The exploration loop: a fresh filesystem per execution, jobs run under a
//! scheduler, the oracle judges. Executions run in parallel with rayon; the
//! result never depends on the number of threads, because execution `i`
//! always gets the same scheduler stream and the first failure is the one
//! with the lowest index.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::dpor::Coverage;
use crate::error::{Error, Result};
use crate::execution::{ExecutionTrace, Ran};
use crate::fs::FsKind;
use crate::oracle::{FailureKind, Judgement, Oracle};
use crate::pairs::{execution_pairs, Pair, PairCounts, PairSet};
use crate::pct_bound::PctBound;
use crate::schedule::{ReplayScheduler, Schedule, SchedulerKind};
use crate::setup::Setup;
use crate::shard::Shard;
use crate::state_graph::StateGraph;
use crate::tail::{CrossKey, TailMemo};

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
    /// [`crate::pairs`]). Costs recording every event of every execution,
    /// so it is off by default; the CLI always turns it on.
    pub count_pairs: bool,
    /// Reuse the rests of executions that reach a state seen before, once
    /// only one job is left ([`crate::tail`]). Changes nothing but speed;
    /// applies to random and PCT runs on the model.
    pub reuse_tails: bool,
    /// Shrink the first failure before reporting it ([`crate::shrink`]).
    /// Off, the failing execution is reported as it ran: sooner, with a
    /// longer story and token.
    pub shrink: bool,
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
    /// Those pairs in compact form ([`PairSet::to_compact`]), for sharded
    /// runs (which `merge` unions); empty otherwise.
    pub pair_set: Vec<String>,
    /// For random and pct runs: the PCT miss-probability bound (see
    /// [`crate::pct_bound`]).
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
}

struct Outcome {
    index: u64,
    steps: u64,
    judgement: Arc<Judgement>,
    pairs: Vec<Pair>,
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
        SchedulerKind::Serial | SchedulerKind::Dpor => return None,
    };
    Some(PctBound::new(
        &scheduler.to_string(),
        depth,
        n as u64,
        k,
        runs,
    ))
}

/// Explores `setup` under `options`.
pub fn explore(setup: &Setup, options: &ExploreOptions) -> Result<Exploration> {
    let oracle = Oracle::new(setup)?;
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
        return explore_systematically(setup, options, &oracle);
    }
    let reuse_tails = options.reuse_tails && options.fs == FsKind::Model;
    let memo = TailMemo::new(TailMemo::DEFAULT_CAPACITY, options.count_pairs);
    // One state graph per worker thread, so that walking it takes no lock
    // per step; each is locked once per execution, by its own thread only.
    let threads = options.threads.max(1);
    let graphs: Vec<Mutex<StateGraph>> = (0..threads)
        .map(|_| Mutex::new(StateGraph::new(StateGraph::DEFAULT_CAPACITY / threads)))
        .collect();
    let run_one = |index: u64| -> Result<Outcome> {
        let mut scheduler = options.scheduler.build(options.seed, index, jobs, steps);
        let mut fs = options.fs.fresh()?;
        if reuse_tails {
            let slot = rayon::current_thread_index().unwrap_or(0) % threads;
            let mut graph = graphs[slot].lock().unwrap_or_else(|e| e.into_inner());
            let ran = setup.run_with_tails(
                fs.as_mut(),
                scheduler.as_mut(),
                &memo,
                Some(&mut graph),
                options.count_pairs,
            );
            return Ok(match ran {
                Ran::Known {
                    tail,
                    events,
                    walked,
                } => {
                    let known = memo.get(tail.key).expect("known tails are never dropped");
                    let mut pairs = Vec::new();
                    if let Some(after) = &known.events {
                        pairs = execution_pairs(&events);
                        let cross = CrossKey::new(tail.key, &events, jobs);
                        let across = memo.cross_pairs(cross, &events, pairs.len(), after);
                        pairs.extend_from_slice(&across);
                    }
                    Outcome {
                        index,
                        steps: tail.at_step as u64 + known.steps,
                        judgement: known.judgement,
                        pairs,
                        reused: true,
                        walked,
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
                        steps,
                        judgement,
                        pairs: execution_pairs(&trace.events),
                        reused: false,
                        walked: false,
                    }
                }
            });
        }
        let trace = setup.run(fs.as_mut(), scheduler.as_mut(), options.count_pairs);
        Ok(Outcome {
            index,
            steps: trace.schedule.choices.len() as u64,
            judgement: Arc::new(oracle.judge(&trace)),
            pairs: execution_pairs(&trace.events),
            reused: false,
            walked: false,
        })
    };
    let batch = (options.threads.max(1) as u64 * 32).max(64);
    let done = AtomicU64::new(0);
    let mut executions = 0;
    let mut ops_executed = 0;
    let mut note_first_execution = BTreeMap::new();
    let mut execution_ops = Vec::new();
    let mut pairs = PairSet::default();
    let mut failing: Option<u64> = None;
    let mut reused_tails = 0;
    let mut walked = 0;
    let mut next = 0;
    while next < budget && failing.is_none() {
        let end = (next + batch).min(budget);
        let mut outcomes: Vec<Outcome> = pool.install(|| -> Result<Vec<Outcome>> {
            (next..end)
                .filter(|i| options.shard.owns(*i))
                .collect::<Vec<u64>>()
                .into_par_iter()
                .map(|i| {
                    let o = run_one(i);
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(p) = &options.progress {
                        p(n);
                    }
                    o
                })
                .collect()
        })?;
        outcomes.sort_by_key(|o| o.index);
        for o in outcomes {
            executions += 1;
            ops_executed += o.steps;
            reused_tails += o.reused as u64;
            walked += o.walked as u64;
            execution_ops.push(o.steps);
            pairs.add(o.index + 1, &o.pairs);
            for n in &o.judgement.notes {
                note_first_execution.entry(n.clone()).or_insert(o.index + 1);
            }
            if o.judgement.failure.is_some() {
                failing = Some(o.index);
                break;
            }
        }
        next = end;
    }
    let first_failure = match failing {
        Some(index) => {
            let mut scheduler = options.scheduler.build(options.seed, index, jobs, steps);
            let mut fs = options.fs.fresh_unkeyed()?;
            let trace = setup.run(fs.as_mut(), scheduler.as_mut(), true);
            let judgement = oracle.judge(&trace);
            Some(shrunk(
                setup,
                &oracle,
                options,
                index + 1,
                trace,
                judgement,
            )?)
        }
        None => None,
    };
    Ok(Exploration {
        executions,
        ops_executed,
        reference_ops: steps,
        first_failure,
        notes: note_first_execution.keys().cloned().collect(),
        note_first_execution,
        pairs: options.count_pairs.then(|| pairs.counts()),
        pair_set: if options.count_pairs && !options.shard.is_whole() {
            pairs.to_compact()
        } else {
            Vec::new()
        },
        pct_bound: pct_bound(
            options.scheduler,
            jobs,
            execution_ops.iter().copied().max().unwrap_or(0),
            executions,
        ),
        execution_ops,
        shard: options.shard,
        coverage: None,
        reused_tails,
        walked_executions: walked,
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
) -> Result<Exploration> {
    let fresh = || options.fs.fresh_unkeyed();
    // What depends only on the execution: its verdict, and its pairs.
    let analyze = |trace: &ExecutionTrace| {
        let j = oracle.judge(trace);
        let pairs = if options.count_pairs {
            // The DPOR driver keeps no events; replay the schedule with them.
            options.fs.fresh_unkeyed().ok().map(|mut fs| {
                let mut scheduler = ReplayScheduler::new(trace.schedule.clone());
                let replayed = setup.run(fs.as_mut(), &mut scheduler, true);
                execution_pairs(&replayed.events)
            })
        } else {
            None
        };
        (j.notes, j.failure.is_some(), pairs)
    };
    let progress = options.progress.clone();
    let counted = std::cell::Cell::new(0u64);
    let execution_ops = std::cell::RefCell::new(Vec::new());
    let pairs = std::cell::RefCell::new(PairSet::default());
    let commit = |trace: &ExecutionTrace,
                  (notes, failed, found): (Vec<String>, bool, Option<Vec<Pair>>)| {
        counted.set(counted.get() + 1);
        if let Some(p) = &progress {
            p(counted.get());
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
        budget: Some(options.schedules),
        shard: options.shard,
        ..Default::default()
    };
    let found =
        crate::dpor::explore_parallel(setup, &dpor, options.threads, &fresh, &analyze, &commit)?;
    let first_failure = match found.failure {
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
        pairs: options.count_pairs.then(|| pairs.borrow().counts()),
        pair_set: if options.count_pairs && !options.shard.is_whole() {
            pairs.borrow().to_compact()
        } else {
            Vec::new()
        },
        pct_bound: None,
        shard: options.shard,
        coverage: Some(found.coverage),
        reused_tails: 0,
        walked_executions: 0,
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
    let schedule =
        Schedule::from_token(token).map_err(|e| Error::Usage(format!("--token: {e}")))?;
    let oracle = Oracle::new(setup)?;
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
