//! Race-directed search on real processes (`run --scheduler auto`, and
//! `dpor` on the gate): executions aimed at the conflicting pairs of prefix
//! syscalls the serial reference recorded, before any random one.
//!
//! Two calls of different commands *conflict* when their paths are the same
//! or one lies below the other, and at least one of them changes the
//! namespace or a file (mkdir, unlink, rename, rmdir, truncate, an `O_CREAT`
//! open, symlink, link, chmod, utimensat...). For each destructive call `a`
//! of job X that conflicts with some call of another job Y, one plan:
//! **run X alone up to `a`, hold it there, run Y alone until it finishes or
//! cannot move, then let X go on**. So everything Y does on that path lands
//! inside X's window just before `a`, and `a` meets the state Y left: the
//! order of the pair is reversed with respect to the serial reference, where
//! X ran entirely first (or Y's ops land after X's `a` when Y is the held
//! job). This is the shape of SageMath 32361: cp held just before
//! `mkdir(M/__pycache__)` while the import creates it.
//!
//! Plans are ranked: directories made or removed first (mkdir, rmdir), then
//! renames and unlinks, then exclusive creates, then the rest; deeper paths
//! first (the window nearest the files the other command reads); later
//! calls first. Jobs take turns as the held one. A held call is recognized
//! by its rendered text, or failing that by its position in the job's
//! calls (temporary names come from the execution's entropy and differ from
//! the reference's).

use super::call::Call;
use super::picker::{Offer, Picker};
use super::tracer::Released;
use crate::schedule::JobId;

/// One directed execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The job held.
    pub hold: JobId,
    /// The call it is held before, as rendered.
    pub before: String,
    /// Its position among the job's calls in the serial reference.
    pub position: usize,
    /// How many steps the other jobs may take while it is held.
    pub budget: usize,
    /// For a window plan: the held job goes on as soon as another job has
    /// made this destructive call (by name) on the held call's path, so the
    /// other job's later calls (re-creating the file) come after it.
    pub until: Option<Racer>,
}

/// The call that closes a window plan's hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Racer {
    /// The syscall name (`unlink`, `rename`, ...).
    pub name: &'static str,
    /// The prefix-relative path it acts on.
    pub path: String,
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "hold {} before {}",
            super::verdict::label(self.hold),
            self.before
        )?;
        if let Some(r) = &self.until {
            write!(f, " until another job's {}(\"{}\")", r.name, r.path)?;
        }
        Ok(())
    }
}

/// How strongly a call changes what others see at its path: 0 strongest,
/// `None` for a call that only reads.
fn destructive_rank(call: &Call) -> Option<u8> {
    let flags = call.args.iter().find(|a| a.starts_with("O_"));
    match call.name {
        "mkdir" | "mkdirat" | "rmdir" => Some(0),
        "rename" | "renameat" | "renameat2" | "unlink" | "unlinkat" => Some(1),
        "open" | "openat" | "openat2" | "creat" => match flags {
            Some(f) if f.contains("O_EXCL") => Some(2),
            Some(f) if f.contains("O_CREAT") || f.contains("O_TRUNC") => Some(3),
            None if call.name == "creat" => Some(3),
            _ => None,
        },
        "truncate" | "symlink" | "symlinkat" | "link" | "linkat" => Some(3),
        "chmod" | "fchmodat" | "fchmodat2" | "utimensat" | "chown" | "lchown" | "fchownat" => {
            Some(4)
        }
        _ => None,
    }
}

/// The prefix-relative paths a call names (quoted arguments and `<fd>`s).
fn paths(call: &Call) -> Vec<String> {
    call.relative_paths()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// True when `a` is `b`, or one lies below the other (`.` is above all).
fn related(a: &str, b: &str) -> bool {
    let below = |x: &str, y: &str| x == "." || y.starts_with(&format!("{x}/"));
    a == b || below(a, b) || below(b, a)
}

/// True for a call that removes or replaces what is at its (first) path:
/// the racer of a window.
fn removes(call: &Call) -> bool {
    matches!(
        call.name,
        "unlink" | "unlinkat" | "rmdir" | "rename" | "renameat" | "renameat2"
    )
}

/// True for a call that creates its (first) path.
fn creates(call: &Call) -> bool {
    matches!(destructive_rank(call), Some(0 | 2 | 3)) && !removes(call)
}

/// Window plans: job X created a path and later acts on it again (chmod,
/// rename, open, stat...); another job Y removes or replaces that path. Hold
/// X before the later call until Y has removed the path, then let X go on at
/// once: X meets the path gone (SageMath 33060: pip A's `chmod` of an
/// extension module another pip has just unlinked). One plan per (X, path),
/// for its best follow-up by path (not through a descriptor): follow-ups
/// that change the path rank first, later ones first within a rank.
fn window_plans(reference: &[Vec<Released>], budget: usize) -> Vec<Vec<Plan>> {
    reference
        .iter()
        .enumerate()
        .map(|(x, calls)| {
            let mut mine: Vec<((bool, u8), Plan)> = Vec::new();
            for (position, r) in calls.iter().enumerate().rev() {
                // A call through a descriptor still reaches the unlinked file.
                if r.call.args.iter().any(|a| a.starts_with('<')) {
                    continue;
                }
                let Some(path) = paths(&r.call).into_iter().next() else {
                    continue;
                };
                let created_before = calls[..position]
                    .iter()
                    .any(|c| creates(&c.call) && paths(&c.call).first() == Some(&path));
                if !created_before {
                    continue;
                }
                let racer = reference
                    .iter()
                    .enumerate()
                    .filter(|(y, _)| *y != x)
                    .flat_map(|(_, c)| c.iter())
                    .find(|c| removes(&c.call) && paths(&c.call).first() == Some(&path));
                if let Some(racer) = racer {
                    // Bytecode last: pip and CPython swallow errors while
                    // writing it (install-semantics.md).
                    let bytecode = path.contains("__pycache__");
                    let rank = (bytecode, destructive_rank(&r.call).unwrap_or(u8::MAX));
                    mine.push((
                        rank,
                        Plan {
                            hold: x,
                            before: r.call.to_string(),
                            position,
                            budget,
                            until: Some(Racer {
                                name: racer.call.name,
                                path,
                            }),
                        },
                    ));
                }
            }
            // Calls that change the path first (a chmod fails on a path that
            // is gone), then plain reads, bytecode last; later calls first
            // within a rank; one plan per path.
            mine.sort_by_key(|(rank, _)| *rank);
            let mut seen = std::collections::BTreeSet::new();
            mine.into_iter()
                .map(|(_, p)| p)
                .filter(|p| seen.insert(p.until.as_ref().map(|u| u.path.clone())))
                .collect()
        })
        .collect()
}

/// The plans for the serial reference's calls, best first: window plans
/// (jobs taking turns), then hold plans job by job.
pub fn plans(reference: &[Vec<Released>]) -> Vec<Plan> {
    let steps: Vec<usize> = reference.iter().map(Vec::len).collect();
    let mut per_job: Vec<Vec<(u8, usize, usize, Plan)>> = Vec::new();
    for (x, calls) in reference.iter().enumerate() {
        let others: Vec<String> = reference
            .iter()
            .enumerate()
            .filter(|(y, _)| *y != x)
            .flat_map(|(_, c)| c.iter().flat_map(|r| paths(&r.call)))
            .collect();
        let budget = 4 * steps.iter().sum::<usize>() + 1000;
        let mut mine = Vec::new();
        for (position, r) in calls.iter().enumerate() {
            let Some(rank) = destructive_rank(&r.call) else {
                continue;
            };
            let ps = paths(&r.call);
            if !ps.iter().any(|p| others.iter().any(|o| related(p, o))) {
                continue;
            }
            let depth = ps.iter().map(|p| p.matches('/').count()).max().unwrap_or(0);
            let before = r.call.to_string();
            if mine
                .iter()
                .any(|(_, _, _, p): &(u8, usize, usize, Plan)| p.before == before)
            {
                continue;
            }
            mine.push((
                rank,
                depth,
                position,
                Plan {
                    hold: x,
                    before,
                    position,
                    budget,
                    until: None,
                },
            ));
        }
        mine.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
        per_job.push(mine);
    }
    // Jobs take turns.
    let budget = 4 * steps.iter().sum::<usize>() + 1000;
    let mut out = Vec::new();
    let windows = window_plans(reference, budget);
    let longest = windows.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for job in &windows {
            if let Some(p) = job.get(i) {
                out.push(p.clone());
            }
        }
    }
    let longest = per_job.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for job in &per_job {
            if let Some((_, _, _, p)) = job.get(i) {
                out.push(p.clone());
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The held job runs first, up to the held call.
    Approach,
    /// The held job waits; the others run.
    Holding { spent: usize },
    /// Everyone goes on, lowest job first.
    Done,
}

/// The picker of one plan.
#[derive(Debug)]
pub struct Directed {
    plan: Plan,
    phase: Phase,
}

impl Directed {
    /// The picker following `plan`.
    pub fn new(plan: Plan) -> Directed {
        Directed {
            plan,
            phase: Phase::Approach,
        }
    }
}

impl Picker for Directed {
    fn pick(&mut self, offers: &[Offer<'_>], _step: usize) -> Option<JobId> {
        let hold = self.plan.hold;
        let held = offers.iter().find(|o| o.job == hold);
        if self.phase == Phase::Approach {
            if let Some(o) = held {
                let at = o.call.to_string() == self.plan.before || o.index >= self.plan.position;
                if at {
                    self.phase = Phase::Holding { spent: 0 };
                } else {
                    return Some(hold);
                }
            }
        }
        if let Phase::Holding { spent } = self.phase {
            let other = offers.iter().find(|o| o.job != hold);
            match other {
                Some(o) if spent < self.plan.budget => {
                    let closes = self.plan.until.as_ref().is_some_and(|u| {
                        o.call.name == u.name && paths(o.call).first() == Some(&u.path)
                    });
                    self.phase = if closes {
                        Phase::Done
                    } else {
                        Phase::Holding { spent: spent + 1 }
                    };
                    return Some(o.job);
                }
                _ => self.phase = Phase::Done,
            }
        }
        // Approach with the held job not runnable, or done: lowest job first.
        Some(held.map_or(offers[0].job, |o| o.job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::call::Outcome;

    fn call(job: JobId, name: &'static str, args: &[&str]) -> Released {
        Released {
            job,
            process: 0,
            call: Call {
                name,
                args: args.iter().map(|s| s.to_string()).collect(),
                in_prefix: true,
            },
            outcome: Some(Outcome(0)),
        }
    }

    #[test]
    fn the_copy_is_held_first_before_the_deepest_mkdir_the_import_reads_under() {
        let cp = vec![
            call(0, "mkdirat", &["\"M\"", "0700"]),
            call(
                0,
                "openat",
                &["\"M/__init__.py\"", "O_WRONLY|O_CREAT|O_EXCL", "0600"],
            ),
            call(0, "mkdirat", &["\"M/__pycache__\"", "0700"]),
            call(0, "mkdirat", &["\"N\"", "0700"]),
        ];
        let py = vec![
            call(1, "newfstatat", &["\"M/__init__.py\"", "0x0"]),
            call(
                1,
                "openat",
                &["\"M/__pycache__/__init__.pyc\"", "O_RDONLY|O_CLOEXEC"],
            ),
        ];
        let plans = plans(&[cp, py]);
        assert_eq!(plans[0].hold, 0);
        assert_eq!(plans[0].before, "mkdirat(\"M/__pycache__\", 0700)");
        assert_eq!(plans[1].before, "mkdirat(\"M\", 0700)");
        // N is touched by nobody else; python only reads.
        assert!(plans.iter().all(|p| !p.before.contains("\"N\"")));
        assert!(plans.iter().all(|p| p.hold == 0));
    }

    #[test]
    fn a_window_plan_holds_a_chmod_until_the_other_pip_unlinks_the_file() {
        let so = "\"M/_speedups.so\"";
        let a = vec![
            call(
                0,
                "openat",
                &[so, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", "0666"],
            ),
            call(0, "chmod", &[so, "0755"]),
        ];
        let b = vec![
            call(1, "newfstatat", &[so, "0x0"]),
            call(1, "unlink", &[so]),
            call(
                1,
                "openat",
                &[so, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", "0666"],
            ),
            call(1, "chmod", &[so, "0755"]),
        ];
        let plans = plans(&[a, b]);
        assert_eq!(plans[0].hold, 0);
        assert_eq!(plans[0].before, "chmod(\"M/_speedups.so\", 0755)");
        assert_eq!(
            plans[0].to_string(),
            "hold A before chmod(\"M/_speedups.so\", 0755) until another job's unlink(\"M/_speedups.so\")"
        );
        // The picker lets B go up to its unlink, then A at once.
        let mut d = Directed::new(plans[0].clone());
        let mk = |name: &'static str, args: &[&str]| Call {
            name,
            args: args.iter().map(|s| s.to_string()).collect(),
            in_prefix: true,
        };
        let a_open = mk(
            "openat",
            &[so, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", "0666"],
        );
        let a_chmod = mk("chmod", &[so, "0755"]);
        let b_stat = mk("newfstatat", &[so, "0x0"]);
        let b_unlink = mk("unlink", &[so]);
        let b_open = mk(
            "openat",
            &[so, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", "0666"],
        );
        let offer = |job, call, index| Offer {
            job,
            call,
            index,
            spins: false,
        };
        assert_eq!(
            d.pick(&[offer(0, &a_open, 0), offer(1, &b_stat, 0)], 0),
            Some(0)
        );
        assert_eq!(
            d.pick(&[offer(0, &a_chmod, 1), offer(1, &b_stat, 0)], 1),
            Some(1)
        );
        assert_eq!(
            d.pick(&[offer(0, &a_chmod, 1), offer(1, &b_unlink, 1)], 2),
            Some(1)
        );
        assert_eq!(
            d.pick(&[offer(0, &a_chmod, 1), offer(1, &b_open, 2)], 3),
            Some(0)
        );
    }

    #[test]
    fn the_picker_runs_the_held_job_to_its_call_then_the_others() {
        let plan = Plan {
            hold: 0,
            before: "mkdir(\"M/__pycache__\")".into(),
            position: 99,
            budget: 2,
            until: None,
        };
        let mut d = Directed::new(plan);
        let mk = |name: &'static str, p: &str| Call {
            name,
            args: vec![format!("\"{p}\"")],
            in_prefix: true,
        };
        let a1 = mk("mkdir", "M");
        let a2 = mk("mkdir", "M/__pycache__");
        let b = mk("stat", "M");
        let offer = |job, call, index| Offer {
            job,
            call,
            index,
            spins: false,
        };
        assert_eq!(d.pick(&[offer(0, &a1, 0), offer(1, &b, 0)], 0), Some(0));
        assert_eq!(d.pick(&[offer(0, &a2, 1), offer(1, &b, 0)], 1), Some(1));
        assert_eq!(d.pick(&[offer(0, &a2, 1), offer(1, &b, 1)], 2), Some(1));
        // Budget spent: the held job goes.
        assert_eq!(d.pick(&[offer(0, &a2, 1), offer(1, &b, 2)], 3), Some(0));
    }
}
