//! `prefixrace run --faults KINDS:all`: the report of a walk over every
//! crash and fault point of the real commands (`gate/walk.rs`), as text
//! (a line per point that did not pass, with its replay line, then the
//! counts and the first unrecoverable point's story) or as JSON (see
//! docs/gate.md, "Walking every point").

use std::time::Duration;

use serde_json::json;

use super::run::{
    failure_story, gate_error, hang_report, recovery_json, replay_command, rerun_command, say,
    KilledRun, RunArgs,
};
use super::Format;
use prefixrace::internals::gate::census::Census;
use prefixrace::internals::gate::verdict::label;
use prefixrace::internals::gate::walk::{walk, PointVerdict, WalkReport, WalkSpec, WalkedPoint};
use prefixrace::internals::gate::walk_point::{WalkKind, WalkPoint};
use prefixrace::internals::gate::{ExecutionReport, RunSpec};
use prefixrace::Result;

/// Runs the walk of `kinds` and reports it; exit status 1 when a point is
/// unrecoverable or the reference execution failed, else 0.
pub fn run_walk(args: &RunArgs, spec: &RunSpec, kinds: Vec<WalkKind>) -> Result<i32> {
    let walk_spec = WalkSpec {
        kinds,
        executions: args.executions,
        time_limit: args.time_limit.map(Duration::from_secs_f64),
    };
    let report = match walk(spec, &walk_spec) {
        Ok(r) => r,
        Err(e) => return gate_error(spec, e),
    };
    match args.format {
        Format::Text => say(&super::style::paint_verdicts(
            text(args, spec, &walk_spec, &report).trim_end(),
            super::style::stdout_colored(),
        )),
        Format::Json => say(&serde_json::to_string_pretty(&json_report(
            args, spec, &walk_spec, &report,
        ))
        .expect("reports serialize")),
    }
    let failed = report.reference_failure.is_some() || report.counts().unrecoverable > 0;
    Ok(i32::from(failed))
}

/// The kinds, as `--faults` lists them.
fn kind_names(walk: &WalkSpec) -> Vec<&'static str> {
    walk.kinds.iter().map(|k| k.name()).collect()
}

/// The spec a point's replay line is written from: its kill, when a crash.
fn replay_spec(spec: &RunSpec, point: WalkPoint) -> RunSpec {
    RunSpec {
        kill: point.kill(),
        fault: None,
        fault_plan: Vec::new(),
        ..spec.clone()
    }
}

/// The command that replays a walked point's execution: its token, or
/// (when it hung and left none) execution 0 of the scheduler again.
fn point_replay(args: &RunArgs, spec: &RunSpec, w: &WalkedPoint) -> String {
    let point_spec = replay_spec(spec, w.point);
    match &w.token {
        Some(token) => replay_command(args, &point_spec, 0, token, w.point.fault()),
        None => rerun_command(args, &point_spec, w.point.fault()),
    }
}

/// What the walk will do, how far it went, in one line each per point that
/// did not pass, and the verdict.
fn text(args: &RunArgs, spec: &RunSpec, walk: &WalkSpec, report: &WalkReport) -> String {
    let mut out = format!(
        "prefixrace run: walk of every point ({}), scheduler {}, seed {}\n",
        kind_names(walk).join(", "),
        spec.scheduler,
        spec.seed
    );
    for (i, c) in spec.commands.iter().enumerate() {
        out.push_str(&format!("  {}: {c}\n", label(i)));
    }
    out.push_str(
        "walk: one reference execution with nothing injected counts the points, then one execution per point on the same schedule, each killed (crash) or struck (a fault) there, then every command that did not exit 0 is rerun\n",
    );
    out.push_str(&format!(
        "serial reference: {} gated syscalls, {} paths in the prefix\n",
        report.reference_steps, report.reference_paths
    ));
    let made: Vec<String> = report
        .census
        .calls
        .iter()
        .enumerate()
        .map(|(j, n)| format!("{} made {n}", label(j)))
        .collect();
    let per_kind: Vec<String> = walk
        .kinds
        .iter()
        .map(|&k| format!("{} {}", Census::count_of(&report.points, k), k.name()))
        .collect();
    out.push_str(&format!(
        "walk reference: {} gated syscalls ({}); {} points ({})\n",
        report.census.calls.iter().sum::<usize>(),
        made.join(", "),
        report.points.len(),
        per_kind.join(", ")
    ));
    if let Some(f) = &report.reference_failure {
        out.push_str(
            "FAIL: the walk's reference execution failed with nothing injected (a race, not a crash or fault); no point was walked\n",
        );
        out.push_str(&failure_story(args, spec, f));
        return out;
    }
    for w in &report.walked {
        let detail = match &w.verdict {
            PointVerdict::Survived | PointVerdict::Recovered => continue,
            PointVerdict::Unrecoverable(d) | PointVerdict::NotReached(d) => d,
        };
        out.push_str(&format!("  {} {}: {detail}\n", w.point, w.verdict.word()));
        out.push_str(&format!("    replay: {}\n", point_replay(args, spec, w)));
    }
    let c = report.counts();
    let counts = format!(
        "{} recovered, {} survived, {} unrecoverable, {} not reached",
        c.recovered, c.survived, c.unrecoverable, c.not_reached
    );
    let walked = format!(
        "walked {} of {} points",
        report.walked.len(),
        report.points.len()
    );
    let verdict = match (c.unrecoverable > 0, report.complete()) {
        (true, true) => format!("FAIL: {walked}: {counts}"),
        (true, false) => format!("FAIL: INCOMPLETE: {walked}: {counts}"),
        (false, false) => format!("INCOMPLETE: {walked}: {counts}"),
        (false, true) => format!("PASS: {walked}: {counts}"),
    };
    out.push_str(&verdict);
    out.push('\n');
    if let Some(w) = first_unrecoverable(report) {
        out.push_str(&format!("first unrecoverable point: {}\n", w.point));
        match (&w.hung, &report.first_unrecoverable) {
            (Some(h), _) => {
                out.push_str(&hang_report(spec, h));
                out.push_str(&format!("replay: {}\n", point_replay(args, spec, w)));
            }
            (None, Some(f)) => {
                out.push_str(&failure_story(args, &replay_spec(spec, w.point), f));
            }
            (None, None) => {}
        }
    }
    out
}

/// The first unrecoverable point, if any.
fn first_unrecoverable(report: &WalkReport) -> Option<&WalkedPoint> {
    report
        .walked
        .iter()
        .find(|w| matches!(w.verdict, PointVerdict::Unrecoverable(_)))
}

/// The JSON of a judged execution of the walk: its findings, and the
/// recovery's account (`recovery_json`) when it has one.
fn execution_json(
    args: &RunArgs,
    spec: &RunSpec,
    point: Option<WalkPoint>,
    f: &ExecutionReport,
) -> serde_json::Value {
    let token = f.traced.schedule.token();
    let mut out = match (&f.recovery, point) {
        (Some(r), Some(p)) => recovery_json(
            args,
            &replay_spec(spec, p),
            &KilledRun {
                token: token.clone(),
                entropy: f.entropy,
                recovery: r.clone(),
            },
        ),
        _ => json!({
            "token": token,
            "jobs": f.traced.jobs.iter().enumerate().map(|(i, j)| json!({
                "job": label(i),
                "status": j.status,
                "stderr": j.stderr,
            })).collect::<Vec<_>>(),
            "replay": replay_command(args, spec, f.entropy, &token, None),
        }),
    };
    out["point"] = json!(point.map(|p| p.to_string()));
    out["findings"] = json!(f.findings);
    out
}

fn json_report(
    args: &RunArgs,
    spec: &RunSpec,
    walk: &WalkSpec,
    report: &WalkReport,
) -> serde_json::Value {
    let c = report.counts();
    let verdict = match (
        report.reference_failure.is_some() || c.unrecoverable > 0,
        report.complete(),
    ) {
        (true, _) => "fail",
        (false, false) => "incomplete",
        (false, true) => "pass",
    };
    let not_passed: Vec<serde_json::Value> = report
        .walked
        .iter()
        .filter_map(|w| {
            let detail = match &w.verdict {
                PointVerdict::Survived | PointVerdict::Recovered => return None,
                PointVerdict::Unrecoverable(d) | PointVerdict::NotReached(d) => d,
            };
            Some(json!({
                "point": w.point.to_string(),
                "verdict": w.verdict.word(),
                "detail": detail,
                "token": w.token,
                "replay": point_replay(args, spec, w),
            }))
        })
        .collect();
    json!({
        "schema": prefixrace::internals::report::REPORT_SCHEMA,
        "command": "run",
        "scheduler": spec.scheduler.to_string(),
        "seed": spec.seed,
        "commands": spec.commands.iter().enumerate()
            .map(|(i, c)| json!({"job": label(i), "command": c}))
            .collect::<Vec<_>>(),
        "reference": {
            "gated_syscalls": report.reference_steps,
            "paths": report.reference_paths,
        },
        "walk_reference": {
            "token": report.census_token,
            "gated_syscalls": report.census.calls.iter().enumerate()
                .map(|(j, n)| json!({"job": label(j), "calls": n}))
                .collect::<Vec<_>>(),
            "points": walk.kinds.iter()
                .map(|&k| json!({"kind": k.name(), "points": Census::count_of(&report.points, k)}))
                .collect::<Vec<_>>(),
        },
        "walk": {
            "kinds": kind_names(walk),
            "points": report.points.len(),
            "walked": report.walked.len(),
            "recovered": c.recovered,
            "survived": c.survived,
            "unrecoverable": c.unrecoverable,
            "not_reached": c.not_reached,
            "complete": report.complete(),
        },
        "verdict": verdict,
        "not_passed": not_passed,
        "first_unrecoverable": first_unrecoverable(report).map(|w| {
            match (&w.hung, &report.first_unrecoverable) {
                (None, Some(f)) => execution_json(args, spec, Some(w.point), f),
                _ => json!({
                    "point": w.point.to_string(),
                    "verdict": "unrecoverable",
                    // What its processes were doing is left out: it is
                    // read from /proc at the timeout, not decided by the
                    // schedule (the text report shows it).
                    "hang": w.hung.as_ref().map(|h| json!({
                        "job": label(h.job),
                        "last": h.last,
                    })),
                    "replay": point_replay(args, spec, w),
                }),
            }
        }),
        "failure": report.reference_failure.as_ref().map(|f| execution_json(args, spec, None, f)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_points_replay_spec_kills_only_for_a_crash() {
        let spec = RunSpec {
            prefix: "/p".into(),
            stage: None,
            commands: vec!["true".into()],
            scheduler: prefixrace::SchedulerKind::Serial,
            directed: false,
            dpor: false,
            seed: 0,
            executions: 1,
            token: None,
            criteria: Default::default(),
            timeout: prefixrace::internals::gate::runner::DEFAULT_TIMEOUT,
            execution: 0,
            guide: None,
            kill: None,
            fault: None,
            fault_plan: vec![prefixrace::fault::Fault::Io],
        };
        let crash = WalkPoint {
            job: 0,
            after: 2,
            kind: WalkKind::Crash,
        };
        assert_eq!(replay_spec(&spec, crash).kill.unwrap().to_string(), "A@2");
        assert!(replay_spec(&spec, crash).fault_plan.is_empty());
        let fault = WalkPoint {
            kind: WalkKind::Fault(prefixrace::fault::Fault::Io),
            ..crash
        };
        assert!(replay_spec(&spec, fault).kill.is_none());
    }
}
