//! The corpus report: its rows, the scenarios skipped, the counts of the
//! footer, and the recall table as text (JSON is the same data, serialized).

use std::collections::BTreeSet;

use serde::Serialize;

use super::row::Row;
use super::run::SchedulerRun;
use super::CorpusOptions;
use crate::thousands::{count, thousands};

/// The schema name of `prefixrace corpus --format json`.
pub const CORPUS_SCHEMA: &str = "prefixrace-corpus/1";

/// A scenario of the directory that declares no expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Its file name.
    pub file: String,
    /// Its scenario name.
    pub scenario: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A directory's scenarios explored against their expectations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Corpus {
    /// [`CORPUS_SCHEMA`].
    pub schema: String,
    /// `corpus`.
    pub command: String,
    /// `pass` when every expectation was met, else `fail`.
    pub verdict: String,
    /// The directory, as given.
    pub directory: String,
    /// The seed of every run.
    pub seed: u64,
    /// Auto must find a fail expectation's failure within this many executions.
    pub within: u64,
    /// The budget of auto, random and pct, and of dpor on fail expectations.
    pub schedules: u64,
    /// The cap of dpor's search on pass expectations.
    pub dpor_cap: u64,
    /// One row per scenario with an expectation, in file-name order.
    pub rows: Vec<Row>,
    /// The scenarios without one.
    pub skipped: Vec<Skipped>,
    /// Distinct incidents among the rows (a row naming none counts as its
    /// scenario).
    pub incidents: usize,
    /// Distinct tools the rows name.
    pub tools: usize,
    /// Rows whose expectation was not met.
    pub unmet: usize,
}

impl Corpus {
    /// An empty report of `directory` explored under `options`.
    pub fn new(directory: String, options: &CorpusOptions) -> Corpus {
        Corpus {
            schema: CORPUS_SCHEMA.to_string(),
            command: "corpus".to_string(),
            verdict: "pass".to_string(),
            directory,
            seed: options.seed,
            within: options.within,
            schedules: options.schedules,
            dpor_cap: options.dpor_cap,
            rows: Vec::new(),
            skipped: Vec::new(),
            incidents: 0,
            tools: 0,
            unmet: 0,
        }
    }

    /// Adds a row and brings the verdict and the counts up to date.
    pub fn push_row(&mut self, row: Row) {
        self.rows.push(row);
        let incidents: BTreeSet<&str> = self
            .rows
            .iter()
            .map(|r| r.incident.as_deref().unwrap_or(&r.scenario))
            .collect();
        let tools: BTreeSet<&str> = self.rows.iter().filter_map(|r| r.tool.as_deref()).collect();
        self.incidents = incidents.len();
        self.tools = tools.len();
        self.unmet = self.rows.iter().filter(|r| !r.met).count();
        self.verdict = if self.unmet == 0 { "pass" } else { "fail" }.to_string();
    }

    /// The recall table as text: a header, one line per row (with a time
    /// column when the runs were timed), why each unmet row is unmet, the
    /// skipped files and the footer.
    pub fn text(&self) -> String {
        let timed = self.rows.iter().any(|r| r.millis.is_some());
        let mut header = vec![
            "scenario", "tool", "incident", "strategy", "expect", "auto", "random", "pct", "dpor",
            "met",
        ];
        if timed {
            header.push("ms");
        }
        let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        for r in &self.rows {
            let mut line = vec![
                r.scenario.clone(),
                r.tool.clone().unwrap_or_else(|| "-".into()),
                r.incident.clone().unwrap_or_else(|| "-".into()),
                r.strategy.clone(),
                r.expect.clone(),
            ];
            for scheduler in ["auto", "random", "pct", "dpor"] {
                let run = r
                    .runs
                    .iter()
                    .find(|x| x.scheduler.split(':').next() == Some(scheduler));
                line.push(match run {
                    Some(run) => cell(run, &r.expect),
                    None => "-".to_string(),
                });
            }
            line.push(if r.met { "yes" } else { "NO" }.to_string());
            if timed {
                line.push(r.millis.map_or_else(|| "-".into(), thousands));
            }
            lines.push(line);
        }
        let widths: Vec<usize> = (0..lines[0].len())
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let met = self.rows.len() - self.unmet;
        let mut out = format!(
            "prefixrace corpus: {}, {met} of {} met\n",
            self.verdict.to_uppercase(),
            count(self.rows.len() as u64, "expectation", "expectations"),
        );
        out.push_str(&format!("directory: {}\n", self.directory));
        out.push_str(&format!(
            "seed {}; budget {} (auto, random, pct; dpor on fail expectations); dpor cap {} on pass expectations; auto must find a failure within {}\n\n",
            self.seed,
            count(self.schedules, "execution", "executions"),
            thousands(self.dpor_cap),
            count(self.within, "execution", "executions"),
        ));
        for l in &lines {
            let cells: Vec<String> = l
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(&format!("  {}\n", cells.join("  ").trim_end()));
        }
        out.push_str(
            "\nfail rows: the execution that found the failure (no: none within the budget); pass rows: the verdict, and whether dpor's search ended\n",
        );
        let unmet: Vec<&Row> = self.rows.iter().filter(|r| !r.met).collect();
        if !unmet.is_empty() {
            out.push_str("\nunmet:\n");
            for r in unmet {
                out.push_str(&format!(
                    "  {} ({}): {}\n",
                    r.scenario,
                    r.file,
                    r.unmet.as_deref().unwrap_or("")
                ));
            }
        }
        if !self.skipped.is_empty() {
            out.push_str("\nskipped:\n");
            for s in &self.skipped {
                out.push_str(&format!("  {} ({}): {}\n", s.scenario, s.file, s.reason));
            }
        }
        out.push_str(&format!(
            "\n{}, {}, {} unmet\n",
            count(self.incidents as u64, "incident", "incidents"),
            count(self.tools as u64, "tool", "tools"),
            count(self.unmet as u64, "expectation", "expectations"),
        ));
        out
    }
}

/// One scheduler's cell: on a fail row the execution that found the
/// failure, or `no`; on a pass row the verdict (dpor: with its classes).
fn cell(run: &SchedulerRun, expect: &str) -> String {
    if expect == "fail" {
        return match run.found {
            true => thousands(run.executions),
            false => "no".to_string(),
        };
    }
    if run.found {
        return format!("fail at {}", thousands(run.executions));
    }
    match (run.scheduler.as_str(), run.classes) {
        ("dpor", Some(classes)) => format!(
            "{} ({})",
            if run.complete {
                "complete"
            } else {
                "incomplete"
            },
            count(classes, "class", "classes")
        ),
        _ => run.verdict.clone(),
    }
}
