//! The conflicting pairs of one execution, as event indices.
//!
//! Two events conflict when different jobs ran them and their ops are
//! dependent ([`crate::schedule::dependence::dependent`], judged without
//! results: the race-directed scheduler reverses them, so what they
//! returned in this execution says nothing about the other order). Events
//! are indexed by the paths they name, the entries they create or remove,
//! the strict ancestors of their paths and the directories they list, so
//! only plausible candidates are checked.

use std::collections::HashMap;

use crate::execution::Event;
use crate::op::Op;
use crate::schedule::dependence::{dependent, named_paths, namespace_changes, parent};

/// The strict ancestors of `path`, nearest first, the root (`""`) last.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors((!path.is_empty()).then(|| parent(path)), |p| {
        (!p.is_empty()).then(|| parent(p))
    })
}

/// Earlier events by what they touched.
#[derive(Default)]
struct Index<'a> {
    /// Events naming the path.
    on: HashMap<&'a str, Vec<usize>>,
    /// Events creating, removing or renaming the entry at the path.
    changed_at: HashMap<&'a str, Vec<usize>>,
    /// Events naming a path strictly below the path.
    below: HashMap<&'a str, Vec<usize>>,
    /// Events listing the directory.
    listed: HashMap<&'a str, Vec<usize>>,
    /// Events changing an entry of the directory.
    changed_in: HashMap<&'a str, Vec<usize>>,
}

fn extend(out: &mut Vec<usize>, from: Option<&Vec<usize>>) {
    if let Some(v) = from {
        out.extend_from_slice(v);
    }
}

/// Every conflicting pair `(i, j)` of `events`, `i < j`, sorted.
pub fn conflicting_events(events: &[Event]) -> Vec<(usize, usize)> {
    let mut index = Index::default();
    let mut pairs = Vec::new();
    let mut candidates = Vec::new();
    for (j, e) in events.iter().enumerate() {
        candidates.clear();
        let named = named_paths(&e.op);
        let changes = namespace_changes(&e.op);
        for &p in &named {
            extend(&mut candidates, index.on.get(p));
            for a in ancestors(p) {
                extend(&mut candidates, index.changed_at.get(a));
            }
        }
        for &c in &changes {
            extend(&mut candidates, index.below.get(c));
            extend(&mut candidates, index.listed.get(parent(c)));
        }
        if let Op::Readdir { path } = &e.op {
            extend(&mut candidates, index.changed_in.get(&**path));
        }
        candidates.sort_unstable();
        candidates.dedup();
        for &i in &candidates {
            if events[i].job != e.job && dependent(&events[i].op, &e.op) {
                pairs.push((i, j));
            }
        }
        for &p in &named {
            index.on.entry(p).or_default().push(j);
            for a in ancestors(p) {
                index.below.entry(a).or_default().push(j);
            }
        }
        for &c in &changes {
            index.changed_at.entry(c).or_default().push(j);
            index.changed_in.entry(parent(c)).or_default().push(j);
        }
        if let Op::Readdir { path } = &e.op {
            index.listed.entry(&**path).or_default().push(j);
        }
    }
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{OpenFlags, Value};

    fn ev(job: usize, op: Op) -> Event {
        Event {
            job,
            op,
            result: Ok(Value::Unit),
        }
    }
    fn mkdir(p: &str) -> Op {
        Op::Mkdir {
            path: p.into(),
            mode: 0o755,
        }
    }

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
}
