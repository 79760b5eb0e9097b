//! The `prefixrace` command line: a thin layer over the library.
//!
//! Exit codes: 0 no race found, 1 a race or divergence was found, 2 a usage or
//! input error; `run` interrupted by SIGINT exits 130 after killing its processes.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "prefixrace",
    version,
    about = "Deterministic race reproduction for parallel installs into a shared prefix"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Explore interleavings of a scenario under one strategy or all of them.
    Explore(cli::explore::ExploreArgs),
    /// Merge the JSON reports of `explore --shard I/N` runs into one verdict.
    Merge(cli::merge::MergeArgs),
    /// Replay one schedule from its token.
    Replay(cli::replay::ReplayArgs),
    /// Record a scenario or payload from a wheel, RECORD, tree, strace log or live command.
    Record(cli::record::RecordArgs),
    /// Measure exploration and install speed.
    Bench(cli::bench::BenchArgs),
    /// Run real commands concurrently with their prefix syscalls under the scheduler.
    Run(cli::run::RunArgs),
    /// List the built-in scenarios and strategies.
    List,
}

fn main() -> ExitCode {
    // Like every Unix filter, die quietly when the reader goes away
    // (`prefixrace explore ... | head`) instead of panicking in println!.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        None => cli::explore::showcase(),
        Some(Command::Explore(a)) => cli::explore::run(a),
        Some(Command::Merge(a)) => cli::merge::run(a),
        Some(Command::Replay(a)) => cli::replay::run(a),
        Some(Command::Record(a)) => cli::record::run(a),
        Some(Command::Bench(a)) => cli::bench::run(a),
        Some(Command::Run(a)) => cli::run::run(a),
        Some(Command::List) => cli::list::run(),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("prefixrace: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
