//! The result of one `prefixrace bench` run, as JSON and as a text table.

use std::fmt::Write as _;

use serde::Serialize;

use super::exploration_speed::{measure_exploration, ExplorationCase, ExplorationFigure};
use super::first_failure::{measure_first_failure, FirstFailureCase, FirstFailureFigure};
use super::parallel_install::{measure_installs, InstallFigure, InstallRatio};
use super::payload_set::PayloadSet;
use super::replay_floor::{measure_replay_floor, ReplayFloorFigure};
use super::scale::Scale;
use super::scaling::{measure_in_child, measure_in_process, ScalingCase, ScalingFigure};
use crate::error::Result;

/// The JSON schema name; bumped when a field changes meaning or goes away.
pub const SCHEMA: &str = "prefixrace-bench/1";

/// Every figure of one run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// [`Scale::name`].
    pub scale: &'static str,
    /// Cores the process may use.
    pub cores: usize,
    /// Exploration speed, one row per scenario × filesystem × scheduler.
    pub exploration: Vec<ExplorationFigure>,
    /// Time to the first failure, one row per scenario × scheduler.
    pub first_failure: Vec<FirstFailureFigure>,
    /// A real-filesystem replay against the floor, one row per scenario.
    pub replay_floor: Vec<ReplayFloorFigure>,
    /// Parallel installs on the real filesystem.
    pub install: InstallSection,
    /// Scaling in jobs and ops, one row per generated scenario.
    pub scaling: Vec<ScalingFigure>,
}

/// The parallel-install part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct InstallSection {
    /// `name-version` of every package installed together.
    pub packages: Vec<String>,
    /// Files in the finished prefix.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// One row per method × thread count.
    pub figures: Vec<InstallFigure>,
    /// Paired ratios per thread count.
    pub ratios: Vec<InstallRatio>,
}

impl BenchReport {
    /// Runs every measurement at `scale`, the scaling rows in this process.
    pub fn measure(scale: &Scale) -> Result<BenchReport> {
        BenchReport::measure_with(scale, None)
    }

    /// Runs every measurement at `scale`; with `exe` (this program), each
    /// scaling row in a child process `exe bench --scaling-row ROW`, so that
    /// its peak RSS is its own.
    pub fn measure_with(scale: &Scale, exe: Option<&std::path::Path>) -> Result<BenchReport> {
        let scaling = ScalingCase::all(
            scale.scaling_long,
            scale.scaling_long_executions,
            scale.scaling_packages,
            scale.scaling_package_executions,
        )
        .iter()
        .map(|case| match exe {
            Some(exe) => measure_in_child(
                exe,
                &[
                    "bench".to_string(),
                    "--scaling-row".to_string(),
                    case.to_arg(),
                ],
            ),
            None => measure_in_process(case),
        })
        .collect::<Result<Vec<_>>>()?;
        let exploration = measure_exploration(&ExplorationCase::all(scale), scale.reps)?;
        let first_failure =
            measure_first_failure(&FirstFailureCase::all(scale.failure_budget), scale.reps)?;
        let replay_floor = scale
            .replay_scenarios
            .iter()
            .map(|s| measure_replay_floor(s, scale.reps))
            .collect::<Result<Vec<_>>>()?;
        let set = PayloadSet::load(scale.packages)?;
        let (figures, ratios) = measure_installs(&set, scale)?;
        Ok(BenchReport {
            schema: SCHEMA,
            scale: scale.name,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            exploration,
            first_failure,
            replay_floor,
            install: InstallSection {
                packages: set.names(),
                files: set.file_count(),
                bytes: set.byte_count(),
                figures,
                ratios,
            },
            scaling,
        })
    }

    /// The report as a human-readable table.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "prefixrace bench ({} scale, {} cores; medians of {} reps)",
            self.scale,
            self.cores,
            self.exploration.first().map(|f| f.reps).unwrap_or(0)
        );
        let _ = writeln!(
            s,
            "\nExploration speed (1 thread; tails: reused = known tails and the state graph reused, rerun = every execution to its end; walked = executions decided in the state graph without running an op)"
        );
        let _ = writeln!(
            s,
            "{:<18} {:<14} {:<5} {:<6} {:<6} {:>6} {:>6} {:>10} {:>9} {:>11} {:>13}",
            "scenario",
            "strategy",
            "fs",
            "sched",
            "tails",
            "execs",
            "walked",
            "ops",
            "median s",
            "execs/s",
            "ops/s"
        );
        for f in &self.exploration {
            let _ = writeln!(
                s,
                "{:<18} {:<14} {:<5} {:<6} {:<6} {:>6} {:>6} {:>10} {:>9.4} {:>11.1} {:>13.0}",
                f.scenario,
                f.strategy,
                f.fs,
                f.scheduler,
                f.tails,
                f.executions,
                f.walked,
                f.ops,
                f.seconds_median,
                f.executions_per_s,
                f.ops_per_s
            );
        }
        let _ = writeln!(
            s,
            "\nTime to the first failure (strategy staged-copy, model fs, seed {}; whole explore: reference, executions, shrinking, story; unshrunk: the same without shrinking)",
            super::first_failure::SEED
        );
        let _ = writeln!(
            s,
            "{:<18} {:<8} {:>7} {:>12} {:>10} {:>11}",
            "scenario", "sched", "budget", "failing exec", "median s", "unshrunk s"
        );
        for f in &self.first_failure {
            let failing = f
                .failing_execution
                .map_or_else(|| format!("none/{}", f.executions), |e| e.to_string());
            let _ = writeln!(
                s,
                "{:<18} {:<8} {:>7} {:>12} {:>10.4} {:>11.4}",
                f.scenario,
                f.scheduler,
                f.budget,
                failing,
                f.seconds_median,
                f.seconds_unshrunk_median
            );
        }
        let _ = writeln!(
            s,
            "\nReplay on the real filesystem against the floor (one serial execution, direct-install; floor: a plain loop writing the same final tree)"
        );
        let _ = writeln!(
            s,
            "{:<18} {:>6} {:>8} {:>10} {:>10} {:>13}",
            "scenario", "ops", "entries", "replay s", "floor s", "replay/floor"
        );
        for f in &self.replay_floor {
            let _ = writeln!(
                s,
                "{:<18} {:>6} {:>8} {:>10.4} {:>10.4} {:>13.3}",
                f.scenario,
                f.ops,
                f.entries,
                f.replay_seconds_median,
                f.floor_seconds_median,
                f.replay_over_floor
            );
        }
        let i = &self.install;
        let _ = writeln!(
            s,
            "\nParallel installs into a fresh real prefix: {} files, {:.1} MB ({})",
            i.files,
            i.bytes as f64 / 1e6,
            i.packages.join(", ")
        );
        let _ = writeln!(
            s,
            "{:<15} {:>7} {:>10} {:>10} {:>8} {:>12}",
            "method", "threads", "median s", "files/s", "MB/s", "mkdir races"
        );
        for f in &i.figures {
            let _ = writeln!(
                s,
                "{:<15} {:>7} {:>10.4} {:>10.0} {:>8.1} {:>12}",
                f.method, f.threads, f.seconds_median, f.files_per_s, f.mb_per_s, f.mkdir_races_max
            );
        }
        let _ = writeln!(s, "\nPaired ratios (median of per-repetition ratios)");
        let _ = writeln!(
            s,
            "{:>7} {:>15} {:>15} {:>15} {:>15}",
            "threads", "staged/direct", "direct/floor", "staged/floor", "copy/direct"
        );
        let cell = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.3}"));
        for r in &i.ratios {
            let _ = writeln!(
                s,
                "{:>7} {:>15} {:>15} {:>15} {:>15}",
                r.threads,
                cell(r.staged_over_direct),
                cell(r.direct_over_floor),
                cell(r.staged_over_floor),
                cell(r.copy_over_direct)
            );
        }
        let _ = writeln!(
            s,
            "\nScaling (generated scenarios; random, model fs, 1 thread, pairs not counted, seed 1; tails = executions that stopped at a known tail, walked = decided in the state graph; peak RSS of the exploring process)"
        );
        let _ = writeln!(
            s,
            "{:<9} {:>5} {:<15} {:>6} {:>5} {:>10} {:>9} {:>10} {:>11} {:>6} {:>7} {:>9}",
            "jobs",
            "n",
            "strategy",
            "execs",
            "fail",
            "ops",
            "s",
            "execs/s",
            "ops/s",
            "tails",
            "walked",
            "RSS MB"
        );
        for f in &self.scaling {
            let rss = f
                .peak_rss_kb
                .map_or("-".to_string(), |kb| format!("{:.1}", kb as f64 / 1024.0));
            let _ = writeln!(
                s,
                "{:<9} {:>5} {:<15} {:>6} {:>5} {:>10} {:>9.3} {:>10.1} {:>11.0} {:>6.3} {:>7.3} {:>9}",
                f.kind,
                f.jobs,
                f.strategy,
                f.executions,
                if f.failed { "yes" } else { "no" },
                f.ops,
                f.seconds,
                f.executions_per_s,
                f.ops_per_s,
                f.tail_hit_rate,
                f.walk_rate,
                rss
            );
        }
        s
    }
}
