//! Reports: human text and JSON for CI.
//!
//! Reports never contain timings (those belong to `prefixrace bench`), so
//! both formats are byte-identical across runs, thread counts and
//! filesystems for the same scenario, strategy, scheduler and seed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::explore::{Exploration, Failure, Replay};
use crate::fs::TreeChange;
use crate::oracle::FailureKind;
use crate::pairs::PairCounts;
use crate::pct_bound::PctBound;
use crate::scenario::Scenario;
use crate::story::{render_event, story, StoryLine};
use crate::thousands::{count, thousands};

/// How a story line telling a kill begins (see [`crate::story`]).
const KILLED: &str = "killed (SIGKILL)";

/// The story line of a struck op's fault (not an op either).
const INJECTED: &str = " injected into its op after ";

/// How many lines of a tree diff the text report shows.
const DIFF_LINES: usize = 12;

/// The first failure, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureJson {
    /// 1-based execution index within the exploration (absent for a replay).
    pub execution: Option<u64>,
    /// Replay token.
    pub token: String,
    /// Failure class: `job-error`, `order-dependent-tree` or `aborted`.
    pub class: String,
    /// The failing job's label, if a job failed.
    pub job: Option<String>,
    /// The failing job's exit status.
    pub exit: Option<i32>,
    /// The failing op with its result, strace-style.
    pub op: Option<String>,
    /// The first error line, exactly as the real tool prints it.
    pub error: Option<String>,
    /// Every error line the failing job printed.
    pub errors: Vec<String>,
    /// The race story.
    pub story: Vec<StoryLine>,
    /// The tree diff against the serial reference.
    pub diff: Vec<TreeChange>,
    /// Ops in the failing execution.
    pub ops: usize,
    /// The replay command.
    pub replay: String,
    /// An `unrecoverable` failure: the kill and the recovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<CrashJson>,
}

/// The kill and the recovery of an `unrecoverable` failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashJson {
    /// The killed job's label.
    pub killed: String,
    /// How many of its ops it ran before the kill.
    pub after_ops: usize,
    /// Its last op before the kill, strace-style.
    pub last_op: Option<String>,
    /// The jobs the recovery reran, in order.
    pub rerun: Vec<String>,
    /// The fault that struck `last_op` (then `killed` is the job whose op
    /// it struck, not killed); absent for a kill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// A failure explained: the data both report formats are made from.
#[derive(Debug, Clone)]
pub struct Explained {
    json: FailureJson,
    notes: Vec<String>,
}

/// Explains `failure` of `scenario` under `strategy`.
pub fn explain(failure: &Failure, scenario: &Scenario, strategy: &str) -> Explained {
    let labels: Vec<String> = failure
        .trace
        .outcomes
        .iter()
        .map(|o| o.label.clone())
        .collect();
    let kind = failure.kind();
    let lines = story(
        &failure.trace,
        kind,
        &failure.judgement.diff,
        &labels,
        &scenario.prefix,
    );
    let replay = replay_command(scenario, strategy, &failure.token);
    let failed_job = match kind {
        FailureKind::JobFailed {
            job, exit, event, ..
        } => Some((*job, *exit, *event)),
        FailureKind::Unrecoverable {
            failed: Some(f), ..
        } => Some((f.job, f.exit, f.event)),
        _ => None,
    };
    let (job, exit, op, errors) = match failed_job {
        Some((job, exit, event)) => {
            let outcome = &failure.trace.outcomes[job];
            let errors = outcome
                .diagnostics
                .iter()
                .filter(|(d, _)| d.fatal)
                .map(|(d, _)| d.message.clone())
                .collect();
            let op = event.map(|e| render_event(&failure.trace.events[e], &scenario.prefix));
            (Some(outcome.label.clone()), Some(exit), op, errors)
        }
        None => (None, None, None, Vec::new()),
    };
    let crash = match kind {
        FailureKind::Unrecoverable {
            killed,
            after_ops,
            fault,
            kill_event,
            ..
        } => Some(CrashJson {
            fault: fault.map(|f| f.to_string()),
            killed: labels.get(*killed).cloned().unwrap_or_default(),
            after_ops: *after_ops,
            last_op: kill_event.map(|e| render_event(&failure.trace.events[e], &scenario.prefix)),
            rerun: labels
                .iter()
                .filter(|l| l.ends_with(" (rerun)"))
                .cloned()
                .collect(),
        }),
        _ => None,
    };
    let error = match kind {
        FailureKind::Aborted(reason) => Some(reason.clone()),
        _ => errors.first().cloned(),
    };
    Explained {
        json: FailureJson {
            execution: failure.execution,
            token: failure.token.clone(),
            class: kind.class().to_string(),
            job,
            exit,
            op,
            error,
            errors,
            story: lines,
            diff: failure.judgement.diff.changes.clone(),
            ops: failure.trace.events.len(),
            replay,
            crash,
        },
        notes: failure.judgement.notes.clone(),
    }
}

/// The command that replays `token`.
pub fn replay_command(scenario: &Scenario, strategy: &str, token: &str) -> String {
    format!(
        "prefixrace replay {} --strategy {strategy} --token {token}",
        scenario.origin.cli_args()
    )
}

impl Explained {
    /// The JSON form.
    pub fn json(&self) -> &FailureJson {
        &self.json
    }

    /// The text block shared by explore and replay reports.
    pub fn text(&self) -> String {
        failure_text(&self.json, &self.notes)
    }

    /// [`Explained::text`] without its replay command: the error, the race,
    /// the diff and the notes (a [`crate::Check`] failure adds its own
    /// replay lines, from Rust and from the shell).
    pub fn body(&self) -> String {
        failure_body(&self.json, &self.notes)
    }
}

/// The text block of a failure (shared by explore, replay and merge
/// reports), with the failing execution's `notes`.
pub fn failure_text(j: &FailureJson, notes: &[String]) -> String {
    let mut out = failure_body(j, notes);
    out.push_str(&format!("\nreplay:\n  {}\n", j.replay));
    out
}

/// [`failure_text`] up to its replay command.
pub fn failure_body(j: &FailureJson, notes: &[String]) -> String {
    let mut out = String::new();
    if let Some(c) = &j.crash {
        match &c.fault {
            None => out.push_str(&format!(
                "error: {} was killed after {} ops, and rerunning the build did not recover the prefix\n",
                c.killed,
                thousands(c.after_ops as u64)
            )),
            Some(fault) => out.push_str(&format!(
                "error: {fault} struck {}'s op after {} ops, and rerunning the build did not recover the prefix\n",
                c.killed,
                thousands(c.after_ops as u64)
            )),
        }
        if let Some(op) = &c.last_op {
            let which = if c.fault.is_some() {
                "the struck op"
            } else {
                "its last op"
            };
            out.push_str(&format!("  {which}: {op}\n"));
        }
        out.push_str(&format!("  the rerun: {}\n", c.rerun.join(", ")));
        match &j.job {
            Some(job) => {
                out.push_str(&format!("  {job} exited {}\n", j.exit.unwrap_or(1)));
                for e in &j.errors {
                    out.push_str(&format!("    {e}\n"));
                }
            }
            None => out.push_str(
                "  every rerun job succeeded, but the prefix differs from the serial reference\n",
            ),
        }
    }
    match (&j.job, j.class.as_str()) {
        (_, "unrecoverable") => {}
        (Some(job), _) => {
            out.push_str(&format!("error: {job} exited {}\n", j.exit.unwrap_or(1)));
            for e in &j.errors {
                out.push_str(&format!("  {e}\n"));
            }
        }
        (None, "order-dependent-tree") => out.push_str(
            "error: every job succeeded, but the prefix differs from the serial reference\n",
        ),
        (None, _) => out.push_str(&format!("error: {}\n", j.error.clone().unwrap_or_default())),
    }
    if !j.story.is_empty() {
        out.push_str(&format!(
            "\n{} ({} of {} ops):\n",
            if j.crash.as_ref().is_some_and(|c| c.fault.is_some()) {
                "fault and rerun"
            } else if j.crash.is_some() {
                "crash and rerun"
            } else {
                "race"
            },
            j.story
                .iter()
                .filter(|l| !l.op.starts_with(KILLED) && !l.op.contains(INJECTED))
                .count(),
            thousands(j.ops as u64)
        ));
        let width = j.story.iter().map(|l| l.job.len()).max().unwrap_or(0);
        for l in &j.story {
            out.push_str(&format!("  #{:<5} {:<width$}  {}\n", l.step, l.job, l.op));
        }
    }
    if !j.diff.is_empty() {
        out.push_str(&format!(
            "\ntree diff against the serial reference ({}):\n",
            count(j.diff.len() as u64, "path", "paths")
        ));
        for c in j.diff.iter().take(DIFF_LINES) {
            out.push_str(&format!("  {c}\n"));
        }
        if j.diff.len() > DIFF_LINES {
            out.push_str(&format!("  ... and {} more\n", j.diff.len() - DIFF_LINES));
        }
    }
    if !notes.is_empty() {
        out.push_str("\nnotes:\n");
        for n in notes {
            out.push_str(&format!("  {n}\n"));
        }
    }
    out
}

/// The schema every JSON report of the CLI names in its `schema` field.
/// Its number changes when a field changes meaning or moves.
pub const REPORT_SCHEMA: &str = "prefixrace-report/1";

/// The JSON report of an exploration or replay.
#[derive(Debug, Clone, Serialize)]
pub struct ReportJson {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// `explore` or `replay`.
    pub command: String,
    /// `pass`, `fail` or `incomplete` (`error` in a matrix row whose
    /// serial reference fails).
    pub verdict: String,
    /// Scenario name.
    pub scenario: String,
    /// Strategy name.
    pub strategy: String,
    /// Scheduler name.
    pub scheduler: String,
    /// Seed.
    pub seed: Option<u64>,
    /// Budget of executions.
    pub schedules: Option<u64>,
    /// Executions run (up to the first failure).
    pub executions: u64,
    /// Ops executed.
    pub ops_executed: u64,
    /// Ops of the serial reference.
    pub reference_ops: Option<usize>,
    /// How much of the space the run covered: one object of one shape for
    /// every scheduler.
    pub coverage: CoverageJson,
    /// The first failure, or null.
    pub first_failure: Option<FailureJson>,
    /// Portfolio and race-directed runs: which scheduler (and target) ran
    /// the first failing execution; `regression` runs: the file it came from.
    pub found_by: Option<String>,
    /// Notes (stale bytecode and the like).
    pub notes: Vec<String>,
    /// The shard explored, `I/N`, when the run was sharded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Sharded runs only: the ops of each execution of the shard, in order,
    /// so that `merge` can count exactly up to the merged first failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_ops: Option<Vec<u64>>,
    /// Sharded runs only: each note with the first execution that printed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note_first_execution: Option<BTreeMap<String, u64>>,
    /// Sharded runs only: the conflicting pairs in compact form
    /// (`LOW-HIGH:A:B`, see [`crate::pairs::PairSet::to_compact`]), so
    /// that `merge` can count their union exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair_set: Option<Vec<String>>,
    /// With `--faults crash`: the crash points met, the distinct crash
    /// states among them, and how many the rerun recovered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<crate::crash::FaultCounts>,
}

impl Default for ReportJson {
    fn default() -> ReportJson {
        ReportJson {
            schema: REPORT_SCHEMA.into(),
            command: String::new(),
            verdict: String::new(),
            scenario: String::new(),
            strategy: String::new(),
            scheduler: String::new(),
            seed: None,
            schedules: None,
            executions: 0,
            ops_executed: 0,
            reference_ops: None,
            coverage: CoverageJson::default(),
            first_failure: None,
            found_by: None,
            notes: Vec::new(),
            shard: None,
            execution_ops: None,
            note_first_execution: None,
            pair_set: None,
            faults: None,
        }
    }
}

/// The coverage of a run, the same for every scheduler: the library's
/// [`crate::dpor::Coverage`] (classes, complete, branches left, reason) with
/// the pair counts, the race-directed work list and the PCT bound beside it.
/// A field that does not apply to the scheduler is null.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CoverageJson {
    /// True only when a systematic search (dpor, alone or in auto) covered
    /// every interleaving: the run proves absence. Random, pct and directed
    /// runs never do.
    pub complete: bool,
    /// Systematic searches: equivalence classes explored.
    pub classes: Option<u64>,
    /// Systematic searches: branches still to explore when it stopped (0
    /// when complete).
    pub branches_left: Option<u64>,
    /// Why the run is incomplete (verdict `incomplete`), or null.
    pub reason: Option<String>,
    /// The conflicting pairs of ops exercised (`pairs` counts them), when counted.
    pub conflicting_pairs: Option<PairCounts>,
    /// Portfolio and race-directed runs: the work list, and how many
    /// executions aimed at a target and met it.
    pub directed: Option<crate::explore::DirectedCoverage>,
    /// Random and pct only: the PCT miss-probability bound (the `pct_bound` module).
    pub pct_miss_bound: Option<PctBound>,
    /// Systematic searches: the distinct class fingerprints explored (32
    /// hex digits each, ascending), so that shards can be merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_fingerprints: Option<Vec<String>>,
    /// Sharded systematic runs only: executions the shard's search ran in
    /// all, its own (`executions`, judged and counted) and the other
    /// shards' (run only to follow the search). Its presence tells `merge`
    /// that the shard's executions are those of global index I + j·N.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub searched_executions: Option<u64>,
}

/// What an exploration was asked to do, for the report header.
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Strategy name.
    pub strategy: &'a str,
    /// Scheduler name.
    pub scheduler: String,
    /// Seed.
    pub seed: u64,
    /// Budget.
    pub schedules: u64,
}

/// The JSON report of an exploration.
pub fn exploration_json(info: &RunInfo<'_>, ex: &Exploration) -> ReportJson {
    let failure = ex
        .first_failure
        .as_ref()
        .map(|f| explain(f, info.scenario, info.strategy));
    let sharded = !ex.shard.is_whole();
    let dpor = ex.coverage.as_ref();
    ReportJson {
        schema: REPORT_SCHEMA.into(),
        command: "explore".into(),
        verdict: ex.verdict().as_str().into(),
        scenario: info.scenario.name.clone(),
        strategy: info.strategy.to_string(),
        scheduler: info.scheduler.clone(),
        seed: Some(info.seed),
        schedules: Some(info.schedules),
        executions: ex.executions,
        ops_executed: ex.ops_executed,
        reference_ops: Some(ex.reference_ops),
        coverage: CoverageJson {
            complete: dpor.is_some_and(|c| c.complete),
            classes: dpor.map(|c| c.classes),
            branches_left: dpor.map(|c| c.branches_left),
            reason: ex.incomplete_reason(),
            conflicting_pairs: ex.pairs,
            directed: ex.directed,
            pct_miss_bound: ex.pct_bound.clone(),
            class_fingerprints: dpor.map(|c| {
                c.fingerprints
                    .iter()
                    .map(|&f| crate::dpor::hex(f))
                    .collect()
            }),
            searched_executions: dpor.filter(|_| sharded).map(|c| c.searched),
        },
        first_failure: failure.map(|f| f.json.clone()),
        found_by: ex.found_by.clone(),
        notes: ex.notes.clone(),
        shard: sharded.then(|| ex.shard.to_string()),
        execution_ops: sharded.then(|| ex.execution_ops.clone()),
        note_first_execution: sharded.then(|| ex.note_first_execution.clone()),
        pair_set: (sharded && ex.pairs.is_some()).then(|| ex.pair_set.clone()),
        faults: ex.faults,
    }
}

/// The coverage lines of an exploration: classes (systematic schedulers),
/// conflicting pairs, and the PCT bound (random and pct).
fn coverage_text(ex: &Exploration) -> String {
    let mut out = classes_text(ex);
    if let Some(f) = &ex.faults {
        let incomplete = match (f.complete, f.one_order_after) {
            (true, false) if f.struck_along_search => " (some along the search's orders: an op another job ran there before a struck op is not also tried after it, so this is a reduction, not a proof)",
            (true, false) => "",
            (true, true) => " (the time limit cut the orders of some states' other jobs: those ran on in some orders only)",
            (false, _) => " (up to the first execution with an unrecoverable one; :all tries every execution's)",
        };
        match f.injected.strikes_any() {
            false => out.push_str(&format!(
                "crash points: {} tried, {} distinct crash states, {} recovered by a rerun, {} unrecoverable{incomplete}\n",
                thousands(f.tried),
                thousands(f.distinct),
                thousands(f.recovered),
                thousands(f.unrecoverable),
            )),
            true => out.push_str(&format!(
                "{} points ({}): {} tried, {} distinct states, {} recovered ({} with no job failed and no rerun needed), {} unrecoverable{incomplete}\n",
                if f.injected.crash { "crash and fault" } else { "fault" },
                f.injected,
                thousands(f.tried),
                thousands(f.distinct),
                thousands(f.recovered),
                thousands(f.survived),
                thousands(f.unrecoverable),
            )),
        }
    }
    if let Some(d) = &ex.directed {
        let runs = if d.round_robin {
            "the serial, opposite and round-robin runs"
        } else {
            "the serial and opposite runs"
        };
        out.push_str(&format!(
            "work list: {} of {} aimed at, {} met (from {} and {} of {runs})\n",
            d.aimed,
            count(d.targets, "target", "targets"),
            d.met,
            count(d.pairs, "conflicting pair", "conflicting pairs"),
            count(d.windows, "window", "windows"),
        ));
    }
    if let Some(p) = &ex.pairs {
        out.push_str(&p.text());
    }
    if let Some(b) = &ex.pct_bound {
        out.push_str(&b.text());
    }
    out
}

/// A budget of executions in words (`u64::MAX` is none).
fn budget_text(budget: u64) -> String {
    match budget {
        u64::MAX => "an unbounded run".into(),
        n => format!("at most {}", thousands(n)),
    }
}

/// The coverage line of a systematic exploration, or of the dpor part of
/// a portfolio.
fn classes_text(ex: &Exploration) -> String {
    let portfolio = ex.directed.is_some();
    match &ex.coverage {
        None => String::new(),
        Some(c) if c.complete && portfolio => format!(
            "coverage: complete, {} in {} of dpor's, every interleaving covered\n",
            count(c.classes, "class", "classes"),
            count(c.searched, "execution", "executions")
        ),
        Some(c) if portfolio => format!(
            "coverage: incomplete, dpor ran {} of its search, {} still to explore\n",
            count(c.searched, "execution", "executions"),
            count(c.branches_left, "branch", "branches")
        ),
        Some(c) if c.complete => format!(
            "coverage: complete, {} in {}\n",
            count(c.classes, "class", "classes"),
            count(ex.executions, "execution", "executions")
        ),
        Some(c) => format!(
            "coverage: incomplete, {} in {} ({})\n",
            count(c.classes, "class", "classes"),
            count(ex.executions, "execution", "executions"),
            c.reason.as_deref().unwrap_or("bounded")
        ),
    }
}

/// The text report of an exploration.
pub fn exploration_text(info: &RunInfo<'_>, ex: &Exploration) -> String {
    let s = info.scenario;
    let mut out = String::new();
    let verdict = ex.verdict().as_str().to_uppercase();
    out.push_str(&format!("prefixrace explore: {verdict}\n"));
    out.push_str(&header(s, info.strategy));
    out.push_str(&format!(
        "scheduler: {}, seed {}\n",
        info.scheduler, info.seed
    ));
    if !ex.shard.is_whole() {
        let what = match &ex.coverage {
            Some(c) => format!(
                "the whole search ran {}; this shard judged those whose index modulo the shard count matches",
                count(c.searched, "execution", "executions")
            ),
            None => "executions whose index modulo the shard count matches".into(),
        };
        out.push_str(&format!("shard: {} ({what})\n", ex.shard));
    }
    match &ex.first_failure {
        Some(f) => {
            out.push_str(&format!(
                "found in: execution {} of {} ({} ops executed)\n",
                thousands(f.execution.unwrap_or(0)),
                budget_text(info.schedules),
                thousands(ex.ops_executed)
            ));
            if let Some(by) = &ex.found_by {
                out.push_str(&format!("found by: {by}\n"));
            }
            out.push_str(&coverage_text(ex));
            out.push('\n');
            out.push_str(&explain(f, s, info.strategy).text());
        }
        None => {
            out.push_str(&format!(
                "explored: {}, {} ops; no job failed and every prefix matched the serial reference\n",
                count(ex.executions, "execution", "executions"),
                thousands(ex.ops_executed)
            ));
            if let Some(reason) = ex.incomplete_reason() {
                out.push_str(&format!(
                    "incomplete: {reason}; what was not explored may still fail\n"
                ));
            }
            out.push_str(&coverage_text(ex));
            if !ex.notes.is_empty() {
                out.push_str("\nnotes:\n");
                for n in &ex.notes {
                    out.push_str(&format!("  {n}\n"));
                }
            }
        }
    }
    out
}

fn header(s: &Scenario, strategy: &str) -> String {
    format!(
        "scenario: {} ({} package{}, {} activit{})\nstrategy: {strategy}\n",
        s.name,
        s.packages.len(),
        if s.packages.len() == 1 { "" } else { "s" },
        s.activities.len(),
        if s.activities.len() == 1 { "y" } else { "ies" }
    )
}

/// The text report of a replay.
pub fn replay_text(scenario: &Scenario, strategy: &str, token: &str, r: &Replay) -> String {
    let mut out = String::new();
    let verdict = if r.failure.is_some() { "FAIL" } else { "PASS" };
    out.push_str(&format!("prefixrace replay: {verdict}\n"));
    out.push_str(&header(scenario, strategy));
    out.push_str(&format!("token: {token}\n"));
    match &r.failure {
        Some(f) => {
            out.push_str(&format!(
                "replayed: {} ops\n\n",
                thousands(f.trace.events.len() as u64)
            ));
            out.push_str(&explain(f, scenario, strategy).text());
        }
        None => {
            out.push_str(&format!(
                "replayed: {} ops; no job failed and the prefix matched the serial reference\n",
                thousands(r.trace.events.len() as u64)
            ));
            if !r.notes.is_empty() {
                out.push_str("\nnotes:\n");
                for n in &r.notes {
                    out.push_str(&format!("  {n}\n"));
                }
            }
        }
    }
    out
}

/// The JSON report of a replay.
pub fn replay_json(scenario: &Scenario, strategy: &str, r: &Replay) -> ReportJson {
    let failure = r.failure.as_ref().map(|f| explain(f, scenario, strategy));
    ReportJson {
        command: "replay".into(),
        verdict: if failure.is_some() { "fail" } else { "pass" }.into(),
        scenario: scenario.name.clone(),
        strategy: strategy.to_string(),
        scheduler: "replay".into(),
        executions: 1,
        ops_executed: r.trace.schedule.choices.len() as u64,
        first_failure: failure.map(|f| f.json.clone()),
        notes: r.notes.clone(),
        ..ReportJson::default()
    }
}
