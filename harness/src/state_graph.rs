//! The state graph: where every decision point of an execution leads.
//!
//! An execution is a walk through states. At each decision point the
//! scheduler picks one of the runnable jobs, and the state after that job's
//! op is a function of the state before it and of the pick (jobs and the
//! model are deterministic; see [`crate::job::Job`]). Random and PCT
//! explorations pass through the same few thousand states over and over,
//! and a random scheduler's picks depend only on the runnable jobs and the
//! step, never on the ops. So [`StateGraph`] keeps, per [`StateKey`] of a
//! decision point, the jobs runnable there and, per pick, the key of the
//! next decision point. An execution then starts as a walk through the
//! graph ([`StateGraph::walk`]), asking the scheduler at every node, with
//! no filesystem, no jobs and no ops at all, until it reaches a state where
//! only one job is left and whose rest is a known tail ([`crate::tail`]).
//!
//! Where the graph does not know the way (a pick not taken before), the
//! execution is run for real from the start, with the picks already made
//! given back to it ([`crate::schedule::Resumed`]); that run fills the
//! graph in. The graph changes only how fast results come: a walked
//! execution reaches the same tail, after the same steps, with the same
//! picks, as running it would.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::execution::{Tail, Tails, MAX_STEPS};
use crate::schedule::{JobId, Scheduler};
use crate::state_key::{KeyHasher, StateKey};

/// One decision point.
#[derive(Debug, Clone)]
struct Node {
    /// The jobs runnable there, ascending, each with the decision point its
    /// op leads to (once an execution took it).
    runnable: Vec<(JobId, Option<StateKey>)>,
    /// The tail key, when only one job is left there.
    tail: Option<StateKey>,
}

/// How a walk through the graph ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walked {
    /// At a state with one job left and a known rest.
    Known(Tail),
    /// Where the graph does not know the way: the execution has to run, and
    /// the scheduler's answers so far are to be given back to it.
    Unknown,
}

/// The decision points of one exploration, keyed by state.
#[derive(Debug, Clone)]
pub struct StateGraph {
    nodes: HashMap<StateKey, Node, BuildHasherDefault<KeyHasher>>,
    /// The first decision point: the same for every execution of a setup.
    start: Option<StateKey>,
    capacity: usize,
}

impl StateGraph {
    /// How many decision points a graph keeps by default (about 100 bytes each).
    pub const DEFAULT_CAPACITY: usize = 1 << 20;

    /// An empty graph keeping at most `capacity` decision points (later
    /// ones are not kept, and executions through them run for real).
    pub fn new(capacity: usize) -> StateGraph {
        StateGraph {
            nodes: HashMap::default(),
            start: None,
            capacity,
        }
    }

    /// Number of decision points known.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no decision point is known.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Walks from the first decision point, asking `scheduler` at each one
    /// and pushing its answers onto `picks`, until a state whose rest
    /// `tails` knows, or until the graph does not know where a pick leads.
    /// The scheduler must not see ops ([`Scheduler::sees_ops`]).
    pub fn walk(
        &self,
        scheduler: &mut dyn Scheduler,
        tails: &dyn Tails,
        picks: &mut Vec<Option<JobId>>,
    ) -> Walked {
        debug_assert!(!scheduler.sees_ops());
        let mut runnable = Vec::new();
        let mut at = self.start;
        while let Some(node) = at.and_then(|key| self.nodes.get(&key)) {
            if let Some(tail) = node.tail {
                if tails.known(tail) {
                    return Walked::Known(Tail {
                        key: tail,
                        at_step: picks.len(),
                    });
                }
                return Walked::Unknown;
            }
            if node.runnable.is_empty() || picks.len() >= MAX_STEPS {
                return Walked::Unknown;
            }
            runnable.clear();
            runnable.extend(node.runnable.iter().map(|&(job, _)| job));
            let pick = scheduler.pick(&runnable, picks.len());
            picks.push(pick);
            at = pick.and_then(|job| {
                node.runnable
                    .iter()
                    .find(|&&(j, _)| j == job)
                    .and_then(|&(_, next)| next)
            });
        }
        Walked::Unknown
    }

    /// Records a decision point met by a running execution: `key`, the jobs
    /// `runnable` there, its tail key if one job is left, and, when it
    /// follows the decision point `from` where `chosen` ran, that edge.
    pub fn record(
        &mut self,
        from: Option<(StateKey, JobId)>,
        key: StateKey,
        runnable: &[JobId],
        tail: Option<StateKey>,
    ) {
        match from {
            Some((from, chosen)) => {
                if let Some(node) = self.nodes.get_mut(&from) {
                    if let Some(edge) = node.runnable.iter_mut().find(|(j, _)| *j == chosen) {
                        edge.1 = Some(key);
                    }
                }
            }
            None => self.start = Some(key),
        }
        if self.nodes.len() < self.capacity {
            self.nodes.entry(key).or_insert_with(|| Node {
                runnable: runnable.iter().map(|&j| (j, None)).collect(),
                tail,
            });
        }
    }
}

impl Default for StateGraph {
    fn default() -> Self {
        StateGraph::new(StateGraph::DEFAULT_CAPACITY)
    }
}
