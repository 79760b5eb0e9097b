//! Walking every crash and fault point of real processes (`run --faults
//! KINDS:all`): the commands run once with nothing injected, under the
//! run's scheduler (execution 0 of its seed), and that execution's census
//! (`census.rs`) lists every point; then each point gets one execution of
//! its own, under the same scheduler and seed and fed the same entropy,
//! killed or struck there, recovered and judged as `--kill` and `--fault`
//! are (`recovery.rs`). The points are walked in order (job, count, kind),
//! until they are all walked or the budget (`--executions`, a time limit)
//! cuts the walk; a cut walk is never complete.
//!
//! A point's execution may part from the reference's (another order, a
//! tool that decides on the clock): when the job ends before the point, or
//! a fault strikes a later call than the one the census saw, the point was
//! not reached, and it is counted as such, never as recovered.

use std::time::{Duration, Instant};

use super::call::PrefixView;
use super::census::Census;
use super::interrupt;
use super::picker::Plain;
use super::real_tree::read_tree;
use super::recovery::{verdict, Cause, Recovery};
use super::runner::{context, in_run_dir, recover, serial_reference, ExecutionReport, RunSpec};
use super::snapshot::Snapshot;
use super::tracer::{run_gated, ExecContext, Hung, Traced};
use super::verdict::{label, Finding};
use super::walk_point::{WalkKind, WalkPoint};
use super::workdir::WorkDir;
use super::GateError;
use crate::Tree;

/// The execution every walk execution's scheduler and entropy are those of.
const WALK_EXECUTION: u64 = 0;

/// What to walk and how far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkSpec {
    /// The kinds of points, in the order they are walked at one count.
    pub kinds: Vec<WalkKind>,
    /// Walk at most this many points.
    pub executions: Option<u64>,
    /// Start no point once this much time has passed since the walk began.
    pub time_limit: Option<Duration>,
}

/// How one point ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointVerdict {
    /// Nothing had to be rerun and the prefix is right.
    Survived,
    /// The reruns repaired the prefix.
    Recovered,
    /// A finding remained after the reruns; a short account of the first.
    Unrecoverable(String),
    /// The execution never reached the point; how far it got.
    NotReached(String),
}

impl PointVerdict {
    /// The verdict in one word.
    pub fn word(&self) -> &'static str {
        match self {
            PointVerdict::Survived => "survived",
            PointVerdict::Recovered => "recovered",
            PointVerdict::Unrecoverable(_) => "unrecoverable",
            PointVerdict::NotReached(_) => "not reached",
        }
    }
}

/// One walked point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedPoint {
    /// The point.
    pub point: WalkPoint,
    /// How it ended.
    pub verdict: PointVerdict,
    /// The token of its execution (replayed with the point's `--kill` or
    /// `--fault`); none when it hung.
    pub token: Option<String>,
    /// When a command did not finish within the timeout after the kill or
    /// fault (waiting for ever on what the killed job left): what it was
    /// doing. The point is then unrecoverable.
    pub hung: Option<Hung>,
}

/// How many walked points ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkCounts {
    /// Survived.
    pub survived: usize,
    /// Recovered.
    pub recovered: usize,
    /// Unrecoverable.
    pub unrecoverable: usize,
    /// Not reached.
    pub not_reached: usize,
}

/// The outcome of a walk.
#[derive(Debug, Clone)]
pub struct WalkReport {
    /// Gated syscalls of the serial reference, all commands together.
    pub reference_steps: usize,
    /// Paths in the serial reference's prefix.
    pub reference_paths: usize,
    /// The census of the walk's reference execution.
    pub census: Census,
    /// The token of the walk's reference execution.
    pub census_token: String,
    /// The walk's reference execution, when it failed with nothing
    /// injected (a race, not a crash or fault finding): nothing was walked.
    pub reference_failure: Option<ExecutionReport>,
    /// Every point, in the walk's order.
    pub points: Vec<WalkPoint>,
    /// The points walked, in order: a prefix of `points`.
    pub walked: Vec<WalkedPoint>,
    /// The first unrecoverable point's execution, with its recovery (none
    /// when that point hung: [`WalkedPoint::hung`] tells it).
    pub first_unrecoverable: Option<ExecutionReport>,
}

impl WalkReport {
    /// How the walked points ended.
    pub fn counts(&self) -> WalkCounts {
        let mut c = WalkCounts::default();
        for w in &self.walked {
            match w.verdict {
                PointVerdict::Survived => c.survived += 1,
                PointVerdict::Recovered => c.recovered += 1,
                PointVerdict::Unrecoverable(_) => c.unrecoverable += 1,
                PointVerdict::NotReached(_) => c.not_reached += 1,
            }
        }
        c
    }

    /// True when every point was walked.
    pub fn complete(&self) -> bool {
        self.reference_failure.is_none() && self.walked.len() == self.points.len()
    }
}

/// Walks every point of `walk` on the commands of `spec` (its scheduler,
/// seed, criteria and timeout; its kill, fault, token and guide unused).
pub fn walk(spec: &RunSpec, walk: &WalkSpec) -> Result<WalkReport, GateError> {
    in_run_dir(spec, |workdir, snapshot| {
        walk_from(spec, walk, workdir, snapshot)
    })
}

fn walk_from(
    spec: &RunSpec,
    walk: &WalkSpec,
    workdir: &WorkDir,
    snapshot: &Snapshot,
) -> Result<WalkReport, GateError> {
    let started = Instant::now();
    let view = PrefixView::new(spec.prefix.clone());
    let (reference, reference_steps, _) = serial_reference(spec, workdir, &view)?;
    let walker = Walker {
        spec,
        workdir,
        snapshot,
        view: &view,
        reference: &reference,
        reference_steps,
    };
    let mut ctx = context(spec, workdir, WALK_EXECUTION)?;
    ctx.census = walk.kinds.iter().any(|k| matches!(k, WalkKind::Fault(_)));
    let traced = walker.execute(&ctx, None)?;
    let census = Census {
        calls: (0..spec.commands.len())
            .map(|j| traced.progress_of(j).0)
            .collect(),
        strikable: traced.strikable.clone(),
    };
    let mut report = WalkReport {
        reference_steps,
        reference_paths: reference.len(),
        census_token: traced.schedule.token(),
        points: census.points(&walk.kinds),
        census,
        reference_failure: None,
        walked: Vec::new(),
        first_unrecoverable: None,
    };
    let findings = spec
        .criteria
        .judge(&traced.jobs, &reference, &read_tree(&spec.prefix)?);
    if !findings.is_empty() {
        report.reference_failure = Some(walker.report(traced, findings, None, None));
        return Ok(report);
    }
    let budget = walk.executions.unwrap_or(u64::MAX);
    for (ordinal, &point) in report.points.clone().iter().enumerate() {
        if interrupt::requested() {
            return Err(GateError::Interrupted);
        }
        let out_of_time = walk.time_limit.is_some_and(|t| started.elapsed() >= t);
        if ordinal as u64 >= budget || out_of_time {
            break;
        }
        let (walked, execution) = walker.point(point)?;
        let unrecoverable = |w: &WalkedPoint| matches!(w.verdict, PointVerdict::Unrecoverable(_));
        if unrecoverable(&walked) && !report.walked.iter().any(unrecoverable) {
            // None when it hung: its story is the hang's.
            report.first_unrecoverable = execution;
        }
        report.walked.push(walked);
    }
    Ok(report)
}

/// What every execution of a walk shares.
struct Walker<'a> {
    spec: &'a RunSpec,
    workdir: &'a WorkDir,
    snapshot: &'a Snapshot,
    view: &'a PrefixView,
    reference: &'a Tree,
    reference_steps: usize,
}

impl Walker<'_> {
    /// Restores the prefix and runs the commands with `ctx` under the
    /// walk's scheduler; a hang names `point`.
    fn execute(&self, ctx: &ExecContext, point: Option<WalkPoint>) -> Result<Traced, GateError> {
        self.snapshot.restore()?;
        let spec = self.spec;
        let mut scheduler = spec.scheduler.build(
            spec.seed,
            WALK_EXECUTION,
            spec.commands.len(),
            self.reference_steps,
        );
        run_gated(
            &spec.commands,
            ctx,
            self.view,
            &mut Plain(scheduler.as_mut()),
        )
        .map_err(|e| match e {
            GateError::Hang(mut h) => {
                h.execution = Some(WALK_EXECUTION);
                h.point = point.map(|p| p.to_string());
                GateError::Hang(h)
            }
            e => e,
        })
    }

    /// One point's execution, recovered and judged.
    fn point(&self, point: WalkPoint) -> Result<(WalkedPoint, Option<ExecutionReport>), GateError> {
        let mut ctx = context(self.spec, self.workdir, WALK_EXECUTION)?;
        ctx.kill = point.kill();
        ctx.fault = point.fault();
        let traced = match self.execute(&ctx, Some(point)) {
            Ok(t) => t,
            Err(GateError::Hang(h)) => {
                let detail = format!(
                    "{} did not finish within {} s after it; killed with its process group",
                    label(h.job),
                    self.spec.timeout.as_secs_f64()
                );
                let walked = WalkedPoint {
                    point,
                    verdict: PointVerdict::Unrecoverable(detail),
                    token: None,
                    hung: Some(h),
                };
                return Ok((walked, None));
            }
            Err(e) => return Err(e),
        };
        let token = Some(traced.schedule.token());
        let cause = match (&traced.killed, &traced.struck) {
            (Some(k), _) if point.kill() == Some(k.point) => Some(Cause::Killed(k.clone())),
            (_, Some(s)) if point.fault() == Some(s.point) => Some(Cause::Struck(s.clone())),
            _ => None,
        };
        let Some(cause) = cause else {
            let verdict = PointVerdict::NotReached(not_reached(&traced, point));
            return Ok((
                WalkedPoint {
                    point,
                    verdict,
                    token,
                    hung: None,
                },
                None,
            ));
        };
        let (jobs, recovery) = recover(
            self.spec,
            self.workdir,
            self.view,
            &traced,
            cause,
            WALK_EXECUTION,
        )?;
        let actual = read_tree(&self.spec.prefix)?;
        let findings = self.spec.criteria.judge(&jobs, self.reference, &actual);
        let recovery = Recovery {
            recovered: findings.is_empty(),
            ..recovery
        };
        let verdict = match verdict(&recovery) {
            "survived" => PointVerdict::Survived,
            "recovered" => PointVerdict::Recovered,
            _ => PointVerdict::Unrecoverable(brief(&findings, &recovery)),
        };
        let execution = self.report(traced, findings, Some(recovery), point.fault());
        Ok((
            WalkedPoint {
                point,
                verdict,
                token,
                hung: None,
            },
            Some(execution),
        ))
    }

    /// The report of one judged execution of the walk.
    fn report(
        &self,
        traced: Traced,
        findings: Vec<Finding>,
        recovery: Option<Recovery>,
        fault: Option<super::fault_point::FaultPoint>,
    ) -> ExecutionReport {
        ExecutionReport {
            index: WALK_EXECUTION,
            traced,
            findings,
            plan: None,
            guided: None,
            branch: None,
            entropy: WALK_EXECUTION,
            recovery,
            fault,
        }
    }
}

/// Why `point` was not reached in `traced`: how far its job got.
fn not_reached(traced: &Traced, point: WalkPoint) -> String {
    let job = label(point.job);
    let (made, status) = traced.progress_of(point.job);
    match &traced.struck {
        Some(s) => format!(
            "{job} made no call {} strikes at {} of its gated syscalls; it struck {} instead",
            s.point.fault, point.after, s.point
        ),
        None => format!(
            "{job} made {made} gated syscalls and exited {status} before the point (the reference execution made more)"
        ),
    }
}

/// The first finding of an unrecoverable point, in one line.
fn brief(findings: &[Finding], recovery: &Recovery) -> String {
    let rerun = |job: &str| recovery.reruns.iter().find(|r| label(r.job) == job);
    match findings.first() {
        Some(Finding::ExitStatus { job, status }) => {
            let (who, stderr) = match rerun(job) {
                Some(r) => (format!("{job} (rerun)"), r.run().stderr.clone()),
                None => (job.clone(), String::new()),
            };
            match stderr.lines().next() {
                Some(line) => format!("{who} exited {status}: {line}"),
                None => format!("{who} exited {status}"),
            }
        }
        Some(Finding::Stderr { job, line }) => format!("{job} printed: {line}"),
        Some(Finding::Tree { diff }) => format!(
            "the prefix differs from the serial reference ({} paths, first: {})",
            diff.changes.len(),
            diff.changes
                .first()
                .map_or(String::new(), ToString::to_string)
        ),
        None => "no finding".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;
    use crate::gate::tracer::JobRun;

    fn walked(after: usize, verdict: PointVerdict) -> WalkedPoint {
        WalkedPoint {
            point: WalkPoint {
                job: 0,
                after,
                kind: WalkKind::Fault(Fault::Io),
            },
            verdict,
            token: Some("t1.AA".into()),
            hung: None,
        }
    }

    #[test]
    fn the_counts_add_up_to_the_walked_points_and_a_cut_walk_is_not_complete() {
        let points: Vec<WalkPoint> = (0..5)
            .map(|k| walked(k, PointVerdict::Survived).point)
            .collect();
        let mut report = WalkReport {
            reference_steps: 5,
            reference_paths: 1,
            census: Census::default(),
            census_token: "t1.AA".into(),
            reference_failure: None,
            points,
            walked: vec![
                walked(0, PointVerdict::Survived),
                walked(1, PointVerdict::Recovered),
                walked(2, PointVerdict::Unrecoverable("A exited 1".into())),
                walked(3, PointVerdict::NotReached("A ended".into())),
            ],
            first_unrecoverable: None,
        };
        let c = report.counts();
        assert_eq!(
            (c.survived, c.recovered, c.unrecoverable, c.not_reached),
            (1, 1, 1, 1)
        );
        assert!(!report.complete());
        report.walked.push(walked(4, PointVerdict::Recovered));
        assert!(report.complete());
        assert_eq!(report.walked[3].verdict.word(), "not reached");
    }

    #[test]
    fn an_unrecoverable_point_is_told_by_its_rerun_and_its_first_stderr_line() {
        let recovery = Recovery {
            cause: Cause::Killed(crate::gate::kill::Killed {
                point: crate::gate::kill::KillPoint { job: 0, after: 1 },
                before: crate::gate::call::Call::in_prefix("mkdir", &["\"M\""]),
                step: 1,
            }),
            last: None,
            ended: vec![JobRun::exited(137, "")],
            reruns: vec![crate::gate::recovery::Rerun {
                job: 0,
                traced: Traced {
                    schedule: Default::default(),
                    released: Vec::new(),
                    jobs: vec![JobRun::exited(1, "mkdir: File exists\nmore\n")],
                    killed: None,
                    struck: None,
                    strikable: Vec::new(),
                },
            }],
            recovered: false,
        };
        let findings = [Finding::ExitStatus {
            job: "A".into(),
            status: 1,
        }];
        assert_eq!(
            brief(&findings, &recovery),
            "A (rerun) exited 1: mkdir: File exists"
        );
    }
}
