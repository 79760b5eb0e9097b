//! Merging the JSON reports of a sharded exploration into one verdict.
//!
//! `prefixrace explore ... --shard I/N --format json` runs the executions
//! whose 0-based index is I−1 modulo N (see [`crate::shard`]). [`merge`]
//! takes the N reports and gives the report of the unsharded run:
//!
//! - every input must be a single-strategy `explore` report of the same
//!   scenario, strategy, scheduler, seed and budget, with the same shard
//!   count N, and each shard 1..N must appear exactly once;
//! - the merged first failure is the failure with the smallest global
//!   execution index (shards report global indices and the same tokens);
//! - `executions`, `ops_executed` and the notes count only the executions up
//!   to that failure, as the unsharded run does. Sharded reports carry the
//!   ops of each of their executions (`execution_ops`) and the first
//!   execution of each note (`note_first_execution`) for this; a shard that
//!   ran past the merged first failure contributes only its executions
//!   before it. Reports without those fields are summed whole;
//! - DPOR shards judge the executions of global index I + j·N of the one
//!   deterministic search (see [`crate::dpor`]); their reports say so by
//!   carrying `searched_executions`, and are counted by index like random
//!   and pct ones, so `executions` and `ops_executed` are exactly the
//!   unsharded run's. Their pair sets number the shard's own executions
//!   1, 2, …, which merge maps to global indices. Their notes are united
//!   whole (dpor reports carry no first execution per note). Older DPOR
//!   reports, without `searched_executions`, are summed whole;
//! - for DPOR reports, `classes` is the number of distinct
//!   `class_fingerprints` over all shards when every shard lists them (the
//!   sum of `classes` otherwise), and `complete` holds when every shard is
//!   complete;
//! - the PCT bound is recomputed for the merged run: the same depth and
//!   jobs, `k` the largest execution up to the merged failure, `runs` the
//!   merged executions;
//! - conflicting pairs: sharded reports carry their pairs in compact form
//!   (`pair_set`: both op identities and the first execution that ran the
//!   pair in each order, see [`crate::pairs`]), so the merged counts are
//!   exactly those of the unsharded run: the union, up to the merged first
//!   failure. When an input lacks `pair_set`, only the per-shard counts
//!   are listed (summing them would count a pair two shards saw twice).
//!
//! The merged report does not depend on the order of the inputs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::pairs::{PairCounts, PairSet};
use crate::pct_bound::PctBound;
use crate::report::{failure_text, CoverageJson, FailureJson, REPORT_SCHEMA};
use crate::shard::Shard;
use crate::thousands::{count, thousands};

/// One shard report, parsed and checked.
#[derive(Debug, Clone)]
struct ShardReport {
    file: String,
    shard: Shard,
    scenario: String,
    strategy: String,
    scheduler: String,
    seed: u64,
    schedules: u64,
    verdict: String,
    executions: u64,
    ops_executed: u64,
    reference_ops: Option<u64>,
    first_failure: Option<FailureJson>,
    notes: Vec<String>,
    execution_ops: Option<Vec<u64>>,
    note_first_execution: Option<BTreeMap<String, u64>>,
    classes: Option<u64>,
    complete: Option<bool>,
    class_fingerprints: Option<Vec<String>>,
    conflicting_pairs: Option<PairCounts>,
    pair_set: Option<Vec<String>>,
    pct_miss_bound: Option<PctBound>,
    searched_executions: Option<u64>,
}

/// One input of a merge, as the merged report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedInput {
    /// The file the report was read from, as given.
    pub file: String,
    /// The shard, `I/N`.
    pub shard: String,
    /// The shard's own verdict.
    pub verdict: String,
    /// Executions the shard ran.
    pub executions: u64,
    /// Ops the shard executed.
    pub ops_executed: u64,
    /// The conflicting pairs the shard exercised, when it reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicting_pairs: Option<PairCounts>,
}

/// The merged report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeJson {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// Always `merge`.
    pub command: String,
    /// `pass`, `fail`, or `incomplete` when no shard failed and some
    /// shard, or the merged dpor search, did not finish.
    pub verdict: String,
    /// Scenario name.
    pub scenario: String,
    /// Strategy name.
    pub strategy: String,
    /// Scheduler name.
    pub scheduler: String,
    /// Seed.
    pub seed: u64,
    /// Budget of executions of the whole run.
    pub schedules: u64,
    /// The shard count N.
    pub shards: u64,
    /// Executions of the whole run, up to and including the first failure.
    pub executions: u64,
    /// Ops of those executions.
    pub ops_executed: u64,
    /// Ops of the serial reference.
    pub reference_ops: Option<u64>,
    /// The failure with the smallest execution index, or null.
    pub first_failure: Option<FailureJson>,
    /// The shard (`I/N`) that found it.
    pub first_failure_shard: Option<String>,
    /// Notes of the counted executions.
    pub notes: Vec<String>,
    /// The coverage of the whole run, in the shape of every report's
    /// (classes and completeness of dpor shards, the union of the pairs
    /// when every input carries its `pair_set`, the recomputed PCT bound).
    pub coverage: CoverageJson,
    /// The inputs, in shard order.
    pub inputs: Vec<MergedInput>,
}

impl MergeJson {
    /// True when the merged run found a failure.
    pub fn failed(&self) -> bool {
        self.first_failure.is_some()
    }

    /// The text report.
    pub fn text(&self) -> String {
        let mut out = format!("prefixrace merge: {}\n", self.verdict.to_uppercase());
        out.push_str(&format!(
            "scenario: {}\nstrategy: {}\nscheduler: {}, seed {}\n",
            self.scenario, self.strategy, self.scheduler, self.seed
        ));
        out.push_str(&format!("shards: {}\n", self.shards));
        for i in &self.inputs {
            out.push_str(&format!(
                "  {:<7} {:<4} {:>8} executions {:>12} ops",
                i.shard,
                i.verdict.to_uppercase(),
                thousands(i.executions),
                thousands(i.ops_executed)
            ));
            if let Some(p) = &i.conflicting_pairs {
                out.push_str(&format!(
                    ", {} pairs ({} both orders)",
                    thousands(p.seen),
                    thousands(p.both_orders)
                ));
            }
            out.push_str(&format!("  {}\n", i.file));
        }
        match &self.first_failure {
            Some(f) => out.push_str(&format!(
                "found in: execution {} of at most {} ({} ops executed), by shard {}\n",
                thousands(f.execution.unwrap_or(0)),
                thousands(self.schedules),
                thousands(self.ops_executed),
                self.first_failure_shard.as_deref().unwrap_or("?")
            )),
            None => out.push_str(&format!(
                "explored: {}, {} ops; no job failed and every prefix matched the serial reference\n",
                count(self.executions, "execution", "executions"),
                thousands(self.ops_executed)
            )),
        }
        if let Some(classes) = self.coverage.classes {
            let complete = self.coverage.complete;
            out.push_str(&format!(
                "coverage: {}, {} in {}\n",
                if complete { "complete" } else { "incomplete" },
                count(classes, "class", "classes"),
                count(self.executions, "execution", "executions")
            ));
        }
        match &self.coverage.conflicting_pairs {
            Some(p) => out.push_str(&p.text()),
            None if self.inputs.iter().any(|i| i.conflicting_pairs.is_some()) => out.push_str(
                "pairs: per shard only (an input carries no pair_set, so the union cannot be counted)\n",
            ),
            None => {}
        }
        if let Some(b) = &self.coverage.pct_miss_bound {
            out.push_str(&b.text());
        }
        match &self.first_failure {
            Some(f) => {
                out.push('\n');
                out.push_str(&failure_text(f, &[]));
            }
            None if !self.notes.is_empty() => {
                out.push_str("\nnotes:\n");
                for n in &self.notes {
                    out.push_str(&format!("  {n}\n"));
                }
            }
            None => {}
        }
        out
    }
}

/// Merges shard reports, each given as (file name, contents).
pub fn merge(inputs: &[(String, String)]) -> Result<MergeJson> {
    if inputs.is_empty() {
        return Err(Error::Usage(
            "merge: no reports given; pass the JSON reports of explore --shard I/N --format json"
                .into(),
        ));
    }
    let reports: Vec<ShardReport> = inputs
        .iter()
        .map(|(file, text)| parse(file, text))
        .collect::<Result<_>>()?;
    check_same_run(&reports)?;
    let count = reports[0].shard.count();
    let mut by_number: BTreeMap<u64, &ShardReport> = BTreeMap::new();
    for r in &reports {
        if let Some(other) = by_number.insert(r.shard.number(), r) {
            // Name the files in a fixed order, whatever the argument order.
            let (a, b) = if other.file <= r.file {
                (&other.file, &r.file)
            } else {
                (&r.file, &other.file)
            };
            return Err(Error::input(
                b.clone(),
                0,
                "shard",
                format!("shard {} is given twice (also by {a})", r.shard),
            ));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|n| !by_number.contains_key(n))
        .map(|n| format!("{n}/{count}"))
        .collect();
    if !missing.is_empty() {
        let given: Vec<String> = by_number
            .values()
            .map(|r| format!("{} ({})", r.file, r.shard))
            .collect();
        return Err(Error::Usage(format!(
            "merge: shard {} missing; got {}",
            missing.join(", "),
            given.join(", ")
        )));
    }
    let shards: Vec<&ShardReport> = by_number.into_values().collect();
    let first = shards
        .iter()
        .filter_map(|r| {
            let f = r.first_failure.as_ref()?;
            Some((f.execution.unwrap_or(0), *r, f))
        })
        .min_by_key(|(e, _, _)| *e);
    // Random and pct shards own executions by global index (I + j·N), and
    // so do DPOR shards that say how far their search ran; older DPOR
    // shards are summed whole.
    let dpor = shards.iter().all(|r| r.searched_executions.is_some());
    let indexed = dpor || shards[0].scheduler == "random" || shards[0].scheduler.starts_with("pct");
    let cutoff = first.as_ref().map(|(e, _, _)| *e).filter(|_| indexed);
    let exact = indexed && shards.iter().all(|r| r.execution_ops.is_some());
    let (executions, ops_executed, longest) = if exact {
        count_up_to(&shards, count, cutoff)
    } else {
        (
            shards.iter().map(|r| r.executions).sum(),
            shards.iter().map(|r| r.ops_executed).sum(),
            None,
        )
    };
    let notes: BTreeSet<String> =
        if exact && !dpor && shards.iter().all(|r| r.note_first_execution.is_some()) {
            shards
                .iter()
                .flat_map(|r| r.note_first_execution.iter().flatten())
                .filter(|(_, e)| cutoff.is_none_or(|c| **e <= c))
                .map(|(n, _)| n.clone())
                .collect()
        } else {
            shards
                .iter()
                .flat_map(|r| r.notes.iter().cloned())
                .collect()
        };
    let (classes, complete) = merged_classes(&shards);
    let conflicting_pairs = if shards.iter().all(|r| r.pair_set.is_some()) {
        let mut set = PairSet::default();
        for r in &shards {
            let entries = r.pair_set.as_deref().unwrap_or_default();
            // A dpor shard's j-th execution (1-based) is I + (j−1)·N.
            let global = |j: u64| {
                if dpor {
                    r.shard.number() + (j - 1) * count
                } else {
                    j
                }
            };
            set.add_compact_as(entries, global)
                .map_err(|e| Error::input(r.file.clone(), 0, "pair_set", e))?;
        }
        Some(set.counts_up_to(cutoff))
    } else if shards.len() == 1 {
        // One shard of one: its own counts are the run's.
        shards[0].conflicting_pairs
    } else {
        None
    };
    let pct_miss_bound = shards[0].pct_miss_bound.as_ref().map(|b| {
        let k = longest.unwrap_or_else(|| {
            shards
                .iter()
                .filter_map(|r| r.pct_miss_bound.as_ref().map(|b| b.k))
                .max()
                .unwrap_or(b.k)
        });
        PctBound::new(&b.scheduler, b.depth, b.n, k, executions)
    });
    let head = shards[0];
    let unfinished: Vec<String> = shards
        .iter()
        .filter(|r| r.verdict == "incomplete")
        .map(|r| r.shard.to_string())
        .collect();
    let verdict = match (&first, complete) {
        (Some(_), _) => "fail",
        (None, Some(false)) => "incomplete",
        (None, _) if !unfinished.is_empty() => "incomplete",
        (None, _) => "pass",
    };
    let reason = (verdict == "incomplete").then(|| {
        if unfinished.is_empty() {
            "a shard's search did not finish".to_string()
        } else {
            format!("shard {} did not finish", unfinished.join(", "))
        }
    });
    Ok(MergeJson {
        schema: REPORT_SCHEMA.into(),
        command: "merge".into(),
        verdict: verdict.into(),
        scenario: head.scenario.clone(),
        strategy: head.strategy.clone(),
        scheduler: head.scheduler.clone(),
        seed: head.seed,
        schedules: head.schedules,
        shards: count,
        executions,
        ops_executed,
        reference_ops: head.reference_ops,
        first_failure_shard: first.as_ref().map(|(_, r, _)| r.shard.to_string()),
        first_failure: first.map(|(_, _, f)| f.clone()),
        notes: notes.into_iter().collect(),
        coverage: CoverageJson {
            complete: complete == Some(true),
            classes,
            branches_left: None,
            reason,
            conflicting_pairs,
            directed: None,
            pct_miss_bound,
            class_fingerprints: None,
            searched_executions: None,
        },
        inputs: shards
            .iter()
            .map(|r| MergedInput {
                file: r.file.clone(),
                shard: r.shard.to_string(),
                verdict: r.verdict.clone(),
                executions: r.executions,
                ops_executed: r.ops_executed,
                conflicting_pairs: r.conflicting_pairs,
            })
            .collect(),
    })
}

/// Executions, ops and the longest execution of the whole run up to and
/// including execution `cutoff` (1-based; all when `None`). Shard `I/N`'s
/// j-th execution is execution `I + j·N` (1-based).
fn count_up_to(
    shards: &[&ShardReport],
    count: u64,
    cutoff: Option<u64>,
) -> (u64, u64, Option<u64>) {
    let mut executions = 0;
    let mut ops = 0;
    let mut longest = 0;
    for r in shards {
        for (j, o) in r.execution_ops.iter().flatten().enumerate() {
            let global = r.shard.number() + j as u64 * count;
            if cutoff.is_some_and(|c| global > c) {
                break;
            }
            executions += 1;
            ops += o;
            longest = longest.max(*o);
        }
    }
    (executions, ops, Some(longest))
}

/// Classes and completeness of DPOR shards, when they report them.
fn merged_classes(shards: &[&ShardReport]) -> (Option<u64>, Option<bool>) {
    if shards.iter().all(|r| r.classes.is_none()) {
        return (None, None);
    }
    let classes = if shards.iter().all(|r| r.class_fingerprints.is_some()) {
        shards
            .iter()
            .flat_map(|r| r.class_fingerprints.iter().flatten())
            .collect::<BTreeSet<_>>()
            .len() as u64
    } else {
        shards.iter().map(|r| r.classes.unwrap_or(0)).sum()
    };
    let complete = shards.iter().all(|r| r.complete == Some(true));
    (Some(classes), Some(complete))
}

/// Checks that every report comes from the same run as the first one.
fn check_same_run(reports: &[ShardReport]) -> Result<()> {
    let head = &reports[0];
    for r in &reports[1..] {
        let differs = |field: &str, a: String, b: String| -> Result<()> {
            if a == b {
                Ok(())
            } else {
                Err(Error::input(
                    r.file.clone(),
                    0,
                    field,
                    format!(
                        "{b:?} differs from {a:?} in {}: shards of one run must share it",
                        head.file
                    ),
                ))
            }
        };
        differs("scenario", head.scenario.clone(), r.scenario.clone())?;
        differs("strategy", head.strategy.clone(), r.strategy.clone())?;
        differs("scheduler", head.scheduler.clone(), r.scheduler.clone())?;
        differs("seed", head.seed.to_string(), r.seed.to_string())?;
        differs(
            "schedules",
            head.schedules.to_string(),
            r.schedules.to_string(),
        )?;
        if head.shard.count() != r.shard.count() {
            return Err(Error::input(
                r.file.clone(),
                0,
                "shard",
                format!(
                    "{} is one of {} shards, but {} is {} (one of {})",
                    r.shard,
                    r.shard.count(),
                    head.file,
                    head.shard,
                    head.shard.count()
                ),
            ));
        }
    }
    Ok(())
}

/// The fields of one report object, with errors that name the file and field.
struct Fields<'a> {
    file: &'a str,
    obj: &'a Map<String, Value>,
    /// `coverage.` inside the coverage object; empty at the top.
    prefix: String,
}

impl Fields<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> Error {
        Error::input(self.file, 0, format!("{}{field}", self.prefix), message)
    }

    fn get(&self, field: &str) -> Result<&Value> {
        self.obj
            .get(field)
            .ok_or_else(|| self.err(field, "missing; is this an explore --format json report?"))
    }

    fn string(&self, field: &str) -> Result<String> {
        self.get(field)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.err(field, "expected a string"))
    }

    fn u64(&self, field: &str) -> Result<u64> {
        self.get(field)?
            .as_u64()
            .ok_or_else(|| self.err(field, "expected a non-negative integer"))
    }

    /// A nested object, whose fields' errors are named `FIELD.NAME`.
    fn object(&self, field: &str) -> Result<Fields<'_>> {
        let obj = self
            .get(field)?
            .as_object()
            .ok_or_else(|| self.err(field, "expected an object"))?;
        Ok(Fields {
            file: self.file,
            obj,
            prefix: format!("{}{field}.", self.prefix),
        })
    }

    /// A field that may be absent or null, parsed with serde.
    fn optional<T: serde::de::DeserializeOwned>(&self, field: &str) -> Result<Option<T>> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| self.err(field, e.to_string())),
        }
    }
}

/// Parses and checks one shard report.
fn parse(file: &str, text: &str) -> Result<ShardReport> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::input(file, e.line(), "json", format!("not a JSON report: {e}")))?;
    let Some(obj) = value.as_object() else {
        return Err(Error::input(
            file,
            0,
            "json",
            "expected a JSON object (an explore report)",
        ));
    };
    let f = Fields {
        file,
        obj,
        prefix: String::new(),
    };
    match obj.get("schema").and_then(Value::as_str) {
        Some(REPORT_SCHEMA) => {}
        Some(other) => {
            return Err(f.err(
                "schema",
                format!("{other:?}: this prefixrace reads {REPORT_SCHEMA:?} reports"),
            ))
        }
        None => {
            return Err(f.err(
                "schema",
                format!("missing or not a string; expected {REPORT_SCHEMA:?} (is this an explore --format json report of this version?)"),
            ))
        }
    }
    let command = f.string("command")?;
    if command != "explore" {
        return Err(f.err(
            "command",
            format!("{command:?}: merge takes explore reports"),
        ));
    }
    if obj.contains_key("strategies") {
        return Err(f.err(
            "strategies",
            "an order-sensitivity matrix (--strategy all); shard and merge one strategy at a time",
        ));
    }
    let shard = match obj.get("shard") {
        None | Some(Value::Null) => Shard::WHOLE,
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| f.err("shard", format!("{s:?}: expected I/N with 1 <= I <= N")))?,
        Some(_) => return Err(f.err("shard", "expected a string I/N")),
    };
    let verdict = f.string("verdict")?;
    let first_failure: Option<FailureJson> = f.optional("first_failure")?;
    match (verdict.as_str(), &first_failure) {
        ("pass" | "incomplete", None) => {}
        ("fail", Some(failure)) => {
            if failure.execution.is_none() {
                return Err(f.err("first_failure", "execution: missing or null"));
            }
        }
        ("pass" | "fail" | "incomplete", _) => {
            return Err(f.err("verdict", format!("{verdict:?} contradicts first_failure")))
        }
        _ => {
            return Err(f.err(
                "verdict",
                format!("{verdict:?}: expected pass, fail or incomplete"),
            ))
        }
    }
    let executions = f.u64("executions")?;
    let execution_ops: Option<Vec<u64>> = f.optional("execution_ops")?;
    if let Some(ops) = &execution_ops {
        if ops.len() as u64 != executions {
            return Err(f.err(
                "execution_ops",
                format!(
                    "lists {} executions, executions says {executions}",
                    ops.len()
                ),
            ));
        }
    }
    let notes: Option<Vec<String>> = f.optional("notes")?;
    let coverage = f.object("coverage")?;
    Ok(ShardReport {
        file: file.to_string(),
        shard,
        scenario: f.string("scenario")?,
        strategy: f.string("strategy")?,
        scheduler: f.string("scheduler")?,
        seed: f.u64("seed")?,
        schedules: f.u64("schedules")?,
        verdict,
        executions,
        ops_executed: f.u64("ops_executed")?,
        reference_ops: f.optional("reference_ops")?,
        first_failure,
        notes: notes.unwrap_or_default(),
        execution_ops,
        note_first_execution: f.optional("note_first_execution")?,
        classes: coverage.optional("classes")?,
        complete: coverage.optional("complete")?,
        class_fingerprints: coverage.optional("class_fingerprints")?,
        conflicting_pairs: coverage.optional("conflicting_pairs")?,
        pair_set: f.optional("pair_set")?,
        pct_miss_bound: coverage.optional("pct_miss_bound")?,
        searched_executions: coverage.optional("searched_executions")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dpor_shard(shard: &str, coverage: &str) -> (String, String) {
        let text = format!(
            r#"{{"schema": "prefixrace-report/1", "command": "explore", "verdict": "pass",
                "scenario": "s", "strategy": "x",
                "scheduler": "dpor", "seed": 0, "schedules": 10, "executions": 4,
                "ops_executed": 40, "reference_ops": 10, "first_failure": null,
                "notes": [], "shard": "{shard}", "coverage": {{{coverage}}}}}"#
        );
        (format!("dpor-{}.json", &shard[..1]), text)
    }

    #[test]
    fn dpor_classes_are_the_union_of_the_fingerprints_and_complete_needs_every_shard() {
        let merged = merge(&[
            dpor_shard(
                "2/2",
                r#""classes": 2, "complete": true, "class_fingerprints": ["0b", "0c"]"#,
            ),
            dpor_shard(
                "1/2",
                r#""classes": 2, "complete": true, "class_fingerprints": ["0a", "0b"]"#,
            ),
        ])
        .unwrap();
        assert_eq!(
            (merged.coverage.classes, merged.coverage.complete),
            (Some(3), true)
        );
        assert_eq!(merged.verdict, "pass");
        assert_eq!((merged.executions, merged.ops_executed), (8, 80));
        assert_eq!(merged.inputs[0].file, "dpor-1.json");
        let merged = merge(&[
            dpor_shard("1/2", r#""classes": 2, "complete": true"#),
            dpor_shard("2/2", r#""classes": 3, "complete": false"#),
        ])
        .unwrap();
        assert_eq!(
            (merged.coverage.classes, merged.coverage.complete),
            (Some(5), false)
        );
        assert_eq!(merged.verdict, "incomplete");
        let text = merged.text();
        assert!(text.starts_with("prefixrace merge: INCOMPLETE\n"), "{text}");
        assert!(text.contains("coverage: incomplete, 5 classes in 8 executions"));
        let bad = merge(&[dpor_shard("1/1", r#""class_fingerprints": "0a""#)]).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("dpor-1.json: coverage.class_fingerprints:"),
            "{bad}"
        );
    }

    #[test]
    fn a_report_without_this_schema_is_refused_naming_the_field() {
        let (file, text) = dpor_shard("1/1", "");
        let old = text.replace(r#""schema": "prefixrace-report/1", "#, "");
        let err = merge(&[(file.clone(), old)]).unwrap_err();
        assert!(err.to_string().starts_with("dpor-1.json: schema:"), "{err}");
        let future = text.replace("prefixrace-report/1", "prefixrace-report/9");
        let err = merge(&[(file, future)]).unwrap_err();
        assert!(err.to_string().contains("prefixrace-report/9"), "{err}");
    }
}
