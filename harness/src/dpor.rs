//! Systematic exploration with dynamic partial-order reduction.
//!
//! What is implemented (see `docs/exploration.md`): stateless source-DPOR
//! with sleep sets (Abdulla et al., POPL 2014, Algorithm 1) where each
//! detected race inserts its whole reversal sequence `notdep(e)·e'` at the
//! branch point (a wakeup *sequence*, not a merged wakeup tree), explored
//! depth-first. Every execution is re-run from scratch on a fresh filesystem
//! by forcing the branch prefix; jobs are deterministic, so this reproduces
//! the state. It is sound under the dependence relation of
//! [`crate::schedule::dependence`]; it is not optimal: an execution can end
//! sleep-set blocked (counted in `executions`, not in `classes`).
//!
//! Race-directed order: before the depth-first search, the reversals of the
//! conflicting pairs of the first execution in which the earlier op creates a
//! directory above the later op's path are tried first ("probes"), earliest
//! later op first. A two-job race whose window is one step is then found in
//! the second or third execution.

use std::collections::BTreeSet;

use crate::execution::ExecutionTrace;
use crate::op::Op;
use crate::schedule::dependence::dependent;
use crate::schedule::{DporScheduler, DporStep, JobId};
use crate::setup::Setup;

/// How many race-directed probes run before the systematic search.
pub const PROBES: usize = 2;

/// How much of the space an exploration covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Equivalence classes (Mazurkiewicz traces) explored: executions that
    /// were not sleep-set blocked and not probes.
    pub classes: u64,
    /// True when every class was explored.
    pub complete: bool,
    /// Why the run is not complete, when it is not.
    pub reason: Option<String>,
}

/// One node of the current branch of the exploration tree.
#[derive(Debug, Clone)]
struct Node {
    chosen: JobId,
    sleep: Vec<JobId>,
    done: BTreeSet<JobId>,
    wakeups: Vec<Vec<JobId>>,
}

/// One execution run by the driver.
pub struct DporRun {
    /// The trace (without events).
    pub trace: ExecutionTrace,
    /// What the scheduler saw.
    pub steps: Vec<DporStep>,
    /// Sleep-set blocked.
    pub blocked: bool,
}

/// Runs `setup` once on a fresh filesystem from `fresh`, forcing `forced`.
pub(crate) fn run_once(
    setup: &Setup,
    fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    forced: Vec<JobId>,
    sleep_from: usize,
    sleep: Vec<JobId>,
) -> crate::Result<DporRun> {
    let mut scheduler = DporScheduler::new(forced, sleep_from, sleep);
    let mut fs = fresh()?;
    let trace = setup.run(fs.as_mut(), &mut scheduler, false);
    Ok(DporRun {
        trace,
        blocked: scheduler.blocked || scheduler.diverged,
        steps: scheduler.steps,
    })
}

/// Happens-before over the events of one execution, as vector clocks.
pub(crate) struct HappensBefore {
    pub(crate) clocks: Vec<Vec<u32>>,
    seq: Vec<u32>,
    /// For each event, the clock without its cross-job dependence edges
    /// (program order and enabling only).
    local: Vec<Vec<u32>>,
    /// For each event, the earlier dependent events of other jobs.
    conflicts: Vec<Vec<usize>>,
}

impl HappensBefore {
    pub(crate) fn new(steps: &[DporStep], jobs: usize) -> HappensBefore {
        let n = steps.len();
        let mut clocks: Vec<Vec<u32>> = Vec::with_capacity(n);
        let mut local = Vec::with_capacity(n);
        let mut seq = Vec::with_capacity(n);
        let mut conflicts = Vec::with_capacity(n);
        let mut last_of: Vec<Option<usize>> = vec![None; jobs];
        let mut count = vec![0u32; jobs];
        // The event after which a job became runnable, until its next event.
        let mut enabler: Vec<Option<usize>> = vec![None; jobs];
        for k in 0..n {
            if k > 0 {
                for &q in &steps[k].enabled {
                    if !steps[k - 1].enabled.contains(&q) {
                        enabler[q] = Some(k - 1);
                    }
                }
            }
            let p = steps[k].chosen;
            let op = steps[k].executed();
            let mut c = last_of[p].map_or_else(|| vec![0; jobs], |i| clocks[i].clone());
            if let Some(e) = enabler[p].take() {
                join(&mut c, &clocks[e]);
            }
            count[p] += 1;
            c[p] = count[p];
            local.push(c.clone());
            let mut mine = Vec::new();
            for (i, s) in steps.iter().enumerate().take(k) {
                if s.chosen != p && dependent(s.executed(), op) {
                    join(&mut c, &clocks[i]);
                    mine.push(i);
                }
            }
            clocks.push(c);
            seq.push(count[p]);
            conflicts.push(mine);
            last_of[p] = Some(k);
        }
        HappensBefore {
            clocks,
            seq,
            local,
            conflicts,
        }
    }

    /// True when event `a` happens before event `b` (a < b).
    pub(crate) fn before(&self, steps: &[DporStep], a: usize, b: usize) -> bool {
        a < b && self.clocks[b][steps[a].chosen] >= self.seq[a]
    }

    /// True when `a` happens before `b` through program order and enabling
    /// of `b`'s job, ignoring `b`'s own dependence edges.
    fn locally_before(&self, steps: &[DporStep], a: usize, b: usize) -> bool {
        a < b && self.local[b][steps[a].chosen] >= self.seq[a]
    }

    /// The races of the execution: (e, e') with e' dependent on e, of
    /// different jobs, and e not happening before e' otherwise.
    fn races(&self, steps: &[DporStep]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for k in 0..steps.len() {
            let cands = &self.conflicts[k];
            for &j in cands {
                if self.locally_before(steps, j, k) {
                    continue;
                }
                let covered = cands.iter().any(|&i| i != j && self.before(steps, j, i));
                if !covered {
                    out.push((j, k));
                }
            }
        }
        out
    }

    /// The job sequence `notdep(e)·e'` that reverses the pair (e, e').
    fn reversal(&self, steps: &[DporStep], e: usize, e2: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (e + 1..e2).filter(|&i| !self.before(steps, e, i)).collect();
        v.push(e2);
        v
    }

    /// The jobs that can start `v` (events with no predecessor inside `v`).
    fn initials(&self, steps: &[DporStep], v: &[usize]) -> BTreeSet<JobId> {
        v.iter()
            .enumerate()
            .filter(|(n, &i)| !v[..*n].iter().any(|&h| self.before(steps, h, i)))
            .map(|(_, &i)| steps[i].chosen)
            .collect()
    }
}

fn join(into: &mut [u32], other: &[u32]) {
    for (a, b) in into.iter_mut().zip(other) {
        *a = (*a).max(*b);
    }
}

/// Whether `ancestor` is a strict ancestor of `path`.
fn above(ancestor: &str, path: &str) -> bool {
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path.as_bytes()[ancestor.len()] == b'/'
}

/// The race-directed probes of the first execution: reversals of pairs
/// (mkdir of a directory, a later op of another job below it), earliest later
/// op first, as job sequences forced from the start.
fn probes(steps: &[DporStep], hb: &HappensBefore) -> Vec<Vec<JobId>> {
    let mut out: Vec<Vec<JobId>> = Vec::new();
    for k in 0..steps.len() {
        let later = steps[k].executed();
        for &j in hb.conflicts[k].iter().rev() {
            let Op::Mkdir { path, .. } = steps[j].executed() else {
                continue;
            };
            if !above(path, later.path()) || hb.locally_before(steps, j, k) {
                continue;
            }
            let mut forced: Vec<JobId> = steps[..j].iter().map(|s| s.chosen).collect();
            forced.extend(hb.reversal(steps, j, k).iter().map(|&i| steps[i].chosen));
            if !out.contains(&forced) {
                out.push(forced);
            }
            if out.len() == PROBES {
                return out;
            }
        }
    }
    out
}

/// The outcome of a DPOR exploration, before the failure is replayed.
pub struct DporResult {
    /// Executions run (probes, classes and blocked ones).
    pub executions: u64,
    /// Ops executed.
    pub ops_executed: u64,
    /// Coverage.
    pub coverage: Coverage,
    /// The first failing execution's choices, with its 1-based index.
    pub failure: Option<(u64, Vec<JobId>)>,
    /// Distinct notes.
    pub notes: BTreeSet<String>,
}

/// Explores `setup` systematically within `budget` executions. `fails` judges
/// an execution (returns its notes and whether it failed).
pub fn explore(
    setup: &Setup,
    budget: u64,
    fresh: &dyn Fn() -> crate::Result<Box<dyn crate::Fs>>,
    judge: &dyn Fn(&ExecutionTrace) -> (Vec<String>, bool),
) -> crate::Result<DporResult> {
    let jobs = setup.job_count();
    let mut result = DporResult {
        executions: 0,
        ops_executed: 0,
        coverage: Coverage {
            classes: 0,
            complete: false,
            reason: None,
        },
        failure: None,
        notes: BTreeSet::new(),
    };
    let record = |run: &DporRun, result: &mut DporResult| -> bool {
        result.executions += 1;
        result.ops_executed += run.trace.schedule.choices.len() as u64;
        let (notes, failed) = judge(&run.trace);
        result.notes.extend(notes);
        if failed {
            result.failure = Some((result.executions, run.trace.schedule.choices.clone()));
        }
        failed
    };
    if budget == 0 {
        result.coverage.reason = Some("the budget (--schedules) is 0".into());
        return Ok(result);
    }
    let first = run_once(setup, fresh, Vec::new(), 0, Vec::new())?;
    result.coverage.classes += 1;
    if record(&first, &mut result) {
        result.coverage.reason = Some("stopped at the first failure".into());
        return Ok(result);
    }
    let hb = HappensBefore::new(&first.steps, jobs);
    for forced in probes(&first.steps, &hb) {
        if result.executions >= budget {
            break;
        }
        let len = forced.len();
        let run = run_once(setup, fresh, forced, len, Vec::new())?;
        if record(&run, &mut result) {
            result.coverage.reason = Some("stopped at the first failure".into());
            return Ok(result);
        }
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut run = first;
    let mut hb = hb;
    let mut from = 0;
    loop {
        for s in &run.steps[from.min(run.steps.len())..] {
            nodes.push(Node {
                chosen: s.chosen,
                sleep: s.sleep.clone(),
                done: BTreeSet::from([s.chosen]),
                wakeups: Vec::new(),
            });
        }
        for (e, e2) in hb.races(&run.steps) {
            let v = hb.reversal(&run.steps, e, e2);
            let initials = hb.initials(&run.steps, &v);
            let node = &mut nodes[e];
            let covered = initials
                .iter()
                .any(|j| node.done.contains(j) || node.sleep.contains(j))
                || node.wakeups.iter().any(|w| initials.contains(&w[0]));
            if !covered {
                node.wakeups
                    .push(v.iter().map(|&i| run.steps[i].chosen).collect());
            }
        }
        let Some(k) = nodes.iter().rposition(|n| !n.wakeups.is_empty()) else {
            result.coverage.complete = true;
            return Ok(result);
        };
        if result.executions >= budget {
            let pending: usize = nodes.iter().map(|n| n.wakeups.len()).sum();
            result.coverage.reason = Some(format!(
                "budget of {budget} executions spent with {pending} branches still to explore"
            ));
            return Ok(result);
        }
        nodes.truncate(k + 1);
        let node = &mut nodes[k];
        let v = node.wakeups.remove(0);
        let mut sleep: Vec<JobId> = node.sleep.clone();
        sleep.extend(node.done.iter().copied().filter(|j| *j != v[0]));
        sleep.sort_unstable();
        sleep.dedup();
        node.done.insert(v[0]);
        node.chosen = v[0];
        let mut forced: Vec<JobId> = nodes[..k].iter().map(|n| n.chosen).collect();
        forced.extend(v);
        run = run_once(setup, fresh, forced, k, sleep)?;
        if !run.blocked {
            result.coverage.classes += 1;
        }
        if record(&run, &mut result) {
            result.coverage.reason = Some("stopped at the first failure".into());
            return Ok(result);
        }
        from = k + 1;
        hb = HappensBefore::new(&run.steps, jobs);
    }
}
