//! Conflicting pairs: which dependent ops of different jobs an exploration
//! saw, and which it saw in both orders.
//!
//! Two events of one execution form a *conflicting pair* when they belong to
//! different jobs and their ops are dependent
//! ([`crate::schedule::dependence::dependent`]). A pair is identified
//! independently of the schedule, by the identities of its two ops: an op's
//! identity is (job index, syscall, path(s), occurrence), where the
//! occurrence counts the earlier ops of the same job with the same syscall
//! and paths. So "cp's 2nd `mkdir` of `Cython/__pycache__`" is the same op
//! in every execution even when the ops before it shift, and a pair seen in
//! two executions in opposite orders counts as seen in both orders.
//! Identities are 64-bit FNV-1a hashes; a collision would merge two pairs
//! (about one chance in 10^10 for 10^5 pairs).
//!
//! Sharded runs carry their set in compact form (one short string per pair
//! with the first execution that ran it in each order), so that `merge` can
//! take the exact union up to the merged first failure.
//!
//! Finding the pairs of an execution does not compare all pairs of events:
//! events are indexed by the paths they name, by the entries they create or
//! remove, by the strict ancestors of their paths and by the directories
//! they list, and only the candidates those indexes give are checked with
//! `dependent`. The work is proportional to the pairs found plus the events
//! times the depth of their paths.

use std::collections::HashMap;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::execution::Event;
use crate::op::Op;
use crate::schedule::dependence::{dependent, named_paths, namespace_changes, parent};

/// How many conflicting pairs an exploration saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCounts {
    /// Distinct conflicting pairs seen in at least one execution.
    pub seen: u64,
    /// Of those, the pairs seen in both orders (possibly in different executions).
    pub both_orders: u64,
}

impl PairCounts {
    /// The report line, ending in a newline.
    pub fn text(&self) -> String {
        format!(
            "pairs: {} conflicting pairs of ops seen, {} of them in both orders\n",
            self.seen, self.both_orders
        )
    }
}

/// One conflicting pair of an execution: the two op identities, the lower
/// first, and which ran first ([`LOW_FIRST`] or [`HIGH_FIRST`]).
pub type Pair = (u64, u64, u8);

/// The op with the lower identity ran first.
pub const LOW_FIRST: u8 = 1;
/// The op with the higher identity ran first.
pub const HIGH_FIRST: u8 = 2;

/// The conflicting pairs seen over many executions, each with the first
/// execution (1-based) that ran it in each order (0: never).
#[derive(Debug, Clone, Default)]
pub struct PairSet {
    /// Keyed by identities, which are hashes already: the word-at-a-time
    /// hasher is enough (FNV's byte loop cost a third of a counted run).
    first: HashMap<(u64, u64), [u64; 2], Fast>,
}

impl PairSet {
    /// Adds the pairs of execution `execution` (1-based). Executions may be
    /// added in any order; the earliest one is kept.
    pub fn add(&mut self, execution: u64, pairs: &[Pair]) {
        for &(low, high, order) in pairs {
            let first = self.first.entry((low, high)).or_insert([0, 0]);
            let slot = &mut first[usize::from(order == HIGH_FIRST)];
            if *slot == 0 || execution < *slot {
                *slot = execution;
            }
        }
    }

    /// The counts over executions up to `cutoff` (1-based, inclusive; all
    /// when `None`). The map is only counted, never iterated into output.
    pub fn counts_up_to(&self, cutoff: Option<u64>) -> PairCounts {
        let within = |e: u64| e != 0 && cutoff.is_none_or(|c| e <= c);
        let mut counts = PairCounts::default();
        for [a, b] in self.first.values() {
            match (within(*a), within(*b)) {
                (true, true) => {
                    counts.seen += 1;
                    counts.both_orders += 1;
                }
                (true, false) | (false, true) => counts.seen += 1,
                (false, false) => {}
            }
        }
        counts
    }

    /// The counts over every execution added.
    pub fn counts(&self) -> PairCounts {
        self.counts_up_to(None)
    }

    /// The set in its compact report form, sorted: one string per pair,
    /// `LOW-HIGH:A:B` with the two op identities in hex and the first
    /// executions that ran them low-first (A) and high-first (B), 0 for never.
    pub fn to_compact(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .first
            .iter()
            .map(|((low, high), [a, b])| format!("{low:016x}-{high:016x}:{a}:{b}"))
            .collect();
        out.sort_unstable();
        out
    }

    /// Adds pairs in the form [`PairSet::to_compact`] writes; `Err` names
    /// the entry that does not parse.
    pub fn add_compact(&mut self, entries: &[String]) -> Result<(), String> {
        self.add_compact_as(entries, |e| e)
    }

    /// Like [`PairSet::add_compact`], with each (nonzero) execution number
    /// of the entries replaced by `global(number)`: a dpor shard numbers
    /// the executions it judged 1, 2, …, which `merge` turns into their
    /// indices in the whole search.
    pub fn add_compact_as(
        &mut self,
        entries: &[String],
        global: impl Fn(u64) -> u64,
    ) -> Result<(), String> {
        for entry in entries {
            let bad = || format!("{entry:?}: expected LOW-HIGH:A:B");
            let (ids, firsts) = entry.split_once(':').ok_or_else(bad)?;
            let (low, high) = ids.split_once('-').ok_or_else(bad)?;
            let (a, b) = firsts.split_once(':').ok_or_else(bad)?;
            let low = u64::from_str_radix(low, 16).map_err(|_| bad())?;
            let high = u64::from_str_radix(high, 16).map_err(|_| bad())?;
            let a: u64 = a.parse().map_err(|_| bad())?;
            let b: u64 = b.parse().map_err(|_| bad())?;
            if a != 0 {
                self.add(global(a), &[(low, high, LOW_FIRST)]);
            }
            if b != 0 {
                self.add(global(b), &[(low, high, HIGH_FIRST)]);
            }
        }
        Ok(())
    }
}

/// FNV-1a, 64 bits: stable across runs, platforms and Rust versions.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

use crate::fast_hash::Fast;

/// Feeds `h` what the pairs of an execution see of `op`: its syscall, its
/// paths and, for `open`, its flags (what [`dependent`] and op identities
/// look at), and not its descriptor, mode or bytes. Two executions whose
/// jobs ran ops of equal shapes, in each job's order, have the same pairs
/// across any later boundary ([`crate::tail`]).
pub fn hash_pair_shape<H: Hasher>(op: &Op, h: &mut H) {
    h.write(op.syscall().as_bytes());
    h.write(op.path().as_bytes());
    if let Some(to) = op.path2() {
        h.write(to.as_bytes());
    }
    if let Op::Open { flags, .. } = op {
        std::hash::Hash::hash(flags, h);
    }
}

/// The identity of the `occurrence`-th op like `op` of job `job`.
fn op_identity(job: usize, op: &Op, occurrence: u32) -> u64 {
    let mut h = FnvHasher::default();
    h.write(&(job as u64).to_le_bytes());
    h.write(op.syscall().as_bytes());
    h.write(&[0]);
    h.write(op.path().as_bytes());
    if let Some(to) = op.path2() {
        h.write(&[0]);
        h.write(to.as_bytes());
    }
    h.write(&occurrence.to_le_bytes());
    h.finish()
}

/// Events of one execution, by job (only other jobs' events can pair).
#[derive(Default)]
struct ByJob(Vec<Vec<u32>>);

impl ByJob {
    fn put(&mut self, job: usize, event: u32) {
        if self.0.len() <= job {
            self.0.resize_with(job + 1, Vec::new);
        }
        self.0[job].push(event);
    }

    /// Appends the events of every job but `job` to `out`.
    fn others(&self, job: usize, out: &mut Vec<u32>) {
        for (j, events) in self.0.iter().enumerate() {
            if j != job {
                out.extend_from_slice(events);
            }
        }
    }
}

/// What the events of one execution did at one path.
#[derive(Default)]
struct Slot {
    /// Events naming the path.
    on: ByJob,
    /// Mutating events naming the path.
    mutated_on: ByJob,
    /// Events creating, removing or renaming the entry at the path.
    changed_at: ByJob,
    /// Events naming a path strictly below the path.
    below: ByJob,
    /// Events creating, removing or renaming an entry of the directory.
    changed_in: ByJob,
    /// Events listing the directory.
    listed: ByJob,
}

/// The paths of one execution, interned with their parents, so that
/// walking up a path costs no hashing.
#[derive(Default)]
struct Paths<'a> {
    ids: HashMap<&'a str, u32, Fast>,
    parent: Vec<Option<u32>>,
    slots: Vec<Slot>,
}

impl<'a> Paths<'a> {
    fn intern(&mut self, path: &'a str) -> u32 {
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        let up = (!path.is_empty()).then(|| self.intern(parent(path)));
        let id = self.parent.len() as u32;
        self.parent.push(up);
        self.slots.push(Slot::default());
        self.ids.insert(path, id);
        id
    }

    /// The directory holding `id` (the root holds itself, like `parent("")`).
    fn up(&self, id: u32) -> u32 {
        self.parent[id as usize].unwrap_or(id)
    }

    /// The strict ancestors of `id`, the root included.
    fn ancestors(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(self.parent[id as usize], |a| self.parent[*a as usize])
    }
}

/// The conflicting pairs of one execution, in the order they complete.
pub fn execution_pairs(events: &[Event]) -> Vec<Pair> {
    let mut paths = Paths::default();
    // Occurrence numbers count ops of the same job, syscall and paths; the
    // (hashing) identity is only computed for events that pair.
    let mut counts: HashMap<(usize, &'static str, u32, u32), u32, Fast> = HashMap::default();
    let mut occurrence: Vec<u32> = Vec::with_capacity(events.len());
    let mut ids: Vec<Option<u64>> = vec![None; events.len()];
    let mut identity = |i: usize, occurrence: &[u32]| -> u64 {
        *ids[i].get_or_insert_with(|| op_identity(events[i].job, &events[i].op, occurrence[i]))
    };
    let mut pairs = Vec::new();
    let mut candidates: Vec<u32> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        candidates.clear();
        let first = paths.intern(e.op.path());
        let second = e.op.path2().map_or(u32::MAX, |p| paths.intern(p));
        let n = counts
            .entry((e.job, e.op.syscall(), first, second))
            .or_insert(0);
        *n += 1;
        occurrence.push(*n);
        let named: Vec<u32> = named_paths(&e.op)
            .into_iter()
            .map(|p| paths.intern(p))
            .collect();
        let changes: Vec<u32> = namespace_changes(&e.op)
            .into_iter()
            .map(|p| paths.intern(p))
            .collect();
        let listing = match &e.op {
            Op::Readdir { path } => Some(paths.intern(path)),
            _ => None,
        };
        let mutates = e.op.is_mutation();
        let slots = &paths.slots;
        let job = e.job;
        for &p in &named {
            let slot = &slots[p as usize];
            let same_path = if mutates { &slot.on } else { &slot.mutated_on };
            same_path.others(job, &mut candidates);
            for a in paths.ancestors(p) {
                slots[a as usize].changed_at.others(job, &mut candidates);
            }
        }
        for &c in &changes {
            slots[c as usize].below.others(job, &mut candidates);
            slots[paths.up(c) as usize]
                .listed
                .others(job, &mut candidates);
        }
        if let Some(d) = listing {
            slots[d as usize].changed_in.others(job, &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        for &j in &candidates {
            let earlier = &events[j as usize];
            if dependent(&earlier.op, &e.op) {
                let (a, b) = (identity(j as usize, &occurrence), identity(i, &occurrence));
                pairs.push(if a < b {
                    (a, b, LOW_FIRST)
                } else {
                    (b, a, HIGH_FIRST)
                });
            }
        }
        let i = i as u32;
        for &p in &named {
            let slot = &mut paths.slots[p as usize];
            slot.on.put(job, i);
            if mutates {
                slot.mutated_on.put(job, i);
            }
            let mut up = paths.parent[p as usize];
            while let Some(a) = up {
                paths.slots[a as usize].below.put(job, i);
                up = paths.parent[a as usize];
            }
        }
        for &c in &changes {
            paths.slots[c as usize].changed_at.put(job, i);
            let up = paths.up(c);
            paths.slots[up as usize].changed_in.put(job, i);
        }
        if let Some(d) = listing {
            paths.slots[d as usize].listed.put(job, i);
        }
    }
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
    fn lstat(p: &str) -> Op {
        Op::Lstat { path: p.into() }
    }
    fn open(p: &str) -> Op {
        Op::Open {
            path: p.into(),
            flags: OpenFlags::READ,
            mode: 0,
        }
    }

    /// Every conflicting pair, by comparing all pairs: the specification.
    fn naive(events: &[Event]) -> usize {
        let mut n = 0;
        for (i, a) in events.iter().enumerate() {
            for b in &events[i + 1..] {
                if a.job != b.job && dependent(&a.op, &b.op) {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn the_indexes_find_exactly_the_dependent_pairs() {
        let events = vec![
            ev(0, lstat("a/d")),
            ev(1, mkdir("a")),
            ev(0, mkdir("a/d")),
            ev(1, open("a/d/x.pyc")),
            ev(1, Op::Readdir { path: "a".into() }),
            ev(0, mkdir("a/e")),
            ev(1, lstat("a/d")),
            ev(0, lstat("a/d")),
            ev(
                1,
                Op::Rename {
                    from: "t/y".into(),
                    to: "a/d/y".into(),
                },
            ),
            ev(0, Op::Readdir { path: "a/d".into() }),
        ];
        assert_eq!(execution_pairs(&events).len(), naive(&events));
        assert!(naive(&events) >= 6);
    }

    #[test]
    fn a_pair_seen_in_both_orders_counts_once_with_both_orders() {
        let forward = vec![ev(0, mkdir("a")), ev(1, lstat("a")), ev(1, lstat("b"))];
        let backward = vec![ev(1, lstat("a")), ev(0, mkdir("a")), ev(1, lstat("b"))];
        let mut set = PairSet::default();
        set.add(1, &execution_pairs(&forward));
        assert_eq!(
            set.counts(),
            PairCounts {
                seen: 1,
                both_orders: 0
            }
        );
        set.add(2, &execution_pairs(&backward));
        assert_eq!(
            set.counts(),
            PairCounts {
                seen: 1,
                both_orders: 1
            }
        );
        assert_eq!(set.counts_up_to(Some(1)).both_orders, 0);
        let mut copy = PairSet::default();
        copy.add_compact(&set.to_compact()).unwrap();
        assert_eq!(copy.to_compact(), set.to_compact());
        assert!(copy.add_compact(&["nonsense".to_string()]).is_err());
    }

    #[test]
    fn occurrences_tell_repeated_ops_apart() {
        let events = vec![ev(0, mkdir("a")), ev(1, lstat("a")), ev(1, lstat("a"))];
        let mut set = PairSet::default();
        set.add(1, &execution_pairs(&events));
        assert_eq!(set.counts().seen, 2);
    }
}
