//! A scenario prepared under one strategy: the jobs of an execution, built
//! once and cloned for every execution.

use std::sync::Arc;

use crate::error::Result;
use crate::execution::{execute, ExecutionTrace};
use crate::fs::{parent_of, split_parent, Fs};
use crate::job::{ImportJob, ImportModule, Job, TraceJob};
use crate::scenario::{Activity, Scenario};
use crate::schedule::{JobId, Scheduler, SerialScheduler};
use crate::strategy::{python_object_id, InstallContext, Strategy};

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
    /// Jobs that lay down the initial prefix, run serially before `jobs`.
    seed_jobs: Vec<Box<dyn Job>>,
}

impl Setup {
    /// Builds the jobs: one install job per package, then one per activity.
    pub fn new(scenario: Arc<Scenario>, strategy: &dyn Strategy) -> Result<Setup> {
        let mut jobs: Vec<Box<dyn Job>> = Vec::new();
        for (i, p) in scenario.packages.iter().enumerate() {
            let ctx = InstallContext {
                scenario: &scenario,
                job_index: i,
            };
            let job = strategy.install_job(p, &ctx).map_err(|e| match e {
                crate::Error::Usage(msg) => crate::Error::Usage(scenario.origin.qualify(msg)),
                other => other,
            })?;
            jobs.push(job);
        }
        for a in &scenario.activities {
            let job_index = jobs.len();
            jobs.push(activity_job(&scenario, a, job_index));
        }
        let deps = scenario.dependency_indices();
        let mut seed_jobs = Vec::new();
        for (i, p) in scenario.initial.iter().enumerate() {
            let ctx = InstallContext {
                scenario: &scenario,
                job_index: SEED_JOB_BASE + i,
            };
            seed_jobs.push(crate::strategy::DirectInstall.install_job(p, &ctx)?);
        }
        Ok(Setup {
            seed_jobs,
            strategy: strategy.name().to_string(),
            scenario,
            jobs,
            deps,
        })
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
        if !self.seed_jobs.is_empty() {
            let deps = vec![Vec::new(); self.seed_jobs.len()];
            let seeded = execute(
                self.seed_jobs.clone(),
                &deps,
                fs,
                &mut SerialScheduler,
                false,
            );
            if let Some((_, o)) = seeded.outcomes.iter().enumerate().find(|(_, o)| o.failed()) {
                let mut trace = execute(Vec::new(), &[], fs, scheduler, record_events);
                trace.aborted = Some(format!(
                    "laying down the initial prefix failed: {} exited non-zero",
                    o.label
                ));
                return trace;
            }
        }
        execute(self.jobs.clone(), &self.deps, fs, scheduler, record_events)
    }
}

/// The job of an activity.
fn activity_job(scenario: &Scenario, activity: &Activity, job_index: usize) -> Box<dyn Job> {
    match activity {
        Activity::Import { name, modules, .. } => {
            let id = python_object_id(job_index);
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
    }
}
