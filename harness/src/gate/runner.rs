//! A whole `run`: snapshot the prefix, run the serial reference, then run the
//! executions one by one (each from the restored snapshot) until one fails
//! or the budget is spent, and put the prefix back as it was found.

use std::ffi::OsString;
use std::path::PathBuf;

use super::call::PrefixView;
use super::interrupt;
use super::real_tree::read_tree;
use super::snapshot::Snapshot;
use super::tracer::{run_gated, Traced};
use super::verdict::{label, Criteria, Finding};
use super::GateError;
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
    /// The seed.
    pub seed: u64,
    /// How many executions to try.
    pub executions: u64,
    /// Replay this one schedule instead of exploring.
    pub token: Option<Schedule>,
    /// How executions are judged.
    pub criteria: Criteria,
}

/// One judged execution.
#[derive(Debug, Clone)]
pub struct ExecutionReport {
    /// Its index within the run (0 for a replay).
    pub index: u64,
    /// What the tracer recorded.
    pub traced: Traced,
    /// Why it failed; empty when it passed.
    pub findings: Vec<Finding>,
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
}

impl RunSpec {
    /// The variables every command gets: `$PREFIX`, `$STAGE`, and
    /// `PYTHONHASHSEED=0` unless the caller set one (Python names its `.pyc`
    /// temporary files after object addresses; with a fixed hash seed and
    /// address randomization off they repeat from run to run).
    pub fn environment(&self) -> Vec<(OsString, OsString)> {
        let mut env = vec![("PREFIX".into(), self.prefix.clone().into_os_string())];
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
pub fn run(
    spec: &RunSpec,
    observe: &mut dyn FnMut(&ExecutionReport),
) -> Result<RunReport, GateError> {
    let snapshot = RestoreOnDrop(Some(Snapshot::take(&spec.prefix)?));
    let result = run_from(spec, snapshot.get(), observe);
    let restored = snapshot.finish();
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

fn run_from(
    spec: &RunSpec,
    snapshot: &Snapshot,
    observe: &mut dyn FnMut(&ExecutionReport),
) -> Result<RunReport, GateError> {
    let view = PrefixView::new(spec.prefix.clone());
    let env = spec.environment();
    let (reference, reference_steps) = serial_reference(spec, &view, &env)?;
    let mut report = RunReport {
        reference_steps,
        reference_paths: reference.len(),
        executions: 0,
        failure: None,
    };
    let budget = if spec.token.is_some() {
        1
    } else {
        spec.executions
    };
    for index in 0..budget {
        if interrupt::requested() {
            return Err(GateError::Interrupted);
        }
        snapshot.restore()?;
        let mut scheduler = match &spec.token {
            Some(s) => Box::new(ReplayScheduler::new(s.clone())),
            None => spec
                .scheduler
                .build(spec.seed, index, spec.commands.len(), reference_steps),
        };
        let traced = run_gated(&spec.commands, &env, &view, scheduler.as_mut())?;
        if let Some(token) = &spec.token {
            if traced.schedule.choices.len() != token.choices.len() {
                return Err(GateError::Diverged {
                    step: traced.schedule.choices.len(),
                });
            }
        }
        let actual = read_tree(&spec.prefix)?;
        let findings = spec.criteria.judge(&traced.jobs, &reference, &actual);
        let execution = ExecutionReport {
            index,
            traced,
            findings,
        };
        observe(&execution);
        report.executions += 1;
        if !execution.findings.is_empty() {
            report.failure = Some(execution);
            break;
        }
    }
    Ok(report)
}

/// Runs the commands one after another, in command-line order, each alone
/// under the gate, and returns the final prefix and the number of gated steps.
fn serial_reference(
    spec: &RunSpec,
    view: &PrefixView,
    env: &[(OsString, OsString)],
) -> Result<(Tree, usize), GateError> {
    let mut steps = 0;
    for (job, command) in spec.commands.iter().enumerate() {
        let traced = run_gated(
            std::slice::from_ref(command),
            env,
            view,
            &mut SerialScheduler,
        )?;
        steps += traced.schedule.choices.len();
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
    Ok((read_tree(&spec.prefix)?, steps))
}

/// Reads a trace as lines: `[A] mkdir("M/__pycache__", 0777) = -1 EEXIST`.
pub fn trace_lines(traced: &Traced) -> Vec<String> {
    traced
        .released
        .iter()
        .map(|r| {
            let who = if r.process == 0 {
                label(r.job)
            } else {
                format!("{}.{}", label(r.job), r.process)
            };
            match r.outcome {
                Some(o) => format!("[{who}] {} = {o}", r.call),
                None => format!("[{who}] {} = ?", r.call),
            }
        })
        .collect()
}
