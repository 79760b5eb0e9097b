//! The census of a walk's reference execution (`run --faults KINDS:all`):
//! how many gated syscalls each job made, and which calls a fault could
//! strike at each count, so the walk knows every point before it starts.
//!
//! A job's *segment* `K` holds what a fault asked at `JOB@K` could strike
//! (the rules of `fault_point.rs`): the reads and writes through prefix
//! descriptors it made once `K` of its gated syscalls had been released,
//! and its `K+1`-th gated syscall itself. A fault point `JOB@K:FAULT` is
//! walked when segment `K` holds a call the fault strikes (`strike.rs`),
//! so no two points strike the same call; a crash point `JOB@K` for every
//! `K` below the job's count of gated syscalls (it is then parked at its
//! `K+1`-th, where `--kill` kills it).

use std::collections::BTreeSet;

use super::strike::{strikes, Target};
use super::walk_point::{WalkKind, WalkPoint};
use crate::schedule::JobId;

/// One call a fault could strike, seen in the census.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strikable {
    /// The job that made it.
    pub job: JobId,
    /// How many of the job's gated syscalls had been released before it:
    /// its segment.
    pub after: usize,
    /// What it is for the faults.
    pub target: Target,
}

/// What the reference execution of a walk counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// Gated syscalls released per job.
    pub calls: Vec<usize>,
    /// The calls a fault could strike, in the order they were made.
    pub strikable: Vec<Strikable>,
}

impl Census {
    /// Every point of `kinds`, in the walk's order: by job, then by count
    /// of gated syscalls, then in the order of `kinds`.
    pub fn points(&self, kinds: &[WalkKind]) -> Vec<WalkPoint> {
        let mut struck: BTreeSet<(JobId, usize, usize)> = BTreeSet::new();
        for s in &self.strikable {
            for (i, kind) in kinds.iter().enumerate() {
                if let WalkKind::Fault(f) = kind {
                    if strikes(*f, s.target) {
                        struck.insert((s.job, s.after, i));
                    }
                }
            }
        }
        let mut points = Vec::new();
        for (job, &made) in self.calls.iter().enumerate() {
            let last_segment = self
                .strikable
                .iter()
                .filter(|s| s.job == job)
                .map(|s| s.after + 1)
                .max()
                .unwrap_or(0);
            for after in 0..made.max(last_segment) {
                for (i, &kind) in kinds.iter().enumerate() {
                    let walked = match kind {
                        WalkKind::Crash => after < made,
                        WalkKind::Fault(_) => struck.contains(&(job, after, i)),
                    };
                    if walked {
                        points.push(WalkPoint { job, after, kind });
                    }
                }
            }
        }
        points
    }

    /// How many points of `kind` there are among `points`.
    pub fn count_of(points: &[WalkPoint], kind: WalkKind) -> usize {
        points.iter().filter(|p| p.kind == kind).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;

    #[test]
    fn every_crash_count_and_every_segment_a_fault_strikes_is_a_point_in_the_walks_order() {
        let write = Target::Write { bytes: Some(6) };
        let census = Census {
            calls: vec![3, 1],
            strikable: vec![
                Strikable {
                    job: 0,
                    after: 1,
                    target: Target::Create,
                },
                Strikable {
                    job: 0,
                    after: 2,
                    target: write,
                },
                Strikable {
                    job: 0,
                    after: 2,
                    target: write,
                },
                // After the job's last gated call: a write before it exits.
                Strikable {
                    job: 1,
                    after: 1,
                    target: Target::Write { bytes: Some(1) },
                },
            ],
        };
        let kinds = [
            WalkKind::Crash,
            WalkKind::Fault(Fault::NoSpace),
            WalkKind::Fault(Fault::ShortWrite),
        ];
        let shown: Vec<String> = census
            .points(&kinds)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "A@0",
                "A@1",
                "A@1:enospc",
                "A@2",
                "A@2:enospc",
                "A@2:short-write",
                "B@0",
                "B@1:enospc",
            ]
        );
        let points = census.points(&kinds);
        assert_eq!(Census::count_of(&points, WalkKind::Crash), 4);
        assert!(census.points(&[]).is_empty());
        assert!(Census::default().points(&kinds).is_empty());
    }
}
