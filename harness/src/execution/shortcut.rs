//! Executions that stop early where the caller knows the rest.
//!
//! [`execute_with_tails`] runs the plain executor (`execution::run`) with a
//! `Shortcut` observer that watches for the moment only one job is left.
//! From there on the scheduler has no choice, so the rest of the execution
//! is a function of the state: the filesystem's [`StateKey`] and what every
//! job has seen. When the caller already knows the rest from that state
//! ([`Tails`]), the execution stops there. Before that point, the observer
//! keys every decision point and records it in a [`StateGraph`].

use super::keys::{tail_key, DecisionKeys, Histories};
use super::{run, Ended, Event, ExecutionTrace, Flow, Observer, Progress};
use crate::fs::{Fs, ModelFs, Tree};
use crate::job::{Job, Step};
use crate::op::OpResult;
use crate::schedule::{JobId, Scheduler};
use crate::state_graph::StateGraph;
use crate::state_key::StateKey;

/// What the caller knows about the rests of executions.
pub trait Tails {
    /// True when the rest of an execution from the state `key` is known.
    fn known(&self, key: StateKey) -> bool;

    /// Whether tails are worth seeking at all: when not, an execution
    /// without a state graph keys nothing (no results hashed per op, no
    /// tail key) and runs to its end, which changes only speed.
    fn worth_seeking(&self) -> bool {
        true
    }
}

/// What the caller knows about how executions end.
#[derive(Clone, Copy)]
pub struct Ends<'a> {
    /// The rests of executions from known states.
    pub tails: &'a dyn Tails,
    /// The final tree most executions end with (the serial reference's).
    pub expected: Option<&'a Tree>,
}

/// The point of an execution where only one job was left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// The state there: the filesystem, how every finished job ended and
    /// what it printed, the last job's own state (or the results it was
    /// handed), and the step it offers.
    pub key: StateKey,
    /// Steps executed before it.
    pub at_step: usize,
}

/// How [`execute_with_tails`] ended.
#[derive(Debug)]
pub enum Ran {
    /// The execution ran to its end; `tail` is where one job was left, if
    /// that happened on a keyed filesystem.
    Complete {
        /// Everything that happened.
        trace: ExecutionTrace,
        /// Where one job was left.
        tail: Option<Tail>,
    },
    /// The execution stopped where one job was left, in a state whose rest
    /// the caller knows.
    Known {
        /// Where it stopped.
        tail: Tail,
        /// The events before it (empty unless events were recorded).
        events: Vec<Event>,
        /// True when it got there by walking the
        /// [`StateGraph`], without running anything.
        walked: bool,
    },
}

/// Like [`super::execute`], but stops as soon as only one job is left in a
/// state `ends.tails` knows (without a `graph`, only while tails are
/// [`Tails::worth_seeking`]). Needs a filesystem that can be keyed (the
/// model); on others it always runs to the end. With a `graph`, every decision point
/// before that is recorded in it ([`StateGraph::record`]), and the model
/// keeps its key up to date with every op ([`ModelFs::set_keyed`]); without
/// one, only the tail's key is asked, once, and a model that does not keep
/// its key computes it then from scratch (the same key, for far less than
/// keeping it over a long execution).
///
/// An execution that seeks no tail leaves the model keyless
/// ([`ModelFs::set_keyless`]).
///
/// `ends.expected`, when given, is the final tree most executions end with
/// (the serial reference's): an execution that ends with it takes it
/// ([`Fs::tree_like`]) instead of building its own.
///
/// Sound because jobs are deterministic: a job's state is a function of the
/// results it was handed and of the step it offers (see [`Job`]), so two
/// executions that agree on the filesystem, on every job's results and on
/// the last job's next step continue identically.
pub fn execute_with_tails(
    jobs: Vec<Box<dyn Job>>,
    deps: &[Vec<JobId>],
    fs: &mut dyn Fs,
    scheduler: &mut dyn Scheduler,
    ends: Ends<'_>,
    graph: Option<&mut StateGraph>,
    record_events: bool,
) -> Ran {
    let Ends { tails, expected } = ends;
    if graph.is_some() {
        // Keying every decision point from scratch would cost far more.
        if let Some(model) = fs.as_model_mut() {
            model.set_keyed(true);
        }
    }
    let unkeyed = fs.state_key().is_none() && fs.as_model().is_none();
    if unkeyed || (graph.is_none() && !tails.worth_seeking()) {
        if let Some(model) = fs.as_model_mut() {
            // Nothing will ask its key (see `ModelFs::set_keyless`).
            model.set_keyless();
        }
        return match run(
            jobs,
            deps,
            fs,
            scheduler,
            record_events,
            &mut ToTheEnd { expected },
        ) {
            Ended::Complete(trace) => Ran::Complete { trace, tail: None },
            Ended::Stopped(_) => unreachable!("nothing stops it"),
        };
    }
    let mut shortcut = Shortcut {
        tails,
        histories: Histories::new(jobs.len()),
        graph,
        keys: DecisionKeys::default(),
        decision: None,
        came_from: None,
        tail: None,
        expected,
    };
    match run(jobs, deps, fs, scheduler, record_events, &mut shortcut) {
        Ended::Complete(trace) => Ran::Complete {
            trace,
            tail: shortcut.tail,
        },
        Ended::Stopped(events) => Ran::Known {
            tail: shortcut.tail.expect("stopped at a tail"),
            events,
            walked: false,
        },
    }
}

/// Executions that seek no tail (on filesystems without a state key, or
/// where tails are not worth seeking) run to their end; only the final
/// tree may be taken from `expected`.
struct ToTheEnd<'a> {
    expected: Option<&'a Tree>,
}

impl Observer for ToTheEnd<'_> {
    fn decision_point(&mut self, _: &mut Progress, _: &dyn Fs) -> Flow {
        Flow::Go
    }
    fn picked(&mut self, _: JobId) {}
    fn op_ran(&mut self, _: JobId, _: &OpResult) {}
    fn final_tree(&mut self, fs: &dyn Fs) -> Tree {
        final_tree(fs, self.expected)
    }
}

/// The final tree of `fs`, taken from `expected` when equal to it.
fn final_tree(fs: &dyn Fs, expected: Option<&Tree>) -> Tree {
    match expected {
        Some(expected) => fs.tree_like(expected),
        None => fs.tree(),
    }
}

/// Keys decision points until the tail, records them in the graph, and
/// stops at a known tail.
struct Shortcut<'a> {
    tails: &'a dyn Tails,
    histories: Histories,
    graph: Option<&'a mut StateGraph>,
    keys: DecisionKeys,
    /// The key of the last decision point, when keyed.
    decision: Option<StateKey>,
    /// The decision point the last pick was made at, and the pick.
    came_from: Option<(StateKey, JobId)>,
    /// Where one job was left (once it happened).
    tail: Option<Tail>,
    /// The final tree most executions end with.
    expected: Option<&'a Tree>,
}

impl Observer for Shortcut<'_> {
    fn decision_point(&mut self, at: &mut Progress, fs: &dyn Fs) -> Flow {
        self.decision = None;
        if self.tail.is_some() {
            return Flow::Go;
        }
        let fs_key = || {
            fs.state_key()
                .or_else(|| fs.as_model().map(ModelFs::state_key))
                .expect("shortcut filesystems can be keyed")
        };
        let mut one_left = None;
        if at.running_count == 1 {
            let last = (0..at.jobs.len())
                .find(|&j| at.running[j])
                .expect("one job runs");
            let next = match at.offered(last) {
                Some(op) => Step::Op(op.clone()),
                None => at.jobs[last].step(&|p: &str| fs.probe(p)),
            };
            let key = tail_key(
                fs_key(),
                &self.histories,
                &at.outcomes,
                at.jobs[last].as_ref(),
                last,
                &next,
            );
            one_left = Some(Tail {
                key,
                at_step: at.step,
            });
        }
        if let Some(graph) = self.graph.as_deref_mut() {
            let key = self.keys.key(fs_key(), at, &self.histories);
            graph.record(self.came_from, key, &at.runnable, one_left.map(|t| t.key));
            self.decision = Some(key);
        }
        if let Some(here) = one_left {
            self.tail = Some(here);
            if self.tails.known(here.key) {
                return Flow::Stop;
            }
        }
        Flow::Go
    }

    fn picked(&mut self, job: JobId) {
        self.came_from = self.decision.map(|key| (key, job));
    }

    fn op_ran(&mut self, job: JobId, result: &OpResult) {
        self.histories.handed(job, result);
    }

    fn final_tree(&mut self, fs: &dyn Fs) -> Tree {
        final_tree(fs, self.expected)
    }
}
