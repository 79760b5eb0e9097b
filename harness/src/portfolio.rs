//! Which scheduler runs each execution of an exploration.
//!
//! A [`Plan`] hands out one [`Slot`] per execution, in order. A random or
//! pct run is a plan of one kind: execution `i` gets the `i`-th stream of
//! the seed. `--scheduler directed` aims one execution at each target of
//! the race-directed work list ([`crate::directed`]), after one run in the
//! opposite job order. `--scheduler auto`, the default, interleaves a fixed
//! cycle of race-directed, random, dpor and pct executions
//! ([`AUTO_CYCLE`]): half of the executions aim at conflicts, a quarter
//! are dpor's, working towards a proof, and random and pct sample what
//! neither foresees. A kind that runs out (the work list) leaves the cycle. Every
//! slot is a function of the plan's inputs and its position, so the run
//! does not depend on the number of threads.

use std::fmt;
use std::sync::Arc;

use crate::directed::{DirectedScheduler, OppositeScheduler, Target, WorkList};
use crate::schedule::{Scheduler, SchedulerKind};

/// What runs one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// A sampling scheduler (serial, random or pct) with its stream.
    Sampled {
        /// The scheduler.
        kind: SchedulerKind,
        /// The stream: the `stream`-th execution of that scheduler.
        stream: u64,
    },
    /// The opposite-order run: the highest runnable job first.
    Opposite,
    /// The race-directed execution aimed at target `index` of the work list.
    Directed {
        /// The target's index in the work list.
        index: usize,
    },
    /// The `index`-th (0-based) execution of the sequential dpor search.
    Dpor {
        /// Its index in the search.
        index: u64,
    },
}

/// One part of the auto cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Directed,
    Random,
    Pct,
    Dpor,
}

/// The order `auto` interleaves its schedulers in; directed parts are
/// skipped once the work list is exhausted.
const AUTO_CYCLE: [Part; 8] = [
    Part::Directed,
    Part::Dpor,
    Part::Directed,
    Part::Random,
    Part::Directed,
    Part::Dpor,
    Part::Directed,
    Part::Pct,
];

/// The pct depth `auto` samples with.
pub const AUTO_PCT_DEPTH: usize = 3;

/// Hands out the slots of an exploration, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    kind: SchedulerKind,
    work_list: Arc<WorkList>,
    seed: u64,
    position: u64,
    /// Slots given per part: directed (the opposite run included), random, pct, dpor.
    given: [u64; 4],
}

impl Plan {
    /// The plan of a run of `kind` seeded with `seed`; `work_list` is used by
    /// `directed` and `auto` (empty for the others).
    pub fn new(kind: SchedulerKind, seed: u64, work_list: Arc<WorkList>) -> Plan {
        Plan {
            kind,
            work_list,
            seed,
            position: 0,
            given: [0; 4],
        }
    }

    /// The slots a directed part can still give: the opposite run, then
    /// every target.
    fn directed_left(&self) -> bool {
        self.given[0] < self.work_list.len() as u64 + 1
    }

    fn directed_slot(&mut self) -> Slot {
        let k = self.given[0];
        self.given[0] += 1;
        match k {
            0 => Slot::Opposite,
            k => Slot::Directed {
                index: k as usize - 1,
            },
        }
    }

    /// The next execution's slot; `None` when the plan has nothing left
    /// (a directed run past its work list).
    pub fn next_slot(&mut self) -> Option<Slot> {
        let i = self.position;
        self.position += 1;
        match self.kind {
            SchedulerKind::Serial | SchedulerKind::Random | SchedulerKind::Pct { .. } => {
                Some(Slot::Sampled {
                    kind: self.kind,
                    stream: i,
                })
            }
            SchedulerKind::Dpor => Some(Slot::Dpor { index: i }),
            SchedulerKind::Directed => self.directed_left().then(|| self.directed_slot()),
            SchedulerKind::Auto => loop {
                let part = AUTO_CYCLE[(self.position - 1) as usize % AUTO_CYCLE.len()];
                if part == Part::Directed && !self.directed_left() {
                    self.position += 1;
                    continue;
                }
                break Some(match part {
                    Part::Directed => self.directed_slot(),
                    Part::Random => {
                        self.given[1] += 1;
                        Slot::Sampled {
                            kind: SchedulerKind::Random,
                            stream: self.given[1] - 1,
                        }
                    }
                    Part::Pct => {
                        self.given[2] += 1;
                        Slot::Sampled {
                            kind: SchedulerKind::Pct {
                                depth: AUTO_PCT_DEPTH,
                            },
                            stream: self.given[2] - 1,
                        }
                    }
                    Part::Dpor => {
                        self.given[3] += 1;
                        Slot::Dpor {
                            index: self.given[3] - 1,
                        }
                    }
                });
            },
        }
    }

    /// True when the plan may hand out dpor slots.
    pub fn uses_dpor(&self) -> bool {
        matches!(self.kind, SchedulerKind::Auto | SchedulerKind::Dpor)
    }

    /// The scheduler of `slot` (not for dpor slots, which the dpor search
    /// runs); `jobs` and `steps` size pct's priorities and change points.
    pub fn scheduler(&self, slot: &Slot, jobs: usize, steps: usize) -> Box<dyn Scheduler> {
        match slot {
            Slot::Sampled { kind, stream } => kind.build(self.seed, *stream, jobs, steps),
            Slot::Opposite => Box::new(OppositeScheduler),
            Slot::Directed { index } => {
                Box::new(DirectedScheduler::new(self.target(*index).clone()))
            }
            Slot::Dpor { .. } => unreachable!("dpor slots are run by the dpor search"),
        }
    }

    /// Target `index` of the work list.
    pub fn target(&self, index: usize) -> &Target {
        &self.work_list.targets[index]
    }

    /// The work list.
    pub fn work_list(&self) -> &WorkList {
        &self.work_list
    }

    /// What ran `slot`, in words, for the report.
    pub fn describe(&self, slot: &Slot, labels: &[String]) -> String {
        match slot {
            Slot::Sampled { kind, stream } => {
                format!("{kind}, its execution {} of this seed", stream + 1)
            }
            Slot::Opposite => "race-directed, the opposite job order (highest job first)".into(),
            Slot::Directed { index } => format!(
                "race-directed, target {} of {} ({})",
                index + 1,
                self.work_list.len(),
                self.target(*index).describe(labels)
            ),
            Slot::Dpor { index } => format!("dpor, its execution {} of the search", index + 1),
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slot::Sampled { kind, stream } => write!(f, "{kind}#{stream}"),
            Slot::Opposite => f.write_str("opposite"),
            Slot::Directed { index } => write!(f, "directed#{index}"),
            Slot::Dpor { index } => write!(f, "dpor#{index}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: SchedulerKind, targets: usize) -> Plan {
        let mut list = WorkList::default();
        let id = crate::directed::OpId {
            job: 0,
            shape: crate::directed::OpShape {
                syscall: "mkdir",
                path: "a".into(),
                path2: None,
            },
            occurrence: 1,
        };
        for _ in 0..targets {
            list.targets.push(Target {
                aim: crate::directed::Aim::Reverse,
                hold: crate::directed::Hold::Before(id.clone()),
                exposed: id.clone(),
                racer: id.clone(),
                tier: 0,
                lead: crate::directed::Lead {
                    schedule: Arc::from(Vec::new()),
                    steps: 0,
                    then_held_first: false,
                },
            });
        }
        Plan::new(kind, 1, Arc::new(list))
    }

    #[test]
    fn auto_interleaves_then_drops_the_exhausted_work_list() {
        let mut p = plan(SchedulerKind::Auto, 2);
        let slots: Vec<String> = (0..10)
            .map(|_| p.next_slot().unwrap().to_string())
            .collect();
        assert_eq!(
            slots,
            [
                "opposite",
                "dpor#0",
                "directed#0",
                "random#0",
                "directed#1",
                "dpor#1",
                "pct:3#0",
                "dpor#2",
                "random#1",
                "dpor#3"
            ]
        );
    }

    #[test]
    fn directed_ends_with_its_work_list() {
        let mut p = plan(SchedulerKind::Directed, 1);
        assert_eq!(p.next_slot(), Some(Slot::Opposite));
        assert_eq!(p.next_slot(), Some(Slot::Directed { index: 0 }));
        assert_eq!(p.next_slot(), None);
    }

    #[test]
    fn random_slots_are_the_execution_indices() {
        let mut p = plan(SchedulerKind::Random, 0);
        for i in 0..5 {
            assert_eq!(
                p.next_slot(),
                Some(Slot::Sampled {
                    kind: SchedulerKind::Random,
                    stream: i
                })
            );
        }
    }
}
