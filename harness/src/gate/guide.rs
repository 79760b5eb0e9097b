//! Following a model execution on the real commands (`run --model FILE
//! --token T`): the picker that releases the real calls matched to model ops
//! ([`model_step`](super::model_step)) in the model's order, and the report
//! of how closely the real run followed it.
//!
//! The rule at each decision:
//! 1. a parked call matched to model step `p` may go when every model step
//!    before `p` of *another* job has gone (or was given up); among those the
//!    lowest `p` goes, so the matched calls keep the model's order;
//! 2. otherwise a call with no model counterpart goes (start-up stats, a
//!    temporary `.pyc` name), from the job the model is waiting for first:
//!    such calls run as late as the model allows, never ahead of it;
//! 3. otherwise every job waits on a model step that did not come (the real
//!    tool took another path): the earliest missing step is given up, and the
//!    first such step is reported as the divergence.
//!
//! Releasing a matched call gives up the same job's earlier steps that had
//! no real counterpart. Nothing here depends on time: the same model steps
//! and the same parked calls give the same picks.

use std::collections::HashMap;

use super::call::Call;
use super::model_step::{agrees, call_key, CallKey, ModelStep};
use super::picker::{Offer, Picker};
use super::tracer::Released;
use crate::schedule::JobId;

/// What happened to a model step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Not yet.
    Pending,
    /// Its real counterpart was released.
    Matched,
    /// Its job went past it (or the run gave it up) without a real counterpart.
    Missed,
}

/// The picker that follows a model execution.
#[derive(Debug)]
pub struct ModelGuide {
    steps: Vec<ModelStep>,
    /// Model step index by (key, occurrence within its job).
    by_key: HashMap<(CallKey, usize), usize>,
    fate: Vec<Fate>,
    /// Real calls released so far, per key.
    seen: HashMap<CallKey, usize>,
    /// The first model step every job had to wait for and never got.
    stuck: Option<Stuck>,
}

/// The first point where every parked job waited on a model step that did
/// not come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stuck {
    /// The model step given up.
    pub step: ModelStep,
    /// What each parked job was about to do instead.
    pub parked: Vec<(JobId, String)>,
}

impl ModelGuide {
    /// A guide through `steps` (from [`model_steps`](super::model_step::model_steps)).
    pub fn new(steps: Vec<ModelStep>) -> ModelGuide {
        let mut by_key = HashMap::new();
        let mut occurrences: HashMap<&CallKey, usize> = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            let n = occurrences.entry(&s.key).or_insert(0);
            by_key.insert((s.key.clone(), *n), i);
            *n += 1;
        }
        ModelGuide {
            fate: vec![Fate::Pending; steps.len()],
            steps,
            by_key,
            seen: HashMap::new(),
            stuck: None,
        }
    }

    /// The key of a real call of `job`, and the model step it is matched to.
    fn matched(&self, job: JobId, call: &Call) -> (Option<CallKey>, Option<usize>) {
        let Some((class, path)) = call_key(call) else {
            return (None, None);
        };
        let key = CallKey { job, class, path };
        let n = self.seen.get(&key).copied().unwrap_or(0);
        let step = self
            .by_key
            .get(&(key.clone(), n))
            .copied()
            .filter(|&i| self.fate[i] == Fate::Pending);
        (Some(key), step)
    }

    /// True when no pending step before `p` belongs to another job.
    fn ready(&self, p: usize) -> bool {
        let job = self.steps[p].key.job;
        (0..p).all(|i| self.fate[i] != Fate::Pending || self.steps[i].key.job == job)
    }

    /// The earliest pending step of `job`, if any.
    fn next_of(&self, job: JobId) -> Option<usize> {
        (0..self.steps.len())
            .find(|&i| self.fate[i] == Fate::Pending && self.steps[i].key.job == job)
    }

    fn release(&mut self, job: JobId, call: &Call) {
        let (key, step) = self.matched(job, call);
        if let Some(p) = step {
            for i in 0..p {
                if self.fate[i] == Fate::Pending && self.steps[i].key.job == job {
                    self.fate[i] = Fate::Missed;
                }
            }
            self.fate[p] = Fate::Matched;
        }
        if let Some(k) = key {
            *self.seen.entry(k).or_insert(0) += 1;
        }
    }

    /// The first point where the real run could not follow the model, if any.
    pub fn stuck(&self) -> Option<&Stuck> {
        self.stuck.as_ref()
    }
}

impl Picker for ModelGuide {
    fn pick(&mut self, offers: &[Offer<'_>], _step: usize) -> Option<JobId> {
        loop {
            // 1. The matched call that comes first in the model, if it may go.
            let best = offers
                .iter()
                .filter_map(|o| self.matched(o.job, o.call).1.map(|p| (p, o)))
                .filter(|(p, _)| self.ready(*p))
                .min_by_key(|(p, _)| *p);
            if let Some((_, o)) = best {
                let (job, call) = (o.job, o.call.clone());
                self.release(job, &call);
                return Some(job);
            }
            // 2. A call the model has no counterpart for, from the job the
            //    model waits for first.
            let free = offers
                .iter()
                .filter(|o| self.matched(o.job, o.call).1.is_none())
                .min_by_key(|o| (self.next_of(o.job).unwrap_or(usize::MAX), o.job));
            if let Some(o) = free {
                let (job, call) = (o.job, o.call.clone());
                self.release(job, &call);
                return Some(job);
            }
            // 3. Everyone waits on a step that did not come: give it up.
            let missing = self.fate.iter().position(|f| *f == Fate::Pending)?;
            self.fate[missing] = Fate::Missed;
            if self.stuck.is_none() {
                self.stuck = Some(Stuck {
                    step: self.steps[missing].clone(),
                    parked: offers.iter().map(|o| (o.job, o.call.to_string())).collect(),
                });
            }
        }
    }
}

/// How closely a real run followed the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideReport {
    /// Model steps the gate can stop.
    pub model_steps: usize,
    /// Of those, how many had a real counterpart.
    pub matched: usize,
    /// Real calls released with no model counterpart.
    pub free: usize,
    /// The first matched call whose result differs from the model's.
    pub first_difference: Option<Difference>,
    /// The first model step every job waited on in vain.
    pub stuck: Option<Stuck>,
}

/// A real call whose result differs from its model step's, side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The model step.
    pub model: ModelStep,
    /// The real call's position in the release order (0-based).
    pub real_index: usize,
    /// The real call as released, with its result.
    pub real: Released,
}

impl GuideReport {
    /// Aligns the released calls of a guided run with the model steps again
    /// (the same matching the picker used) and finds the first result that
    /// differs.
    pub fn new(steps: &[ModelStep], released: &[Released], stuck: Option<Stuck>) -> GuideReport {
        let mut guide = ModelGuide::new(steps.to_vec());
        let mut matched = 0;
        let mut free = 0;
        let mut first_difference = None;
        for (real_index, r) in released.iter().enumerate() {
            match guide.matched(r.job, &r.call).1 {
                Some(p) => {
                    matched += 1;
                    if first_difference.is_none() && !agrees(steps[p].errno, r.outcome) {
                        first_difference = Some(Difference {
                            model: steps[p].clone(),
                            real_index,
                            real: r.clone(),
                        });
                    }
                }
                None => free += 1,
            }
            guide.release(r.job, &r.call);
        }
        GuideReport {
            model_steps: steps.len(),
            matched,
            free,
            first_difference,
            stuck,
        }
    }

    /// True when every matched call gave the model's result and no job had
    /// to wait for a step that never came.
    pub fn followed(&self) -> bool {
        self.first_difference.is_none() && self.stuck.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::call::Outcome;
    use crate::gate::model_step::CallClass;
    use crate::op::Errno;

    fn step(job: JobId, class: CallClass, path: &str, errno: Option<Errno>) -> ModelStep {
        ModelStep {
            key: CallKey {
                job,
                class,
                path: path.into(),
            },
            op_index: 0,
            shown: format!("{class:?}({path})"),
            errno,
        }
    }

    fn call(name: &'static str, path: &str) -> Call {
        Call::in_prefix(name, &[&format!("\"{path}\"")])
    }

    /// Runs the guide against two scripted jobs: each job's calls are
    /// released in its own order; returns the job order of the releases.
    fn drive(guide: &mut ModelGuide, jobs: &[Vec<Call>]) -> Vec<JobId> {
        let mut at = vec![0; jobs.len()];
        let mut order = Vec::new();
        for step in 0.. {
            let offers: Vec<Offer<'_>> = jobs
                .iter()
                .enumerate()
                .filter(|(j, calls)| at[*j] < calls.len())
                .map(|(j, calls)| Offer {
                    job: j,
                    call: &calls[at[j]],
                    index: at[j],
                    spins: false,
                })
                .collect();
            if offers.is_empty() {
                break;
            }
            let j = guide.pick(&offers, step).expect("a pick");
            at[j] += 1;
            order.push(j);
        }
        order
    }

    #[test]
    fn matched_calls_keep_the_model_order_and_extra_calls_wait_for_their_turn() {
        // Model: cp makes M, the import stats M and makes its cache, cp then
        // fails to make the cache.
        let steps = vec![
            step(0, CallClass::Mkdir, "M", None),
            step(1, CallClass::Stat, "M", None),
            step(1, CallClass::Mkdir, "M/__pycache__", None),
            step(0, CallClass::Mkdir, "M/__pycache__", Some(Errno::EEXIST)),
        ];
        let cp = vec![call("mkdirat", "M"), call("mkdirat", "M/__pycache__")];
        // Real python also stats site-packages first (no model counterpart).
        let py = vec![
            call("newfstatat", "."),
            call("newfstatat", "M"),
            call("mkdirat", "M/__pycache__"),
        ];
        let mut guide = ModelGuide::new(steps);
        assert_eq!(drive(&mut guide, &[cp, py]), vec![0, 1, 1, 1, 0]);
        assert_eq!(guide.stuck(), None);
    }

    #[test]
    fn a_step_that_never_comes_is_given_up_and_reported() {
        let steps = vec![
            step(1, CallClass::Stat, "M/x.py", None),
            step(0, CallClass::Mkdir, "M", None),
        ];
        // The real job 1 never stats M/x.py; it opens something else, which
        // is matched to nothing, so it goes first anyway; then it ends and
        // job 0 waits for the missing step.
        let cp = vec![call("mkdirat", "M")];
        let py = vec![call("openat", "M/y.py")];
        let mut guide = ModelGuide::new(steps);
        let order = drive(&mut guide, &[cp, py]);
        assert_eq!(order, vec![1, 0]);
        let stuck = guide.stuck().expect("stuck");
        assert_eq!(stuck.step.key.path, "M/x.py");
        assert_eq!(stuck.parked, vec![(0, "mkdirat(\"M\")".to_string())]);
    }

    #[test]
    fn the_first_result_that_differs_is_reported_side_by_side() {
        let steps = vec![
            step(0, CallClass::Mkdir, "M", None),
            step(1, CallClass::Mkdir, "M/__pycache__", None),
            step(0, CallClass::Mkdir, "M/__pycache__", Some(Errno::EEXIST)),
        ];
        let released = |job, name, path, outcome| Released {
            job,
            process: 0,
            call: call(name, path),
            outcome: Some(Outcome(outcome)),
        };
        let same = vec![
            released(0, "mkdirat", "M", 0),
            released(1, "newfstatat", ".", 0),
            released(1, "mkdirat", "M/__pycache__", 0),
            released(0, "mkdirat", "M/__pycache__", -(libc::EEXIST as i64)),
        ];
        let r = GuideReport::new(&steps, &same, None);
        assert_eq!((r.matched, r.free), (3, 1));
        assert!(r.followed());
        let mut other = same.clone();
        other[3].outcome = Some(Outcome(0));
        let r = GuideReport::new(&steps, &other, None);
        assert!(!r.followed());
        let d = r.first_difference.expect("a difference");
        assert_eq!(d.real_index, 3);
        assert_eq!(d.model.errno, Some(Errno::EEXIST));
    }
}
