//! The current branch of the search: the steps of the execution explored
//! last, their happens-before, and copies of the execution's state taken
//! along the way.
//!
//! Consecutive executions of a depth-first search share a prefix: the next
//! execution forces the current one's choices up to the branch point `k`,
//! then goes its own way. [`Path::run`] therefore keeps the first `k`
//! steps and their happens-before, starts from the copy of the execution's
//! state ([`Machine`]) taken at the deepest step at most `k` (one every
//! [`every`] steps, on the model filesystem), replays the forced choices
//! from there to `k` and runs the rest. The execution and what is computed
//! from it are exactly those of a run from scratch (`run_once`), which
//! `tests/dpor_resume.rs` checks.

use super::fingerprint::{Canonical, Fingerprint};
use super::happens_before::HappensBefore;
use super::machine::Machine;
use crate::execution::ExecutionTrace;
use crate::schedule::{Asleep, DporScheduler, DporSteps, JobId};
use crate::setup::Setup;

/// A copy of the execution's state is kept at least every this many steps.
pub(crate) const EVERY: usize = 32;

/// Steps between two copies of the state of an execution of `jobs` jobs:
/// [`EVERY`], or the number of jobs when there are more. A copy costs
/// O(jobs) (every job's state is cloned), so copies then cost O(1) per step
/// whatever the number of jobs: one every 32 steps of 1,000 one-file
/// installs cloned 1,000 jobs 530 times per execution (1.4 GB), while
/// resuming from a copy at most `jobs` steps back replays at most that many
/// forced steps. Where the copies are changes no execution, only how much
/// of it is replayed (`tests/dpor_resume.rs`).
pub(crate) fn every(jobs: usize) -> usize {
    EVERY.max(jobs)
}

/// The inputs of one execution: the forced prefix, the step the sleep set
/// starts at, and the sleep set. The execution is a function of them.
pub(crate) type Key = (Vec<JobId>, usize, Vec<Asleep>);

/// The current branch of the search.
pub(crate) struct Path {
    /// The steps of the current execution.
    pub(crate) steps: DporSteps,
    /// Happens-before over them.
    pub(crate) hb: HappensBefore,
    /// Copies of the execution's state, by ascending step, all within the
    /// current execution (at most `steps.len()`). Empty when executions
    /// cannot be resumed (not the model, or the initial prefix failed).
    checkpoints: Vec<Machine>,
    /// Whether the copy at step 0 was tried.
    started: bool,
    /// The canonical linearization of the execution fingerprinted last.
    canonical: Canonical,
    /// How many first steps the current execution shares with the one
    /// fingerprinted last.
    shared: usize,
    /// The state every execution starts from, when it is not the setup's
    /// initial one ([`Path::from_root`]); taken as the first copy.
    root: Option<Machine>,
    /// The state the execution run last ended in, kept when the search
    /// starts from a root (its caller judges that state further).
    end: Option<Machine>,
    /// Whether [`Path::end`] is kept.
    keeps_end: bool,
}

impl Path {
    /// An empty branch, for executions of `jobs` jobs.
    pub(crate) fn new(jobs: usize) -> Path {
        Path {
            steps: DporSteps::new(),
            hb: HappensBefore::empty(jobs),
            checkpoints: Vec::new(),
            started: false,
            canonical: Canonical::new(jobs),
            shared: 0,
            root: None,
            end: None,
            keeps_end: false,
        }
    }

    /// An empty branch whose executions all start from `root` (a state on
    /// the model filesystem, its step count 0: [`Machine::into_root`]), not
    /// from the setup's initial state; the state each one ends in is kept
    /// ([`Path::take_end`]).
    pub(crate) fn from_root(jobs: usize, root: Machine) -> Path {
        Path {
            root: Some(root),
            keeps_end: true,
            ..Path::new(jobs)
        }
    }

    /// The filesystem the execution run last ended with, when the branch
    /// starts from a root.
    pub(crate) fn take_end(&mut self) -> Option<Box<dyn crate::Fs>> {
        self.end.take().map(Machine::into_fs)
    }

    /// The class fingerprint of the current execution (as
    /// [`super::fingerprint()`] computes it).
    pub(crate) fn fingerprint(&mut self) -> Fingerprint {
        let fp = self.canonical.fingerprint(&self.hb, self.shared);
        self.shared = self.steps.len();
        fp
    }

    /// Keeps the first `k` steps only.
    pub(crate) fn truncate(&mut self, k: usize) {
        self.shared = self.shared.min(k);
        self.steps.truncate(k);
        self.hb.truncate(k);
        while self.checkpoints.last().is_some_and(|c| c.step() > k) {
            self.checkpoints.pop();
        }
    }

    /// Makes `steps` (an execution run elsewhere that shares the first
    /// `k` steps with the current one) the current execution. (Only its
    /// steps from `k` on are new; the sleep sets of the ones before may
    /// differ, but the search reads a step's sleep set only when it
    /// first grows a node for it.)
    pub(crate) fn load(&mut self, k: usize, steps: DporSteps) {
        self.truncate(k);
        self.steps = steps;
        self.hb.extend(&self.steps);
    }

    /// Runs the execution of `key`, which shares its first `key.1` choices
    /// with the current execution, from the deepest copy of the state
    /// within them, and makes it the current one. Returns its trace and
    /// whether it was blocked or diverged, or `None` when executions
    /// cannot be resumed (the caller runs it from scratch and
    /// [`Path::load`]s it).
    pub(crate) fn run(
        &mut self,
        setup: &Setup,
        fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
        key: &Key,
    ) -> crate::Result<Option<(ExecutionTrace, bool)>> {
        if !self.started && self.root.is_some() {
            self.started = true;
            self.checkpoints.extend(self.root.take());
        }
        if !self.started {
            self.started = true;
            let mut fs = fresh()?;
            let mut none = DporScheduler::new(Vec::new(), 0, Vec::new());
            if fs.as_model_mut().is_some()
                && setup
                    .lay_down_initial(fs.as_mut(), &mut none, false)
                    .is_ok()
            {
                let mut start = Machine::new(setup.jobs(), fs);
                if let Some(copy) = start.fork() {
                    self.checkpoints.push(copy);
                }
            }
        }
        let (forced, k, sleep) = key;
        let k = *k;
        debug_assert!(self.steps.len() >= k);
        debug_assert!((0..k).all(|s| self.steps.chosen(s) == forced[s]));
        self.truncate(k);
        let Some(deepest) = self.checkpoints.last_mut() else {
            return Ok(None);
        };
        let from = deepest.step();
        let Some(mut machine) = deepest.fork() else {
            return Ok(None);
        };
        let mut scheduler = DporScheduler::new(forced.clone(), k, sleep.clone());
        scheduler.resume_after(from.checked_sub(1).map(|s| self.steps.chosen(s)));
        // The steps from `from` to `k` are replayed, not recorded again.
        scheduler.continuing(std::mem::take(&mut self.steps));
        let checkpoints = &mut self.checkpoints;
        let every = every(setup.deps().len());
        let mut at = |m: &mut Machine| {
            let step = m.step();
            if step > from && step % every == 0 {
                if let Some(copy) = m.fork() {
                    checkpoints.push(copy);
                }
            }
        };
        machine.run(setup.deps(), &mut scheduler, &mut at);
        let blocked = scheduler.blocked || scheduler.diverged;
        self.steps = std::mem::take(&mut scheduler.steps);
        self.hb.extend(&self.steps);
        let choices = self.steps.choices();
        let trace = machine.trace(choices);
        if self.keeps_end {
            self.end = Some(machine);
        }
        Ok(Some((trace, blocked)))
    }
}
