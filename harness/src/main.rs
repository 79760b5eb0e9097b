//! The `prefixrace` command line: a thin layer over the library.
//!
//! Exit codes: 0 no race found, 1 a race or divergence was found, 2 a usage or
//! input error.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use prefixrace::report::{self, RunInfo};
use prefixrace::scenario::{self, Scenario};
use prefixrace::strategy::{builtin_strategies, builtin_strategy};
use prefixrace::{explore, replay, Error, ExploreOptions, Oracle, Result, SchedulerKind, Setup, Strategy};

#[derive(Parser)]
#[command(name = "prefixrace", version, about = "Deterministic race reproduction for parallel installs into a shared prefix")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Explore interleavings of a scenario under one strategy or all of them.
    Explore(ExploreArgs),
    /// Replay one schedule from its token.
    Replay(ReplayArgs),
    /// List the built-in scenarios and strategies.
    List,
}

#[derive(Args, Clone)]
struct ScenarioArgs {
    /// A scenario TOML file, or `builtin:NAME`.
    scenario: Option<String>,
    /// Build the scenario from a package: a wheel, a RECORD file or a payload TOML.
    #[arg(long = "package", value_name = "WHEEL|RECORD|PAYLOAD")]
    packages: Vec<String>,
    /// Add a concurrent `import MODULE` activity.
    #[arg(long = "import", value_name = "MODULE")]
    imports: Vec<String>,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Args)]
struct ExploreArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// staged-copy, direct-install, or all.
    #[arg(long, default_value = "all")]
    strategy: String,
    /// random, pct, pct:DEPTH or serial.
    #[arg(long, default_value = "random")]
    scheduler: String,
    /// The budget: how many executions to try.
    #[arg(long, default_value_t = 1000)]
    schedules: u64,
    /// The seed of the scheduler.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The strategy the token was found under.
    #[arg(long)]
    strategy: String,
    /// The schedule token printed by explore.
    #[arg(long)]
    token: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn load_scenario(args: &ScenarioArgs) -> Result<Scenario> {
    match (&args.scenario, args.packages.is_empty()) {
        (Some(_), false) => Err(Error::Usage("give either a scenario file or --package flags, not both".into())),
        (Some(s), true) => {
            if !args.imports.is_empty() {
                return Err(Error::Usage("--import builds an ad hoc scenario with --package; add activities to the scenario file instead".into()));
            }
            match s.strip_prefix("builtin:") {
                Some(name) => scenario::builtin::load(name),
                None => scenario::load(std::path::Path::new(s)),
            }
        }
        (None, false) => Scenario::ad_hoc(&args.packages, &args.imports),
        (None, true) => Err(Error::Usage("no scenario: give a scenario file, builtin:NAME, or --package".into())),
    }
}

fn strategies(name: &str) -> Result<Vec<Arc<dyn Strategy>>> {
    if name == "all" {
        Ok(builtin_strategies())
    } else {
        Ok(vec![builtin_strategy(name)?])
    }
}

fn progress_bar(total: u64, enabled: bool) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() || total < 200 {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} executions ({per_sec})").ok()?.progress_chars("=> "));
    Some(bar)
}

fn run_explore(args: &ExploreArgs) -> Result<i32> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let scheduler: SchedulerKind = args.scheduler.parse().map_err(Error::Usage)?;
    let strategies = strategies(&args.strategy)?;
    if args.jobs == Some(0) {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let threads = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let mut reports = Vec::new();
    let mut texts = Vec::new();
    let mut references = Vec::new();
    let mut any_fail = false;
    for strategy in &strategies {
        let setup = Setup::new(scenario.clone(), strategy.as_ref())?;
        let bar = progress_bar(args.schedules, args.format == Format::Text);
        if let Some(b) = &bar {
            b.set_message(strategy.name().to_string());
        }
        let progress = bar.clone().map(|b| Arc::new(move |n: u64| b.set_position(n)) as Arc<dyn Fn(u64) + Send + Sync>);
        let options = ExploreOptions { scheduler, schedules: args.schedules, seed: args.seed, threads, progress };
        let ex = explore(&setup, &options)?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let info = RunInfo { scenario: &scenario, strategy: strategy.name(), scheduler: scheduler.to_string(), seed: args.seed, schedules: args.schedules };
        any_fail |= ex.first_failure.is_some();
        references.push((strategy.name().to_string(), Oracle::new(&setup)?.reference().clone()));
        texts.push(report::exploration_text(&info, &ex));
        reports.push(report::exploration_json(&info, &ex));
    }
    let mut reference_note = None;
    if references.len() > 1 {
        let (first_name, first) = &references[0];
        let mut agree = true;
        let mut lines = Vec::new();
        for (name, tree) in &references[1..] {
            let diff = tree.diff_from(first);
            if diff.is_empty() {
                lines.push(format!("reference trees: {first_name} and {name} agree ({} paths)", first.len()));
            } else {
                agree = false;
                lines.push(format!("reference trees: {first_name} and {name} DIFFER in {} paths:", diff.changes.len()));
                for c in diff.changes.iter().take(12) {
                    lines.push(format!("  {c}"));
                }
            }
        }
        any_fail |= !agree;
        reference_note = Some((agree, lines));
    }
    match args.format {
        Format::Json if strategies.len() == 1 => {
            println!("{}", serde_json::to_string_pretty(&reports[0]).expect("reports serialize"));
        }
        Format::Json => {
            let value = serde_json::json!({
                "command": "explore",
                "verdict": if any_fail { "fail" } else { "pass" },
                "scenario": scenario.name,
                "scheduler": scheduler.to_string(),
                "seed": args.seed,
                "schedules": args.schedules,
                "reference_trees_equal": reference_note.as_ref().map(|(a, _)| *a),
                "strategies": reports,
            });
            println!("{}", serde_json::to_string_pretty(&value).expect("reports serialize"));
        }
        Format::Text if strategies.len() == 1 => print!("{}", texts[0]),
        Format::Text => {
            println!("prefixrace explore: {}", if any_fail { "FAIL" } else { "PASS" });
            println!("scenario: {}", scenario.name);
            println!("scheduler: {scheduler}, seed {}, budget {} executions\n", args.seed, args.schedules);
            let width = strategies.iter().map(|s| s.name().len()).max().unwrap_or(8);
            for r in &reports {
                let detail = match &r.first_failure {
                    Some(f) => format!("execution {}: {}", f.execution.unwrap_or(0), f.error.clone().unwrap_or_else(|| f.class.clone())),
                    None => "no failure".to_string(),
                };
                println!("  {:<width$}  {}  {:>6} executions  {detail}", r.strategy, r.verdict.to_uppercase(), r.executions);
            }
            if let Some((_, lines)) = &reference_note {
                println!();
                for l in lines {
                    println!("{l}");
                }
            }
            for (t, r) in texts.iter().zip(&reports) {
                if r.first_failure.is_some() {
                    println!("\n--- {} ---", r.strategy);
                    print!("{t}");
                }
            }
        }
    }
    Ok(i32::from(any_fail))
}

fn run_replay(args: &ReplayArgs) -> Result<i32> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let strategy = builtin_strategy(&args.strategy)?;
    let setup = Setup::new(scenario.clone(), strategy.as_ref())?;
    let r = replay(&setup, &args.token)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report::replay_json(&scenario, strategy.name(), &r)).expect("reports serialize")),
        Format::Text => print!("{}", report::replay_text(&scenario, strategy.name(), &args.token, &r)),
    }
    Ok(i32::from(r.failure.is_some()))
}

fn run_list() -> Result<i32> {
    println!("built-in scenarios (use as builtin:NAME):");
    for name in scenario::builtin::names() {
        let s = scenario::builtin::load(name)?;
        println!("  {name:<16} {}", s.description);
    }
    println!("strategies:");
    for s in builtin_strategies() {
        println!("  {:<16} {}", s.name(), s.summary());
    }
    Ok(0)
}

fn showcase() -> Result<i32> {
    eprintln!("prefixrace showcase: SageMath ticket 32361, staged copy against direct install (built-in sage-32361, seed 1)\n");
    let args = ExploreArgs {
        scenario: ScenarioArgs { scenario: Some("builtin:sage-32361".into()), packages: vec![], imports: vec![] },
        strategy: "all".into(),
        scheduler: "random".into(),
        schedules: 1000,
        seed: 1,
        jobs: None,
        format: Format::Text,
    };
    run_explore(&args)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => showcase(),
        Some(Command::Explore(a)) => run_explore(a),
        Some(Command::Replay(a)) => run_replay(a),
        Some(Command::List) => run_list(),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("prefixrace: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
