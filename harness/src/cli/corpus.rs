//! `prefixrace corpus DIR`: every scenario of a directory against the
//! expectation its `[expect]` table declares, as a recall table.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;

use super::progress::{Progress, Work};
use super::{print_text, thread_count, Format};
use prefixrace::internals::corpus::{self, CorpusOptions, Watch, Watcher, DEFAULT_DPOR_CAP};
use prefixrace::{Error, Result};

/// Arguments of `corpus`.
#[derive(Args, Debug)]
pub struct CorpusArgs {
    /// A directory of scenario TOML files; each one with an `[expect]`
    /// table is explored (in byte order of the file names), the others are
    /// listed as skipped.
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The seed of every run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A fail expectation is met only when auto finds the failure within
    /// this many executions.
    #[arg(long, default_value_t = 10)]
    pub within: u64,
    /// The budget of auto, random and pct runs, and of dpor on a fail
    /// expectation.
    #[arg(long, default_value_t = prefixrace::internals::explore::DEFAULT_SCHEDULES)]
    pub schedules: u64,
    /// The cap of dpor's search on a pass expectation (a search cut short
    /// shows as incomplete; the expectation is still met without a failure).
    #[arg(long, default_value_t = DEFAULT_DPOR_CAP)]
    pub dpor_cap: u64,
    /// Worker threads of each exploration (default: all cores). Results do
    /// not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Leave the time column (`millis` in JSON) out, so that the output is
    /// byte-identical across runs and `--jobs`.
    #[arg(long)]
    pub no_timing: bool,
}

/// The CLI's progress display: a bar on a terminal, a heartbeat off one.
struct Shown;

/// One run's display, cleared when dropped.
struct ShownRun(Mutex<Option<Progress>>);

impl Watcher for Shown {
    fn start(&self, label: &str, total: u64) -> Box<dyn Watch> {
        Box::new(ShownRun(Mutex::new(Some(Progress::start(Work {
            command: "corpus",
            label: label.to_string(),
            total,
        })))))
    }
}

impl Watch for ShownRun {
    fn callback(&self) -> Option<Arc<dyn Fn(u64) + Send + Sync>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(Progress::callback)
    }
}

impl Drop for ShownRun {
    fn drop(&mut self) {
        if let Some(p) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            p.finish();
        }
    }
}

/// Runs `prefixrace corpus`: exit 0 when every expectation is met, 1 when
/// one is not, 2 on bad input.
pub fn run(args: &CorpusArgs) -> Result<i32> {
    for (flag, value) in [
        ("--within", args.within),
        ("--schedules", args.schedules),
        ("--dpor-cap", args.dpor_cap),
    ] {
        if value == 0 {
            return Err(Error::Usage(format!("{flag} 0: give at least 1")));
        }
    }
    let options = CorpusOptions {
        seed: args.seed,
        within: args.within,
        schedules: args.schedules,
        dpor_cap: args.dpor_cap,
        threads: thread_count(args.jobs)?,
        timing: !args.no_timing,
        watcher: Some(Arc::new(Shown)),
    };
    let report = corpus::explore_dir(&args.dir, &options)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        ),
        Format::Text => print_text(&report.text()),
    }
    Ok(i32::from(report.unmet > 0))
}
