//! Crash and fault points along an execution. After every op, the job
//! that ran it may be killed there; before every op, a fault may strike
//! it. Each state not met before (by its key) is forked off: the
//! filesystem and the jobs as they are (a killed job dying), and the rest
//! of the execution's order for the jobs that go on.

use std::collections::HashSet;
use std::hash::Hash;

use super::ended::EndedJob;
use super::op_sequence::OpSequence;
use super::point::{CrashPoint, FaultPoint, Injection};
use crate::execution::keys::{job_part, Histories};
use crate::execution::{Flow, JobEnd, Observer, Progress};
use crate::fault::Fault;
use crate::fs::{Fs, ModelFs};
use crate::job::{Job, KilledJob};
use crate::op::{Op, OpResult};
use crate::schedule::JobId;
use crate::state_key::{StateHasher, StateKey};

/// A crash or fault state, forked off an execution, ready to run on.
pub(crate) struct Fork {
    /// Who is killed, after how many of its ops; or whose op is struck.
    pub point: Injection,
    /// The step of the execution the kill comes after, or the struck op's.
    pub at_step: usize,
    /// The filesystem there.
    pub fs: ModelFs,
    /// The jobs there: the killed one dying, ended ones standing in for
    /// themselves, the others as they are.
    pub jobs: Vec<Box<dyn Job>>,
    /// The picks to go on with: the killed job's closes, then the
    /// execution's own order without the killed job; or, for a fault, the
    /// execution's own order from the struck op.
    pub forced: Vec<JobId>,
    /// The jobs that go on after the disturbance (still running, the
    /// killed one not counted, the struck one counted): with two or more,
    /// their orders matter (`crash/orders.rs`).
    pub going_on: usize,
}

/// How many forks are held at once before they are handed on to run: the
/// forks of one long execution no longer all wait in memory together.
const BATCH: usize = 256;

/// Watches an execution (a replay of `choices`) and forks off every crash
/// and fault state whose key is not in `seen`, handing them to `sink` in
/// batches.
pub(crate) struct Forker<'a> {
    choices: &'a [JobId],
    seen: &'a mut HashSet<StateKey, crate::fast_hash::Fast>,
    /// Kill jobs after their ops.
    crash: bool,
    /// The faults that strike ops.
    strikes: Vec<Fault>,
    /// Strike only this job's ops (all jobs' when `None`).
    only: Option<JobId>,
    /// Per job, the ops it ran, when asked for ([`Forker::recording_ops`]).
    sequences: Option<Vec<OpSequence>>,
    /// The op about to run, until it ran.
    pending_op: Option<Op>,
    sink: &'a mut dyn FnMut(Vec<Fork>),
    histories: Histories,
    /// Ops run by each job so far.
    ops: Vec<usize>,
    /// The job that ran the last op, until the next decision point.
    last: Option<JobId>,
    step: usize,
    /// Crash and fault points met.
    pub tried: u64,
    /// The states not met before.
    pub distinct: u64,
    forks: Vec<Fork>,
}

impl<'a> Forker<'a> {
    /// Watches the execution of `choices` with `jobs` jobs, for `faults`'
    /// points; `sink` runs the forks.
    pub(crate) fn new(
        choices: &'a [JobId],
        jobs: usize,
        faults: super::Faults,
        seen: &'a mut HashSet<StateKey, crate::fast_hash::Fast>,
        sink: &'a mut dyn FnMut(Vec<Fork>),
    ) -> Forker<'a> {
        Forker {
            choices,
            seen,
            crash: faults.crash,
            strikes: faults.strikes().collect(),
            only: None,
            sequences: None,
            pending_op: None,
            sink,
            histories: Histories::new(jobs),
            ops: vec![0; jobs],
            last: None,
            step: 0,
            tried: 0,
            distinct: 0,
            forks: Vec::new(),
        }
    }

    /// Records, per job, the ops it runs ([`Forker::sequences`]).
    pub(crate) fn recording_ops(mut self) -> Self {
        self.sequences = Some(vec![OpSequence::default(); self.ops.len()]);
        self
    }

    /// Strikes only `job`'s ops.
    pub(crate) fn striking_only(mut self, job: JobId) -> Self {
        self.only = Some(job);
        self
    }

    /// Per job, the ops it ran ([`OpSequence`]): two replays of an
    /// execution in different orders ran the same ops when these agree.
    pub(crate) fn sequences(&self) -> &[OpSequence] {
        self.sequences.as_deref().unwrap_or_default()
    }

    /// Hands the forks still held to the sink.
    pub(crate) fn flush(&mut self) {
        if !self.forks.is_empty() {
            (self.sink)(std::mem::take(&mut self.forks));
        }
    }

    fn keep(&mut self, fork: Fork) {
        self.distinct += 1;
        self.forks.push(fork);
        if self.forks.len() >= BATCH {
            self.flush();
        }
    }

    /// The key of the state where `fault` strikes `struck`'s next op: the
    /// filesystem's key and `jobs`, every job's part (the struck job's
    /// offered op in it).
    fn fault_key(fs_key: StateKey, jobs: StateKey, struck: JobId, fault: Fault) -> StateKey {
        let mut h = StateHasher::default();
        fs_key.hash(&mut h);
        (u8::MAX, struck, fault).hash(&mut h);
        jobs.hash(&mut h);
        h.finish128()
    }

    /// The fork of `at` with `fault` striking `struck`'s next op.
    fn fault_fork(&self, at: &Progress, fs: &ModelFs, struck: JobId, fault: Fault) -> Fork {
        Fork {
            point: Injection::Fault(FaultPoint {
                job: struck,
                after_ops: self.ops[struck],
                fault,
            }),
            at_step: self.step,
            fs: fs.clone(),
            jobs: standing_jobs(at, None),
            forced: self.choices[self.step..].to_vec(),
            going_on: at.running_count,
        }
    }

    /// The fault points of the op the execution runs next.
    fn fault_points(&mut self, at: &Progress, model: &ModelFs) {
        let Some(&next) = self.choices.get(self.step) else {
            return;
        };
        let Some(op) = at.offered(next) else {
            return;
        };
        if self.only.is_some_and(|only| only != next) {
            return;
        }
        // Both keys once per op, however many faults strike it.
        let mut keys = None;
        for i in 0..self.strikes.len() {
            let fault = self.strikes[i];
            if !fault.strikes(op) {
                continue;
            }
            self.tried += 1;
            let (fs_key, jobs) = *keys.get_or_insert_with(|| {
                let jobs = (0..at.jobs.len()).fold(StateKey::default(), |all, j| {
                    all ^ job_part(j, at, &self.histories)
                });
                (model.state_key(), jobs)
            });
            let key = Forker::fault_key(fs_key, jobs, next, fault);
            if self.seen.insert(key) {
                let fork = self.fault_fork(at, model, next, fault);
                self.keep(fork);
            }
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
        let jobs = standing_jobs(at, Some(killed));
        let closes = match at.running[killed] {
            true => at.jobs[killed].open_descriptors().len(),
            false => 0,
        };
        let mut forced = vec![killed; closes];
        forced.extend(self.choices[self.step..].iter().filter(|&&j| j != killed));
        Fork {
            point: Injection::Crash(CrashPoint {
                job: killed,
                after_ops: self.ops[killed],
            }),
            at_step: self.step,
            fs: fs.clone(),
            jobs,
            forced,
            going_on: at.running_count - usize::from(at.running[killed]),
        }
    }
}

/// The jobs of `at` as a fork starts them: `killed` dying, ended ones
/// standing in for themselves, the others as they are.
fn standing_jobs(at: &Progress, killed: Option<JobId>) -> Vec<Box<dyn Job>> {
    (0..at.jobs.len())
        .map(|j| -> Box<dyn Job> {
            if Some(j) == killed {
                return Box::new(KilledJob::new(at.jobs[j].clone(), 0));
            }
            match (&at.outcomes[j].end, at.running[j]) {
                (JobEnd::Exited(code), false) => Box::new(EndedJob::new(&*at.jobs[j], *code)),
                _ => at.jobs[j].clone(),
            }
        })
        .collect()
}

impl Observer for Forker<'_> {
    fn decision_point(&mut self, at: &mut Progress, fs: &dyn Fs) -> Flow {
        let model = fs
            .as_model()
            .expect("crash and fault points are explored on the model");
        if let Some(killed) = self.last.take().filter(|_| self.crash) {
            self.tried += 1;
            let key = self.key(at, model.state_key(), killed);
            if self.seen.insert(key) {
                let fork = self.fork(at, model, killed);
                self.keep(fork);
            }
        }
        if self.sequences.is_some() {
            self.pending_op = self
                .choices
                .get(self.step)
                .and_then(|&j| at.offered(j))
                .cloned();
        }
        if !self.strikes.is_empty() {
            self.fault_points(at, model);
        }
        Flow::Go
    }

    fn picked(&mut self, job: JobId) {
        self.last = Some(job);
    }

    fn op_ran(&mut self, job: JobId, result: &OpResult) {
        if let (Some(op), Some(sequences)) = (self.pending_op.take(), &mut self.sequences) {
            sequences[job].ran(&op, result.is_ok());
        }
        self.histories.handed(job, result);
        self.ops[job] += 1;
        self.step += 1;
    }
}
