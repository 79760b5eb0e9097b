//! The shapes of an exploration's executions, built once and shared by its
//! worker threads.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::execution::Event;
use crate::state_key::{KeyHasher, StateKey};

use super::shape::{shape_key, Shape};

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
    /// Pairs held by `shapes`.
    pairs: usize,
}

impl ShapeCache {
    /// How many pairs the cache holds at most (4 bytes each, besides rows);
    /// past it, it forgets every shape and starts again.
    pub const BUDGET: usize = 1 << 23;

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
                // twice, equal either way.
                let shape = Arc::new(Shape::build(events, self.jobs));
                let mut known = lock(&self.known);
                if known.pairs + shape.pairs() > Self::BUDGET {
                    known.shapes.clear();
                    known.pairs = 0;
                }
                if known.shapes.insert(key, shape.clone()).is_none() {
                    known.pairs += shape.pairs();
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
