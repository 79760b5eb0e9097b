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
//! When conflicting pairs are counted ([`crate::pairs`]), a tail also keeps
//! its events: the pairs of an execution are those of its events before
//! the tail and the tail's together.
//!
//! The memo changes only how fast results come, never what they are: an
//! execution that stops early gets exactly the step count, verdict and pairs
//! it would have had. It is shared by the worker threads of one exploration;
//! which thread fills an entry first does not matter.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::execution::{Event, Tails};
use crate::oracle::Judgement;
use crate::state_key::{KeyHasher, StateKey};

/// The rest of an execution from one state.
#[derive(Debug, Clone)]
pub struct KnownTail {
    /// Steps from that state to the end.
    pub steps: u64,
    /// The verdict of the whole execution.
    pub judgement: Arc<Judgement>,
    /// The events from that state to the end, when pairs are counted.
    pub events: Option<Arc<[Event]>>,
}

type KeyMap<V> = HashMap<StateKey, V, BuildHasherDefault<KeyHasher>>;

/// The known tails of one exploration.
pub struct TailMemo {
    tails: Mutex<KeyMap<KnownTail>>,
    /// Keep events (for pair counting), and consider only tails that have them known.
    with_events: bool,
    capacity: usize,
    /// How many more tail events may be kept.
    event_budget: AtomicUsize,
    /// Tails remembered.
    remembered: AtomicU64,
    /// Events kept with them.
    events_kept: AtomicU64,
    /// Tails reused ([`TailMemo::get`]).
    reused: AtomicU64,
    /// Steps those reuses did not run.
    saved: AtomicU64,
    /// False once the memo stopped remembering ([`TailMemo::remember`]).
    on: AtomicBool,
}

/// What a [`TailMemo`] cost and saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Tails remembered.
    pub remembered: u64,
    /// Events kept with them (pair counting).
    pub events_kept: u64,
    /// Tails reused.
    pub reused: u64,
    /// Steps the reuses did not run.
    pub saved: u64,
    /// False once the memo stopped remembering because it did not pay.
    pub on: bool,
}

impl TailMemo {
    /// How many tails a memo keeps by default: a few tens of megabytes at most.
    pub const DEFAULT_CAPACITY: usize = 1 << 18;
    /// How many tail events a memo keeps at most (about 100 bytes each).
    pub const DEFAULT_EVENT_BUDGET: usize = 1 << 19;
    /// Tails remembered before the memo judges whether it pays.
    pub const WARM_UP: u64 = 256;
    /// What remembering one tail costs, in steps (a lock, a map entry,
    /// the verdict shared), besides copying its events.
    const REMEMBER_COST: u64 = 8;

    /// An empty memo keeping at most `capacity` tails (later ones are not
    /// kept); with `with_events`, tails keep their events, within
    /// [`TailMemo::DEFAULT_EVENT_BUDGET`], and only tails with events count
    /// as known.
    pub fn new(capacity: usize, with_events: bool) -> TailMemo {
        TailMemo {
            tails: Mutex::default(),
            with_events,
            capacity,
            event_budget: AtomicUsize::new(Self::DEFAULT_EVENT_BUDGET),
            remembered: AtomicU64::new(0),
            events_kept: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            saved: AtomicU64::new(0),
            on: AtomicBool::new(true),
        }
    }

    /// The tail known for `key`, counted as reused.
    pub fn get(&self, key: StateKey) -> Option<KnownTail> {
        let known = lock(&self.tails).get(&key).cloned();
        if let Some(known) = &known {
            self.reused.fetch_add(1, Ordering::Relaxed);
            self.saved.fetch_add(known.steps, Ordering::Relaxed);
        }
        known
    }

    /// What the memo cost and saved so far.
    pub fn stats(&self) -> TailStats {
        TailStats {
            remembered: self.remembered.load(Ordering::Relaxed),
            events_kept: self.events_kept.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            saved: self.saved.load(Ordering::Relaxed),
            on: self.on.load(Ordering::Relaxed),
        }
    }

    /// True while the memo remembers tails: it stops, for good, when after
    /// [`TailMemo::WARM_UP`] tails the steps it saved are fewer than what
    /// remembering cost (copying their events, when pairs are counted, and
    /// a few steps each): executions then rarely end the same way (two long
    /// jobs racing to the end). The tails already kept are still reused.
    pub fn is_on(&self) -> bool {
        if !self.on.load(Ordering::Relaxed) {
            return false;
        }
        let s = self.stats();
        let cost = s.remembered * Self::REMEMBER_COST + s.events_kept;
        if s.remembered >= Self::WARM_UP && s.saved < cost {
            self.on.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Remembers the tail of `key`: `steps` and `judgement`, and when the
    /// memo keeps events, `events` (the tail's own), unless the memo is full.
    /// Does nothing once the memo is off ([`TailMemo::is_on`]).
    pub fn remember(&self, key: StateKey, steps: u64, judgement: Arc<Judgement>, events: &[Event]) {
        if !self.is_on() {
            return;
        }
        let events = if self.with_events {
            let took =
                self.event_budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                        left.checked_sub(events.len())
                    });
            if took.is_err() {
                return;
            }
            Some(Arc::from(events))
        } else {
            None
        };
        let mut tails = lock(&self.tails);
        if tails.len() < self.capacity && !tails.contains_key(&key) {
            self.remembered.fetch_add(1, Ordering::Relaxed);
            let kept = events.as_ref().map_or(0, |e: &Arc<[Event]>| e.len() as u64);
            self.events_kept.fetch_add(kept, Ordering::Relaxed);
            tails.insert(
                key,
                KnownTail {
                    steps,
                    judgement,
                    events,
                },
            );
        }
    }

    /// Number of tails known.
    pub fn len(&self) -> usize {
        lock(&self.tails).len()
    }

    /// True when no tail is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A panic elsewhere cannot leave a half-written entry: take the map as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for TailMemo {
    fn default() -> Self {
        TailMemo::new(TailMemo::DEFAULT_CAPACITY, false)
    }
}

impl Tails for TailMemo {
    fn known(&self, key: StateKey) -> bool {
        lock(&self.tails)
            .get(&key)
            .is_some_and(|t| !self.with_events || t.events.is_some())
    }

    /// While the memo remembers, or once one of its tails was reused: a
    /// memo that stopped remembering with none reused is not asked again.
    fn worth_seeking(&self) -> bool {
        self.is_on() || self.reused.load(Ordering::Relaxed) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passed() -> Arc<Judgement> {
        Arc::new(Judgement {
            failure: None,
            diff: Default::default(),
            notes: Vec::new(),
        })
    }

    #[test]
    fn a_memo_whose_tails_are_never_reused_stops_remembering() {
        let memo = TailMemo::default();
        for k in 0..TailMemo::WARM_UP + 10 {
            memo.remember(StateKey(u128::from(k)), 100, passed(), &[]);
        }
        let stats = memo.stats();
        assert!(!stats.on, "{stats:?}");
        assert_eq!(stats.remembered, TailMemo::WARM_UP, "{stats:?}");
        assert!(!memo.worth_seeking(), "none of its tails was reused");
        // The tails it kept are still known and reused.
        assert!(memo.known(StateKey(1)));
        assert_eq!(memo.get(StateKey(1)).map(|t| t.steps), Some(100));
        assert!(memo.worth_seeking(), "one of its tails was reused");
    }

    #[test]
    fn a_memo_whose_tails_are_reused_keeps_remembering() {
        let memo = TailMemo::default();
        for k in 0..TailMemo::WARM_UP * 2 {
            memo.remember(StateKey(u128::from(k)), 100, passed(), &[]);
            assert!(memo.get(StateKey(u128::from(k))).is_some());
        }
        let stats = memo.stats();
        assert!(stats.on, "{stats:?}");
        assert_eq!(stats.remembered, TailMemo::WARM_UP * 2);
        assert_eq!(stats.saved, 100 * TailMemo::WARM_UP * 2);
    }
}
