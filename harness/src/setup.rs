//! A scenario prepared under one strategy: the jobs of an execution, built
//! once and cloned for every execution.

use std::sync::{Arc, OnceLock};

use crate::error::Result;
use crate::execution::{execute, execute_with_tails, Ends, ExecutionTrace, Ran, Tails};
use crate::fs::{parent_of, split_parent, Fs, ModelFs, Tree};
use crate::job::{ImportJob, ImportModule, Job, TraceJob};
use crate::scenario::{Activity, Scenario};
use crate::schedule::{JobId, Resumed, Scheduler, SerialScheduler};
use crate::state_graph::{StateGraph, Walked};
use crate::strategy::{InstallContext, Strategy};

/// Job indices of the jobs laying down the initial prefix (distinct from the
/// scenario's jobs, so their temporary names never collide).
const SEED_JOB_BASE: usize = 1_000_000;

/// The jobs of one scenario under one strategy, ready to run.
#[derive(Clone)]
pub struct Setup {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// The strategy's name.
    pub strategy: String,
    jobs: Vec<Box<dyn Job>>,
    deps: Vec<Vec<JobId>>,
    /// The jobs again, as a rerun of the build after a crash starts them:
    /// other processes, with other random temporary names.
    rerun_jobs: Vec<Box<dyn Job>>,
    /// Jobs that lay down the initial prefix, run serially before `jobs`.
    seed_jobs: Vec<Box<dyn Job>>,
    /// The model filesystem after `seed_jobs`, laid down once and cloned
    /// into every execution on the model (`None` when laying it down fails).
    initial_model: Arc<OnceLock<Option<ModelFs>>>,
}

impl Setup {
    /// Builds the jobs: one install job per package, then one per activity.
    pub fn new(scenario: Arc<Scenario>, strategy: &dyn Strategy) -> Result<Setup> {
        let jobs = Setup::build_jobs(&scenario, strategy, false)?;
        let rerun_jobs = match &scenario.recovery.strategy {
            Some(name) => {
                let repair = crate::strategy::scenario_strategy(name, &scenario)?;
                Setup::build_jobs(&scenario, repair.as_ref(), true)?
            }
            None => Setup::build_jobs(&scenario, strategy, true)?,
        };
        let deps = scenario.dependency_indices();
        let mut seed_jobs = Vec::new();
        for (i, p) in scenario.initial.iter().enumerate() {
            let ctx = InstallContext {
                scenario: &scenario,
                job_index: SEED_JOB_BASE + i,
                rerun: false,
            };
            seed_jobs.push(crate::strategy::seed_job(p, &ctx));
        }
        for a in &scenario.initial_activities {
            let job_index = SEED_JOB_BASE + seed_jobs.len();
            seed_jobs.push(activity_job(&scenario, a, job_index, false));
        }
        Ok(Setup {
            seed_jobs,
            rerun_jobs,
            initial_model: Arc::new(OnceLock::new()),
            strategy: strategy.name().to_string(),
            scenario,
            jobs,
            deps,
        })
    }

    /// The jobs of `scenario` under `strategy`: one install job per
    /// package, then one per activity; `rerun` builds them as a rerun of
    /// the build starts them.
    fn build_jobs(
        scenario: &Scenario,
        strategy: &dyn Strategy,
        rerun: bool,
    ) -> Result<Vec<Box<dyn Job>>> {
        let mut jobs: Vec<Box<dyn Job>> = Vec::new();
        for (i, p) in scenario.packages.iter().enumerate() {
            let ctx = InstallContext {
                scenario,
                job_index: i,
                rerun,
            };
            let job = strategy.install_job(p, &ctx).map_err(|e| match e {
                crate::Error::Usage(msg) => crate::Error::Usage(scenario.origin.qualify(msg)),
                other => other,
            })?;
            jobs.push(job);
        }
        for a in &scenario.activities {
            let job_index = jobs.len();
            jobs.push(activity_job(scenario, a, job_index, rerun));
        }
        Ok(jobs)
    }

    /// Number of jobs.
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// Fresh copies of the jobs, by job index, for running them outside the
    /// executor (the loom cross-check runs them as loom threads).
    pub fn jobs(&self) -> Vec<Box<dyn Job>> {
        self.jobs.clone()
    }

    /// A fresh copy of job `j`, as a rerun of the build after a crash
    /// starts it (another process: other random temporary names).
    pub fn rerun_job(&self, j: JobId) -> Box<dyn Job> {
        self.rerun_jobs[j].clone()
    }

    /// This setup with job `point.job` killed after `point.after_ops` of
    /// its ops ([`crate::job::KilledJob`]); `None` when there is no such job.
    pub fn killing(&self, point: crate::crash::CrashPoint) -> Option<Setup> {
        let job = self.jobs.get(point.job)?;
        let mut killing = self.clone();
        killing.jobs[point.job] =
            Box::new(crate::job::KilledJob::new(job.clone(), point.after_ops));
        Some(killing)
    }

    /// Like [`Setup::run`], with `observer` watching every decision point
    /// and op of the jobs (not of the initial prefix's).
    pub(crate) fn run_observed(
        &self,
        fs: &mut dyn Fs,
        scheduler: &mut dyn Scheduler,
        observer: &mut dyn crate::execution::Observer,
        record_events: bool,
    ) -> ExecutionTrace {
        if let Err(trace) = self.lay_down_initial(fs, scheduler, record_events) {
            return trace;
        }
        match crate::execution::run(
            self.jobs.clone(),
            &self.deps,
            fs,
            scheduler,
            record_events,
            observer,
        ) {
            crate::execution::Ended::Complete(trace) => trace,
            crate::execution::Ended::Stopped(_) => unreachable!("the observer never stops it"),
        }
    }

    /// For each job, the jobs that must exit before it starts.
    pub fn deps(&self) -> &[Vec<JobId>] {
        &self.deps
    }

    /// Job labels, by job index.
    pub fn labels(&self) -> Vec<String> {
        self.jobs.iter().map(|j| j.label().to_string()).collect()
    }

    /// Runs one execution on `fs` under `scheduler`: first the scenario's
    /// initial prefix is laid down serially (not part of the trace), then the jobs run.
    pub fn run(
        &self,
        fs: &mut dyn Fs,
        scheduler: &mut dyn Scheduler,
        record_events: bool,
    ) -> ExecutionTrace {
        if let Err(trace) = self.lay_down_initial(fs, scheduler, record_events) {
            return trace;
        }
        execute(self.jobs.clone(), &self.deps, fs, scheduler, record_events)
    }

    /// Like [`Setup::run`], stopping early where the rest of the execution
    /// is known to `tails` (see [`execute_with_tails`]). With a `graph`
    /// of earlier executions of this setup, the execution first walks it
    /// ([`StateGraph::walk`]), touching neither `fs` nor any job, and runs
    /// for real only from the start, and only where the graph does not know
    /// the way, recording what it meets. An execution that ends with the
    /// tree `expected` takes it rather than building its own (see
    /// [`execute_with_tails`]). Walking needs a scheduler that does
    /// not see ops and no recorded events (a walk has none to give); without
    /// them, or once the graph has switched itself off because it did not
    /// pay ([`StateGraph::judge`], judged here after every execution), the
    /// graph is left alone.
    pub fn run_with_tails(
        &self,
        fs: &mut dyn Fs,
        scheduler: &mut dyn Scheduler,
        tails: &dyn Tails,
        graph: Option<&mut StateGraph>,
        expected: Option<&Tree>,
        record_events: bool,
    ) -> Ran {
        let mut graph = graph.filter(|g| g.is_on() && !record_events && !scheduler.sees_ops());
        if graph.is_none() {
            // Nothing but the tail asks the model's key: computed once there
            // (see `execute_with_tails`) rather than kept at every op.
            if let Some(model) = fs.as_model_mut() {
                model.set_keyed(false);
            }
        }
        let mut picks = Vec::new();
        if let Some(graph) = graph.as_deref_mut() {
            if let Walked::Known(tail) = graph.walk(scheduler, tails, &mut picks) {
                graph.saved(tail.at_step);
                return Ran::Known {
                    tail,
                    events: Vec::new(),
                    walked: true,
                };
            }
        }
        if let Err(trace) = self.lay_down_initial(fs, scheduler, record_events) {
            return Ran::Complete { trace, tail: None };
        }
        // Picks made by a walk are given back first; with none, the
        // scheduler answers every step itself, unwrapped (no indirection
        // per step).
        let mut resumed;
        let scheduler: &mut dyn Scheduler = if picks.is_empty() {
            scheduler
        } else {
            resumed = Resumed::new(&picks, scheduler);
            &mut resumed
        };
        let ran = execute_with_tails(
            self.jobs.clone(),
            &self.deps,
            fs,
            scheduler,
            Ends { tails, expected },
            graph.as_deref_mut(),
            record_events,
        );
        if let Some(graph) = graph {
            graph.judge();
        }
        ran
    }

    /// Lays the initial prefix down on a fresh `fs`. On the model it is laid
    /// down once and cloned (cheap: inodes are shared until changed). When
    /// laying it down fails, the aborted trace to return.
    pub(crate) fn lay_down_initial(
        &self,
        fs: &mut dyn Fs,
        scheduler: &mut dyn Scheduler,
        record_events: bool,
    ) -> std::result::Result<(), ExecutionTrace> {
        if self.seed_jobs.is_empty() {
            return Ok(());
        }
        if let Some(model) = fs.as_model_mut().filter(|m| m.is_pristine()) {
            let prepared = self.initial_model.get_or_init(|| {
                let mut fresh = ModelFs::new();
                self.lay_down_serially(&mut fresh).is_ok().then_some(fresh)
            });
            if let Some(prepared) = prepared {
                let keyed = model.is_keyed();
                *model = prepared.clone();
                model.set_keyed(keyed);
                return Ok(());
            }
        }
        self.lay_down_serially(fs).map_err(|label| {
            let mut trace = execute(Vec::new(), &[], fs, scheduler, record_events);
            trace.aborted = Some(format!(
                "laying down the initial prefix failed: {label} exited non-zero"
            ));
            trace
        })
    }

    /// Runs the seed jobs serially on `fs`; the label of the first that failed.
    fn lay_down_serially(&self, fs: &mut dyn Fs) -> std::result::Result<(), String> {
        let deps = vec![Vec::new(); self.seed_jobs.len()];
        let seeded = execute(
            self.seed_jobs.clone(),
            &deps,
            fs,
            &mut SerialScheduler,
            false,
        );
        match seeded.outcomes.iter().find(|o| o.failed()) {
            Some(o) => Err(o.label.clone()),
            None => Ok(()),
        }
    }
}

/// The job of an activity.
fn activity_job(
    scenario: &Scenario,
    activity: &Activity,
    job_index: usize,
    rerun: bool,
) -> Box<dyn Job> {
    match activity {
        Activity::Import { name, modules, .. } => {
            let id = InstallContext {
                scenario,
                job_index,
                rerun,
            }
            .object_id();
            let modules = modules
                .iter()
                .map(|m| {
                    let source = scenario
                        .module_source(m)
                        .expect("Scenario::check verified every module");
                    let (dir, file) = split_parent(&source);
                    let stem = file.trim_end_matches(".py");
                    let pyc = format!("{dir}/__pycache__/{stem}.{}.pyc", scenario.python_tag);
                    let tmp = format!("{pyc}.{id}");
                    debug_assert_eq!(parent_of(&pyc), format!("{dir}/__pycache__"));
                    ImportModule {
                        name: m.clone(),
                        source,
                        pyc: pyc.into(),
                        tmp: tmp.into(),
                    }
                })
                .collect();
            Box::new(ImportJob::new(name.clone(), modules))
        }
        Activity::Trace { name, spec, .. } => {
            Box::new(TraceJob::new(name.clone(), spec.clone(), &scenario.prefix))
        }
        Activity::Script { name, script, .. } => Box::new(crate::job::ScriptJob::new(
            name.clone(),
            script.clone(),
            &scenario.prefix,
        )),
    }
}
