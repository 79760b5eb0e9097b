//! `prefixrace explore`: explore interleavings and report the first failure.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::progress::{Progress, Work};
use super::{load_scenario, print_text, strategies, thread_count, Format, ScenarioArgs};
use prefixrace::check::env::{self, Seed};
use prefixrace::check::regressions::Regressions;
use prefixrace::internals::execution::ExecutionTrace;
use prefixrace::internals::explore::{Exploration, Failure};
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::report::{self, Explained, FailureJson, ReportJson, RunInfo};
use prefixrace::internals::shard::Shard;
use prefixrace::internals::thousands::thousands;
use prefixrace::internals::{Oracle, Tree};
use prefixrace::{
    explore, Error, ExploreOptions, FailureKind, Result, SchedulerKind, Setup, Strategy,
};
use rayon::prelude::*;
use serde::Serialize;

/// Arguments of `explore`.
#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// A strategy name (built-in, or declared in the scenario's `[[strategy]]`
    /// tables), or `all` for the order-sensitivity matrix of every one.
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// auto (race-directed, dpor, random and pct interleaved), directed
    /// (one execution per conflict of the serial, opposite and round-robin
    /// runs),
    /// random, pct, pct:DEPTH, serial or dpor (systematic, partial-order
    /// reduced).
    /// [default: PREFIXRACE_SCHEDULER, else auto]
    #[arg(long)]
    pub scheduler: Option<String>,
    /// The budget: how many executions to try [default: PREFIXRACE_SCHEDULES,
    /// else 1000; dpor: none, it runs to the end of its search].
    #[arg(long)]
    pub schedules: Option<u64>,
    /// Stop starting executions after this many seconds; a run cut short
    /// says so (verdict INCOMPLETE unless something failed) [default:
    /// PREFIXRACE_TIME_LIMIT, else none].
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// Exit 1 unless the run is complete: a dpor search (alone or in auto)
    /// that ended, within the budget and time limit.
    #[arg(long)]
    pub require_complete: bool,
    /// The seed of the scheduler [default: PREFIXRACE_SEED (a number, or
    /// `random` for a fresh one, printed in the report), else 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: PREFIXRACE_JOBS, else all cores). Results
    /// do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The filesystem executions run on: model (in memory) or real (a temp dir).
    #[arg(long, default_value = "model")]
    pub fs: String,
    /// Run only shard I of N. random, pct: the executions whose index is
    /// I-1 modulo N; the N shards together are exactly the unsharded run.
    /// dpor: every shard runs the whole search and judges the executions
    /// whose index in it is I-1 modulo N; the N shards together judge
    /// exactly the unsharded run's executions.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Report the first failure as it ran, without shrinking it first
    /// (faster; the story and token are longer).
    #[arg(long)]
    pub no_shrink: bool,
    /// Do not count conflicting pairs of ops (the report leaves the
    /// `pairs:` line out). Faster for random and pct: executions then need
    /// no events, so most are decided from the state graph of earlier ones
    /// without running.
    #[arg(long)]
    pub no_pairs: bool,
    /// A regressions file (see `docs/library.md`): replay its tokens for
    /// each strategy first (a failure among them is reported at execution 1,
    /// found by "regression"), and append the token of a new failure.
    #[arg(long, value_name = "FILE")]
    pub regressions: Option<PathBuf>,
    /// Faults to inject, comma-separated: `crash` kills each job after
    /// each of its ops in every passing execution; `enospc`, `eio`,
    /// `eintr` and `short-write` strike each op they can, one at a time.
    /// Each is followed by a rerun of the failed jobs, and the prefix must
    /// recover. `:all` after a kind tries every execution's points (see
    /// docs/faults.md) [default: none].
    #[arg(long, value_name = "KINDS")]
    pub faults: Option<String>,
}

/// Runs `prefixrace explore`.
pub fn run(args: &ExploreArgs) -> Result<i32> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    // A flag wins; the environment knobs fill in what no flag gives.
    let scheduler: SchedulerKind = match &args.scheduler {
        Some(s) => s.parse().map_err(Error::Usage)?,
        None => env::scheduler()?.unwrap_or(SchedulerKind::Auto),
    };
    let seed = match args.seed {
        Some(s) => Seed::Fixed(s),
        None => env::seed()?.unwrap_or(Seed::Fixed(0)),
    };
    if let Seed::Random(_) = seed {
        eprintln!("prefixrace explore: seed {}", seed.describe());
    }
    let strategies = strategies(&args.strategy, &scenario)?;
    let jobs = match args.jobs {
        Some(n) => Some(n),
        None => env::jobs()?,
    };
    let threads = thread_count(jobs)?;
    let fs: FsKind = args.fs.parse().map_err(Error::Usage)?;
    super::remove_real_roots_on_signal(fs)?;
    let shard: Shard = match &args.shard {
        Some(s) => s.parse().map_err(Error::Usage)?,
        None => Shard::WHOLE,
    };
    let schedules = match args.schedules {
        Some(n) => Some(n),
        None => env::schedules()?,
    }
    .unwrap_or(match scheduler {
        SchedulerKind::Dpor => u64::MAX,
        _ => DEFAULT_SCHEDULES,
    });
    let saved = match &args.regressions {
        Some(path) => Some(Regressions::load(path)?),
        None => None,
    };
    let time_limit = match args.time_limit {
        Some(t) if t.is_finite() && t > 0.0 && t < 1e9 => {
            Some(std::time::Duration::from_secs_f64(t))
        }
        Some(t) => {
            return Err(Error::Usage(format!(
                "--time-limit: {t} is not a number of seconds between 0 and 1e9"
            )))
        }
        None => env::time_limit()?,
    };
    let faults: prefixrace::crash::Faults = match &args.faults {
        Some(f) => f
            .parse()
            .map_err(|e| Error::Usage(format!("--faults: {e}")))?,
        None => prefixrace::crash::Faults::NONE,
    };
    let matrix = strategies.len() > 1;
    let mut rows = Vec::new();
    let mut first_refusal: Option<String> = None;
    let mut texts = Vec::new();
    let mut references: Vec<(Arc<dyn Strategy>, Tree)> = Vec::new();
    for strategy in &strategies {
        let setup = Setup::new(scenario.clone(), strategy.as_ref())?;
        let info = RunInfo {
            scenario: &scenario,
            strategy: strategy.name(),
            scheduler: scheduler.to_string(),
            seed: seed.value(),
            schedules,
        };
        // In a matrix, a strategy whose serial run already fails is a row of
        // its own (portage refusing a shared file, say), not the end of the run.
        let oracle = match Oracle::new(&setup) {
            Ok(o) => o,
            Err(e) if matrix => {
                first_refusal.get_or_insert_with(|| e.to_string());
                rows.push(MatrixRow::refused(&info, strategy.summary(), e.to_string()));
                texts.push(String::new());
                continue;
            }
            Err(e) => return Err(e),
        };
        references.push((strategy.clone(), oracle.reference().clone()));
        let shown = Progress::start(Work {
            command: "explore",
            label: if matrix {
                format!(
                    "{} ({}/{})",
                    strategy.name(),
                    rows.len() + 1,
                    strategies.len()
                )
            } else {
                strategy.name().to_string()
            },
            total: schedules,
        });
        let progress = shown.callback();
        let options = ExploreOptions {
            scheduler,
            schedules,
            seed: seed.value(),
            threads,
            time_limit,
            fs,
            shard,
            progress,
            count_pairs: !args.no_pairs,
            shrink: !args.no_shrink,
            faults,
            ..ExploreOptions::default()
        };
        let replayed = match &saved {
            Some(saved) => saved.replay_first(&setup, fs)?,
            None => None,
        };
        let from_regressions = replayed.is_some();
        let ex = match replayed {
            Some(hit) => {
                Exploration::regression(hit.failure, oracle.reference_steps(), hit.found_by)
            }
            None => explore(&setup, &options)?,
        };
        shown.finish();
        if let (Some(path), Some(f), false) =
            (&args.regressions, &ex.first_failure, from_regressions)
        {
            let comment = format!(
                "scenario {}, scheduler {scheduler}, seed {}, execution {}",
                scenario.name,
                seed.value(),
                f.execution.unwrap_or(1)
            );
            if Regressions::save(path, &scenario.name, strategy.name(), &f.token, &comment)? {
                eprintln!(
                    "prefixrace explore: saved the failing token of {} to {}",
                    strategy.name(),
                    path.display()
                );
            }
        }
        texts.push(report::exploration_text(&info, &ex));
        let mut row = MatrixRow::explored(report::exploration_json(&info, &ex), strategy.summary());
        if matrix {
            if let Some(first) = &ex.first_failure {
                let shortest = shortest_failure(&setup, &oracle, &options, first)?;
                row.set_story(&report::explain(&shortest, &scenario, strategy.name()));
            }
        }
        rows.push(row);
    }
    if let Some(reason) = first_refusal.filter(|_| rows.iter().all(|r| r.report.verdict == "error"))
    {
        // No strategy can even run serially: the scenario itself is unusable.
        return Err(Error::Usage(reason));
    }
    let mut any_fail = rows
        .iter()
        .any(|r| r.report.verdict == "fail" || r.report.verdict == "error");
    let any_incomplete = rows.iter().any(|r| r.report.verdict == "incomplete");
    let reference_note = (references.len() > 1).then(|| compare_references(&references));
    if let Some((agree, _)) = &reference_note {
        any_fail |= !agree;
    }
    match args.format {
        Format::Json if !matrix => {
            println!(
                "{}",
                serde_json::to_string_pretty(&rows[0].report).expect("reports serialize")
            );
        }
        Format::Json => {
            let value = serde_json::json!({
                "schema": report::REPORT_SCHEMA,
                "command": "explore",
                "verdict": overall(any_fail, any_incomplete),
                "scenario": scenario.name,
                "scheduler": scheduler.to_string(),
                "seed": seed.value(),
                "schedules": schedules,
                "reference_trees_equal": reference_note.as_ref().map(|(a, _)| *a),
                "strategies": rows,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("reports serialize")
            );
        }
        Format::Text if !matrix => print_text(&texts[0]),
        Format::Text => {
            print_text(&format!(
                "prefixrace explore: {}\n",
                overall(any_fail, any_incomplete).to_uppercase()
            ));
            println!("scenario: {}", scenario.name);
            println!(
                "scheduler: {scheduler}, seed {}, budget {}\n",
                seed.value(),
                match schedules {
                    u64::MAX => "none (to the end of the search)".to_string(),
                    n => format!("{} executions", thousands(n)),
                }
            );
            print!("{}", matrix_text(&rows));
            if let Some((_, lines)) = &reference_note {
                println!();
                for l in lines {
                    println!("{l}");
                }
            }
            for (t, r) in texts.iter().zip(&rows) {
                if r.report.first_failure.is_some() {
                    println!("\n--- {} ---", r.report.strategy);
                    print_text(t);
                }
            }
        }
    }
    if args.require_complete && !any_fail {
        let incomplete: Vec<&str> = rows
            .iter()
            .filter(|r| !r.report.coverage.complete)
            .map(|r| r.report.strategy.as_str())
            .collect();
        if !incomplete.is_empty() {
            eprintln!(
                "prefixrace explore: --require-complete: the run did not cover the whole space under {} (only a dpor search that ends proves absence)",
                incomplete.join(", ")
            );
            return Ok(1);
        }
    }
    Ok(i32::from(any_fail))
}

/// The budget of random, pct, directed and auto runs when none is given.
pub const DEFAULT_SCHEDULES: u64 = prefixrace::internals::explore::DEFAULT_SCHEDULES;

/// The verdict of a whole run: fail if anything failed, else incomplete
/// if anything was cut short, else pass.
fn overall(any_fail: bool, any_incomplete: bool) -> &'static str {
    match (any_fail, any_incomplete) {
        (true, _) => "fail",
        (false, true) => "incomplete",
        (false, false) => "pass",
    }
}

/// One row of the order-sensitivity matrix: the strategy's exploration report
/// (every field of a single-strategy JSON report) plus the matrix columns.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    /// The exploration report; `verdict` is `pass`, `fail`, or `error` when
    /// the serial reference run itself fails.
    #[serde(flatten)]
    pub report: ReportJson,
    /// What the strategy does.
    pub summary: String,
    /// `job-error`, `order-dependent-tree`, `aborted`,
    /// `serial-reference-fails`, `stale-bytecode-note` (passed, with notes),
    /// or null (passed cleanly).
    pub class: Option<String>,
    /// The shortest race story: the story of the failing execution that
    /// shows its failure in the fewest ops, among the first failure and the [`SHORTEST_SEARCH`]
    /// executions after it, one op per line (for `serial-reference-fails`,
    /// the error).
    pub story: Vec<String>,
    /// The 1-based execution the story comes from.
    pub story_execution: Option<u64>,
    /// Ops of that execution up to the failing op.
    pub story_ops: Option<usize>,
    /// Its replay token.
    pub story_token: Option<String>,
    /// The error it ends with, exactly as the real tool prints it.
    pub story_error: Option<String>,
}

impl MatrixRow {
    fn explored(report: ReportJson, summary: &str) -> MatrixRow {
        let (class, story) = match &report.first_failure {
            Some(f) => (Some(f.class.clone()), story_lines(f)),
            None if report.notes.iter().any(|n| n.starts_with("stale bytecode")) => {
                (Some("stale-bytecode-note".to_string()), Vec::new())
            }
            None => (None, Vec::new()),
        };
        MatrixRow {
            report,
            summary: summary.to_string(),
            class,
            story,
            story_execution: None,
            story_ops: None,
            story_token: None,
            story_error: None,
        }
    }

    fn set_story(&mut self, failure: &Explained) {
        let f = failure.json();
        self.story = story_lines(f);
        self.story_execution = f.execution;
        self.story_ops = f.story.last().map(|l| l.step);
        self.story_token = Some(f.token.clone());
        self.story_error = f.error.clone();
    }

    fn refused(info: &RunInfo<'_>, summary: &str, error: String) -> MatrixRow {
        MatrixRow {
            report: ReportJson {
                command: "explore".into(),
                verdict: "error".into(),
                scenario: info.scenario.name.clone(),
                strategy: info.strategy.to_string(),
                scheduler: info.scheduler.clone(),
                seed: Some(info.seed),
                schedules: Some(info.schedules),
                ..ReportJson::default()
            },
            summary: summary.to_string(),
            class: Some("serial-reference-fails".into()),
            story: vec![error],
            story_execution: None,
            story_ops: None,
            story_token: None,
            story_error: None,
        }
    }
}

/// The matrix as text: one row per strategy, then each failure's token and story.
pub fn matrix_text(rows: &[MatrixRow]) -> String {
    let width = rows
        .iter()
        .map(|r| r.report.strategy.len())
        .max()
        .unwrap_or(8)
        .max("strategy".len());
    let mut out = String::from("order-sensitivity matrix:\n");
    out.push_str(&format!(
        "  {:<width$}  {:<7}  {:>10}  {:<13}  class\n",
        "strategy", "verdict", "executions", "first failure"
    ));
    for r in rows {
        let first = match &r.report.first_failure {
            Some(f) => format!("execution {}", thousands(f.execution.unwrap_or(0))),
            None => "-".to_string(),
        };
        out.push_str(&format!(
            "  {:<width$}  {:<7}  {:>10}  {:<13}  {}\n",
            r.report.strategy,
            r.report.verdict.to_uppercase(),
            thousands(r.report.executions),
            first,
            r.class.as_deref().unwrap_or("-")
        ));
    }
    for r in rows {
        match &r.report.first_failure {
            Some(f) => {
                out.push_str(&format!(
                    "\n{} fails at execution {} (token {}):\n",
                    r.report.strategy,
                    f.execution.unwrap_or(0),
                    f.token
                ));
                if let Some(e) = &f.error {
                    out.push_str(&format!("  {e}\n"));
                }
                if let (Some(exe), Some(ops), Some(token)) =
                    (r.story_execution, r.story_ops, &r.story_token)
                {
                    out.push_str(&format!(
                        "  shortest race: execution {exe}, failing at op {ops} (token {token}):\n"
                    ));
                    if let Some(e) = r
                        .story_error
                        .as_ref()
                        .filter(|e| Some(*e) != f.error.as_ref())
                    {
                        out.push_str(&format!("    {e}\n"));
                    }
                }
                for l in &r.story {
                    out.push_str(&format!("    {l}\n"));
                }
            }
            None if r.report.verdict == "error" => {
                out.push_str(&format!(
                    "\n{} cannot run even serially:\n",
                    r.report.strategy
                ));
                for l in &r.story {
                    out.push_str(&format!("  {l}\n"));
                }
            }
            None => {}
        }
    }
    out
}

/// One story line as the matrix prints it: `#STEP JOB OP = RESULT`.
fn story_lines(f: &FailureJson) -> Vec<String> {
    f.story
        .iter()
        .map(|l| format!("#{} {} {}", l.step, l.job, l.op))
        .collect()
}

/// How many executions after the first failure are searched for a shorter race.
pub const SHORTEST_SEARCH: u64 = 100;

/// How many ops an execution takes to show its failure: up to the op that
/// made a job print its error, or the whole execution for a tree difference.
fn race_length(kind: &FailureKind, trace: &ExecutionTrace) -> usize {
    match kind {
        FailureKind::JobFailed { event: Some(e), .. } => e + 1,
        _ => trace.schedule.choices.len(),
    }
}

/// The failing execution that shows its failure in the fewest ops (see
/// [`race_length`]; the lowest index on ties)
/// among `first` and the [`SHORTEST_SEARCH`] executions after it, within
/// the budget. Each execution gets the same scheduler stream as in
/// [`explore`], so the answer does not depend on the thread count.
fn shortest_failure(
    setup: &Setup,
    oracle: &Oracle,
    options: &ExploreOptions,
    first: &Failure,
) -> Result<Failure> {
    let sampled = matches!(
        options.scheduler,
        SchedulerKind::Random | SchedulerKind::Pct { .. } | SchedulerKind::Serial
    );
    if !sampled || !options.shard.is_whole() || options.faults.any() {
        // DPOR and portfolio executions are not indexable by stream, and a
        // shard owns only its own indices.
        return Ok(first.clone());
    }
    let first_index = first.execution.unwrap_or(1) - 1;
    let budget = if options.scheduler.is_deterministic_per_run() {
        1
    } else {
        options.schedules
    };
    let end = budget.min(first_index + 1 + SHORTEST_SEARCH);
    let jobs = setup.job_count();
    let steps = oracle.reference_steps();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let lengths: Vec<Option<usize>> = pool.install(|| {
        (first_index + 1..end)
            .into_par_iter()
            .map(|i| -> Result<Option<usize>> {
                let mut scheduler = options.scheduler.build(options.seed, i, jobs, steps);
                let mut fs = options.fs.fresh()?;
                let trace = setup.run(fs.as_mut(), scheduler.as_mut(), true);
                Ok(oracle
                    .judge(&trace)
                    .failure
                    .map(|f| race_length(&f, &trace)))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let mut best = (race_length(first.kind(), &first.trace), first_index);
    for (offset, len) in lengths.into_iter().enumerate() {
        if let Some(len) = len {
            if len < best.0 {
                best = (len, first_index + 1 + offset as u64);
            }
        }
    }
    if best.1 == first_index {
        return Ok(first.clone());
    }
    let mut scheduler = options.scheduler.build(options.seed, best.1, jobs, steps);
    let mut fs = options.fs.fresh()?;
    let trace = setup.run(fs.as_mut(), scheduler.as_mut(), true);
    let judgement = oracle.judge(&trace);
    Ok(Failure {
        execution: Some(best.1 + 1),
        token: trace.schedule.token(),
        trace,
        judgement,
    })
}

/// Compares the serial reference trees of the strategies with the first one,
/// leaving out each strategy's own bookkeeping (portage's package database).
fn compare_references(references: &[(Arc<dyn Strategy>, Tree)]) -> (bool, Vec<String>) {
    let (first, first_tree) = &references[0];
    let mut agree = true;
    let mut lines = Vec::new();
    for (strategy, tree) in &references[1..] {
        let keep = |p: &str| !first.is_bookkeeping(p) && !strategy.is_bookkeeping(p);
        let mut a = first_tree.clone();
        a.retain(|p, _| keep(p));
        let mut b = tree.clone();
        b.retain(|p, _| keep(p));
        let diff = b.diff_from(&a);
        if diff.is_empty() {
            lines.push(format!(
                "reference trees: {} and {} agree ({} paths)",
                first.name(),
                strategy.name(),
                a.len()
            ));
        } else {
            agree = false;
            lines.push(format!(
                "reference trees: {} and {} DIFFER in {} paths:",
                first.name(),
                strategy.name(),
                diff.changes.len()
            ));
            for c in diff.changes.iter().take(12) {
                lines.push(format!("  {c}"));
            }
        }
    }
    (agree, lines)
}

/// The built-in showcase: sage-32361 under every strategy.
pub fn showcase() -> Result<i32> {
    eprintln!("prefixrace showcase: SageMath ticket 32361 under every install strategy (built-in sage-32361, seed 1)\n");
    let args = ExploreArgs {
        scenario: ScenarioArgs {
            scenario: Some("builtin:sage-32361".into()),
            ..ScenarioArgs::default()
        },
        strategy: "all".into(),
        scheduler: Some("random".into()),
        schedules: Some(DEFAULT_SCHEDULES),
        time_limit: None,
        require_complete: false,
        seed: Some(1),
        jobs: None,
        format: Format::Text,
        fs: "model".into(),
        shard: None,
        no_shrink: false,
        no_pairs: false,
        regressions: None,
        faults: None,
    };
    run(&args)
}
