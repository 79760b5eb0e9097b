//! The `prefixrace` command line: a thin layer over the library.
//!
//! Exit codes: 0 no race found, 1 a race or divergence was found, 2 a usage or
//! input error; `run` interrupted by SIGINT exits 130 after killing its processes.
//! Every error is one line on stderr; with `--format json` it is also a JSON
//! object with an `error` field on stdout.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::style::{self, When};
use cli::Format;

#[derive(Parser)]
#[command(
    name = "prefixrace",
    version,
    about = "Deterministic race reproduction for parallel installs into a shared prefix"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Colour verdicts and error lines: auto (on a terminal, unless NO_COLOR
    /// is set), always or never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: When,
    /// Show progress on stderr: auto (a bar on a terminal for long runs, a
    /// heartbeat line every 10 s otherwise), always or never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    progress: When,
}

#[derive(Subcommand)]
enum Command {
    /// Explore interleavings of a scenario under one strategy or all of them.
    Explore(cli::explore::ExploreArgs),
    /// Explore every scenario of a directory against its `[expect]` table: a recall table.
    Corpus(cli::corpus::CorpusArgs),
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

impl Command {
    /// The subcommand's name, as JSON errors give it.
    fn name(&self) -> &'static str {
        match self {
            Command::Explore(_) => "explore",
            Command::Corpus(_) => "corpus",
            Command::Merge(_) => "merge",
            Command::Replay(_) => "replay",
            Command::Record(_) => "record",
            Command::Bench(_) => "bench",
            Command::Run(_) => "run",
            Command::List => "list",
        }
    }

    /// Whether `--format json` was asked for.
    fn json(&self) -> bool {
        let format = match self {
            Command::Explore(a) => a.format,
            Command::Corpus(a) => a.format,
            Command::Merge(a) => a.format,
            Command::Replay(a) => a.format,
            Command::Bench(a) => a.format,
            Command::Run(a) => a.format,
            Command::Record(_) | Command::List => Format::Text,
        };
        format == Format::Json
    }
}

fn main() -> ExitCode {
    // Like every Unix filter, die quietly when the reader goes away
    // (`prefixrace explore ... | head`) instead of panicking in println!.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::usage::refuse(e),
    };
    style::set_color(cli.color);
    cli::progress::set_progress(cli.progress);
    let result = match &cli.command {
        None => cli::explore::showcase(),
        Some(Command::Explore(a)) => cli::explore::run(a),
        Some(Command::Corpus(a)) => cli::corpus::run(a),
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
            let message = e.to_string();
            if let Some(command) = cli.command.as_ref().filter(|c| c.json()) {
                cli::usage::json_error(command.name(), &message, e.exit_code());
            }
            cli::usage::error_line(&message);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
