//! Scaling: what exploration costs as the jobs get more and longer.
//!
//! Two families, generated ([`super::generate`]): 2, 4 and 8 concurrent long
//! installs (pips of one distribution, staged copies of different ones, and
//! pips of different ones), and 10, 100 and 1,000 one-file packages. Each
//! row is one random exploration on the model, one thread, pairs not
//! counted, shrinking off: ops/s, executions/s, how often the memo layers
//! paid (known tails reused, executions decided in the state graph), and
//! the peak RSS of the exploration, measured in a child process (`prefixrace
//! bench --scaling-row N`) when the caller gives the executable.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::generate::{long_jobs, packages, LongKind};
use super::parallel_install::per_second;
use crate::error::{Error, Result};
use crate::explore::{explore, ExploreOptions};
use crate::fs::FsKind;
use crate::schedule::SchedulerKind;
use crate::setup::Setup;
use crate::strategy::scenario_strategy;

/// One scaling row to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingCase {
    /// What the jobs are: `pip`, `cp`, `mixed` or `packages`.
    pub kind: &'static str,
    /// Jobs (long installs, or packages).
    pub jobs: usize,
    /// The strategy.
    pub strategy: &'static str,
    /// The budget of executions.
    pub executions: u64,
}

impl ScalingCase {
    /// The rows: long installs × `long_jobs`, then `packages`, with budgets
    /// `long_executions` and `package_executions`.
    pub fn all(
        long: &[usize],
        long_executions: u64,
        packages: &[usize],
        package_executions: u64,
    ) -> Vec<ScalingCase> {
        let mut cases = Vec::new();
        for (kind, strategy) in [
            ("pip", "direct-install"),
            ("cp", "staged-copy"),
            ("mixed", "direct-install"),
        ] {
            for &jobs in long {
                cases.push(ScalingCase {
                    kind,
                    jobs,
                    strategy,
                    executions: long_executions,
                });
            }
        }
        for &jobs in packages {
            cases.push(ScalingCase {
                kind: "packages",
                jobs,
                strategy: "direct-install",
                executions: package_executions,
            });
        }
        cases
    }

    /// The case as one argument, `KIND:JOBS:STRATEGY:EXECUTIONS`
    /// (`prefixrace bench --scaling-row`).
    pub fn to_arg(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.kind, self.jobs, self.strategy, self.executions
        )
    }

    /// Parses [`ScalingCase::to_arg`].
    pub fn from_arg(arg: &str) -> Result<ScalingCase> {
        let bad = || {
            Error::Usage(format!(
                "--scaling-row {arg:?}: expected KIND:JOBS:STRATEGY:EXECUTIONS"
            ))
        };
        let parts: Vec<&str> = arg.split(':').collect();
        let [kind, jobs, strategy, executions] = parts[..] else {
            return Err(bad());
        };
        let kind = ["pip", "cp", "mixed", "packages"]
            .into_iter()
            .find(|k| *k == kind)
            .ok_or_else(bad)?;
        let strategy = ["direct-install", "staged-copy", "atomic-rename"]
            .into_iter()
            .find(|s| *s == strategy)
            .ok_or_else(bad)?;
        Ok(ScalingCase {
            kind,
            jobs: jobs.parse().map_err(|_| bad())?,
            strategy,
            executions: executions.parse().map_err(|_| bad())?,
        })
    }

    /// The scenario's TOML text.
    pub fn toml(&self) -> String {
        match self.kind {
            "pip" => long_jobs(self.jobs, LongKind::Same),
            "cp" | "mixed" => long_jobs(self.jobs, LongKind::Mixed),
            _ => packages(self.jobs),
        }
    }
}

/// One measured row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScalingFigure {
    /// [`ScalingCase::kind`].
    pub kind: String,
    /// Jobs.
    pub jobs: usize,
    /// The strategy.
    pub strategy: String,
    /// Executions run (fewer than the budget when one failed).
    pub executions: u64,
    /// Whether an execution failed (the exploration stops there).
    pub failed: bool,
    /// Ops executed, known tails counted as run.
    pub ops: u64,
    /// Seconds of the exploration (the serial reference included).
    pub seconds: f64,
    /// Executions per second.
    pub executions_per_s: f64,
    /// Ops per second.
    pub ops_per_s: f64,
    /// Executions that stopped at a known tail, of all.
    pub tail_hit_rate: f64,
    /// Executions decided in the state graph without running an op, of all.
    pub walk_rate: f64,
    /// Peak RSS of the process that explored, kB (`None` in process).
    pub peak_rss_kb: Option<u64>,
}

/// Measures `case` in this process.
pub fn measure_in_process(case: &ScalingCase) -> Result<ScalingFigure> {
    let name = format!("{}-{}", case.kind, case.jobs);
    let scenario = Arc::new(super::generate::load(&name, &case.toml())?);
    let strategy = scenario_strategy(case.strategy, &scenario)?;
    let setup = Setup::new(scenario, strategy.as_ref())?;
    let options = ExploreOptions {
        scheduler: SchedulerKind::Random,
        schedules: case.executions,
        seed: 1,
        threads: 1,
        fs: FsKind::Model,
        shrink: false,
        ..ExploreOptions::default()
    };
    let start = Instant::now();
    let found = explore(&setup, &options)?;
    let seconds = start.elapsed().as_secs_f64();
    let of = |n: u64| n as f64 / found.executions.max(1) as f64;
    Ok(ScalingFigure {
        kind: case.kind.to_string(),
        jobs: case.jobs,
        strategy: case.strategy.to_string(),
        executions: found.executions,
        failed: found.first_failure.is_some(),
        ops: found.ops_executed,
        seconds,
        executions_per_s: per_second(found.executions as f64, seconds),
        ops_per_s: per_second(found.ops_executed as f64, seconds),
        tail_hit_rate: of(found.reused_tails),
        walk_rate: of(found.walked_executions),
        peak_rss_kb: None,
    })
}

/// Measures `case` in a child process `exe bench --scaling-row INDEX`
/// (`index` into `cases`), which prints the figure as JSON; adds the
/// child's peak RSS.
pub fn measure_in_child(exe: &Path, args: &[String]) -> Result<ScalingFigure> {
    use std::os::unix::process::ExitStatusExt;
    let child = std::process::Command::new(exe)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(exe.display().to_string(), &e))?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out)
        .map_err(|e| Error::io(exe.display().to_string(), &e))?;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 fills it for our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid || !std::process::ExitStatus::from_raw(status).success() {
        return Err(Error::Usage(format!(
            "the scaling row {args:?} did not finish: {out}"
        )));
    }
    let mut figure: ScalingFigure = serde_json::from_str(out.trim())
        .map_err(|e| Error::Usage(format!("the scaling row {args:?} printed {out:?}: {e}")))?;
    figure.peak_rss_kb = Some(usage.ru_maxrss as u64);
    Ok(figure)
}
