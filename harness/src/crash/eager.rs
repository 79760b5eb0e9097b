//! The order in which a job's ops are struck: each as early as it can
//! run.
//!
//! A fault point is a state where one job's next op is about to run. The
//! execution an exploration ran reaches that op with some ops of other
//! jobs already done that the op does not depend on (and that do not
//! depend on anything it depends on). Struck there, those ops are never
//! tried *after* the struck op, where they could meet the struck job's
//! reaction (its clean-up, its rollback, its next file). Struck in the
//! state where only what happens before the op has run, every one of
//! them is still to run, and the orders run after the fault state
//! (`crash/orders.rs`) try them before, between and after the reaction:
//! any other state the op could be struck in is that state with some of
//! them run first, and a struck op commutes with whatever the op itself
//! commutes with (it fails having changed nothing, or writes part of what
//! it would have: it depends on no more than the op does).
//!
//! Because the ops of one job are ordered among themselves, what happens
//! before one of them is part of what happens before the next; so one
//! order of the execution puts *every* op of the job right after what
//! happens before it: [`eager_order`].

use crate::dpor::HappensBefore;
use crate::schedule::JobId;

/// The picks of the execution whose happens-before is `hb`, reordered so
/// that every event of `job` comes right after the events that happen
/// before it; the other events keep their order, and those that happen
/// before none of `job`'s come last.
pub(crate) fn eager_order(hb: &HappensBefore, job: JobId, jobs: usize) -> Vec<JobId> {
    let mut order = Vec::with_capacity(hb.len());
    // Per job, how many of its events are in `order` (always a prefix of
    // its events: what happens before an event is closed under program
    // order).
    let mut placed = vec![0u32; jobs];
    let mut due = Vec::new();
    for &event in hb.events_of(job) {
        let event = event as usize;
        due.clear();
        for (q, placed) in placed.iter().enumerate() {
            let before = hb.count(event, q);
            let events = hb.events_of(q);
            due.extend_from_slice(&events[*placed as usize..before as usize]);
        }
        due.sort_unstable();
        order.extend(due.iter().map(|&e| hb.job(e as usize)));
        for (q, placed) in placed.iter_mut().enumerate() {
            *placed = (*placed).max(hb.count(event, q));
        }
    }
    order.extend(
        (0..hb.len())
            .filter(|&e| hb.seq(e) > placed[hb.job(e)])
            .map(|e| hb.job(e)),
    );
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::Op;
    use crate::schedule::{dependence::mutates, DporSteps};

    /// The happens-before of `events` (each a job and its op), every job
    /// runnable throughout (its next op offered).
    fn hb_of(events: &[(JobId, Op)], jobs: usize) -> HappensBefore {
        let mut steps = DporSteps::new();
        let mut next = vec![0usize; jobs];
        let of = |q: JobId, i: usize| events.iter().filter(|(j, _)| *j == q).nth(i);
        for (chosen, op) in events {
            let offered: Vec<Option<Op>> = (0..jobs)
                .map(|q| of(q, next[q]).map(|(_, op)| op.clone()))
                .collect();
            let runnable: Vec<JobId> = (0..jobs).filter(|&q| offered[q].is_some()).collect();
            steps.record(&runnable, &offered, *chosen, Vec::new());
            steps.set_mutates(steps.len() - 1, mutates(op, None));
            next[*chosen] += 1;
        }
        HappensBefore::new(&steps, jobs)
    }

    fn mkdir(p: &str) -> Op {
        Op::Mkdir {
            path: p.into(),
            mode: 0o755,
        }
    }

    /// Job 1's ops move in front of job 0's that they do not depend on;
    /// job 0's `a` stays before job 1's `stat a`, which depends on it; the
    /// rest keeps its order.
    #[test]
    fn each_op_of_the_job_comes_right_after_what_happens_before_it() {
        let events = [
            (0, mkdir("x")),
            (0, mkdir("a")),
            (0, mkdir("y")),
            (1, mkdir("b")),
            (1, Op::Stat { path: "a".into() }),
            (0, mkdir("z")),
            (1, mkdir("c")),
        ];
        let hb = hb_of(&events, 2);
        assert_eq!(eager_order(&hb, 1, 2), [1, 0, 0, 1, 1, 0, 0]);
        // Job 0's ops depend on none of job 1's: they keep their order,
        // job 1's come after them as they did.
        assert_eq!(eager_order(&hb, 0, 2), [0, 0, 0, 0, 1, 1, 1]);
    }
}
