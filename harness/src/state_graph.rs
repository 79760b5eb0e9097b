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

/// One edge of a decision point: a runnable job and, once an execution
/// took it, the decision point its op leads to. Kept small (24 bytes): a
/// graph holds millions.
#[derive(Debug, Clone, Copy)]
struct Edge {
    job: u32,
    taken: bool,
    to: [u64; 2],
}

impl Edge {
    fn to(&self) -> Option<StateKey> {
        self.taken
            .then(|| StateKey((u128::from(self.to[0]) << 64) | u128::from(self.to[1])))
    }
}

/// One decision point.
#[derive(Debug, Clone)]
struct Node {
    /// The jobs runnable there, ascending, each with the decision point its
    /// op leads to (once an execution took it).
    runnable: Box<[Edge]>,
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

/// What a graph cost and what it saved, in steps (see [`StateGraph::judge`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphStats {
    /// Decision points recorded by running executions (each costs about
    /// one op: keying the state and a map lookup).
    pub recorded: u64,
    /// Of those, the ones already known (a revisit).
    pub revisited: u64,
    /// Steps that executions did not run because they walked the graph to
    /// a known tail.
    pub saved: u64,
    /// Decision points kept.
    pub nodes: u64,
    /// False once the graph switched itself off.
    pub on: bool,
}

/// The decision points of one exploration, keyed by state.
#[derive(Debug, Clone)]
pub struct StateGraph {
    nodes: HashMap<StateKey, Node, BuildHasherDefault<KeyHasher>>,
    /// The first decision point: the same for every execution of a setup.
    start: Option<StateKey>,
    /// Bytes the nodes may take (estimated).
    capacity: usize,
    /// Bytes the nodes take (estimated).
    used: usize,
    /// Recorded decision points before [`StateGraph::judge`] judges.
    warm_up: u64,
    stats: GraphStats,
}

impl StateGraph {
    /// How many bytes of decision points a graph keeps by default.
    pub const DEFAULT_CAPACITY: usize = 64 << 20;
    /// Decision points recorded before the graph judges whether it pays.
    pub const WARM_UP: u64 = 1 << 16;

    /// An empty graph keeping at most about `capacity` bytes of decision
    /// points (later ones are not kept, and executions through them run
    /// for real).
    pub fn new(capacity: usize) -> StateGraph {
        StateGraph::with_warm_up(capacity, Self::WARM_UP)
    }

    /// Like [`StateGraph::new`], judging whether it pays only after
    /// `warm_up` recorded decision points (`u64::MAX`: never; tests use it
    /// to check walks where the graph would not pay).
    pub fn with_warm_up(capacity: usize, warm_up: u64) -> StateGraph {
        StateGraph {
            warm_up,
            nodes: HashMap::default(),
            start: None,
            capacity,
            used: 0,
            stats: GraphStats {
                on: true,
                ..GraphStats::default()
            },
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

    /// False once the graph has switched itself off ([`StateGraph::judge`]):
    /// then it is neither walked nor recorded.
    pub fn is_on(&self) -> bool {
        self.stats.on
    }

    /// What the graph cost and saved so far.
    pub fn stats(&self) -> GraphStats {
        GraphStats {
            nodes: self.nodes.len() as u64,
            ..self.stats
        }
    }

    /// Counts `steps` that an execution did not run because it walked the
    /// graph to a known tail.
    pub fn saved(&mut self, steps: usize) {
        self.stats.saved += steps as u64;
    }

    /// Switches the graph off, for good, when after its warm-up ([`StateGraph::WARM_UP`])
    /// recorded decision points it has saved fewer steps by walking than it
    /// recorded (recording one costs about as much as running one op): the
    /// executions do not meet again before their tails (long racing jobs).
    /// Its memory is given back. Changes only speed: executions then run.
    pub fn judge(&mut self) {
        let s = &self.stats;
        if s.on && s.recorded >= self.warm_up && s.saved < s.recorded {
            self.stats.on = false;
            self.nodes = HashMap::default();
            self.start = None;
            self.used = 0;
        }
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
            runnable.extend(node.runnable.iter().map(|e| e.job as JobId));
            let pick = scheduler.pick(&runnable, picks.len());
            picks.push(pick);
            at = pick.and_then(|job| {
                node.runnable
                    .iter()
                    .find(|e| e.job as JobId == job)
                    .and_then(Edge::to)
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
        self.stats.recorded += 1;
        match from {
            Some((from, chosen)) => {
                if let Some(node) = self.nodes.get_mut(&from) {
                    if let Some(edge) = node.runnable.iter_mut().find(|e| e.job as JobId == chosen)
                    {
                        edge.taken = true;
                        edge.to = [(key.0 >> 64) as u64, key.0 as u64];
                    }
                }
            }
            None => self.start = Some(key),
        }
        if self.nodes.contains_key(&key) {
            self.stats.revisited += 1;
            return;
        }
        let bytes = NODE_BYTES + EDGE_BYTES * runnable.len();
        if self.used + bytes <= self.capacity {
            self.used += bytes;
            self.nodes.insert(
                key,
                Node {
                    runnable: runnable
                        .iter()
                        .map(|&j| Edge {
                            job: j as u32,
                            taken: false,
                            to: [0; 2],
                        })
                        .collect(),
                    tail,
                },
            );
        }
    }
}

/// The estimated bytes of a node without its edges (map slot, allocation).
const NODE_BYTES: usize = 96;
/// The bytes of one edge.
const EDGE_BYTES: usize = std::mem::size_of::<Edge>();

impl Default for StateGraph {
    fn default() -> Self {
        StateGraph::new(StateGraph::DEFAULT_CAPACITY)
    }
}
