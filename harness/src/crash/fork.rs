//! Crash points along an execution: after every op, the job that ran it
//! may be killed there. Each crash state not met before (by its key) is
//! forked off: the filesystem and the other jobs as they are, the killed
//! job dying, and the rest of the execution's order for the survivors.

use std::collections::HashSet;
use std::hash::Hash;

use super::ended::EndedJob;
use super::point::CrashPoint;
use crate::execution::keys::{job_part, Histories};
use crate::execution::{Flow, JobEnd, Observer, Progress};
use crate::fs::{Fs, ModelFs};
use crate::job::{Job, KilledJob};
use crate::op::OpResult;
use crate::schedule::JobId;
use crate::state_key::{StateHasher, StateKey};

/// A crash state, forked off an execution, ready to run on.
pub(crate) struct Fork {
    /// Who is killed, after how many of its ops.
    pub point: CrashPoint,
    /// The step of the execution the kill comes after.
    pub at_step: usize,
    /// The filesystem there.
    pub fs: ModelFs,
    /// The jobs there: the killed one dying, ended ones standing in for
    /// themselves, the others as they are.
    pub jobs: Vec<Box<dyn Job>>,
    /// The picks to go on with: the killed job's closes, then the
    /// execution's own order without the killed job.
    pub forced: Vec<JobId>,
}

/// Watches an execution (a replay of `choices`) and forks off every crash
/// state whose key is not in `seen`.
pub(crate) struct Forker<'a> {
    choices: &'a [JobId],
    seen: &'a mut HashSet<StateKey, crate::fast_hash::Fast>,
    histories: Histories,
    /// Ops run by each job so far.
    ops: Vec<usize>,
    /// The job that ran the last op, until the next decision point.
    last: Option<JobId>,
    step: usize,
    /// Crash points met.
    pub tried: u64,
    /// The crash states not met before.
    pub forks: Vec<Fork>,
}

impl<'a> Forker<'a> {
    /// Watches the execution of `choices` with `jobs` jobs.
    pub(crate) fn new(
        choices: &'a [JobId],
        jobs: usize,
        seen: &'a mut HashSet<StateKey, crate::fast_hash::Fast>,
    ) -> Forker<'a> {
        Forker {
            choices,
            seen,
            histories: Histories::new(jobs),
            ops: vec![0; jobs],
            last: None,
            step: 0,
            tried: 0,
            forks: Vec::new(),
        }
    }

    /// The key of the state left when `killed` dies at `at`: the
    /// filesystem, the descriptors the kernel will close, and every other
    /// job's part (the killed job's own state no longer matters).
    fn key(&self, at: &Progress, fs_key: StateKey, killed: JobId) -> StateKey {
        let mut h = StateHasher::default();
        fs_key.hash(&mut h);
        killed.hash(&mut h);
        if at.running[killed] {
            at.jobs[killed].open_descriptors().hash(&mut h);
        }
        let others = (0..at.jobs.len())
            .filter(|&j| j != killed)
            .fold(StateKey::default(), |all, j| {
                all ^ job_part(j, at, &self.histories)
            });
        others.hash(&mut h);
        h.finish128()
    }

    /// The fork of `at` with `killed` dying.
    fn fork(&self, at: &Progress, fs: &ModelFs, killed: JobId) -> Fork {
        let jobs: Vec<Box<dyn Job>> = (0..at.jobs.len())
            .map(|j| -> Box<dyn Job> {
                if j == killed {
                    return Box::new(KilledJob::new(at.jobs[j].clone(), 0));
                }
                match (&at.outcomes[j].end, at.running[j]) {
                    (JobEnd::Exited(code), false) => Box::new(EndedJob::new(&*at.jobs[j], *code)),
                    _ => at.jobs[j].clone(),
                }
            })
            .collect();
        let closes = match at.running[killed] {
            true => at.jobs[killed].open_descriptors().len(),
            false => 0,
        };
        let mut forced = vec![killed; closes];
        forced.extend(self.choices[self.step..].iter().filter(|&&j| j != killed));
        Fork {
            point: CrashPoint {
                job: killed,
                after_ops: self.ops[killed],
            },
            at_step: self.step,
            fs: fs.clone(),
            jobs,
            forced,
        }
    }
}

impl Observer for Forker<'_> {
    fn decision_point(&mut self, at: &mut Progress, fs: &dyn Fs) -> Flow {
        let Some(killed) = self.last.take() else {
            return Flow::Go;
        };
        self.tried += 1;
        let model = fs
            .as_model()
            .expect("crash points are explored on the model");
        let key = self.key(at, model.state_key(), killed);
        if self.seen.insert(key) {
            let fork = self.fork(at, model, killed);
            self.forks.push(fork);
        }
        Flow::Go
    }

    fn picked(&mut self, job: JobId) {
        self.last = Some(job);
    }

    fn op_ran(&mut self, job: JobId, result: &OpResult) {
        self.histories.handed(job, result);
        self.ops[job] += 1;
        self.step += 1;
    }
}
