//! A replay on the real filesystem against the floor.
//!
//! One execution of a scenario under direct install, replayed on
//! [`RealFs`] exactly as `explore --fs real` runs it (every op a real
//! syscall resolved with `openat2(RESOLVE_BENEATH)`, and the final tree read
//! back for the oracle), against the floor: a plain loop writing the same
//! final tree (the same directories, bytes and modes) into a fresh directory
//! of the same filesystem. Both start from a fresh temporary directory, and
//! neither counts removing it. The two alternate, and the ratio quoted is
//! the median of the per-repetition ratios.

use std::fs::{self, File, Permissions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::median::median;
use crate::error::{Error, Result};
use crate::fs::{Fs, ModelFs, RealFs};
use crate::op::Kind;
use crate::scenario;
use crate::schedule::SerialScheduler;
use crate::setup::Setup;
use crate::strategy::DirectInstall;

/// One entry the floor writes.
enum FloorEntry {
    Dir(String, u32),
    File(String, Vec<u8>, u32),
    Symlink(String, String),
}

/// The final tree of `setup`'s serial execution, parents first.
fn final_tree(setup: &Setup) -> Vec<FloorEntry> {
    let mut model = ModelFs::new();
    setup.run(&mut model, &mut SerialScheduler, false);
    let tree = model.tree();
    tree.iter()
        .map(|(path, entry)| match entry.kind {
            Kind::Dir => FloorEntry::Dir(path.clone(), entry.mode),
            Kind::File => FloorEntry::File(
                path.clone(),
                model
                    .content(path)
                    .map(|c| c.to_bytes())
                    .unwrap_or_default(),
                entry.mode,
            ),
            Kind::Symlink => {
                FloorEntry::Symlink(path.clone(), entry.target.clone().unwrap_or_default())
            }
        })
        .collect()
}

/// Writes `entries` under `root` with plain calls.
fn write_floor(root: &Path, entries: &[FloorEntry]) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| Error::io(p.display().to_string(), &e);
    for entry in entries {
        match entry {
            FloorEntry::Dir(path, mode) => {
                let p = root.join(path);
                fs::create_dir(&p).map_err(|e| io(&p, e))?;
                if *mode != 0o755 {
                    fs::set_permissions(&p, Permissions::from_mode(*mode))
                        .map_err(|e| io(&p, e))?;
                }
            }
            FloorEntry::File(path, bytes, mode) => {
                let p = root.join(path);
                let mut out = File::create(&p).map_err(|e| io(&p, e))?;
                out.write_all(bytes).map_err(|e| io(&p, e))?;
                if *mode != 0o644 {
                    out.set_permissions(Permissions::from_mode(*mode))
                        .map_err(|e| io(&p, e))?;
                }
            }
            FloorEntry::Symlink(path, target) => {
                let p = root.join(path);
                std::os::unix::fs::symlink(target, &p).map_err(|e| io(&p, e))?;
            }
        }
    }
    Ok(())
}

/// The figures of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayFloorFigure {
    /// Built-in scenario name.
    pub scenario: &'static str,
    /// Strategy name.
    pub strategy: &'static str,
    /// Ops of the replayed execution.
    pub ops: u64,
    /// Entries of the final tree (what the floor writes).
    pub entries: u64,
    /// Repetitions.
    pub reps: usize,
    /// Median seconds of one replay on the real filesystem.
    pub replay_seconds_median: f64,
    /// Median seconds of the floor.
    pub floor_seconds_median: f64,
    /// Median of the per-repetition ratios replay / floor.
    pub replay_over_floor: f64,
}

/// Times `scenario` under direct install, replay against floor, `reps` times.
pub fn measure_replay_floor(scenario_name: &'static str, reps: usize) -> Result<ReplayFloorFigure> {
    let scenario = Arc::new(scenario::builtin::load(scenario_name)?);
    let setup = Setup::new(scenario, &DirectInstall)?;
    let entries = final_tree(&setup);
    let (mut replays, mut floors, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut ops = 0;
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        let mut real = RealFs::new()?;
        let trace = setup.run(&mut real, &mut SerialScheduler, false);
        let replay = start.elapsed().as_secs_f64();
        drop(real);
        ops = trace.schedule.choices.len() as u64;

        let start = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("prefixrace-floor-")
            .tempdir()
            .map_err(|e| Error::io("temporary directory", &e))?;
        write_floor(dir.path(), &entries)?;
        let floor = start.elapsed().as_secs_f64();
        drop(dir);

        replays.push(replay);
        floors.push(floor);
        ratios.push(replay / floor.max(f64::MIN_POSITIVE));
    }
    Ok(ReplayFloorFigure {
        scenario: scenario_name,
        strategy: "direct-install",
        ops,
        entries: entries.len() as u64,
        reps: replays.len(),
        replay_seconds_median: median(&replays),
        floor_seconds_median: median(&floors),
        replay_over_floor: median(&ratios),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_writes_the_tree_the_replay_leaves() {
        let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
        let setup = Setup::new(scenario, &DirectInstall).unwrap();
        let mut real = RealFs::new().unwrap();
        let replayed = setup.run(&mut real, &mut SerialScheduler, false).tree;
        let dir = tempfile::tempdir().unwrap();
        write_floor(dir.path(), &final_tree(&setup)).unwrap();
        let floor = crate::fs::host_tree(dir.path()).unwrap();
        assert_eq!(floor, replayed, "{}", floor.diff_from(&replayed));
    }
}
