//! Stateless DPOR on real processes (`run --scheduler dpor`): source-DPOR
//! with sleep sets over the calls the gate records.
//!
//! Each execution records its released calls and what every runnable job
//! offered at each decision. The search keeps the tree of decisions the
//! executions went through: at each node, the job released on each
//! explored branch (*done*), the jobs still to try (*backtrack*) and those
//! asleep. After an execution its reversible races (`races.rs`, under the
//! relation of `dependence.rs`) each add one of their initials to the
//! backtrack set of the node of the race's earlier step, unless one is there
//! already (or every runnable job when no initial was runnable there). The
//! next execution branches at a node with a job left to try: the commands
//! are re-run from the restored prefix, the recorded choices are replayed up
//! to that node, the new job is released there, and the default
//! continuation (`dpor_picker.rs`) goes on. The search is *complete* when
//! no node has a job left: every class of executions that the relation
//! tells apart has been run.
//!
//! The shallowest branch goes first (the earliest race reversed first; the
//! oldest node among equals). With a continuation that keeps running the
//! job it released, that puts a whole stretch of another command inside
//! each window before finer interleavings are tried: the cp vs python3
//! `__pycache__` race is one such window. Keeping the whole tree (rather
//! than only the current path, as a depth-first search may) is what allows
//! any order; it costs memory per step explored.
//!
//! Real processes may not repeat: a replayed step whose job offers another
//! call than it did (or none) is a *divergence*. The execution is still run
//! to its end and judged, and races before the divergence are still
//! recorded, but what ran after it does not enter the tree: the branch is
//! counted as skipped, and a search with a divergence is never called
//! complete.

use std::collections::{BTreeMap, BTreeSet};

use super::dependence::{dependent, footprint};
use super::dpor_picker::{Divergence, DporPicker, Offered};
use super::races::{races, Step};
use super::tracer::Released;
use super::verdict::label;
use crate::schedule::JobId;

/// One decision: the state reached by a prefix of choices.
#[derive(Debug, Clone)]
struct Node {
    /// The node before it, and the job released there to reach it.
    parent: Option<(usize, JobId)>,
    /// Its step (the root is step 0).
    depth: usize,
    /// What every runnable job offered there, by job.
    offers: Vec<Offered>,
    /// Jobs to try there.
    backtrack: BTreeSet<JobId>,
    /// Jobs tried there.
    done: BTreeSet<JobId>,
    /// Jobs asleep there: their call was explored at a sibling branch and
    /// nothing dependent on it has run since.
    sleep: BTreeSet<JobId>,
    /// The node each done job led to.
    children: BTreeMap<JobId, usize>,
}

impl Node {
    fn new(parent: Option<(usize, JobId)>, depth: usize, offers: Vec<Offered>) -> Node {
        Node {
            parent,
            depth,
            offers,
            backtrack: BTreeSet::new(),
            done: BTreeSet::new(),
            sleep: BTreeSet::new(),
            children: BTreeMap::new(),
        }
    }

    /// The jobs left to try: to backtrack to, not done, not asleep, runnable.
    fn left(&self) -> impl Iterator<Item = JobId> + '_ {
        self.backtrack.iter().copied().filter(|j| {
            !self.done.contains(j)
                && !self.sleep.contains(j)
                && self.offers.iter().any(|o| o.job == *j)
        })
    }

    fn offer(&self, job: JobId) -> Offered {
        self.offers
            .iter()
            .find(|o| o.job == job)
            .cloned()
            .expect("the job is runnable there")
    }
}

/// The execution the search asks for next.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The step it branches at (0 and no alternative for the first execution).
    pub at: usize,
    /// The jobs and calls to replay, the alternative last.
    pub prefix: Vec<Offered>,
    /// The sleep set after the prefix.
    pub sleep: Vec<Offered>,
}

impl Branch {
    /// The picker of this execution.
    pub fn picker(&self) -> DporPicker {
        DporPicker::new(self.prefix.clone(), self.sleep.clone())
    }

    /// `B at step 57: mkdirat("M/__pycache__", 0700)`, or `None` for the
    /// first execution.
    pub fn describe(&self) -> Option<String> {
        let alt = self.prefix.last()?;
        Some(format!(
            "{} at step {}: {}",
            label(alt.job),
            self.at,
            alt.call
        ))
    }
}

/// How far the search got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    /// Executions run.
    pub executions: u64,
    /// True when no branch is left and no execution diverged: every class
    /// the dependence relation tells apart was run.
    pub complete: bool,
    /// Branches known to be left (more may appear below them).
    pub left: usize,
    /// Executions whose commands did not follow their replayed prefix.
    pub diverged: u64,
    /// Branches not entered in the tree because their execution diverged.
    pub skipped: usize,
    /// Reversible races found, over all executions.
    pub races: usize,
}

/// The search state.
#[derive(Debug, Default)]
pub struct GateDpor {
    jobs: usize,
    nodes: Vec<Node>,
    /// Nodes that may have a job left, shallowest first.
    pending: BTreeSet<(usize, usize)>,
    started: bool,
    /// The first divergence seen, for the report.
    pub first_divergence: Option<Divergence>,
    coverage: Coverage,
}

impl GateDpor {
    /// A search over executions of `jobs` commands.
    pub fn new(jobs: usize) -> GateDpor {
        GateDpor {
            jobs,
            ..GateDpor::default()
        }
    }

    /// The next execution to run, or `None` when the search is exhausted.
    pub fn next_branch(&mut self) -> Option<Branch> {
        if !self.started {
            self.started = true;
            let first = Branch {
                at: 0,
                prefix: Vec::new(),
                sleep: Vec::new(),
            };
            return Some(first);
        }
        let (id, job) = loop {
            let &(depth, id) = self.pending.iter().next()?;
            match self.nodes[id].left().next() {
                Some(job) => break (id, job),
                None => {
                    self.pending.remove(&(depth, id));
                }
            }
        };
        let node = &self.nodes[id];
        let alternative = node.offer(job);
        // The jobs tried or asleep here stay asleep below while nothing
        // dependent on their call runs; the alternative runs first.
        let sleep: Vec<Offered> = node
            .sleep
            .union(&node.done)
            .map(|&j| node.offer(j))
            .filter(|o| !dependent(&o.footprint, &alternative.footprint))
            .collect();
        let mut prefix = vec![alternative];
        let mut at = id;
        while let Some((parent, via)) = self.nodes[at].parent {
            prefix.push(self.nodes[parent].offer(via));
            at = parent;
        }
        prefix.reverse();
        self.nodes[id].done.insert(job);
        let branch = Branch {
            at: self.nodes[id].depth,
            prefix,
            sleep,
        };
        Some(branch)
    }

    /// Takes in the execution just run with `picker`: its steps enter the
    /// tree, and its races add backtrack points.
    pub fn record(&mut self, picker: &DporPicker, released: &[Released]) {
        self.coverage.executions += 1;
        // Steps from here on are not the tree's when the replay diverged.
        let mut known = released.len();
        if let Some(d) = &picker.diverged {
            self.coverage.diverged += 1;
            self.coverage.skipped += 1;
            if self.first_divergence.is_none() {
                self.first_divergence = Some(d.clone());
            }
            known = d.step.min(known);
        }
        if released.is_empty() {
            return;
        }
        if self.nodes.is_empty() {
            let mut root = Node::new(None, 0, picker.offers[0].clone());
            root.done.insert(released[0].job);
            self.nodes.push(root);
        }
        let mut path = vec![0usize];
        for k in 1..known {
            let (here, via) = (path[k - 1], released[k - 1].job);
            let next = match self.nodes[here].children.get(&via) {
                Some(&child) => child,
                None => {
                    let id = self.nodes.len();
                    let mut node = Node::new(
                        Some((here, via)),
                        k,
                        picker.offers.get(k).cloned().unwrap_or_default(),
                    );
                    node.done.insert(released[k].job);
                    node.sleep = picker
                        .sleeps
                        .get(k)
                        .map(|s| s.iter().copied().collect())
                        .unwrap_or_default();
                    self.nodes.push(node);
                    self.nodes[here].children.insert(via, id);
                    id
                }
            };
            path.push(next);
        }
        let steps: Vec<Step> = released
            .iter()
            .map(|r| Step {
                job: r.job,
                footprint: footprint(&r.call, r.outcome),
            })
            .collect();
        let found = races(&steps, self.jobs);
        self.coverage.races += found.len();
        for race in found {
            let Some(&id) = path.get(race.at) else {
                continue;
            };
            let node = &mut self.nodes[id];
            let covered = |j: &JobId| node.backtrack.contains(j) || node.done.contains(j);
            if race.initials.iter().any(covered) {
                continue;
            }
            let runnable: Vec<JobId> = race
                .initials
                .iter()
                .copied()
                .filter(|j| node.offers.iter().any(|o| o.job == *j))
                .collect();
            let later = steps[race.with].job;
            if runnable.contains(&later) {
                node.backtrack.insert(later);
            } else if let Some(&j) = runnable.first() {
                node.backtrack.insert(j);
            } else {
                node.backtrack.extend(node.offers.iter().map(|o| o.job));
            }
            self.pending.insert((node.depth, id));
        }
    }

    /// Where the search stands.
    pub fn coverage(&self) -> Coverage {
        let left: usize = self
            .pending
            .iter()
            .map(|&(_, id)| self.nodes[id].left().count())
            .sum();
        Coverage {
            left,
            complete: left == 0 && self.coverage.diverged == 0 && self.started,
            ..self.coverage
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::call::{Call, Outcome};
    use crate::gate::picker::{Offer, Picker};

    /// A toy "real run": each job's calls in order, outcomes from a tiny
    /// namespace (mkdir fails with EEXIST on an existing path), picked by
    /// `picker`. Returns the released calls.
    fn simulate(jobs: &[Vec<Call>], picker: &mut DporPicker) -> Vec<Released> {
        let mut next = vec![0usize; jobs.len()];
        let mut exists: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        loop {
            let offers: Vec<Offer<'_>> = (0..jobs.len())
                .filter(|&j| next[j] < jobs[j].len())
                .map(|j| Offer {
                    job: j,
                    call: &jobs[j][next[j]],
                    index: next[j],
                    spins: false,
                })
                .collect();
            if offers.is_empty() {
                return out;
            }
            let job = picker.pick(&offers, out.len()).unwrap();
            let c = jobs[job][next[job]].clone();
            next[job] += 1;
            let path = c.relative_paths()[0].to_string();
            let outcome = match c.name {
                "mkdir" if !exists.insert(path.clone()) => -17,
                "mkdir" => 0,
                _ if exists.contains(&path) => 0,
                _ => -2,
            };
            out.push(Released {
                job,
                process: 0,
                call: c,
                outcome: Some(Outcome(outcome)),
            });
        }
    }

    /// Runs the whole search; returns the distinct orders of `mkdir` results
    /// seen, and the coverage.
    fn explore(jobs: &[Vec<Call>], budget: u64) -> (Vec<Vec<String>>, Coverage) {
        let mut dpor = GateDpor::new(jobs.len());
        let mut seen = Vec::new();
        for _ in 0..budget {
            let Some(branch) = dpor.next_branch() else {
                break;
            };
            let mut picker = branch.picker();
            let released = simulate(jobs, &mut picker);
            assert!(picker.diverged.is_none());
            let shown: Vec<String> = released
                .iter()
                .map(|r| format!("{}:{}={}", r.job, r.call, r.outcome.unwrap()))
                .collect();
            seen.push(shown);
            dpor.record(&picker, &released);
        }
        (seen, dpor.coverage())
    }

    #[test]
    fn two_mkdirs_of_one_path_are_run_in_both_orders_and_no_more() {
        let a = vec![Call::in_prefix("mkdir", &["\"M\""])];
        let b = vec![Call::in_prefix("mkdir", &["\"M\""])];
        let (seen, cov) = explore(&[a, b], 10);
        assert!(cov.complete, "{cov:?}");
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], ["0:mkdir(\"M\")=0", "1:mkdir(\"M\")=-1 EEXIST"]);
        assert_eq!(seen[1], ["1:mkdir(\"M\")=0", "0:mkdir(\"M\")=-1 EEXIST"]);
    }

    #[test]
    fn disjoint_jobs_need_one_execution() {
        let a = vec![
            Call::in_prefix("mkdir", &["\"a\""]),
            Call::in_prefix("mkdir", &["\"a/x\""]),
        ];
        let b = vec![
            Call::in_prefix("mkdir", &["\"b\""]),
            Call::in_prefix("mkdir", &["\"b/x\""]),
        ];
        let (seen, cov) = explore(&[a, b], 10);
        assert_eq!(seen.len(), 1);
        assert!(cov.complete);
        assert_eq!(cov.races, 0);
    }

    #[test]
    fn the_import_is_moved_before_the_pycache_mkdir_within_a_few_executions() {
        // cp: mkdir M, mkdir M/__pycache__ (EEXIST is cp's failure);
        // python: stat M, stat M/__pycache__, mkdir M/__pycache__.
        let cp = vec![
            Call::in_prefix("mkdir", &["\"M\""]),
            Call::in_prefix("newfstatat", &["\"N\""]),
            Call::in_prefix("mkdir", &["\"M/__pycache__\""]),
        ];
        let py = vec![
            Call::in_prefix("newfstatat", &["\"M\""]),
            Call::in_prefix("newfstatat", &["\"M/__pycache__\""]),
            Call::in_prefix("mkdir", &["\"M/__pycache__\""]),
        ];
        let (seen, cov) = explore(&[cp, py], 50);
        assert!(cov.complete, "{cov:?}");
        let cp_fails = |s: &Vec<String>| {
            s.iter()
                .any(|l| l == "0:mkdir(\"M/__pycache__\")=-1 EEXIST")
        };
        let first = seen
            .iter()
            .position(cp_fails)
            .expect("cp's EEXIST is reached");
        assert!(first <= 1, "{seen:#?}");
        // Every class is run exactly once: a class is fixed by how many of
        // python's steps precede cp's mkdir of M and of M/__pycache__ (cp's
        // stat of N commutes with everything): 10 placements. Dropping a
        // race's backtrack point loses some; a redundant run repeats one.
        let class = |s: &Vec<String>| {
            let before = |cp: &str| {
                s.iter()
                    .take_while(|l| !l.starts_with(cp))
                    .filter(|l| l.starts_with("1:"))
                    .count()
            };
            (
                before("0:mkdir(\"M\")"),
                before("0:mkdir(\"M/__pycache__\")"),
            )
        };
        let classes: BTreeSet<(usize, usize)> = seen.iter().map(class).collect();
        assert_eq!(classes.len(), seen.len(), "{seen:#?}");
        assert_eq!(classes.len(), 10, "{seen:#?}");
    }

    #[test]
    fn a_divergent_replay_is_reported_and_makes_the_search_incomplete() {
        let a = vec![Call::in_prefix("mkdir", &["\"M\""])];
        let b = vec![Call::in_prefix("mkdir", &["\"M\""])];
        let jobs = [a, b];
        let mut dpor = GateDpor::new(2);
        let first = dpor.next_branch().unwrap();
        let mut p = first.picker();
        let released = simulate(&jobs, &mut p);
        dpor.record(&p, &released);
        let second = dpor.next_branch().unwrap();
        assert_eq!(second.describe().unwrap(), "B at step 0: mkdir(\"M\")");
        assert_eq!(second.prefix.len(), 1);
        // The commands now offer something else at the branch.
        let other = [
            vec![Call::in_prefix("mkdir", &["\"M\""])],
            vec![Call::in_prefix("mkdir", &["\"Q\""])],
        ];
        let mut p = second.picker();
        let released = simulate(&other, &mut p);
        assert_eq!(p.diverged.as_ref().unwrap().step, 0);
        dpor.record(&p, &released);
        let cov = dpor.coverage();
        assert_eq!(cov.diverged, 1);
        assert!(!cov.complete);
        assert_eq!(cov.executions, 2);
    }
}
