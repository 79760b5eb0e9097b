//! Race-directed order: which branch of the first execution to explore first.
//!
//! The target is the earliest op (by position in the first, serial
//! execution) that has, in another job, an earlier `mkdir` of a directory
//! strictly above its path which it does not follow through its own job
//! (program order or enabling); with several such `mkdir`s, the latest.
//! Reversing that pair (`notdep(mkdir)·op`) makes the op see `ENOENT` where
//! it saw a directory, which is how creator-vs-creator races (`EEXIST`) start.

use std::collections::HashMap;

use super::happens_before::HappensBefore;
use crate::op::Op;
use crate::schedule::DporSteps;

/// The strict ancestors of `path`, not counting the root.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The target of the execution `steps`: the position of the `mkdir` and the
/// events `notdep(mkdir)·op` that reverse it with the later op.
pub fn target(steps: &DporSteps, hb: &HappensBefore) -> Option<(usize, Vec<usize>)> {
    let mut mkdirs: HashMap<&str, Vec<usize>> = HashMap::new();
    for k in 0..steps.len() {
        let later = steps.executed(k);
        let mut best: Option<usize> = None;
        for dir in ancestors(later.path()) {
            let Some(found) = mkdirs.get(dir) else {
                continue;
            };
            let candidate = found
                .iter()
                .rev()
                .find(|&&j| hb.job(j) != hb.job(k) && !hb.locally_before(j, k));
            if let Some(&j) = candidate {
                best = Some(best.map_or(j, |b| b.max(j)));
            }
        }
        if let Some(j) = best {
            return Some((j, hb.reversal(j, k)));
        }
        if let Op::Mkdir { path, .. } = later {
            mkdirs.entry(path).or_default().push(k);
        }
    }
    None
}
