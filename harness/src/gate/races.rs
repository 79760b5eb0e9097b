//! Happens-before and the reversible races of one recorded execution on the
//! gate, and where each race asks the DPOR (`gate_dpor.rs`) to backtrack.
//!
//! Happens-before is program order (the calls of one job, in release order)
//! plus every dependent pair (`dependence.rs`) of different jobs, in release
//! order, closed transitively; it is kept as one vector clock per step. Steps
//! `i < j` of different jobs *race* when they are dependent and `i` happens
//! before `j` only through that pair: no other immediate predecessor of `j`
//! (its job's previous step, or another step it depends on) comes after `i`.
//!
//! For a race `(i, j)`, let `v` be the steps after `i` that do not happen
//! after `i`, then `j`. Running one of `v`'s *initials* (the jobs of steps of
//! `v` that no earlier step of `v` happens before) at position `i` starts an
//! execution that reverses the race (source-DPOR, Abdulla et al. 2014).

use super::dependence::{dependent, Footprint};
use crate::schedule::JobId;

/// One released call, as the race analysis sees it.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its job.
    pub job: JobId,
    /// What it touched (judged with its result).
    pub footprint: Footprint,
}

/// A reversible race and the jobs that could reverse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Race {
    /// The earlier step: where the alternative goes.
    pub at: usize,
    /// The later step.
    pub with: usize,
    /// The initials of the steps that do not happen after `at`, then `with`:
    /// running one of them at `at` reverses the race. Ascending, distinct.
    pub initials: Vec<JobId>,
}

/// The vector clocks of an execution: `clock[k][job]` is how many steps of
/// `job` happen before step `k`, `k` included.
fn clocks(steps: &[Step], jobs: usize, deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut clock: Vec<Vec<usize>> = Vec::with_capacity(steps.len());
    let mut last_of_job: Vec<Option<usize>> = vec![None; jobs];
    let mut count = vec![0usize; jobs];
    for (k, s) in steps.iter().enumerate() {
        let mut c = match last_of_job[s.job] {
            Some(p) => clock[p].clone(),
            None => vec![0; jobs],
        };
        for &d in &deps[k] {
            for (x, y) in c.iter_mut().zip(&clock[d]) {
                *x = (*x).max(*y);
            }
        }
        count[s.job] += 1;
        c[s.job] = count[s.job];
        clock.push(c);
        last_of_job[s.job] = Some(k);
    }
    clock
}

/// Every reversible race of `steps` (an execution of `jobs` jobs), ordered
/// by `with` then `at`, each with its initials.
pub fn races(steps: &[Step], jobs: usize) -> Vec<Race> {
    let jobs = jobs.max(steps.iter().map(|s| s.job + 1).max().unwrap_or(0));
    // The earlier steps of other jobs each step depends on.
    let deps: Vec<Vec<usize>> = steps
        .iter()
        .enumerate()
        .map(|(j, b)| {
            (0..j)
                .filter(|&i| steps[i].job != b.job && dependent(&steps[i].footprint, &b.footprint))
                .collect()
        })
        .collect();
    let clock = clocks(steps, jobs, &deps);
    // Position of each step within its job (0-based).
    let mut seen = vec![0usize; jobs];
    let index: Vec<usize> = steps
        .iter()
        .map(|s| {
            seen[s.job] += 1;
            seen[s.job] - 1
        })
        .collect();
    let happens_before = |a: usize, b: usize| a == b || clock[b][steps[a].job] > index[a];
    let mut out = Vec::new();
    for (j, b) in steps.iter().enumerate() {
        let previous = (0..j).rev().find(|&k| steps[k].job == b.job);
        for &i in &deps[j] {
            let through_other = previous
                .iter()
                .chain(deps[j].iter().filter(|&&d| d != i))
                .any(|&k| happens_before(i, k));
            if through_other {
                continue;
            }
            // Only the first step of each job in v can be an initial (a
            // job's later steps happen after its first), and it is one when
            // no other job's first step in v happens before it.
            let mut firsts: Vec<usize> = Vec::new();
            for k in ((i + 1)..j).chain([j]) {
                let in_v = k == j || !happens_before(i, k);
                if in_v && !firsts.iter().any(|&f| steps[f].job == steps[k].job) {
                    firsts.push(k);
                }
            }
            let mut initials: Vec<JobId> = firsts
                .iter()
                .filter(|&&k| !firsts.iter().any(|&e| e < k && happens_before(e, k)))
                .map(|&k| steps[k].job)
                .collect();
            initials.sort_unstable();
            out.push(Race {
                at: i,
                with: j,
                initials,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::call::{Call, Outcome};
    use crate::gate::dependence::footprint;

    fn step(job: JobId, name: &'static str, args: &[&str]) -> Step {
        let call = Call {
            name,
            args: args.iter().map(|s| s.to_string()).collect(),
            in_prefix: true,
        };
        Step {
            job,
            footprint: footprint(&call, Some(Outcome(0))),
        }
    }

    #[test]
    fn the_serial_copy_then_import_races_only_at_the_last_change_each_read_sees() {
        // cp: mkdir M, create M/__init__.py, mkdir M/__pycache__; then python.
        let steps = vec![
            step(0, "mkdirat", &["\"M\"", "0700"]),
            step(
                0,
                "openat",
                &["\"M/__init__.py\"", "O_WRONLY|O_CREAT|O_EXCL", "0600"],
            ),
            step(0, "mkdirat", &["\"M/__pycache__\"", "0700"]),
            step(1, "newfstatat", &["\"M\"", "0x0"]),
            step(1, "openat", &["\"M/__pycache__/__init__.pyc\"", "O_RDONLY"]),
        ];
        let r = races(&steps, 2);
        // python's stat of M sees cp's last change in M (the mkdir of
        // __pycache__); every earlier cp step is ordered before it by
        // program order, so it is the only race.
        assert_eq!(
            r,
            vec![Race {
                at: 2,
                with: 3,
                initials: vec![1]
            }]
        );
    }

    #[test]
    fn reversing_the_last_race_exposes_the_earlier_one() {
        // python's stat of M ran before cp's mkdir of __pycache__: now the
        // mkdir races with python's open below it, and cp's create of
        // __init__.py with the stat.
        let steps = vec![
            step(0, "mkdirat", &["\"M\"", "0700"]),
            step(
                0,
                "openat",
                &["\"M/__init__.py\"", "O_WRONLY|O_CREAT|O_EXCL", "0600"],
            ),
            step(1, "newfstatat", &["\"M\"", "0x0"]),
            step(0, "mkdirat", &["\"M/__pycache__\"", "0700"]),
            step(1, "openat", &["\"M/__pycache__/__init__.pyc\"", "O_RDONLY"]),
        ];
        let r = races(&steps, 2);
        let pairs: Vec<(usize, usize)> = r.iter().map(|r| (r.at, r.with)).collect();
        assert_eq!(pairs, vec![(1, 2), (2, 3), (3, 4)]);
        // Reversing (mkdir __pycache__, open) runs python at step 3.
        assert_eq!(r[2].initials, vec![1]);
        // Reversing (stat M, mkdir __pycache__) runs cp at step 2.
        assert_eq!(r[1].initials, vec![0]);
    }

    #[test]
    fn a_pair_ordered_through_a_third_step_is_not_a_race() {
        // A writes x, B reads x then writes y, A reads y: (A x, B x) and
        // (B y, A y) race; A's write of x and A's read of y are one job.
        let steps = vec![
            step(0, "openat", &["\"x\"", "O_WRONLY|O_CREAT", "0600"]),
            step(1, "newfstatat", &["\"x\"", "0x0"]),
            step(1, "openat", &["\"y\"", "O_WRONLY|O_CREAT", "0600"]),
            step(2, "newfstatat", &["\"x\"", "0x0"]),
            step(2, "newfstatat", &["\"y\"", "0x0"]),
        ];
        let r = races(&steps, 3);
        let pairs: Vec<(usize, usize)> = r.iter().map(|r| (r.at, r.with)).collect();
        // C's stat of y is ordered after B's create of y, which races with it;
        // C's stat of x races with A's create (not through B: B only read x).
        assert_eq!(pairs, vec![(0, 1), (0, 3), (2, 4)]);
        // To reverse (A creates x, C stats x) at step 0, B's read of x does
        // not happen after... it does (B read x after A wrote it), so v is
        // C's steps only.
        assert_eq!(r[1].initials, vec![2]);
    }

    #[test]
    fn independent_jobs_have_no_races() {
        let steps = vec![
            step(0, "mkdirat", &["\"a\"", "0700"]),
            step(0, "openat", &["\"a/f\"", "O_WRONLY|O_CREAT", "0600"]),
            step(1, "mkdirat", &["\"b\"", "0700"]),
            step(1, "openat", &["\"b/f\"", "O_WRONLY|O_CREAT", "0600"]),
        ];
        assert!(races(&steps, 2).is_empty());
    }
}
