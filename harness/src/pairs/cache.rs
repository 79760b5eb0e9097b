//! The shapes of an exploration's executions, built once and shared by its
//! worker threads.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::execution::Event;
use crate::state_key::{KeyHasher, StateKey};

use super::job_ops::job_ops;
use super::shape::{nearest, shape_key, Shape};

/// The conflicting pairs of one execution: its shape and every row's split
/// ([`Shape::splits`]).
#[derive(Debug, Clone)]
pub struct ExecutionPairs {
    /// The shape's key ([`shape_key`]).
    pub key: StateKey,
    /// The shape.
    pub shape: Arc<Shape>,
    /// Per row of the shape, its split in this execution.
    pub splits: Vec<u32>,
}

/// Known shapes by key. Which shapes it holds changes only how fast pairs
/// are found, never what they are.
pub struct ShapeCache {
    jobs: usize,
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    shapes: HashMap<StateKey, Arc<Shape>, BuildHasherDefault<KeyHasher>>,
    /// The shapes built last, oldest first: the ones a new shape is built
    /// from ([`nearest`]).
    recent: Vec<Arc<Shape>>,
    /// Pairs held by `shapes`.
    pairs: usize,
}

impl ShapeCache {
    /// How many pairs the cache holds at most (4 bytes each, besides rows);
    /// past it, it forgets every shape and starts again.
    pub const BUDGET: usize = 1 << 23;

    /// How many of the shapes built last a new shape looks at to be built
    /// from the nearest (each look costs a pass over the ops of a job up to
    /// where they differ).
    pub const RECENT: usize = 16;

    /// An empty cache for executions of `jobs` jobs.
    pub fn new(jobs: usize) -> ShapeCache {
        ShapeCache {
            jobs,
            known: Mutex::default(),
        }
    }

    /// The pairs of the execution `events`, ran in their order.
    pub fn execution<E: Borrow<Event>>(&self, events: &[E]) -> ExecutionPairs {
        let key = shape_key(events, self.jobs);
        let known = lock(&self.known).shapes.get(&key).cloned();
        let shape = match known {
            Some(shape) => shape,
            None => {
                // Built outside the lock; two threads may build one shape
                // twice, or from different shapes, equal either way.
                let recent = lock(&self.known).recent.clone();
                let ops = job_ops(events, self.jobs);
                let base = nearest(&recent, &ops);
                let base = base.as_ref().map(|(shape, delta)| (*shape, delta));
                let shape = Arc::new(Shape::build_from(base, events, ops));
                let mut known = lock(&self.known);
                if known.pairs + shape.pairs() > Self::BUDGET {
                    known.shapes.clear();
                    known.recent.clear();
                    known.pairs = 0;
                }
                if known.shapes.insert(key, shape.clone()).is_none() {
                    known.pairs += shape.pairs();
                    if known.recent.len() == Self::RECENT {
                        known.recent.remove(0);
                    }
                    known.recent.push(shape.clone());
                }
                shape
            }
        };
        let splits = shape.splits(events.iter().map(|e| e.borrow().job));
        ExecutionPairs { key, shape, splits }
    }
}

/// A panic elsewhere cannot leave a half-written entry: take the map as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
