//! The subcommands of the `prefixrace` binary, one file each, and what they share.

pub mod bench;
pub mod corpus;
pub mod explore;
pub mod list;
pub mod merge;
pub mod progress;
pub mod record;
pub mod replay;
pub mod run;
pub mod run_fault;
pub mod run_walk;
pub mod style;
pub mod usage;

use std::sync::Arc;

use clap::{Args, ValueEnum};

use prefixrace::internals::fs::FsKind;
use prefixrace::internals::limits::MAX_WORKER_THREADS;
use prefixrace::scenario::{self, Scenario, WheelCheck};
use prefixrace::strategy::{scenario_strategies, scenario_strategy};
use prefixrace::{Error, Result, Strategy};

/// How a scenario is named on the command line.
#[derive(Args, Clone, Debug, Default)]
pub struct ScenarioArgs {
    /// A scenario TOML file, or `builtin:NAME`.
    pub scenario: Option<String>,
    /// Build the scenario from a package: a wheel, a RECORD file or a payload TOML.
    #[arg(long = "package", value_name = "WHEEL|RECORD|PAYLOAD")]
    pub packages: Vec<String>,
    /// Add a concurrent `import MODULE` activity.
    #[arg(long = "import", value_name = "MODULE")]
    pub imports: Vec<String>,
    /// Do not compare `--package` wheels' members with the sizes and hashes
    /// their RECORD lists (as `pip install` does by default).
    #[arg(long)]
    pub no_verify: bool,
    /// Install `--package` wheels for this Python (`3.11`: site-packages
    /// `lib/python3.11`, bytecode `cpython-311`) instead of the version their
    /// tags pin, or 3.9 when they pin none.
    #[arg(long, value_name = "X.Y")]
    pub python: Option<String>,
}

/// Output format.
#[derive(Copy, Clone, PartialEq, Eq, Debug, ValueEnum)]
pub enum Format {
    /// Human text.
    Text,
    /// JSON for machines.
    Json,
}

/// Loads the scenario named by `args`.
pub fn load_scenario(args: &ScenarioArgs) -> Result<Scenario> {
    match (&args.scenario, args.packages.is_empty()) {
        (Some(_), false) => Err(Error::Usage(
            "give either a scenario file or --package flags, not both".into(),
        )),
        (Some(_), true) if args.python.is_some() => Err(Error::Usage(
            "--python applies to --package wheels; a scenario file sets site-packages and python-tag itself".into(),
        )),
        (Some(s), true) => {
            if !args.imports.is_empty() {
                return Err(Error::Usage(
                    "--import builds an ad hoc scenario with --package; add activities to the scenario file instead".into(),
                ));
            }
            match s.strip_prefix("builtin:") {
                Some(name) => scenario::builtin::load(name),
                None => scenario::load(std::path::Path::new(s)),
            }
        }
        (None, false) => {
            let check = if args.no_verify {
                WheelCheck::NoVerify
            } else {
                WheelCheck::Verify
            };
            let python = match &args.python {
                Some(v) => Some(
                    scenario::PythonVersion::parse(v)
                        .map_err(|why| Error::Usage(format!("--python: {why}")))?,
                ),
                None => None,
            };
            Scenario::ad_hoc_for(&args.packages, &args.imports, check, python)
        }
        (None, true) => Err(Error::Usage(
            "no scenario: give a scenario file, builtin:NAME, or --package".into(),
        )),
    }
}

/// The strategies named by `--strategy`: `all` for every built-in one and
/// every one `scenario` declares, or one of them by name.
pub fn strategies(name: &str, scenario: &Scenario) -> Result<Vec<Arc<dyn Strategy>>> {
    if name == "all" {
        Ok(scenario_strategies(scenario))
    } else {
        Ok(vec![scenario_strategy(name, scenario)?])
    }
}

/// Prints a text report on stdout, its verdict words coloured when
/// `--color` and stdout allow (see [`style`]).
pub fn print_text(text: &str) {
    print!("{}", style::paint_verdicts(text, style::stdout_colored()));
}

/// On the real filesystem, makes SIGINT, SIGTERM, SIGHUP and SIGPIPE remove
/// every temporary root before the process exits (with 128 + the signal):
/// a watcher thread sees the handlers' flag and removes the live roots
/// (`fs::live_roots`), which their drops would otherwise never do.
pub fn remove_real_roots_on_signal(fs: FsKind) -> Result<()> {
    use prefixrace::internals::fs::live_roots;
    use prefixrace::internals::gate::interrupt;
    if fs != FsKind::Real {
        return Ok(());
    }
    interrupt::install().map_err(|e| Error::Usage(format!("cannot handle signals: {e}")))?;
    std::thread::spawn(|| loop {
        if let Some(sig) = interrupt::signal() {
            live_roots::remove_all_and_exit(128 + sig);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    });
    Ok(())
}

/// The worker-thread count: `--jobs`, or every core.
pub fn thread_count(jobs: Option<usize>) -> Result<usize> {
    match jobs {
        Some(n) if !(1..=MAX_WORKER_THREADS).contains(&n) => Err(Error::Usage(format!(
            "--jobs {n}: the worker thread count must be from 1 to {MAX_WORKER_THREADS}"
        ))),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)),
    }
}
