//! `prefixrace explore`: explore interleavings and report the first failure.

use std::sync::Arc;

use clap::Args;

use super::{load_scenario, progress_bar, strategies, thread_count, Format, ScenarioArgs};
use prefixrace::fs::FsKind;
use prefixrace::report::{self, RunInfo};
use prefixrace::{explore, Error, ExploreOptions, Oracle, Result, SchedulerKind, Setup};

/// Arguments of `explore`.
#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// staged-copy, direct-install, or all.
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// random, pct, pct:DEPTH or serial.
    #[arg(long, default_value = "random")]
    pub scheduler: String,
    /// The budget: how many executions to try.
    #[arg(long, default_value_t = 1000)]
    pub schedules: u64,
    /// The seed of the scheduler.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The filesystem executions run on: model (in memory) or real (a temp dir).
    #[arg(long, default_value = "model")]
    pub fs: String,
}

/// Runs `prefixrace explore`.
pub fn run(args: &ExploreArgs) -> Result<i32> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let scheduler: SchedulerKind = args.scheduler.parse().map_err(Error::Usage)?;
    let strategies = strategies(&args.strategy)?;
    let threads = thread_count(args.jobs)?;
    let fs: FsKind = args.fs.parse().map_err(Error::Usage)?;
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
        let progress = bar
            .clone()
            .map(|b| Arc::new(move |n: u64| b.set_position(n)) as Arc<dyn Fn(u64) + Send + Sync>);
        let options = ExploreOptions {
            scheduler,
            schedules: args.schedules,
            seed: args.seed,
            threads,
            fs,
            progress,
        };
        let ex = explore(&setup, &options)?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let info = RunInfo {
            scenario: &scenario,
            strategy: strategy.name(),
            scheduler: scheduler.to_string(),
            seed: args.seed,
            schedules: args.schedules,
        };
        any_fail |= ex.first_failure.is_some();
        references.push((
            strategy.name().to_string(),
            Oracle::new(&setup)?.reference().clone(),
        ));
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
                lines.push(format!(
                    "reference trees: {first_name} and {name} agree ({} paths)",
                    first.len()
                ));
            } else {
                agree = false;
                lines.push(format!(
                    "reference trees: {first_name} and {name} DIFFER in {} paths:",
                    diff.changes.len()
                ));
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
            println!(
                "{}",
                serde_json::to_string_pretty(&reports[0]).expect("reports serialize")
            );
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
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("reports serialize")
            );
        }
        Format::Text if strategies.len() == 1 => print!("{}", texts[0]),
        Format::Text => {
            println!(
                "prefixrace explore: {}",
                if any_fail { "FAIL" } else { "PASS" }
            );
            println!("scenario: {}", scenario.name);
            println!(
                "scheduler: {scheduler}, seed {}, budget {} executions\n",
                args.seed, args.schedules
            );
            let width = strategies.iter().map(|s| s.name().len()).max().unwrap_or(8);
            for r in &reports {
                let detail = match &r.first_failure {
                    Some(f) => format!(
                        "execution {}: {}",
                        f.execution.unwrap_or(0),
                        f.error.clone().unwrap_or_else(|| f.class.clone())
                    ),
                    None => "no failure".to_string(),
                };
                println!(
                    "  {:<width$}  {}  {:>6} executions  {detail}",
                    r.strategy,
                    r.verdict.to_uppercase(),
                    r.executions
                );
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

/// The built-in showcase: sage-32361 under every strategy.
pub fn showcase() -> Result<i32> {
    eprintln!("prefixrace showcase: SageMath ticket 32361, staged copy against direct install (built-in sage-32361, seed 1)\n");
    let args = ExploreArgs {
        scenario: ScenarioArgs {
            scenario: Some("builtin:sage-32361".into()),
            packages: vec![],
            imports: vec![],
        },
        strategy: "all".into(),
        scheduler: "random".into(),
        schedules: 1000,
        seed: 1,
        jobs: None,
        format: Format::Text,
        fs: "model".into(),
    };
    run(&args)
}
