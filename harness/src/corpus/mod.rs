//! `prefixrace corpus DIR`: every scenario of a directory explored against
//! the expectation its `[expect]` table declares, as a recall table.
//!
//! A fail expectation (a buggy variant) is explored with auto, random, pct
//! and dpor, each from the same seed and budget, and is met when auto, the
//! default scheduler, finds a failure within `within` executions whose
//! error lines hold the expected message. A pass expectation (a fixed
//! variant) is explored with auto and with dpor to the end of its search
//! (within a cap), and is met when neither finds a failure. The searching
//! is [`crate::explore()`]'s; this module only chooses the runs and judges them.

mod row;
mod run;
mod table;

pub use row::{Row, FAIL_SCHEDULERS};
pub use run::SchedulerRun;
pub use table::{Corpus, Skipped, CORPUS_SCHEMA};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::scenario::{self, Scenario};

/// A progress display for the runs of a corpus (the CLI's bar); each run
/// is started with a label and its budget.
pub trait Watcher: Send + Sync {
    /// Starts watching one run; the display ends when the returned value drops.
    fn start(&self, label: &str, total: u64) -> Box<dyn Watch>;
}

/// The display of one run, ended when dropped.
pub trait Watch {
    /// The callback exploration calls with the executions done so far.
    fn callback(&self) -> Option<Arc<dyn Fn(u64) + Send + Sync>>;
}

/// How a corpus is explored.
#[derive(Clone)]
pub struct CorpusOptions {
    /// The seed of every run.
    pub seed: u64,
    /// A fail expectation needs auto to find it within this many executions.
    pub within: u64,
    /// The budget of auto, random and pct runs, and of dpor on a fail expectation.
    pub schedules: u64,
    /// The cap of dpor's search on a pass expectation.
    pub dpor_cap: u64,
    /// Worker threads of each exploration; results do not depend on it.
    pub threads: usize,
    /// Measure wall-clock time (off: output is byte-identical across runs).
    pub timing: bool,
    /// Progress display, if any.
    pub watcher: Option<Arc<dyn Watcher>>,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            seed: 1,
            within: 10,
            schedules: crate::explore::DEFAULT_SCHEDULES,
            dpor_cap: DEFAULT_DPOR_CAP,
            threads: 1,
            timing: true,
            watcher: None,
        }
    }
}

/// The cap of dpor's search on a pass expectation when none is given.
pub const DEFAULT_DPOR_CAP: u64 = 100_000;

/// The `*.toml` files directly in `dir`, by byte order of their names
/// (not the directory's order, which differs between filesystems).
pub fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(&shown, &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&shown, &e))?;
        let path = entry.path();
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        // Anything named *.toml but a directory is a scenario: a FIFO or a
        // device is then refused by the loader, in one line, rather than
        // skipped without a word.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_toml && !is_dir {
            files.push(path);
        }
    }
    files.sort_by(|a, b| {
        let name = |p: &PathBuf| p.file_name().map(|n| n.as_encoded_bytes().to_vec());
        name(a).cmp(&name(b))
    });
    if files.is_empty() {
        return Err(Error::Usage(format!("{shown}: no *.toml scenario in it")));
    }
    Ok(files)
}

/// Loads every scenario of `dir` first, so that a bad file stops the
/// corpus (with its one-line error) before anything runs, then explores
/// each one that declares an expectation, in file-name order.
pub fn explore_dir(dir: &Path, options: &CorpusOptions) -> Result<Corpus> {
    let mut loaded: Vec<(String, Arc<Scenario>)> = Vec::new();
    for path in scenario_files(dir)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        loaded.push((name, Arc::new(scenario::load(&path)?)));
    }
    let mut corpus = Corpus::new(dir.display().to_string(), options);
    for (file, scenario) in &loaded {
        match &scenario.expectation {
            Some(expectation) => {
                corpus.push_row(Row::explore(file, scenario, expectation, options)?);
            }
            None => corpus.skipped.push(Skipped {
                file: file.clone(),
                scenario: scenario.name.clone(),
                reason: "no [expect] table".to_string(),
            }),
        }
    }
    Ok(corpus)
}
