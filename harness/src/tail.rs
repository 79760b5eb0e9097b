//! Known tails: the rests of executions, computed once per state.
//!
//! Once only one job is left, an execution has no more choices: what
//! follows, and so the verdict, is a function of the state there
//! ([`crate::execution::Tail`]). Random and PCT explorations reach the same
//! few states over and over (the racing jobs are short; the long job then
//! runs alone), so [`TailMemo`] keeps, per state key, how many steps the rest
//! took and the verdict of the whole execution. An execution that reaches a
//! known state stops there and takes both.
//!
//! The memo changes only how fast results come, never what they are: an
//! execution that stops early gets exactly the step count and verdict it
//! would have had. It is shared by the worker threads of one exploration;
//! which thread fills an entry first does not matter.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use crate::execution::Tails;
use crate::oracle::Judgement;
use crate::state_key::StateKey;

/// The rest of an execution from one state.
#[derive(Debug, Clone)]
pub struct KnownTail {
    /// Steps from that state to the end.
    pub steps: u64,
    /// The verdict of the whole execution.
    pub judgement: Arc<Judgement>,
}

/// Keys are already uniform hashes: take their low bits.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }

    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

/// The known tails of one exploration.
pub struct TailMemo {
    tails: Mutex<HashMap<StateKey, KnownTail, BuildHasherDefault<KeyHasher>>>,
    capacity: usize,
}

impl TailMemo {
    /// How many tails a memo keeps by default: a few tens of megabytes at most.
    pub const DEFAULT_CAPACITY: usize = 1 << 18;

    /// An empty memo keeping at most `capacity` tails (later ones are not kept).
    pub fn new(capacity: usize) -> TailMemo {
        TailMemo {
            tails: Mutex::new(HashMap::default()),
            capacity,
        }
    }

    /// The tail known for `key`.
    pub fn get(&self, key: StateKey) -> Option<KnownTail> {
        self.lock().get(&key).cloned()
    }

    /// Remembers the tail of `key`, unless the memo is full.
    pub fn remember(&self, key: StateKey, tail: KnownTail) {
        let mut tails = self.lock();
        if tails.len() < self.capacity {
            tails.entry(key).or_insert(tail);
        }
    }

    /// Number of tails known.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no tail is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<StateKey, KnownTail, BuildHasherDefault<KeyHasher>>>
    {
        // A panic elsewhere cannot leave a half-written entry: take the map as it is.
        self.tails.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for TailMemo {
    fn default() -> Self {
        TailMemo::new(TailMemo::DEFAULT_CAPACITY)
    }
}

impl Tails for TailMemo {
    fn known(&self, key: StateKey) -> bool {
        self.lock().contains_key(&key)
    }
}
