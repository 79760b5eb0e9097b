//! Sharding: splitting one exploration deterministically across machines.
//!
//! `--shard I/N` (1 ≤ I ≤ N) makes a random or PCT exploration run only the
//! executions whose 0-based index is congruent to I-1 modulo N, within the
//! same budget. Execution `i` gets the same scheduler stream in every shard,
//! so the union of the N shards is exactly the unsharded run, and a failure a
//! shard reports carries its global execution index and the same token.
//! A dpor shard runs the whole (deterministic) search and judges the
//! executions of the search it owns by the same rule (see [`crate::dpor`]).

use std::fmt;
use std::str::FromStr;

/// One shard of an exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard index, below `count`.
    index: u64,
    /// Number of shards, at least 1.
    count: u64,
}

impl Shard {
    /// The whole exploration: one shard of one.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// True for the unsharded exploration.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// The 1-based shard number `I` of `I/N`.
    pub fn number(self) -> u64 {
        self.index + 1
    }

    /// The number of shards `N` of `I/N`.
    pub fn count(self) -> u64 {
        self.count
    }

    /// True when execution `execution` (0-based) belongs to this shard.
    pub fn owns(self, execution: u64) -> bool {
        execution % self.count == self.index
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("--shard {s:?}: expected I/N with 1 <= I <= N, such as 1/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i: u64 = i.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_the_executions() {
        let shards: Vec<Shard> = ["1/3", "2/3", "3/3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        for e in 0..30u64 {
            assert_eq!(shards.iter().filter(|s| s.owns(e)).count(), 1);
        }
        assert_eq!(shards[1].to_string(), "2/3");
        for bad in ["3/2", "0/2", "1/0", "1", "a/b", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
