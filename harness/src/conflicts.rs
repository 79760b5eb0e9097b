//! The conflicting event pairs of one execution: the one implementation
//! behind the pair counts ([`crate::pairs`]) and the race-directed work
//! list ([`crate::directed`]).
//!
//! Two events conflict when different jobs ran them and their ops are
//! dependent ([`crate::schedule::dependence::dependent`], judged without
//! results). Finding them does not compare all pairs of events: earlier
//! events are indexed by the paths they name (all of them, and the
//! mutating ones), by the entries they create or remove, by the strict
//! ancestors of their paths and by the directories they list. Each index
//! is exactly one clause of the relation, so every event an index yields
//! is dependent on the event asking and no pair is checked with
//! `dependent`: the work is the pairs found (and the same-job entries of
//! the indexes passed over) plus the events times the depth of their paths.

use std::borrow::Borrow;
use std::collections::HashMap;

use crate::execution::Event;
use crate::fast_hash::Fast;
use crate::op::Op;
use crate::schedule::dependence::{mutates, named_paths, namespace_changes, parent};

/// No path: the root's parent.
const NONE: u32 = u32::MAX;

/// What the earlier events of an execution did at one path.
#[derive(Default)]
struct Slot {
    /// Events naming the path.
    on: Vec<u32>,
    /// Mutating events naming the path.
    mutated_on: Vec<u32>,
    /// Events creating, removing or renaming the entry at the path.
    changed_at: Vec<u32>,
    /// Events naming a path strictly below the path.
    below: Vec<u32>,
    /// Events creating, removing or renaming an entry of the directory.
    changed_in: Vec<u32>,
    /// Events listing the directory.
    listed: Vec<u32>,
}

/// The paths of one execution, interned with their parents, so that
/// walking up a path costs no hashing.
#[derive(Default)]
struct Paths<'a> {
    ids: HashMap<&'a str, u32, Fast>,
    parent: Vec<u32>,
}

impl<'a> Paths<'a> {
    fn intern(&mut self, path: &'a str) -> u32 {
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        let up = match path.is_empty() {
            true => NONE,
            false => self.intern(parent(path)),
        };
        let id = self.parent.len() as u32;
        self.parent.push(up);
        self.ids.insert(path, id);
        id
    }

    /// The directory holding `id` (the root holds itself, like `parent("")`).
    fn up(&self, id: u32) -> u32 {
        match self.parent[id as usize] {
            NONE => id,
            up => up,
        }
    }

    /// The strict ancestors of `id`, nearest first, the root included.
    fn ancestors(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let first = Some(self.parent[id as usize]).filter(|&p| p != NONE);
        std::iter::successors(first, |&a| {
            Some(self.parent[a as usize]).filter(|&p| p != NONE)
        })
    }
}

/// Interns up to two paths, dropping a repeated one.
fn interned<'a>(paths: &mut Paths<'a>, of: [Option<&'a str>; 2]) -> [u32; 2] {
    let first = of[0].map_or(NONE, |p| paths.intern(p));
    let second = of[1].map_or(NONE, |p| paths.intern(p));
    [first, if second == first { NONE } else { second }]
}

/// What the relation looks at of one event's op, its paths interned.
struct Touched {
    /// The paths it names (`NONE`: no path).
    named: [u32; 2],
    /// The entries it creates, removes or renames.
    changes: [u32; 2],
    /// The directory it lists.
    listing: u32,
    /// Whether it mutates what it names.
    mutating: bool,
}

impl Touched {
    fn of<'a>(paths: &mut Paths<'a>, op: &'a Op) -> Touched {
        Touched {
            named: interned(paths, named_paths(op)),
            changes: interned(paths, namespace_changes(op)),
            listing: match op {
                Op::Readdir { path } => paths.intern(path),
                _ => NONE,
            },
            mutating: mutates(op, None),
        }
    }
}

/// Earlier events by path, one [`Slot`] per interned path.
#[derive(Default)]
struct Index {
    slots: Vec<Slot>,
}

impl Index {
    /// Every list of earlier events that `t` conflicts with (an event may
    /// be in several).
    fn lists_against(&mut self, paths: &Paths, t: &Touched, mut offer: impl FnMut(&[u32])) {
        self.slots.resize_with(paths.parent.len(), Slot::default);
        let slots = &self.slots;
        for p in t.named.into_iter().filter(|&p| p != NONE) {
            // The same path, one of the two mutating.
            let slot = &slots[p as usize];
            offer(if t.mutating {
                &slot.on
            } else {
                &slot.mutated_on
            });
            // An earlier change of an entry the path goes through.
            for a in paths.ancestors(p) {
                offer(&slots[a as usize].changed_at);
            }
        }
        for c in t.changes.into_iter().filter(|&c| c != NONE) {
            // Earlier lookups through the changed entry, and listings of
            // its directory.
            offer(&slots[c as usize].below);
            offer(&slots[paths.up(c) as usize].listed);
        }
        if t.listing != NONE {
            offer(&slots[t.listing as usize].changed_in);
        }
    }

    /// Adds event `j`, which touched `t`.
    fn add(&mut self, paths: &Paths, t: &Touched, j: u32) {
        self.slots.resize_with(paths.parent.len(), Slot::default);
        for p in t.named.into_iter().filter(|&p| p != NONE) {
            let slot = &mut self.slots[p as usize];
            slot.on.push(j);
            if t.mutating {
                slot.mutated_on.push(j);
            }
            let mut up = paths.parent[p as usize];
            while up != NONE {
                self.slots[up as usize].below.push(j);
                up = paths.parent[up as usize];
            }
        }
        for c in t.changes.into_iter().filter(|&c| c != NONE) {
            self.slots[c as usize].changed_at.push(j);
            let up = paths.up(c);
            self.slots[up as usize].changed_in.push(j);
        }
        if t.listing != NONE {
            self.slots[t.listing as usize].listed.push(j);
        }
    }
}

/// Calls `found(earlier, later)` for every conflicting pair of `events`
/// (event indices, `earlier < later`), each pair once, grouped by `later`
/// ascending (the order of the earlier events within a group is not
/// specified).
pub fn for_each_conflict<E: Borrow<Event>>(events: &[E], found: impl FnMut(u32, u32)) {
    for_each_conflict_touching(events, None, found)
}

/// [`for_each_conflict`], but only the pairs of which at least one event
/// is `fresh` (indexed like `events`; `None`: every event is), at the cost
/// of the pairs found, not of all pairs: events that are not fresh only
/// look among the earlier fresh ones, in an index of their own.
pub fn for_each_conflict_touching<E: Borrow<Event>>(
    events: &[E],
    fresh: Option<&[bool]>,
    mut found: impl FnMut(u32, u32),
) {
    let mut paths = Paths::default();
    let mut all = Index::default();
    let mut fresh_only = Index::default();
    let jobs: Vec<u32> = events.iter().map(|e| e.borrow().job as u32).collect();
    // `seen[i] == j + 1` once event `i` was found for event `j`.
    let mut seen: Vec<u32> = vec![0; events.len()];
    for (j, e) in events.iter().enumerate() {
        let is_fresh = fresh.is_none_or(|f| f[j]);
        let touched = Touched::of(&mut paths, &e.borrow().op);
        let j = j as u32;
        let job = jobs[j as usize];
        let offer = |list: &[u32]| {
            for &i in list {
                if jobs[i as usize] != job && seen[i as usize] != j + 1 {
                    seen[i as usize] = j + 1;
                    found(i, j);
                }
            }
        };
        match is_fresh {
            true => all.lists_against(&paths, &touched, offer),
            false => fresh_only.lists_against(&paths, &touched, offer),
        }
        all.add(&paths, &touched, j);
        if is_fresh && fresh.is_some() {
            fresh_only.add(&paths, &touched, j);
        }
    }
}

/// Every conflicting pair `(i, j)` of `events`, `i < j`, sorted.
pub fn conflicting_events<E: Borrow<Event>>(events: &[E]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for_each_conflict(events, |i, j| pairs.push((i as usize, j as usize)));
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::OpenFlags;
    use crate::schedule::dependence::dependent;
    use crate::test_support::{any_op, ev, mkdir};
    use proptest::prelude::*;

    /// Every conflicting pair, by comparing all pairs: the specification.
    fn naive(events: &[Event]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (i, a) in events.iter().enumerate() {
            for (j, b) in events.iter().enumerate().skip(i + 1) {
                if a.job != b.job && dependent(&a.op, &b.op) {
                    out.push((i, j));
                }
            }
        }
        out
    }

    #[test]
    fn the_indexes_find_exactly_the_dependent_pairs() {
        let events = vec![
            ev(0, Op::Lstat { path: "a/d".into() }),
            ev(1, mkdir("a")),
            ev(0, mkdir("a/d")),
            ev(
                1,
                Op::Open {
                    path: "a/d/x.pyc".into(),
                    flags: OpenFlags::CREATE_NEW,
                    mode: 0o644,
                },
            ),
            ev(1, Op::Readdir { path: "a".into() }),
            ev(0, mkdir("a/e")),
            ev(1, Op::Lstat { path: "a/d".into() }),
            ev(
                1,
                Op::Rename {
                    from: "t/y".into(),
                    to: "a/d/y".into(),
                },
            ),
            ev(0, Op::Readdir { path: "a/d".into() }),
            ev(0, Op::Rmdir { path: "t".into() }),
        ];
        let expected = naive(&events);
        assert!(expected.len() >= 6, "{expected:?}");
        assert_eq!(conflicting_events(&events), expected);
    }

    proptest! {
        #[test]
        fn the_indexes_equal_all_pairs_on_random_traces(
            trace in prop::collection::vec((0usize..3, any_op()), 0..40)
        ) {
            let events: Vec<Event> = trace.into_iter().map(|(job, op)| ev(job, op)).collect();
            prop_assert_eq!(conflicting_events(&events), naive(&events));
        }

        #[test]
        fn the_pairs_touching_fresh_events_are_those_of_all_pairs(
            trace in prop::collection::vec((0usize..3, any_op(), any::<bool>()), 0..40)
        ) {
            let fresh: Vec<bool> = trace.iter().map(|t| t.2).collect();
            let events: Vec<Event> = trace.into_iter().map(|(job, op, _)| ev(job, op)).collect();
            let mut touching = Vec::new();
            for_each_conflict_touching(&events, Some(&fresh), |i, j| {
                touching.push((i as usize, j as usize))
            });
            touching.sort_unstable();
            let mut expected = naive(&events);
            expected.retain(|&(i, j)| fresh[i] || fresh[j]);
            prop_assert_eq!(touching, expected);
        }
    }
}
