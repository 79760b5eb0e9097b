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
    slots: Vec<Slot>,
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
        self.slots.push(Slot::default());
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

/// Calls `found(earlier, later)` for every conflicting pair of `events`
/// (event indices, `earlier < later`), each pair once, grouped by `later`
/// ascending (the order of the earlier events within a group is not
/// specified).
pub fn for_each_conflict<E: Borrow<Event>>(events: &[E], mut found: impl FnMut(u32, u32)) {
    let mut paths = Paths::default();
    let jobs: Vec<u32> = events.iter().map(|e| e.borrow().job as u32).collect();
    // `seen[i] == j + 1` once event `i` was found for event `j`.
    let mut seen: Vec<u32> = vec![0; events.len()];
    for (j, e) in events.iter().enumerate() {
        let op = &e.borrow().op;
        let j = j as u32;
        let job = jobs[j as usize];
        let named = interned(&mut paths, named_paths(op));
        let changes = interned(&mut paths, namespace_changes(op));
        let listing = match op {
            Op::Readdir { path } => paths.intern(path),
            _ => NONE,
        };
        let mutating = mutates(op, None);
        let mut offer = |list: &[u32]| {
            for &i in list {
                if jobs[i as usize] != job && seen[i as usize] != j + 1 {
                    seen[i as usize] = j + 1;
                    found(i, j);
                }
            }
        };
        let slots = &paths.slots;
        for p in named.into_iter().filter(|&p| p != NONE) {
            // The same path, one of the two mutating.
            let slot = &slots[p as usize];
            offer(if mutating { &slot.on } else { &slot.mutated_on });
            // An earlier change of an entry the path goes through.
            for a in paths.ancestors(p) {
                offer(&slots[a as usize].changed_at);
            }
        }
        for c in changes.into_iter().filter(|&c| c != NONE) {
            // Earlier lookups through the changed entry, and listings of
            // its directory.
            offer(&slots[c as usize].below);
            offer(&slots[paths.up(c) as usize].listed);
        }
        if listing != NONE {
            offer(&slots[listing as usize].changed_in);
        }
        for p in named.into_iter().filter(|&p| p != NONE) {
            let slot = &mut paths.slots[p as usize];
            slot.on.push(j);
            if mutating {
                slot.mutated_on.push(j);
            }
            let mut up = paths.parent[p as usize];
            while up != NONE {
                paths.slots[up as usize].below.push(j);
                up = paths.parent[up as usize];
            }
        }
        for c in changes.into_iter().filter(|&c| c != NONE) {
            paths.slots[c as usize].changed_at.push(j);
            let up = paths.up(c);
            paths.slots[up as usize].changed_in.push(j);
        }
        if listing != NONE {
            paths.slots[listing as usize].listed.push(j);
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
    }
}
