//! Jobs: the actors of a scenario.
//!
//! A [`Job`] is a deterministic state machine standing for one running
//! program. It offers one [`Step`] at a time: an op to run, a wait condition,
//! or its exit. The executor runs the op and hands the result back with
//! [`Job::complete`]; the job reacts exactly as the real program would.

mod atomic;
mod cp;
mod held;
mod image_merge;
mod import;
mod killed;
mod lock;
mod pip;
mod script;
mod script_write;
mod sequence;
mod trace;
mod uninstall_first;
mod writing;

pub use atomic::AtomicWriteJob;
pub use cp::{CpEntry, CpJob, CpKind, CpOnExist, CpOrder, CpPlan};
pub use held::HeldOp;
pub use image_merge::{parse_contents, vdb_dir, Collision, ImageMergeJob, ImageMergePlan};
pub use import::{ImportJob, ImportModule};
pub use killed::{KilledJob, KILLED_STATUS};

pub use lock::{LockedJob, PREFIX_LOCK};
pub use pip::{temp_token, PipFile, PipJob, PipPlan};
pub use script::ScriptJob;
pub use sequence::SequenceJob;
pub use trace::{RecordedOp, RecordedResult, TraceJob, TraceProgram, TraceSpec};
pub use uninstall_first::UninstallFirstJob;
pub use writing::{Writing, Written};

use std::fmt;

use crate::op::{Kind, Op, OpResult};

/// What a job wants to do next.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// Run this op.
    Op(Op),
    /// Not runnable until the condition holds.
    Wait(Condition),
    /// The job has finished with this exit status.
    Exit(i32),
}

/// What a job wants to do next, its op kept by the job and lent out by
/// [`Job::offered`]: the executor asks for this, so that no op is cloned,
/// moved or dropped per step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Offer {
    /// Run the op [`Job::offered`] lends.
    Op,
    /// Not runnable until the condition holds.
    Wait(Condition),
    /// The job has finished with this exit status.
    Exit(i32),
}

/// A condition a waiting job needs before it can run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// An entry of this kind exists at the path.
    Exists {
        /// The path, relative to the prefix root.
        path: String,
        /// The kind required.
        kind: Kind,
    },
    /// Nothing exists at the path (a lock directory has been released).
    Absent {
        /// The path, relative to the prefix root.
        path: String,
    },
    /// No descriptor holds a `flock` on the file at the path (its holder
    /// closed it, or exited). Asked through a lock probe
    /// ([`crate::fs::lock_probe_path`]).
    Unlocked {
        /// The path, relative to the prefix root.
        path: String,
    },
    /// No process other than `owner` holds an `fcntl` lock on the file at
    /// the path (the owner's own lock is no obstacle: it is the
    /// process's). Asked through [`crate::fs::record_lock_probe_path`].
    RecordUnlocked {
        /// The path, relative to the prefix root.
        path: String,
        /// The process asking: the job's label.
        owner: String,
    },
}

impl Condition {
    /// True when the condition holds, judged by `probe` (the kind at a path).
    pub fn holds(&self, probe: &dyn Fn(&str) -> Option<Kind>) -> bool {
        match self {
            Condition::Exists { path, kind } => probe(path) == Some(*kind),
            Condition::Absent { path } => probe(path).is_none(),
            Condition::Unlocked { path } => probe(&crate::fs::lock_probe_path(path)).is_none(),
            Condition::RecordUnlocked { path, owner } => {
                probe(&crate::fs::record_lock_probe_path(owner, path)).is_none()
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Exists { path, kind } => write!(f, "{path} exists as a {kind}"),
            Condition::Absent { path } => write!(f, "{path} is absent"),
            Condition::Unlocked { path } => write!(f, "{path} is unlocked"),
            Condition::RecordUnlocked { path, .. } => {
                write!(f, "{path} is not fcntl-locked by another process")
            }
        }
    }
}

/// One line a job printed, with the op that made it print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// The message, exactly as the real tool prints it.
    pub message: String,
    /// Whether the message makes the job fail (cp: yes; a silent skip: no).
    pub fatal: bool,
}

/// A deterministic model of one running program.
///
/// Contract: [`Job::poll`] returns the same offer (and [`Job::offered`] the
/// same op) until [`Job::complete`] is called with the result of the op it
/// offered. A job never spins: when it needs something to happen first it
/// returns [`Offer::Wait`]. A job's state is a function of the results it
/// has been handed and of the step it offers: `poll` may change the state
/// only in ways the returned offer shows (a wait that ends becomes the op
/// that follows it). The executor relies on this to recognize equal states
/// ([`crate::execution::execute_with_tails`]).
pub trait Job: BoxClone + Send + Sync {
    /// The name used in reports, such as `cp[Cython]` or `import-cython`.
    fn label(&self) -> &str;

    /// The real program this job models: `cp`, `pip` or `python3`.
    fn program(&self) -> &'static str;

    /// What the job wants to do next; when it is an op, the job keeps it
    /// and [`Job::offered`] lends it. `probe` tells the kind of the entry at
    /// a path, without counting as an op; jobs use it only to evaluate wait
    /// conditions.
    fn poll(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Offer;

    /// The op the last [`Job::poll`] offered, lent until [`Job::complete`].
    /// Panics when that poll offered no op.
    fn offered(&self) -> &Op;

    /// The next step with its op cloned out of the job: [`Job::poll`] and
    /// [`Job::offered`] in one value, for callers that keep the op.
    fn step(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        match self.poll(probe) {
            Offer::Op => Step::Op(self.offered().clone()),
            Offer::Wait(condition) => Step::Wait(condition),
            Offer::Exit(code) => Step::Exit(code),
        }
    }

    /// Reacts to the result of the op offered by the last [`Job::poll`].
    fn complete(&mut self, result: &OpResult);

    /// Called when the job waits on a condition that can no longer become
    /// true because no other job can run. Returns the exit status: 1 unless
    /// the job says otherwise (a job that prints why overrides it).
    fn stalled(&mut self) -> i32 {
        1
    }

    /// Everything the job has printed so far.
    fn diagnostics(&self) -> &[Diagnostic];

    /// A key of the job's whole state (everything but its fixed plan), when
    /// the job can name one. Two copies of the same job with equal keys must
    /// behave the same from here on. `None` (the default) makes the executor
    /// key the job by the results it has been handed instead, which is
    /// exact too but tells apart states that differ only in their past.
    fn state_key(&self) -> Option<crate::state_key::StateKey> {
        None
    }

    /// When the offered op is a `write` the kernel cuts short
    /// (`--faults short-write`, [`crate::fault`]): true when the tool
    /// writes the rest itself, as cp's `full_write` and CPython's buffered
    /// files do; false when it makes one unbuffered write and goes on with
    /// the file cut short, as CPython's `_write_atomic` does with a `.pyc`.
    fn writes_rest_of_short_write(&self) -> bool {
        true
    }

    /// The descriptors the job holds open now that outlive an op, with
    /// the path each was opened at: those the kernel closes when the
    /// process is killed ([`KilledJob`]). Only a descriptor whose closing
    /// changes what others see (one holding an `flock`) needs naming; the
    /// default names none.
    fn open_descriptors(&self) -> Vec<(crate::op::Fd, std::sync::Arc<str>)> {
        Vec::new()
    }
}

/// A fresh copy of a job in the same state, for a new execution: every
/// `Clone` job has it.
pub trait BoxClone {
    /// The copy, boxed.
    fn box_clone(&self) -> Box<dyn Job>;
}

impl<J: Job + Clone + 'static> BoxClone for J {
    fn box_clone(&self) -> Box<dyn Job> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Job> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}
