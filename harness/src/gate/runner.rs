//! A whole `run`: snapshot the prefix, run the serial reference, then run the
//! executions one by one (each from the restored snapshot) until one fails
//! or the budget is spent, and put the prefix back as it was found.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::call::PrefixView;
use super::directed::{plans, Directed};
use super::entropy;
use super::fault_plan::planned;
use super::fault_point::FaultPoint;
use super::gate_dpor::{Coverage, GateDpor};
use super::guide::{GuideReport, ModelGuide};
use super::interrupt;
use super::kill::KillPoint;
use super::model_step::ModelStep;
use super::picker::{Picker, Plain};
use super::real_tree::read_tree;
use super::recovery::{final_runs, hung_rerun, last_call, to_rerun, Cause, Recovery, Rerun};
use super::snapshot::Snapshot;
use super::temp_names::TempNames;
use super::tracer::{run_gated, ExecContext, Released, Traced};
use super::verdict::{label, Criteria, Finding};
use super::workdir::WorkDir;
use super::GateError;
use crate::fault::Fault;
use crate::schedule::{ReplayScheduler, Schedule, SchedulerKind, SerialScheduler};
use crate::Tree;

/// What to run and how.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The prefix (canonical, an existing directory).
    pub prefix: PathBuf,
    /// The staging directory, exported as `$STAGE`.
    pub stage: Option<PathBuf>,
    /// The commands; job `i` is `commands[i]`.
    pub commands: Vec<String>,
    /// The scheduler of the executions.
    pub scheduler: SchedulerKind,
    /// Race-directed executions first (`directed.rs`), then `scheduler`.
    pub directed: bool,
    /// Stateless DPOR over the recorded calls (`gate_dpor.rs`) instead of
    /// `scheduler`: executions until the search is exhausted or the budget
    /// is spent, all fed the entropy of execution 0.
    pub dpor: bool,
    /// The seed.
    pub seed: u64,
    /// How many executions to try.
    pub executions: u64,
    /// Replay this one schedule instead of exploring.
    pub token: Option<Schedule>,
    /// How executions are judged.
    pub criteria: Criteria,
    /// How long one execution (or one command of the serial reference) may take.
    pub timeout: Duration,
    /// With a token: the index of the execution that produced it, whose
    /// entropy the replay feeds the commands (0 when unknown).
    pub execution: u64,
    /// Follow this model execution instead of exploring (`run --model`):
    /// one execution, whose matched calls keep the model's order
    /// (`guide.rs`).
    pub guide: Option<Vec<ModelStep>>,
    /// Kill a job at this point of every execution, then rerun the commands
    /// that did not exit 0 and judge the recovered prefix (`recovery.rs`).
    pub kill: Option<KillPoint>,
    /// Strike this point of every execution with its fault (`--fault`),
    /// then recover as after a kill.
    pub fault: Option<FaultPoint>,
    /// Strike each execution at a point of the seeded plan, chosen among
    /// these faults (`--faults`, `fault_plan.rs`); empty: no plan.
    pub fault_plan: Vec<Fault>,
}

/// The default of [`RunSpec::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// One judged execution.
#[derive(Debug, Clone)]
pub struct ExecutionReport {
    /// Its index within the run (0 for a replay).
    pub index: u64,
    /// What the tracer recorded.
    pub traced: Traced,
    /// Why it failed; empty when it passed.
    pub findings: Vec<Finding>,
    /// The race-directed plan it followed, if any.
    pub plan: Option<String>,
    /// How closely it followed the model, when it was guided by one.
    pub guided: Option<GuideReport>,
    /// For a DPOR execution: the branch it took (`B at step 57: mkdirat(…)`).
    pub branch: Option<String>,
    /// The execution whose entropy the commands were fed (what a replay
    /// passes as `--execution`).
    pub entropy: u64,
    /// With a kill point, or a fault that struck: the kill or fault and
    /// the recovery; `findings` judge the recovered execution.
    pub recovery: Option<Recovery>,
    /// The fault point asked for in this execution (`--fault` or the
    /// plan's), whether or not it struck anything.
    pub fault: Option<FaultPoint>,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Gated syscalls of the serial reference, all commands together.
    pub reference_steps: usize,
    /// Paths in the reference prefix.
    pub reference_paths: usize,
    /// Executions run.
    pub executions: u64,
    /// The first failing execution, if any.
    pub failure: Option<ExecutionReport>,
    /// Gated syscalls released in all executions together (for rates).
    pub steps: usize,
    /// How closely the execution followed the model, for a guided run.
    pub guided: Option<GuideReport>,
    /// For a DPOR run: how far the search got.
    pub coverage: Option<Coverage>,
    /// For a DPOR run: the first step where a replayed prefix was not
    /// followed (`step 12: expected A mkdir(…), found …`).
    pub divergence: Option<String>,
    /// With a kill point: the kill and recovery of the last execution run.
    pub recovery: Option<Recovery>,
}

impl RunSpec {
    /// The variables every command gets: `$PREFIX`, `$STAGE`, and
    /// `PYTHONHASHSEED=0` unless the caller set one (Python names its `.pyc`
    /// temporary files after object addresses; with a fixed hash seed and
    /// address randomization off they repeat from run to run).
    pub fn environment(&self) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> =
            vec![("PREFIX".into(), self.prefix.clone().into_os_string())];
        if let Some(stage) = &self.stage {
            env.push(("STAGE".into(), stage.clone().into_os_string()));
        }
        if std::env::var_os("PYTHONHASHSEED").is_none() {
            env.push(("PYTHONHASHSEED".into(), "0".into()));
        }
        env
    }
}

/// Runs `spec`, calling `observe` after each execution.
///
/// The run's directory (`workdir.rs`) holds the snapshot and each
/// execution's `TMPDIR`; it is removed at the end, and a leftover of a killed
/// run on the same prefix is dealt with first (a one-line notice on stderr
/// when the prefix was restored from it).
pub fn run(
    spec: &RunSpec,
    observe: &mut dyn FnMut(&ExecutionReport),
) -> Result<RunReport, GateError> {
    in_run_dir(spec, |workdir, snapshot| {
        run_from(spec, workdir, snapshot, observe)
    })
}

/// Runs `body` with the run's locked directory and the snapshot of the
/// prefix, which is put back afterwards whatever `body` returns.
pub(super) fn in_run_dir<T>(
    spec: &RunSpec,
    body: impl FnOnce(&WorkDir, &Snapshot) -> Result<T, GateError>,
) -> Result<T, GateError> {
    let (workdir, notice) = WorkDir::open(&std::env::temp_dir(), &spec.prefix)?;
    if let Some(n) = notice {
        eprintln!("{n}");
    }
    let snapshot = RestoreOnDrop(Some(Snapshot::take_into(
        &spec.prefix,
        workdir.snapshot_dir(),
    )?));
    workdir.snapshot_complete()?;
    let result = body(&workdir, snapshot.get());
    let restored = snapshot.finish();
    drop(workdir);
    let report = result?;
    restored?;
    Ok(report)
}

/// Puts the prefix back when dropped, even when unwinding from a panic.
struct RestoreOnDrop(Option<Snapshot>);

impl RestoreOnDrop {
    fn get(&self) -> &Snapshot {
        self.0.as_ref().expect("present until finish")
    }

    fn finish(mut self) -> Result<(), GateError> {
        self.0.take().map_or(Ok(()), |s| s.restore())
    }
}

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            let _ = s.restore();
        }
    }
}

/// The context of one execution: a fresh directory, `TMPDIR` inside it,
/// the entropy of `execution`.
pub(super) fn context(
    spec: &RunSpec,
    workdir: &WorkDir,
    execution: u64,
) -> Result<ExecContext, GateError> {
    let dir = workdir.fresh_execution()?;
    let mut env = spec.environment();
    let tmp = dir.join("tmp").into_os_string();
    for var in ["TMPDIR", "TMP", "TEMP"] {
        env.push((var.into(), tmp.clone()));
    }
    Ok(ExecContext {
        env,
        dir,
        entropy_seed: entropy::execution_seed(spec.seed, execution),
        timeout: spec.timeout,
        kill: None,
        fault: None,
        census: false,
    })
}

/// The execution index the serial reference's entropy is keyed by.
const REFERENCE: u64 = u64::MAX;

fn run_from(
    spec: &RunSpec,
    workdir: &WorkDir,
    snapshot: &Snapshot,
    observe: &mut dyn FnMut(&ExecutionReport),
) -> Result<RunReport, GateError> {
    let view = PrefixView::new(spec.prefix.clone());
    let (reference, reference_steps, reference_calls) = serial_reference(spec, workdir, &view)?;
    let directed = if spec.directed && spec.token.is_none() && spec.commands.len() > 1 {
        plans(&reference_calls)
    } else {
        Vec::new()
    };
    let mut report = RunReport {
        reference_steps,
        reference_paths: reference.len(),
        executions: 0,
        failure: None,
        steps: 0,
        guided: None,
        coverage: None,
        divergence: None,
        recovery: None,
    };
    let mut search = (spec.dpor && spec.token.is_none() && spec.guide.is_none())
        .then(|| GateDpor::new(spec.commands.len()));
    let budget = if spec.token.is_some() || spec.guide.is_some() {
        1
    } else {
        spec.executions
    };
    for index in 0..budget {
        if interrupt::requested() {
            return Err(GateError::Interrupted);
        }
        let branch = match &mut search {
            Some(s) => match s.next_branch() {
                Some(b) => Some(b),
                None => break,
            },
            None => None,
        };
        snapshot.restore()?;
        let mut scheduler = match &spec.token {
            Some(s) => Box::new(ReplayScheduler::new(s.clone())),
            None => spec
                .scheduler
                .build(spec.seed, index, spec.commands.len(), reference_steps),
        };
        let plan = directed.get(index as usize);
        let mut plain = Plain(scheduler.as_mut());
        let mut aimed = plan.map(|p| Directed::new(p.clone()));
        let mut guide = spec.guide.clone().map(ModelGuide::new);
        let mut systematic = branch.as_ref().map(|b| b.picker());
        let picker: &mut dyn Picker = match (&mut guide, &mut aimed, &mut systematic) {
            (Some(g), _, _) => g,
            (None, _, Some(s)) => s,
            (None, Some(d), None) => d,
            (None, None, None) => &mut plain,
        };
        // A DPOR execution replays another's prefix: same entropy for all.
        let execution = if spec.token.is_some() {
            spec.execution
        } else if search.is_some() {
            0
        } else {
            index
        };
        let mut ctx = context(spec, workdir, execution)?;
        ctx.kill = spec.kill;
        ctx.fault = spec.fault.or_else(|| {
            let calls: Vec<usize> = reference_calls.iter().map(Vec::len).collect();
            (!spec.fault_plan.is_empty())
                .then(|| planned(spec.seed, index, &spec.fault_plan, &calls))
        });
        let traced = run_gated(&spec.commands, &ctx, &view, picker).map_err(|e| match e {
            GateError::Hang(mut h) => {
                h.execution = Some(execution);
                GateError::Hang(h)
            }
            e => e,
        })?;
        report.steps += traced.released.len();
        if let (Some(s), Some(p)) = (&mut search, &systematic) {
            s.record(p, &traced.released);
        }
        if let (Some(token), None) = (&spec.token, &spec.guide) {
            if traced.schedule.choices.len() != token.choices.len() {
                let last = traced.released.last().map_or_else(
                    || "nothing was released".to_string(),
                    |r| format!("last released: {} {}", label(r.job), r.call),
                );
                return Err(GateError::Diverged {
                    step: traced.schedule.choices.len(),
                    detail: format!(
                        "the commands finished after {} of the token's {} steps; {last}",
                        traced.schedule.choices.len(),
                        token.choices.len()
                    ),
                });
            }
        }
        let cause = match (spec.kill, &traced.struck) {
            (Some(point), _) => Some(Cause::Killed(killed(&traced, point, execution)?)),
            (None, Some(struck)) => Some(Cause::Struck(struck.clone())),
            (None, None) => match spec.fault {
                Some(point) => return Err(fault_not_reached(&traced, point, execution)),
                None => None,
            },
        };
        let (jobs, recovery) = match cause {
            Some(cause) => {
                let (jobs, recovery) = recover(spec, workdir, &view, &traced, cause, execution)?;
                (jobs, Some(recovery))
            }
            None => (traced.jobs.clone(), None),
        };
        let actual = read_tree(&spec.prefix)?;
        let findings = spec.criteria.judge(&jobs, &reference, &actual);
        let recovery = recovery.map(|r| Recovery {
            recovered: findings.is_empty(),
            ..r
        });
        let guided = match (&spec.guide, &guide) {
            (Some(steps), Some(g)) => Some(GuideReport::new(
                steps,
                &traced.released,
                g.stuck().cloned(),
            )),
            _ => None,
        };
        let execution = ExecutionReport {
            index: if search.is_some() { index } else { execution },
            traced,
            findings,
            plan: plan.map(ToString::to_string),
            guided,
            branch: branch.as_ref().and_then(|b| b.describe()),
            entropy: execution,
            recovery,
            fault: ctx.fault,
        };
        observe(&execution);
        report.recovery.clone_from(&execution.recovery);
        report.executions += 1;
        report.guided.clone_from(&execution.guided);
        if !execution.findings.is_empty() {
            report.failure = Some(execution);
            break;
        }
    }
    if let Some(s) = &search {
        report.coverage = Some(s.coverage());
        report.divergence = s.first_divergence.as_ref().map(|d| {
            format!(
                "step {}: expected {}, found {}",
                d.step, d.expected, d.found
            )
        });
    }
    Ok(report)
}

/// The kill at `point` in `traced`, or the error saying it never happened.
fn killed(
    traced: &Traced,
    point: KillPoint,
    execution: u64,
) -> Result<super::kill::Killed, GateError> {
    let Some(killed) = traced.killed.clone() else {
        let (made, status) = traced.progress_of(point.job);
        return Err(GateError::KillNotReached {
            point,
            detail: format!(
                "{} made {made} gated syscalls in execution {execution} and exited {status} before the kill point",
                label(point.job)
            ),
        });
    };
    Ok(killed)
}

/// The error of a `--fault` that struck nothing: its job ended before
/// making a call the fault strikes at or after the point.
fn fault_not_reached(traced: &Traced, point: FaultPoint, execution: u64) -> GateError {
    let (made, status) = traced.progress_of(point.job);
    GateError::FaultNotReached {
        point,
        detail: format!(
            "{} made {made} gated syscalls in execution {execution} and exited {status} with no call {} strikes once {} of them were released",
            label(point.job),
            point.fault,
            point.after
        ),
    }
}

/// After a kill or a fault: reruns every command that did not exit 0,
/// alone and in command order, on the prefix as it was left, and returns
/// each command's run as it ended with the recovery (its verdict still to
/// be set from the findings).
pub(super) fn recover(
    spec: &RunSpec,
    workdir: &WorkDir,
    view: &PrefixView,
    traced: &Traced,
    cause: Cause,
    execution: u64,
) -> Result<(Vec<super::tracer::JobRun>, Recovery), GateError> {
    let mut reruns = Vec::new();
    for job in to_rerun(&traced.jobs) {
        let mut ctx = context(spec, workdir, execution)?;
        ctx.entropy_seed ^= (job as u64 + 1) << 32;
        let alone = run_gated(
            std::slice::from_ref(&spec.commands[job]),
            &ctx,
            view,
            &mut Plain(&mut SerialScheduler),
        );
        let mut alone = match alone {
            Ok(t) => t,
            Err(GateError::Hang(mut h)) => {
                h.job = job;
                reruns.push(hung_rerun(&h, spec.timeout.as_secs_f64()));
                continue;
            }
            Err(e) => return Err(e),
        };
        for r in &mut alone.released {
            r.job = job;
        }
        reruns.push(Rerun { job, traced: alone });
    }
    let jobs = final_runs(&traced.jobs, &reruns);
    let recovery = Recovery {
        last: last_call(traced, &cause),
        cause,
        ended: traced.jobs.clone(),
        reruns,
        recovered: false,
    };
    Ok((jobs, recovery))
}

/// Runs the commands one after another, in command-line order, each alone
/// under the gate, and returns the final prefix, the number of gated steps
/// and each command's released calls.
pub(super) fn serial_reference(
    spec: &RunSpec,
    workdir: &WorkDir,
    view: &PrefixView,
) -> Result<(Tree, usize, Vec<Vec<Released>>), GateError> {
    let mut steps = 0;
    let mut calls = Vec::new();
    for (job, command) in spec.commands.iter().enumerate() {
        let mut ctx = context(spec, workdir, REFERENCE)?;
        ctx.entropy_seed ^= job as u64;
        let traced = run_gated(
            std::slice::from_ref(command),
            &ctx,
            view,
            &mut Plain(&mut SerialScheduler),
        )
        .map_err(|e| match e {
            GateError::Hang(mut h) => {
                h.job = job;
                GateError::Hang(h)
            }
            e => e,
        })?;
        steps += traced.schedule.choices.len();
        calls.push(
            traced
                .released
                .iter()
                .map(|r| Released { job, ..r.clone() })
                .collect(),
        );
        let run = &traced.jobs[0];
        let bad_line = run
            .stderr
            .lines()
            .find(|l| spec.criteria.fail_on.iter().any(|r| r.is_match(l)));
        if run.status != 0 || bad_line.is_some() {
            return Err(GateError::Reference {
                job: label(job),
                status: run.status,
                stderr: bad_line
                    .or_else(|| run.stderr.lines().last())
                    .unwrap_or("")
                    .to_string(),
            });
        }
    }
    Ok((read_tree(&spec.prefix)?, steps, calls))
}

/// Reads a trace as lines: `[A] mkdir("M/__pycache__", 0777) = -1 EEXIST`,
/// with clock-dependent temporary names shown as `~N` (`temp_names.rs`).
pub fn trace_lines(traced: &Traced) -> Vec<String> {
    trace_lines_with(traced, None)
}

/// [`trace_lines`] with `extra` (a line and the number of released calls
/// before it: a kill or a fault) in its place, its temporary names
/// numbered with the calls'.
pub fn trace_lines_with(traced: &Traced, extra: Option<(usize, String)>) -> Vec<String> {
    let mut names = TempNames::new();
    let at = extra
        .as_ref()
        .map(|(step, _)| (*step).min(traced.released.len()));
    let mut lines: Vec<String> = traced
        .released
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            let who = if r.process == 0 {
                label(r.job)
            } else {
                format!("{}.{}", label(r.job), r.process)
            };
            let line = match r.outcome {
                Some(o) => format!("[{who}] {} = {o}", r.call),
                None => format!("[{who}] {} = ?", r.call),
            };
            let before = match (&extra, at) {
                (Some((_, l)), Some(a)) if a == i => Some(l.clone()),
                _ => None,
            };
            before.into_iter().chain([line])
        })
        .collect();
    if let (Some((_, l)), Some(a)) = (&extra, at) {
        if a == traced.released.len() {
            lines.push(l.clone());
        }
    }
    lines.iter().map(|l| names.canonical(l)).collect()
}
