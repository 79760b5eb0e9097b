//! Free-running parallel installs of a [`PayloadSet`] into a fresh real
//! prefix: one rayon task per package, no scheduler, real syscalls.
//!
//! Every run gets a new `tempfile::TempDir` (created and removed outside the
//! timed region). Repetitions go round-robin over thread counts and methods,
//! so rep `r` of every configuration ran at nearly the same moment and the
//! ratios are taken pair by pair, then their median is quoted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use super::cp_rp::copy_contents;
use super::install_method::InstallMethod;
use super::median::median;
use super::payload_set::PayloadSet;
use super::pip_install::{pip_install, plain_write};
use super::scale::Scale;
use crate::error::{Error, Result};

/// What one timed install did.
#[derive(Debug, Clone, Copy)]
pub struct InstallRun {
    /// Wall time of the install alone.
    pub elapsed: Duration,
    /// Directory `mkdir`s lost to another package's copy (staged methods only).
    pub mkdir_races: u64,
}

/// A worker pool of `threads` threads.
pub fn worker_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))
}

fn stage_dir(scratch: &Path, index: usize) -> PathBuf {
    scratch.join(format!("stage-{index}"))
}

fn make_dir(path: &Path) -> Result<()> {
    std::fs::create_dir(path).map_err(|e| Error::io(path.display().to_string(), &e))
}

/// Installs `set` with `method` into a fresh prefix on `pool` and times it.
pub fn install_once(
    set: &PayloadSet,
    method: InstallMethod,
    pool: &rayon::ThreadPool,
) -> Result<InstallRun> {
    let scratch = tempfile::Builder::new()
        .prefix("prefixrace-bench-")
        .tempdir()
        .map_err(|e| Error::io("temporary directory", &e))?;
    let prefix = scratch.path().join("prefix");
    make_dir(&prefix)?;
    if method == InstallMethod::CopyOnly {
        for (i, package) in set.packages.iter().enumerate() {
            let stage = stage_dir(scratch.path(), i);
            make_dir(&stage)?;
            pip_install(&stage, package, i)?;
        }
    }
    let start = Instant::now();
    let races: Vec<u64> = pool.install(|| {
        set.packages
            .par_iter()
            .enumerate()
            .map(|(i, package)| -> Result<u64> {
                match method {
                    InstallMethod::Floor => plain_write(&prefix, package).map(|()| 0),
                    InstallMethod::DirectInstall => pip_install(&prefix, package, i).map(|()| 0),
                    InstallMethod::StagedCopy => {
                        let stage = stage_dir(scratch.path(), i);
                        make_dir(&stage)?;
                        pip_install(&stage, package, i)?;
                        Ok(copy_contents(&stage, &prefix)?.mkdir_races)
                    }
                    InstallMethod::CopyOnly => {
                        let stage = stage_dir(scratch.path(), i);
                        Ok(copy_contents(&stage, &prefix)?.mkdir_races)
                    }
                }
            })
            .collect::<Result<Vec<u64>>>()
    })?;
    let elapsed = start.elapsed();
    drop(scratch);
    Ok(InstallRun {
        elapsed,
        mkdir_races: races.iter().sum(),
    })
}

/// The figures of one method at one thread count.
#[derive(Debug, Clone, Serialize)]
pub struct InstallFigure {
    /// [`InstallMethod::name`].
    pub method: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// Files in the finished prefix.
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Repetitions.
    pub reps: usize,
    /// Median wall time of one install, seconds.
    pub seconds_median: f64,
    /// Every repetition's wall time, seconds, in run order.
    pub seconds_all: Vec<f64>,
    /// `files / seconds_median`.
    pub files_per_s: f64,
    /// `bytes / seconds_median`, in MB (10^6 bytes) per second.
    pub mb_per_s: f64,
    /// The most directory races one repetition lost (see [`super::cp_rp::CopyStats`]).
    pub mkdir_races_max: u64,
}

/// Ratios of methods at one thread count: medians of per-repetition ratios.
#[derive(Debug, Clone, Serialize)]
pub struct InstallRatio {
    /// Worker threads.
    pub threads: usize,
    /// staged-copy time / direct-install time (`None` when one was not measured).
    pub staged_over_direct: Option<f64>,
    /// direct-install time / floor time.
    pub direct_over_floor: Option<f64>,
    /// staged-copy time / floor time.
    pub staged_over_floor: Option<f64>,
    /// copy-only time / direct-install time: what the copy step adds.
    pub copy_over_direct: Option<f64>,
}

/// Measures every [`InstallMethod`] at every thread count of `scale`,
/// round-robin, and returns the figures and the paired ratios.
pub fn measure_installs(
    set: &PayloadSet,
    scale: &Scale,
) -> Result<(Vec<InstallFigure>, Vec<InstallRatio>)> {
    let pools = scale
        .threads
        .iter()
        .map(|&t| worker_pool(t))
        .collect::<Result<Vec<_>>>()?;
    let methods = scale.methods;
    // times[thread index][method index] = seconds per rep; races likewise.
    let mut times = vec![vec![Vec::new(); methods.len()]; pools.len()];
    let mut races = vec![vec![0u64; methods.len()]; pools.len()];
    for _ in 0..scale.reps.max(1) {
        for (t, pool) in pools.iter().enumerate() {
            for (m, &method) in methods.iter().enumerate() {
                let run = install_once(set, method, pool)?;
                times[t][m].push(run.elapsed.as_secs_f64());
                races[t][m] = races[t][m].max(run.mkdir_races);
            }
        }
    }
    let (files, bytes) = (set.file_count(), set.byte_count());
    let mut figures = Vec::new();
    let mut ratios = Vec::new();
    for (t, &threads) in scale.threads.iter().enumerate() {
        for (m, &method) in methods.iter().enumerate() {
            let seconds = median(&times[t][m]);
            figures.push(InstallFigure {
                method: method.name(),
                threads,
                files,
                bytes,
                reps: times[t][m].len(),
                seconds_median: seconds,
                seconds_all: times[t][m].clone(),
                files_per_s: per_second(files as f64, seconds),
                mb_per_s: per_second(bytes as f64 / 1e6, seconds),
                mkdir_races_max: races[t][m],
            });
        }
        let paired = |a: InstallMethod, b: InstallMethod| {
            let index_of = |m: InstallMethod| methods.iter().position(|x| *x == m);
            let (a, b) = (&times[t][index_of(a)?], &times[t][index_of(b)?]);
            let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| per_second(*x, *y)).collect();
            Some(median(&r))
        };
        use InstallMethod::*;
        ratios.push(InstallRatio {
            threads,
            staged_over_direct: paired(StagedCopy, DirectInstall),
            direct_over_floor: paired(DirectInstall, Floor),
            staged_over_floor: paired(StagedCopy, Floor),
            copy_over_direct: paired(CopyOnly, DirectInstall),
        });
    }
    Ok((figures, ratios))
}

/// `amount / seconds`, or 0 when no time was measured.
pub fn per_second(amount: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        amount / seconds
    } else {
        0.0
    }
}
