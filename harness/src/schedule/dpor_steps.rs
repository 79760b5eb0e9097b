//! The steps of one DPOR execution as its scheduler saw them (the runnable
//! jobs, the op each offered, the sleep set, the choice), stored in O(1)
//! per step.
//!
//! A job's offer does not change until it runs: both executors
//! (`execution::execute` and `dpor/machine.rs`) keep a job's pending op
//! until it is picked. So instead of the op of every runnable job at every
//! step (O(jobs) per step: 2 × 340 MB of ops and 2 × 68 MB of job lists
//! for one execution of 1,000 one-file installs and its suspended copy),
//! every offer is stored once, with the range of steps it was offered at,
//! in its job's list; what a job offered at a step is found by binary
//! search there. A step keeps only its choice, whether that mutated, its
//! sleep set and where its new offers start. A copy therefore costs
//! O(steps + jobs), not O(steps × jobs).

use super::dependence::dependent_as;
use super::{Asleep, JobId};
use crate::op::Op;

/// The end of an offer still made at the last step recorded.
const OPEN: u32 = u32::MAX;

/// One offer: a job's op, offered at steps `from..to` (`to` is [`OPEN`]
/// while it is still offered at the last step).
#[derive(Debug, Clone)]
struct Offer {
    from: u32,
    to: u32,
    op: Op,
}

/// One step: the choice and what is known about it.
#[derive(Debug, Clone)]
struct Step {
    chosen: u32,
    /// The chosen job's offer it ran: an index into its list of offers.
    offer: u32,
    mutates: bool,
    /// Where this step's new offers start in [`DporSteps::arrivals`].
    arrivals: u32,
    sleep: Vec<Asleep>,
}

/// The steps of one execution, as the DPOR scheduler recorded them.
///
/// Steps are appended with [`DporSteps::record`] (which must see every
/// step from the first, or from the end of steps recorded before) and cut
/// back with [`DporSteps::truncate`]; what they offered is asked with
/// [`DporSteps::offered_by`].
#[derive(Debug, Clone, Default)]
pub struct DporSteps {
    steps: Vec<Step>,
    /// Per job, its offers by ascending `from`; they do not overlap.
    offers: Vec<Vec<Offer>>,
    /// The jobs of each step's new offers, step after step, each step's
    /// ascending.
    arrivals: Vec<u32>,
    /// The jobs with an [`OPEN`] offer, ascending: those still offering
    /// after the last step (runnable there and not chosen).
    open: Vec<JobId>,
    /// Scratch space for the next `open`.
    next_open: Vec<JobId>,
}

impl DporSteps {
    /// No steps yet.
    pub fn new() -> DporSteps {
        DporSteps::default()
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when no step was recorded.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Records the next step: `runnable` (ascending, not empty) could run,
    /// `offered[j]` is the op job `j` offers, `chosen` (runnable) is picked,
    /// with the sleep set `sleep` before the choice. The step is taken to
    /// mutate until [`DporSteps::set_mutates`] says otherwise.
    ///
    /// A job runnable at the step before, and not chosen there, must offer
    /// the same op (the executors keep a pending op until it runs).
    pub fn record(
        &mut self,
        runnable: &[JobId],
        offered: &[Option<Op>],
        chosen: JobId,
        sleep: Vec<Asleep>,
    ) {
        let k = self.steps.len() as u32;
        let arrivals = self.arrivals.len() as u32;
        if let Some(&max) = runnable.last() {
            if self.offers.len() <= max {
                self.offers.resize_with(max + 1, Vec::new);
            }
        }
        // Merge the open offers with the runnable jobs: offers of jobs no
        // longer runnable end here, runnable jobs without one start one.
        let mut next = std::mem::take(&mut self.next_open);
        next.clear();
        let (mut i, mut r) = (0, 0);
        while i < self.open.len() || r < runnable.len() {
            let o = self.open.get(i).copied().unwrap_or(usize::MAX);
            let j = runnable.get(r).copied().unwrap_or(usize::MAX);
            if o < j {
                let offer = self.offers[o].last_mut().expect("an open offer");
                offer.to = k;
                i += 1;
                continue;
            }
            if o == j {
                debug_assert_eq!(
                    offered[j].as_ref(),
                    Some(&self.offers[j].last().expect("an open offer").op),
                    "job {j} offered another op at step {k} without running"
                );
                i += 1;
            } else {
                let op = offered[j].clone().expect("runnable jobs offer an op");
                self.offers[j].push(Offer {
                    from: k,
                    to: OPEN,
                    op,
                });
                self.arrivals.push(j as u32);
            }
            r += 1;
            if j != chosen {
                next.push(j);
            }
        }
        let offers = &mut self.offers[chosen];
        let ran = offers.len().wrapping_sub(1);
        let offer = offers
            .get_mut(ran)
            .filter(|o| o.to == OPEN)
            .expect("the chosen job is runnable");
        offer.to = k + 1;
        self.next_open = std::mem::replace(&mut self.open, next);
        self.steps.push(Step {
            chosen: chosen as u32,
            offer: ran as u32,
            mutates: true,
            arrivals,
            sleep,
        });
    }

    /// Keeps the first `k` steps only: what is recorded next follows them.
    /// O(jobs + offers dropped).
    pub fn truncate(&mut self, k: usize) {
        if k >= self.len() {
            return;
        }
        self.arrivals.truncate(self.steps[k].arrivals as usize);
        self.steps.truncate(k);
        let last = self.steps.last().map(|s| s.chosen as usize);
        let k = k as u32;
        self.open.clear();
        for (q, offers) in self.offers.iter_mut().enumerate() {
            while offers.last().is_some_and(|o| o.from >= k) {
                offers.pop();
            }
            // Still offered after step k - 1 unless it ended before, or
            // ran there.
            if let Some(o) = offers.last_mut().filter(|o| o.to >= k) {
                if o.to > k || Some(q) != last {
                    o.to = OPEN;
                    self.open.push(q);
                }
            }
        }
    }

    /// The job picked at step `k`.
    pub fn chosen(&self, k: usize) -> JobId {
        self.steps[k].chosen as JobId
    }

    /// The jobs picked, in order (the execution's choices).
    pub fn choices(&self) -> Vec<JobId> {
        self.steps.iter().map(|s| s.chosen as JobId).collect()
    }

    /// Whether the op run at step `k` changed anything, judged with its
    /// result (see [`crate::schedule::dependence::mutates`]).
    pub fn mutates(&self, k: usize) -> bool {
        self.steps[k].mutates
    }

    /// Sets whether the op run at step `k` changed anything.
    pub fn set_mutates(&mut self, k: usize, mutates: bool) {
        self.steps[k].mutates = mutates;
    }

    /// The sleep set before the choice at step `k` (only maintained from
    /// the branch point on).
    pub fn sleep(&self, k: usize) -> &[Asleep] {
        &self.steps[k].sleep
    }

    /// Sets the sleep set before the choice at step `k`.
    pub fn set_sleep(&mut self, k: usize, sleep: Vec<Asleep>) {
        self.steps[k].sleep = sleep;
    }

    /// The op job `job` offered at step `k`, if it was runnable there.
    pub fn offered_by(&self, k: usize, job: JobId) -> Option<&Op> {
        let offers = self.offers.get(job)?;
        let k = k as u32;
        let i = offers.partition_point(|o| o.from <= k).checked_sub(1)?;
        let o = &offers[i];
        (k < o.to).then_some(&o.op)
    }

    /// True when job `job` was runnable at step `k`.
    pub fn is_enabled(&self, k: usize, job: JobId) -> bool {
        self.offered_by(k, job).is_some()
    }

    /// The jobs runnable at step `k`, ascending. O(jobs × log offers).
    pub fn enabled(&self, k: usize) -> Vec<JobId> {
        (0..self.offers.len())
            .filter(|&q| self.is_enabled(k, q))
            .collect()
    }

    /// The lowest job runnable at step `k` for which `keep` holds.
    pub fn first_enabled(&self, k: usize, keep: impl Fn(JobId) -> bool) -> Option<JobId> {
        (0..self.offers.len()).find(|&q| keep(q) && self.is_enabled(k, q))
    }

    /// The jobs runnable at step `k` that were not at step `k - 1` (all
    /// the runnable ones at step 0), ascending. O(new offers at `k`).
    pub fn newly_enabled(&self, k: usize) -> impl Iterator<Item = JobId> + '_ {
        let from = self.steps[k].arrivals as usize;
        let to = self
            .steps
            .get(k + 1)
            .map_or(self.arrivals.len(), |s| s.arrivals as usize);
        self.arrivals[from..to]
            .iter()
            .map(|&q| q as JobId)
            .filter(move |&q| k == 0 || !self.is_enabled(k - 1, q))
    }

    /// The op executed at step `k`.
    pub fn executed(&self, k: usize) -> &Op {
        let step = &self.steps[k];
        &self.offers[step.chosen as usize][step.offer as usize].op
    }

    /// The sleep set after step `k`: `sleep` without the chosen job and
    /// the jobs whose next op is dependent with the op that ran.
    pub fn sleep_after(&self, k: usize, sleep: &mut Vec<Asleep>) {
        let op = self.executed(k);
        let (chosen, mutates) = (self.chosen(k), self.mutates(k));
        sleep.retain(|a| {
            a.job != chosen
                && !self
                    .offered_by(k, a.job)
                    .is_some_and(|o| dependent_as(o, a.mutates, op, mutates))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::any_op;
    use proptest::prelude::*;

    const JOBS: usize = 4;

    /// The reference: what every step saw, in full (the representation
    /// this one replaced).
    #[derive(Debug, Clone, PartialEq)]
    struct Full {
        enabled: Vec<JobId>,
        offered: Vec<Op>,
        chosen: JobId,
        mutates: bool,
        sleep: Vec<Asleep>,
    }

    impl Full {
        fn offered_by(&self, job: JobId) -> Option<&Op> {
            let i = self.enabled.iter().position(|&j| j == job)?;
            Some(&self.offered[i])
        }
    }

    /// One generated step: the chosen job, the others runnable (a bit per
    /// job), the op a job newly runnable offers, whether the step mutates,
    /// whether its sleep set holds the job after the chosen one.
    type Raw = (usize, u8, Op, bool, bool);

    fn any_raw() -> impl Strategy<Value = Vec<Raw>> {
        prop::collection::vec(
            (0..JOBS, any::<u8>(), any_op(), any::<bool>(), any::<bool>()),
            0..40,
        )
    }

    /// Runs `raw` like an executor would (a job keeps its op until it
    /// runs; a job may also stop being runnable without running), from
    /// the state after `before` (the reference steps so far), recording
    /// into both representations.
    fn run(raw: &[Raw], full: &mut Vec<Full>, steps: &mut DporSteps) {
        // The pending ops after the steps so far.
        let mut pending: Vec<Option<Op>> = vec![None; JOBS];
        if let Some(last) = full.last() {
            for (&j, op) in last.enabled.iter().zip(&last.offered) {
                if j != last.chosen {
                    pending[j] = Some(op.clone());
                }
            }
        }
        for (chosen, others, op, mutates, sleepy) in raw {
            let runnable: Vec<JobId> = (0..JOBS)
                .filter(|&q| q == *chosen || others & (1 << q) != 0)
                .collect();
            for (q, pending) in pending.iter_mut().enumerate() {
                if !runnable.contains(&q) {
                    *pending = None;
                } else if pending.is_none() {
                    *pending = Some(op.clone());
                }
            }
            let sleep = if *sleepy {
                vec![Asleep {
                    job: (chosen + 1) % JOBS,
                    mutates: *mutates,
                }]
            } else {
                Vec::new()
            };
            steps.record(&runnable, &pending, *chosen, sleep.clone());
            steps.set_mutates(steps.len() - 1, *mutates);
            full.push(Full {
                offered: runnable
                    .iter()
                    .map(|&q| pending[q].clone().unwrap())
                    .collect(),
                enabled: runnable,
                chosen: *chosen,
                mutates: *mutates,
                sleep,
            });
            pending[*chosen] = None;
        }
    }

    /// Everything the steps answer equals what the reference says.
    fn agree(full: &[Full], steps: &DporSteps) -> Result<(), TestCaseError> {
        prop_assert_eq!(steps.len(), full.len());
        prop_assert_eq!(
            steps.choices(),
            full.iter().map(|f| f.chosen).collect::<Vec<_>>()
        );
        for (k, f) in full.iter().enumerate() {
            prop_assert_eq!(steps.chosen(k), f.chosen);
            prop_assert_eq!(steps.mutates(k), f.mutates);
            prop_assert_eq!(steps.sleep(k), &f.sleep[..]);
            prop_assert_eq!(steps.executed(k), f.offered_by(f.chosen).unwrap());
            for q in 0..JOBS + 1 {
                prop_assert_eq!(
                    steps.offered_by(k, q),
                    f.offered_by(q),
                    "step {} job {}",
                    k,
                    q
                );
            }
            prop_assert_eq!(&steps.enabled(k), &f.enabled);
            let newly: Vec<JobId> = f
                .enabled
                .iter()
                .copied()
                .filter(|q| k == 0 || !full[k - 1].enabled.contains(q))
                .collect();
            prop_assert_eq!(steps.newly_enabled(k).collect::<Vec<_>>(), newly);
            prop_assert_eq!(
                steps.first_enabled(k, |q| q % 2 == 1),
                f.enabled.iter().copied().find(|q| q % 2 == 1)
            );
            for sleeper in 0..JOBS {
                for m in [false, true] {
                    let mut got = vec![Asleep {
                        job: sleeper,
                        mutates: m,
                    }];
                    let mut want = got.clone();
                    steps.sleep_after(k, &mut got);
                    let op = f.offered_by(f.chosen).unwrap();
                    want.retain(|a| {
                        a.job != f.chosen
                            && !f
                                .offered_by(a.job)
                                .is_some_and(|o| dependent_as(o, a.mutates, op, f.mutates))
                    });
                    prop_assert_eq!(got, want);
                }
            }
        }
        Ok(())
    }

    proptest! {
        /// Recorded steps answer what the full per-step record answers;
        /// cut back to a prefix and continued with other steps (what the
        /// search does between executions), and copied, they still do.
        #[test]
        fn the_steps_agree_with_a_full_record_of_every_step(
            a in any_raw(),
            b in any_raw(),
            cut in 0usize..40,
        ) {
            let mut full = Vec::new();
            let mut steps = DporSteps::new();
            run(&a, &mut full, &mut steps);
            agree(&full, &steps)?;
            let cut = cut.min(full.len());
            full.truncate(cut);
            steps.truncate(cut);
            agree(&full, &steps)?;
            run(&b, &mut full, &mut steps);
            agree(&full, &steps)?;
            agree(&full, &steps.clone())?;
        }
    }
}
