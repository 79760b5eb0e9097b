//! `prefixrace bench`: exploration speed and parallel-install speed as one
//! table (or JSON), for maintainers who do not use criterion.

use clap::Args;

use super::Format;
use prefixrace::internals::bench::scaling::measure_in_process;
use prefixrace::internals::bench::{BenchReport, Scale, ScalingCase};
use prefixrace::{Error, Result};

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Fewer repetitions and executions: finishes in under a minute on 2 cores.
    #[arg(long)]
    pub quick: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Tiny budgets for tests of the output's shape; the figures mean nothing.
    #[arg(long, hide = true, conflicts_with = "quick")]
    pub smoke: bool,
    /// Measures one scaling row (`KIND:JOBS:STRATEGY:EXECUTIONS`) in this
    /// process and prints it as JSON: how `bench` measures each row's peak
    /// RSS in a child of its own.
    #[arg(long, hide = true)]
    pub scaling_row: Option<String>,
}

/// Runs `prefixrace bench`.
pub fn run(args: &BenchArgs) -> Result<i32> {
    if let Some(row) = &args.scaling_row {
        let figure = measure_in_process(&ScalingCase::from_arg(row)?)?;
        println!(
            "{}",
            serde_json::to_string(&figure)
                .map_err(|e| Error::Usage(format!("cannot serialize the row: {e}")))?
        );
        return Ok(0);
    }
    let scale = if args.smoke {
        Scale::SMOKE
    } else if args.quick {
        Scale::QUICK
    } else {
        Scale::FULL
    };
    let exe = std::env::current_exe().ok();
    let report = BenchReport::measure_with(&scale, exe.as_deref())?;
    match args.format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .map_err(|e| Error::Usage(format!("cannot serialize the report: {e}")))?
        ),
    }
    Ok(0)
}
