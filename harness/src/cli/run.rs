//! `prefixrace run`: real commands, concurrently, with their prefix syscalls
//! under the scheduler (see `docs/gate.md`).
//!
//! `prefixrace run --prefix DIR [--stage DIR] [--scheduler random] [--seed S]
//! [--executions N] [--token T [--execution K]] [--trace] [--timeout SECONDS]
//! [--format text|json] [--fail-on REGEX]... [--volatile GLOB]... [--kill JOB@K]
//! [--fault JOB@K:FAULT | --faults KINDS | --faults KINDS:all [--time-limit
//! SECONDS]] -- 'cmd A' -- 'cmd B' [--timeout SECONDS]` (a walk is reported
//! by `run_walk.rs`)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use regex::Regex;
use serde_json::json;

use super::run_fault::{self, FaultOptions};
use super::Format;
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::gate::fault_point::FaultPoint;
use prefixrace::internals::gate::guide::GuideReport;
use prefixrace::internals::gate::kill::KillPoint;
use prefixrace::internals::gate::model_step::ModelStep;
use prefixrace::internals::gate::recovery::{verdict, with_recovery, Cause, Recovery};
use prefixrace::internals::gate::runner::trace_lines;
use prefixrace::internals::gate::temp_names::blurred;
use prefixrace::internals::gate::verdict::label;
use prefixrace::internals::gate::walk_point::WalkKind;
use prefixrace::internals::gate::{
    self, Criteria, ExecutionReport, Finding, GateError, RunReport, RunSpec,
};
use prefixrace::internals::thousands::{count, thousands};
use prefixrace::internals::Schedule;
use prefixrace::scenario::Glob;
use prefixrace::strategy::scenario_strategy;
use prefixrace::{Error, Result, SchedulerKind, Setup};

/// How many executions a run tries unless `--executions` says otherwise.
const DEFAULT_EXECUTIONS: u64 = 20;

/// Writes one line to stdout; when the reader has gone away (EPIPE), asks
/// the run to stop as SIGPIPE would, so the prefix is restored before exit.
pub(super) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        gate::interrupt::request(libc::SIGPIPE);
    }
}

/// Arguments of `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The shared prefix the commands install into (an existing directory).
    #[arg(long)]
    pub prefix: Option<PathBuf>,
    /// A staging directory, exported to the commands as $STAGE.
    #[arg(long)]
    pub stage: Option<PathBuf>,
    /// random, pct, pct:DEPTH, serial, auto (race-directed executions from
    /// the serial reference's conflicting calls, then random), or dpor
    /// (stateless source-DPOR over the recorded calls; says INCOMPLETE when
    /// the budget ends the search).
    #[arg(long, default_value = "random")]
    pub scheduler: String,
    /// The seed of the scheduler.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How many executions to try (default 20); with --faults KINDS:all,
    /// how many points to walk (default: every one).
    #[arg(long, alias = "schedules")]
    pub executions: Option<u64>,
    /// With --faults KINDS:all: start no new point once this many seconds
    /// have passed (the walk is then INCOMPLETE).
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// With --scheduler dpor: exit 1 unless the search ended (every class
    /// explored) or found a failure.
    #[arg(long)]
    pub require_complete: bool,
    /// Replay one schedule from its token instead of exploring.
    #[arg(long)]
    pub token: Option<String>,
    /// With --token: the execution that produced it (its entropy is replayed).
    #[arg(long, default_value_t = 0)]
    pub execution: u64,
    /// With --token: the token is the model's, found by `explore` on this
    /// scenario (e.g. one written by `record run`); the real commands follow
    /// its order, and where they part from it the report shows the model's
    /// op and the real call side by side.
    #[arg(long, value_name = "SCENARIO", requires = "token")]
    pub model: Option<String>,
    /// With --model: the strategy the token was found under (default: the
    /// first the scenario's jobs run under, which does not matter for a
    /// scenario of recorded processes alone).
    #[arg(long, requires = "model")]
    pub strategy: Option<String>,
    /// Seconds one execution may take; a command still running then is
    /// killed with its process group and reported as a hang (exit 1).
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub timeout: f64,
    /// Print the gated syscalls of each execution in release order.
    #[arg(long)]
    pub trace: bool,
    /// A command fails when a line of its stderr matches this regex.
    #[arg(long = "fail-on", value_name = "REGEX")]
    pub fail_on: Vec<String>,
    /// Leave paths matching this glob out of the tree comparison.
    #[arg(long = "volatile", value_name = "GLOB")]
    pub volatile: Vec<String>,
    /// Compare the bytes of files under __pycache__ too.
    #[arg(long)]
    pub strict_pycache: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Kill command JOB (A, B, …) with SIGKILL, its whole process group,
    /// once K of its gated syscalls have been released; the others run on,
    /// then every command that did not exit 0 is rerun alone, in order, on
    /// the prefix as left, and the recovered prefix is judged against the
    /// serial reference (recovered or unrecoverable).
    #[arg(long, value_name = "JOB@K")]
    pub kill: Option<String>,
    /// Strike command JOB's first call that FAULT (enospc, eio, eintr,
    /// short-write) strikes once K of its gated syscalls have been
    /// released: the call fails with the errno (or writes half), then
    /// every command that did not exit 0 is rerun as after --kill.
    #[arg(long, value_name = "JOB@K:FAULT")]
    pub fault: Option<String>,
    /// A seeded plan: each execution strikes one job, one point and one of
    /// these faults (comma-separated), chosen from --seed; its replay line
    /// names the --fault it struck. KINDS:all (KINDS from crash, enospc,
    /// eio, eintr, short-write) walks every point instead, one execution
    /// each, after a reference execution that counts them.
    #[arg(long, value_name = "KINDS")]
    pub faults: Option<String>,
    /// The commands, each after its own `--`: -- 'cmd A' -- 'cmd B'.
    #[arg(last = true, allow_hyphen_values = true, num_args = 0..)]
    pub commands: Vec<String>,
}

/// Splits `a -- b` (clap keeps every `--` after the first) into one shell
/// string per command, and the options allowed after the last command
/// (`-- 'cmd B' --timeout 2`): the timeout, if given there.
fn split_commands(raw: &[String]) -> Result<(Vec<String>, Option<f64>)> {
    let mut commands = Vec::new();
    let mut timeout = None;
    let groups: Vec<&[String]> = raw.split(|a| a == "--").collect();
    let last = groups.len().saturating_sub(1);
    for (i, mut group) in groups.into_iter().enumerate() {
        if i == last && group.len() == 3 && group[1] == "--timeout" {
            let t = group[2].parse::<f64>().map_err(|_| {
                Error::Usage(format!("--timeout {}: not a number of seconds", group[2]))
            })?;
            timeout = Some(t);
            group = &group[..1];
        }
        match group {
            [one] if !one.trim().is_empty() => commands.push(one.clone()),
            [] | [_] => return Err(Error::Usage("empty command after `--`".into())),
            _ => {
                return Err(Error::Usage(format!(
                    "each command is one shell string: quote it, as in -- '{}'",
                    group.join(" ")
                )))
            }
        }
    }
    if commands.is_empty() {
        return Err(Error::Usage(
            "no commands: give them after `--`, as in -- 'cmd A' -- 'cmd B'".into(),
        ));
    }
    Ok((commands, timeout))
}

fn existing_dir(flag: &str, p: &Path) -> Result<PathBuf> {
    let canon = p
        .canonicalize()
        .map_err(|e| Error::Usage(format!("{flag} {}: {e}", p.display())))?;
    if !canon.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: not a directory",
            p.display()
        )));
    }
    Ok(canon)
}

/// What `run` was asked: the spec, the model a token comes from, and the
/// kinds of points to walk (`--faults KINDS:all`).
type Asked = (RunSpec, Option<ModelRun>, Option<Vec<WalkKind>>);

fn spec(args: &RunArgs) -> Result<Asked> {
    let prefix = args
        .prefix
        .as_deref()
        .ok_or_else(|| Error::Usage("--prefix DIR is required".into()))?;
    let prefix = existing_dir("--prefix", prefix)?;
    if prefix == Path::new("/") {
        return Err(Error::Usage(
            "--prefix /: the prefix is wiped and restored; refusing /".into(),
        ));
    }
    let stage = match &args.stage {
        Some(s) => {
            let s = existing_dir("--stage", s)?;
            if s.starts_with(&prefix) || prefix.starts_with(&s) {
                return Err(Error::Usage(
                    "--stage and --prefix must not contain each other".into(),
                ));
            }
            Some(s)
        }
        None => None,
    };
    let (commands, trailing_timeout) = split_commands(&args.commands)?;
    let seconds = trailing_timeout.unwrap_or(args.timeout);
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(Error::Usage(format!(
            "--timeout {seconds}: must be a positive number of seconds"
        )));
    }
    let dpor = args.scheduler == "dpor";
    let directed = matches!(args.scheduler.as_str(), "auto" | "directed");
    let scheduler: SchedulerKind = if directed || dpor {
        SchedulerKind::Random
    } else {
        args.scheduler
            .parse()
            .map_err(|e: String| Error::Usage(format!("--scheduler: {e}")))?
    };
    if args.model.is_some() && (args.fault.is_some() || args.faults.is_some()) {
        return Err(Error::Usage(
            "--fault and --faults cannot be combined with --model: strike on a schedule of the gate's own".into(),
        ));
    }
    let model = match &args.model {
        Some(model) => Some(model_run(
            model,
            args.strategy.as_deref(),
            &args.token,
            &commands,
        )?),
        None => None,
    };
    let guide = model.as_ref().map(|m| m.steps.clone());
    let token = match &args.token {
        Some(_) if guide.is_some() => None,
        Some(t) => {
            Some(Schedule::from_token(t).map_err(|e| Error::Usage(format!("--token: {e}")))?)
        }
        None => None,
    };
    let executions = args.executions.unwrap_or(DEFAULT_EXECUTIONS);
    if executions == 0 && token.is_none() {
        return Err(Error::Usage("--executions must be at least 1".into()));
    }
    let fail_on = args
        .fail_on
        .iter()
        .map(|r| {
            Regex::new(r)
                .map_err(|e| Error::Usage(crate_one_line(&format!("--fail-on {r:?}: {e}"))))
        })
        .collect::<Result<Vec<_>>>()?;
    let kill = match &args.kill {
        Some(k) => {
            let point: KillPoint = k.parse().map_err(|e| Error::Usage(format!("--kill {e}")))?;
            if point.job >= commands.len() {
                return Err(Error::Usage(format!(
                    "--kill {point}: there is no command {} (the commands are {})",
                    label(point.job),
                    (0..commands.len())
                        .map(label)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if args.model.is_some() {
                return Err(Error::Usage(
                    "--kill cannot follow a model token (--model): kill on a schedule of the gate's own".into(),
                ));
            }
            Some(point)
        }
        None => None,
    };
    let mut others = Vec::new();
    if kill.is_some() {
        others.push("--kill");
    }
    if args.model.is_some() {
        others.push("--model");
    }
    if args.faults.is_some() && token.is_some() {
        others.push("--token (replay the --fault its replay line names)");
    }
    if args.faults.is_some() && dpor {
        others.push("--scheduler dpor (give one --fault)");
    }
    let faults = run_fault::fault_options(
        args.fault.as_deref(),
        args.faults.as_deref(),
        commands.len(),
        &others,
    )?;
    let walk = faults.walk.clone();
    let refused = match (&walk, directed, args.trace) {
        (Some(_), true, _) => Some("--scheduler auto (walk under random, pct or serial)"),
        (Some(_), _, true) => Some("--trace (replay a point's printed line to trace it)"),
        _ => None,
    };
    if let Some(other) = refused {
        return Err(Error::Usage(format!(
            "--faults KINDS:all cannot be combined with {other}"
        )));
    }
    if let Some(t) = args.time_limit {
        if walk.is_none() {
            return Err(Error::Usage(
                "--time-limit bounds a walk: give it with --faults KINDS:all".into(),
            ));
        }
        if !(t > 0.0 && t.is_finite()) {
            return Err(Error::Usage(format!(
                "--time-limit {t}: must be a positive number of seconds"
            )));
        }
    }
    let spec = RunSpec {
        prefix,
        stage,
        commands,
        scheduler,
        directed,
        dpor,
        seed: args.seed,
        executions,
        token,
        criteria: Criteria {
            fail_on,
            volatile: args.volatile.iter().map(|g| Glob::new(g)).collect(),
            strict_pycache: args.strict_pycache,
        },
        timeout: Duration::from_secs_f64(seconds),
        execution: args.execution,
        guide,
        kill,
        fault: faults.point,
        fault_plan: faults.plan,
    };
    Ok((spec, model, walk))
}

/// The model execution a guided run follows.
struct ModelRun {
    /// `SCENARIO under STRATEGY, token T`.
    what: String,
    /// The model's job labels, by job.
    labels: Vec<String>,
    /// Its gated steps, in order.
    steps: Vec<ModelStep>,
    /// How it failed: `cp-1 exited 1: cp: cannot create directory …`, if it did.
    failure: Option<String>,
    /// The op its failing job failed at, strace-style, if any.
    failing_op: Option<String>,
}

/// The model execution of `token` on the scenario `model` (a file or
/// `builtin:NAME`), whose jobs must be as many as the commands, in the same
/// order.
fn model_run(
    model: &str,
    strategy: Option<&str>,
    token: &Option<String>,
    commands: &[String],
) -> Result<ModelRun> {
    let token = token.as_deref().expect("clap: --model requires --token");
    let scenario = std::sync::Arc::new(super::load_scenario(&super::ScenarioArgs {
        scenario: Some(model.to_string()),
        ..Default::default()
    })?);
    let strategy = scenario_strategy(strategy.unwrap_or("direct-install"), &scenario)?;
    let setup = Setup::new(scenario.clone(), strategy.as_ref())?;
    if setup.job_count() != commands.len() {
        return Err(Error::Usage(format!(
            "--model {model}: its {} jobs ({}) must match the commands one to one, in order; {} commands were given",
            setup.job_count(),
            setup.labels().join(", "),
            commands.len()
        )));
    }
    let replayed = prefixrace::replay(&setup, token, FsKind::Model)?;
    let explained = replayed.failure.as_ref().map(|f| {
        prefixrace::internals::report::explain(f, &scenario, strategy.name())
            .json()
            .clone()
    });
    let failing_op = explained.as_ref().and_then(|j| j.op.clone());
    let failure = explained.map(|j| {
        let who = match (&j.job, j.exit) {
            (Some(job), Some(exit)) => format!("{job} exited {exit}"),
            _ => j.class.clone(),
        };
        match &j.error {
            Some(e) => format!("{who}: {e}"),
            None => who,
        }
    });
    Ok(ModelRun {
        what: format!("{} under {}, token {token}", scenario.name, strategy.name()),
        labels: setup.labels(),
        steps: gate::model_step::model_steps(&replayed.trace.events),
        failure,
        failing_op,
    })
}

fn crate_one_line(s: &str) -> String {
    prefixrace::internals::error::one_line(s)
}

/// The fault point an execution struck, if it struck one.
pub(super) fn struck_point(recovery: Option<&Recovery>) -> Option<FaultPoint> {
    match recovery.map(|r| &r.cause) {
        Some(Cause::Struck(s)) => Some(s.point),
        _ => None,
    }
}

/// The command line that replays `token`, striking `fault` when given.
pub(super) fn replay_command(
    args: &RunArgs,
    spec: &RunSpec,
    entropy: u64,
    token: &str,
    fault: Option<FaultPoint>,
) -> String {
    let how = [
        "--seed".into(),
        spec.seed.to_string(),
        "--execution".into(),
        entropy.to_string(),
        "--token".into(),
        token.to_string(),
        "--trace".into(),
    ];
    run_line(args, spec, fault, &how)
}

/// The command line that runs execution 0 of the run's scheduler and seed
/// again, striking `fault` (or killing at `spec.kill`): for an execution
/// that left no token (it hung).
pub(super) fn rerun_command(args: &RunArgs, spec: &RunSpec, fault: Option<FaultPoint>) -> String {
    let how = [
        "--scheduler".into(),
        spec.scheduler.to_string(),
        "--seed".into(),
        spec.seed.to_string(),
        "--executions".into(),
        "1".into(),
    ];
    run_line(args, spec, fault, &how)
}

/// `prefixrace run` with the run's prefix, stage, criteria, `fault` or
/// kill point, then `how`, then the commands.
fn run_line(args: &RunArgs, spec: &RunSpec, fault: Option<FaultPoint>, how: &[String]) -> String {
    let mut parts = vec![
        "prefixrace".to_string(),
        "run".into(),
        "--prefix".into(),
        quote(&spec.prefix.display().to_string()),
    ];
    if let Some(s) = &spec.stage {
        parts.extend(["--stage".into(), quote(&s.display().to_string())]);
    }
    for r in &args.fail_on {
        parts.extend(["--fail-on".into(), quote(r)]);
    }
    for g in &args.volatile {
        parts.extend(["--volatile".into(), quote(g)]);
    }
    if args.strict_pycache {
        parts.push("--strict-pycache".into());
    }
    if let Some(f) = fault {
        parts.extend(["--fault".into(), f.to_string()]);
    }
    if let Some(k) = &spec.kill {
        parts.extend(["--kill".into(), k.to_string()]);
    }
    if spec.kill.is_some() || fault.is_some() {
        // A rerun that waits for ever is judged at the timeout: keep it.
        if spec.timeout != gate::runner::DEFAULT_TIMEOUT {
            parts.extend(["--timeout".into(), spec.timeout.as_secs_f64().to_string()]);
        }
    }
    parts.extend(how.iter().cloned());
    for c in &spec.commands {
        parts.extend(["--".into(), quote(c)]);
    }
    parts.join(" ")
}

fn quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `prefixrace run`.
pub fn run(args: &RunArgs) -> Result<i32> {
    let (spec, model, walk) = spec(args)?;
    gate::interrupt::install().map_err(|e| Error::io("signal handlers", &e))?;
    gate::adopt_orphans().map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(kinds) = walk {
        return super::run_walk::run_walk(args, &spec, kinds);
    }
    let mut traces = Vec::new();
    let mut killed: Option<KilledRun> = None;
    // The last execution with a fault point: its index, the point asked,
    // and whether it struck.
    let mut last_fault: Option<(u64, Option<FaultPoint>, bool)> = None;
    let text = args.format == Format::Text;
    let trace = args.trace;
    let mut observe = |e: &ExecutionReport| {
        // The last execution's: none when its fault point struck nothing.
        killed = e.recovery.as_ref().map(|r| KilledRun {
            token: e.traced.schedule.token(),
            entropy: e.entropy,
            recovery: r.clone(),
        });
        if e.fault.is_some() {
            last_fault = Some((e.index, e.fault, e.recovery.is_some()));
        }
        let lines = match &e.recovery {
            Some(r) => with_recovery(&e.traced, r),
            None => trace_lines(&e.traced),
        };
        let struck = struck_point(e.recovery.as_ref());
        if trace && text {
            let fault = match (e.fault, struck) {
                (_, Some(p)) => format!(", fault {p}"),
                (Some(asked), None) => format!(", fault {asked} struck nothing"),
                (None, None) => String::new(),
            };
            say(&format!(
                "execution {} ({}{fault}):",
                e.index,
                e.traced.schedule.token()
            ));
            for l in &lines {
                say(&format!("  {l}"));
            }
        }
        traces.push(json!({
            "execution": e.index,
            "token": e.traced.schedule.token(),
            "passed": e.findings.is_empty(),
            "fault": struck.map(|p| p.to_string()),
            "trace": lines,
        }));
    };
    let outcome = gate::run(&spec, &mut observe);
    let report = match outcome {
        Ok(r) => r,
        Err(e) => return gate_error(&spec, e),
    };
    match args.format {
        Format::Text => say(&super::style::paint_verdicts(
            text_report(
                args,
                &spec,
                model.as_ref(),
                &report,
                killed.as_ref(),
                last_fault,
            )
            .trim_end(),
            super::style::stdout_colored(),
        )),
        Format::Json => {
            let mut j = json_report(args, &spec, model.as_ref(), &report, killed.as_ref());
            j["fault_struck"] = json!(last_fault.map(|(_, _, struck)| struck));
            if trace {
                j["executions_traced"] = json!(traces);
            }
            say(&serde_json::to_string_pretty(&j).expect("reports serialize"));
        }
    }
    let not_reproduced = model.as_ref().is_some_and(|m| m.failure.is_some());
    let incomplete = report.coverage.is_some_and(|c| !c.complete);
    if args.require_complete && report.failure.is_none() && incomplete {
        eprintln!(
            "prefixrace run: --require-complete: the dpor search did not end (raise --executions)"
        );
        return Ok(1);
    }
    Ok(i32::from(report.failure.is_some() || not_reproduced))
}

/// The exit status of a run the gate could not complete (interrupted,
/// diverged, hung), after saying why; a usage error for the rest.
pub(super) fn gate_error(spec: &RunSpec, e: GateError) -> Result<i32> {
    match e {
        GateError::Interrupted => {
            let sig = gate::interrupt::signal().unwrap_or(libc::SIGINT);
            if sig != libc::SIGPIPE {
                eprintln!(
                    "prefixrace: interrupted; every command was killed and the prefix restored"
                );
            }
            Ok(128 + sig)
        }
        e @ GateError::Diverged { .. } => {
            eprintln!("prefixrace: {}", crate_one_line(&e.to_string()));
            Ok(1)
        }
        GateError::Hang(h) => {
            say(hang_report(spec, &h).trim_end());
            Ok(1)
        }
        e => Err(Error::Usage(crate_one_line(&e.to_string()))),
    }
}

/// The report of a command that did not finish in time.
pub(super) fn hang_report(spec: &RunSpec, h: &gate::tracer::Hung) -> String {
    let job = label(h.job);
    let during = match (h.execution, &h.point) {
        (Some(i), Some(p)) => {
            format!("the walk's execution of point {p} (execution {i}'s schedule)")
        }
        (Some(i), None) => format!("execution {i}"),
        (None, _) => "the serial reference".to_string(),
    };
    let mut out = format!(
        "HANG: {job} did not finish within {} s in {during}; killed with its process group\n  {job}: {}\n",
        spec.timeout.as_secs_f64(),
        spec.commands.get(h.job).map_or("", String::as_str)
    );
    if h.last.is_empty() {
        out.push_str("  no gated syscall was released to it\n");
    } else {
        out.push_str("  its last gated syscalls:\n");
        for l in &h.last {
            out.push_str(&format!("    {l}\n"));
        }
    }
    for d in &h.doing {
        out.push_str(&format!("  {d}\n"));
    }
    out
}

fn what(spec: &RunSpec, model: Option<&ModelRun>) -> String {
    if let Some(m) = model {
        return format!(
            "the model's execution of {}, followed on the real commands",
            m.what
        );
    }
    match &spec.token {
        Some(_) => "replay of one token".to_string(),
        None if spec.dpor => format!(
            "scheduler dpor (source-DPOR over the recorded calls), up to {} executions",
            spec.executions
        ),
        None if spec.directed => format!(
            "scheduler auto (race-directed, then random), seed {}, up to {} executions",
            spec.seed, spec.executions
        ),
        None => format!(
            "scheduler {}, seed {}, up to {} executions",
            spec.scheduler, spec.seed, spec.executions
        ),
    }
}

/// The last killed execution of a `--kill` run: its token, its entropy and
/// its recovery.
pub(super) struct KilledRun {
    /// The token of the execution.
    pub token: String,
    /// The execution whose entropy it was fed.
    pub entropy: u64,
    /// The kill or fault and its recovery.
    pub recovery: Recovery,
}

/// The kill or fault and the recovery, in lines of the report.
fn recovery_text(r: &Recovery) -> String {
    let last = r.last.as_ref().map_or("none".to_string(), |c| {
        let outcome = c.outcome.map_or("?".to_string(), |o| o.to_string());
        format!("{} = {outcome}", c.call)
    });
    let mut out = match &r.cause {
        Cause::Killed(k) => format!(
            "  killed: {} after {} (its last: {last}), before {}\n",
            label(k.point.job),
            count(k.point.after as u64, "gated syscall", "gated syscalls"),
            k.before
        ),
        Cause::Struck(s) => run_fault::struck_text(s, &last),
    };
    for rerun in &r.reruns {
        if let Some(ended) = r.ended.get(rerun.job) {
            out.push_str(&format!(
                "  {} exited {} in the execution\n",
                label(rerun.job),
                ended.status
            ));
            for line in ended.stderr.lines().take(5) {
                out.push_str(&format!("  {} stderr: {line}\n", label(rerun.job)));
            }
        }
    }
    if r.reruns.is_empty() {
        out.push_str("  recovery: nothing to rerun (every command exited 0)\n");
    }
    for rerun in &r.reruns {
        out.push_str(&format!(
            "  recovery: reran {}: exited {}\n",
            label(rerun.job),
            rerun.run().status
        ));
        for line in rerun.run().stderr.lines().take(5) {
            out.push_str(&format!("  {} (rerun) stderr: {line}\n", label(rerun.job)));
        }
    }
    out
}

/// A failing execution's story after its verdict line: the kill or fault
/// and the recovery, the findings, the commands' stderr, the token and the
/// replay command.
pub(super) fn failure_story(args: &RunArgs, spec: &RunSpec, f: &ExecutionReport) -> String {
    let mut out = String::new();
    let token = f.traced.schedule.token();
    if let Some(r) = &f.recovery {
        out.push_str(&recovery_text(r));
    }
    if let (None, Some(asked)) = (&f.recovery, f.fault) {
        out.push_str(&run_fault::missed_text(asked, f.index));
    }
    let rerun = |job: &str| {
        f.recovery
            .as_ref()
            .is_some_and(|r| r.reruns.iter().any(|x| label(x.job) == job))
    };
    let who = |job: &str| {
        if rerun(job) {
            format!("{job} (rerun)")
        } else {
            job.to_string()
        }
    };
    if let Some(p) = &f.plan {
        out.push_str(&format!("  directed: {p}\n"));
    }
    if let Some(b) = &f.branch {
        out.push_str(&format!("  dpor: branched with {b}\n"));
    }
    for finding in &f.findings {
        match finding {
            Finding::ExitStatus { job, status } => {
                out.push_str(&format!("  {} exited with status {status}\n", who(job)))
            }
            Finding::Stderr { job, line } => {
                out.push_str(&format!("  {} printed: {line}\n", who(job)))
            }
            Finding::Tree { diff } => {
                out.push_str("  the prefix differs from the serial reference:\n");
                for c in &diff.changes {
                    out.push_str(&format!("    {c}\n"));
                }
            }
        }
    }
    for (i, j) in f.traced.jobs.iter().enumerate() {
        for line in j.stderr.lines().take(5) {
            out.push_str(&format!("  {} stderr: {line}\n", label(i)));
        }
    }
    out.push_str(&format!("token: {token}\n"));
    out.push_str(&format!(
        "replay: {}\n",
        replay_command(
            args,
            spec,
            f.entropy,
            &token,
            struck_point(f.recovery.as_ref())
        )
    ));
    out
}

fn text_report(
    args: &RunArgs,
    spec: &RunSpec,
    model: Option<&ModelRun>,
    report: &RunReport,
    killed: Option<&KilledRun>,
    last_fault: Option<(u64, Option<FaultPoint>, bool)>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!("prefixrace run: {}\n", what(spec, model)));
    for (i, c) in spec.commands.iter().enumerate() {
        out.push_str(&format!("  {}: {c}\n", label(i)));
    }
    if let Some(k) = &spec.kill {
        out.push_str(&format!(
            "kill: {} after {}, then rerun what did not exit 0\n",
            label(k.job),
            count(k.after as u64, "gated syscall", "gated syscalls")
        ));
    }
    let options = FaultOptions {
        point: spec.fault,
        plan: spec.fault_plan.clone(),
        walk: None,
    };
    if let Some(h) = run_fault::header(&options) {
        out.push_str(&format!("{h}\n"));
    }
    out.push_str(&format!(
        "serial reference: {} gated syscalls, {} paths in the prefix\n",
        report.reference_steps, report.reference_paths
    ));
    if let (Some(m), Some(g)) = (model, &report.guided) {
        out.push_str(&guided_text(m, g, report));
    }
    if let Some(d) = &report.divergence {
        out.push_str(&format!(
            "diverged: a replayed prefix was not followed at {d}\n"
        ));
    }
    match (&report.failure, &report.coverage) {
        (None, Some(c)) if c.complete => out.push_str(&format!(
            "PASS: complete: {} explored every class of the gate's dependence relation ({} races found), no failure\n",
            count(c.executions, "execution", "executions"),
            thousands(c.races as u64)
        )),
        (None, Some(c)) => out.push_str(&format!(
            "INCOMPLETE: {}, no failure; {} left{}{}\n",
            count(c.executions, "execution", "executions"),
            count(c.left as u64, "branch", "branches"),
            if c.diverged > 0 {
                format!(", {} executions diverged from their prefix", c.diverged)
            } else {
                String::new()
            },
            if c.skipped > 0 {
                format!(", {} branches skipped below a divergence", c.skipped)
            } else {
                String::new()
            }
        )),
        (None, None) => match killed {
            Some(k) => {
                out.push_str(&recovery_text(&k.recovery));
                let how = if k.recovery.reruns.is_empty() {
                    "survived: every command exited 0 and the prefix equals the serial reference"
                } else {
                    "recovered: after the rerun the prefix equals the serial reference"
                };
                out.push_str(&format!(
                    "PASS: {}, {how}\n",
                    count(report.executions, "execution", "executions")
                ));
                out.push_str(&format!("token: {}\n", k.token));
                out.push_str(&format!(
                    "replay: {}\n",
                    replay_command(
                        args,
                        spec,
                        k.entropy,
                        &k.token,
                        struck_point(Some(&k.recovery))
                    )
                ));
            }
            None if last_fault.is_some() => {
                if let Some((index, Some(asked), _)) = last_fault {
                    out.push_str(&run_fault::missed_text(asked, index));
                }
                out.push_str(&format!(
                    "PASS: {}, no failure\n",
                    count(report.executions, "execution", "executions")
                ));
            }
            None => out.push_str(&format!(
                "PASS: {}, no failure\n",
                count(report.executions, "execution", "executions")
            )),
        },
        (Some(f), _) => {
            out.push_str(&format!(
                "FAIL: execution {} of {} ({} decisions){}\n",
                f.index,
                report.executions,
                f.traced.schedule.choices.len(),
                if f.recovery.is_some() {
                    ": unrecoverable"
                } else {
                    ""
                }
            ));
            out.push_str(&failure_story(args, spec, f));
        }
    }
    if let (None, Some(_), Some(k)) = (&report.failure, &report.coverage, &spec.kill) {
        out.push_str(&format!(
            "  every execution had {} killed after {} and was recovered by the rerun\n",
            label(k.job),
            count(k.after as u64, "gated syscall", "gated syscalls")
        ));
    }
    out
}

/// How a guided run followed the model, and whether it reproduced the
/// model's failure, side by side where they part.
fn guided_text(m: &ModelRun, g: &GuideReport, report: &RunReport) -> String {
    let mut out = String::new();
    let model_label = |job: usize| m.labels.get(job).cloned().unwrap_or_default();
    out.push_str(&format!(
        "followed: {} of the model's {} gated calls matched, in the model's order; {} real calls with no model counterpart ran around them\n",
        g.matched, g.model_steps, g.free
    ));
    match (&g.first_difference, &g.stuck) {
        (None, None) => out.push_str("first difference: none\n"),
        (d, s) => {
            if let Some(d) = d {
                out.push_str("first difference (the real call's result is not the model's):\n");
                out.push_str(&format!(
                    "  model  #{:<5} {:<16} {}\n",
                    d.model.op_index + 1,
                    model_label(d.model.key.job),
                    d.model.shown
                ));
                let outcome = d.real.outcome.map_or("?".to_string(), |o| o.to_string());
                out.push_str(&format!(
                    "  real   #{:<5} {:<16} {} = {outcome}\n",
                    d.real_index + 1,
                    label(d.real.job),
                    d.real.call
                ));
            }
            if let Some(s) = s {
                out.push_str(&format!(
                    "the model's #{} {} {} never came; the real jobs were at:\n",
                    s.step.op_index + 1,
                    model_label(s.step.key.job),
                    s.step.shown
                ));
                for (job, call) in &s.parked {
                    out.push_str(&format!("  {:<16} {call}\n", label(*job)));
                }
            }
        }
    }
    let real = report.failure.as_ref().map(|f| {
        let failed = f
            .traced
            .jobs
            .iter()
            .enumerate()
            .find(|(_, j)| j.status != 0);
        match failed {
            Some((i, j)) => {
                let said = j
                    .stderr
                    .lines()
                    .next()
                    .map_or(String::new(), |l| format!(": {l}"));
                format!("{} exited {}{said}", label(i), j.status)
            }
            None => "the prefix differs from the serial reference".to_string(),
        }
    });
    out.push_str(&format!(
        "model: {}\n",
        m.failure.as_deref().unwrap_or("passes")
    ));
    out.push_str(&format!("real:  {}\n", real.as_deref().unwrap_or("passes")));
    out.push_str(match (&m.failure, &real) {
        (Some(_), Some(_)) => "REPRODUCED: the real commands fail along the model's schedule\n",
        (Some(_), None) => {
            "NOT REPRODUCED: the model fails, the real commands pass along its schedule\n"
        }
        (None, Some(_)) => "the model passes, but the real commands fail along its schedule\n",
        (None, None) => "both pass\n",
    });
    if m.failure.is_some() != real.is_some() && g.first_difference.is_none() && g.stuck.is_none() {
        out.push_str(&format!(
            "  every matched call returned what the model's did, so the real tool reacts differently from the model{}: a gap in the model's fidelity\n",
            m.failing_op.as_deref().map_or(String::new(), |op| format!(" to {op}"))
        ));
    }
    out
}

/// The JSON form of [`guided_text`].
fn guided_json(m: &ModelRun, g: &GuideReport) -> serde_json::Value {
    json!({
        "model": m.what,
        "model_failure": m.failure,
        "model_calls": g.model_steps,
        "matched": g.matched,
        "free": g.free,
        "followed": g.followed(),
        "first_difference": g.first_difference.as_ref().map(|d| json!({
            "model_op": d.model.op_index + 1,
            "model_job": m.labels.get(d.model.key.job),
            "model": d.model.shown,
            "real_call": d.real_index + 1,
            "real_job": label(d.real.job),
            "real": format!("{} = {}", d.real.call, d.real.outcome.map_or("?".to_string(), |o| o.to_string())),
        })),
        "stuck": g.stuck.as_ref().map(|s| json!({
            "model_op": s.step.op_index + 1,
            "model_job": m.labels.get(s.step.key.job),
            "model": s.step.shown,
            "parked": s.parked.iter().map(|(j, c)| json!({"job": label(*j), "call": c})).collect::<Vec<_>>(),
        })),
    })
}

/// The JSON form of a kill or fault and its recovery.
pub(super) fn recovery_json(args: &RunArgs, spec: &RunSpec, k: &KilledRun) -> serde_json::Value {
    let r = &k.recovery;
    let last = r.last.as_ref().map(|c| {
        format!(
            "{} = {}",
            c.call,
            c.outcome.map_or("?".to_string(), |o| o.to_string())
        )
    });
    let fault = struck_point(Some(r));
    let cause = match &r.cause {
        Cause::Killed(killed) => json!({
            "killed": label(killed.point.job),
            "after": killed.point.after,
            "before": killed.before.to_string(),
        }),
        Cause::Struck(s) => json!({
            "fault": s.point.to_string(),
            "asked": s.asked.to_string(),
            "job": label(s.point.job),
            "after": s.point.after,
            "struck": blurred(&format!("{} = {}", s.call, s.result)),
            // Its temporary names come from the clock (`temp_names.rs`).
            "last": last.as_deref().map(blurred),
        }),
    };
    let mut out = json!({
        "last": last,
        "ended": r.ended.iter().enumerate().map(|(i, j)| json!({
            "job": label(i),
            "status": j.status,
            "stderr": j.stderr,
        })).collect::<Vec<_>>(),
        "verdict": verdict(r),
        "reruns": r.reruns.iter().map(|x| json!({
            "job": label(x.job),
            "status": x.run().status,
            "stderr": x.run().stderr,
        })).collect::<Vec<_>>(),
        "token": k.token,
        "replay": replay_command(args, spec, k.entropy, &k.token, fault),
    });
    if let (Some(out), Some(cause)) = (out.as_object_mut(), cause.as_object()) {
        out.extend(cause.clone());
    }
    out
}

fn json_report(
    args: &RunArgs,
    spec: &RunSpec,
    model: Option<&ModelRun>,
    report: &RunReport,
    killed: Option<&KilledRun>,
) -> serde_json::Value {
    let failure = report.failure.as_ref().map(|f| {
        let token = f.traced.schedule.token();
        json!({
            "execution": f.index,
            "token": token,
            "decisions": f.traced.schedule.choices.len(),
            "findings": f.findings,
            "jobs": f.traced.jobs.iter().enumerate().map(|(i, j)| json!({
                "job": label(i),
                "status": j.status,
                "stderr": j.stderr,
            })).collect::<Vec<_>>(),
            "replay": replay_command(args, spec, f.entropy, &token, struck_point(f.recovery.as_ref())),
        })
    });
    json!({
        "schema": prefixrace::internals::report::REPORT_SCHEMA,
        "command": "run",
        "scheduler": if spec.dpor { "dpor".to_string() } else { spec.scheduler.to_string() },
        "seed": spec.seed,
        "replay": spec.token.is_some(),
        "commands": spec.commands.iter().enumerate()
            .map(|(i, c)| json!({"job": label(i), "command": c}))
            .collect::<Vec<_>>(),
        "reference": {
            "gated_syscalls": report.reference_steps,
            "paths": report.reference_paths,
        },
        "executions": report.executions,
        "verdict": match (&report.failure, &report.coverage) {
            (Some(_), _) => "fail",
            (None, Some(c)) if !c.complete => "incomplete",
            _ => "pass",
        },
        // One shape whatever the scheduler: dpor fills it, the others
        // leave all but `complete` (always false for them) null.
        "coverage": json!({
            "complete": report.coverage.is_some_and(|c| c.complete),
            "executions": report.coverage.map(|c| c.executions),
            "branches_left": report.coverage.map(|c| c.left),
            "races": report.coverage.map(|c| c.races),
            "diverged": report.coverage.map(|c| c.diverged),
            "skipped": report.coverage.map(|c| c.skipped),
        }),
        "divergence": report.divergence,
        "failure": failure,
        "kill": spec.kill.map(|k| k.to_string()),
        "fault": killed.and_then(|k| struck_point(Some(&k.recovery))).map(|p| p.to_string()),
        "faults": spec.fault_plan.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "recovery": killed.map(|k| recovery_json(args, spec, k)),
        "guided": match (model, &report.guided) {
            (Some(m), Some(g)) => guided_json(m, g),
            _ => serde_json::Value::Null,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_on_double_dashes_one_string_each() {
        let raw: Vec<String> = ["cp -a x y", "--", "python3 -c 1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            split_commands(&raw).unwrap().0,
            ["cp -a x y", "python3 -c 1"]
        );
        let trailing: Vec<String> = ["sleep 1000", "--", "true", "--timeout", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            split_commands(&trailing).unwrap(),
            (
                vec!["sleep 1000".to_string(), "true".to_string()],
                Some(2.0)
            )
        );
        assert!(split_commands(&[]).is_err());
        let two_words: Vec<String> = ["cp", "x"].iter().map(|s| s.to_string()).collect();
        assert!(split_commands(&two_words).is_err());
        assert_eq!(quote("a b'c"), r"'a b'\''c'");
        assert_eq!(quote("/tmp/x"), "/tmp/x");
    }
}
