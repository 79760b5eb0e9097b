//! The recovery after a crash: what the user does next, rerun the build.
//! Like `make` run again, it reruns every job that did not succeed (the
//! killed one, those that failed, those skipped because a job they depend
//! on failed), serially in dependency order, on the prefix as the crash
//! left it. A scenario's `[recovery]` table may ask for every job
//! (`rerun = "all"`) and for the installs under another strategy
//! (`strategy = "pip"`, pip's `--force-reinstall`).

use crate::execution::{execute, ExecutionTrace, JobEnd};
use crate::fs::Fs;
use crate::scenario::Rerun;
use crate::schedule::{JobId, SerialScheduler};
use crate::setup::Setup;

/// The recovery run: the jobs it reran and what they did.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The jobs rerun, by their index in the scenario, in the order run.
    pub rerun: Vec<JobId>,
    /// Their run: job `r` of the trace is `rerun[r]`.
    pub trace: ExecutionTrace,
}

/// The jobs a rerun of the build runs again (`rerun`), given how each ended.
pub fn rerun_of(rerun: Rerun, ends: &[JobEnd]) -> Vec<JobId> {
    (0..ends.len())
        .filter(|&j| rerun == Rerun::All || ends[j] != JobEnd::Exited(0))
        .collect()
}

/// Reruns, from the start, the jobs of `setup` its scenario's recovery
/// names (by default those that did not exit 0, by `ends`), serially, on
/// `fs`.
pub fn recover(setup: &Setup, fs: &mut dyn Fs, ends: &[JobEnd], record_events: bool) -> Recovery {
    let rerun = rerun_of(setup.scenario.recovery.rerun, ends);
    let jobs = rerun.iter().map(|&j| setup.rerun_job(j)).collect();
    // Dependencies among the rerun jobs only: the others have succeeded.
    let deps: Vec<Vec<JobId>> = rerun
        .iter()
        .map(|&j| {
            setup.deps()[j]
                .iter()
                .filter_map(|d| rerun.iter().position(|r| r == d))
                .collect()
        })
        .collect();
    let trace = execute(jobs, &deps, fs, &mut SerialScheduler, record_events);
    Recovery { rerun, trace }
}
