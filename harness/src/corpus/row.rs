//! One row of the corpus table: a scenario explored against its `[expect]`
//! table, and whether the expectation was met.

use std::sync::Arc;

use serde::Serialize;

use super::run::{RunSpec, SchedulerRun};
use super::CorpusOptions;
use crate::error::Result;
use crate::scenario::{Expectation, ExpectedVerdict, Scenario};
use crate::schedule::SchedulerKind;
use crate::setup::Setup;
use crate::strategy::scenario_strategy;

/// The schedulers a fail expectation is explored with, in table order.
pub const FAIL_SCHEDULERS: [SchedulerKind; 4] = [
    SchedulerKind::Auto,
    SchedulerKind::Random,
    // The depth `--scheduler pct` means.
    SchedulerKind::Pct { depth: 3 },
    SchedulerKind::Dpor,
];

/// A scenario explored against its expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The scenario's file name in the directory.
    pub file: String,
    /// The scenario's name.
    pub scenario: String,
    /// The tool of the incident.
    pub tool: Option<String>,
    /// The incident.
    pub incident: Option<String>,
    /// Where the incident is told.
    pub source: Option<String>,
    /// `fail` or `pass`: what the scenario expects.
    pub expect: String,
    /// The strategy the expectation is about.
    pub strategy: String,
    /// The message a fail expectation's failure must print, if given.
    pub message: Option<String>,
    /// Each scheduler's run: auto, random, pct, dpor for a fail
    /// expectation; auto and dpor (to the end of its search, within the
    /// cap) for a pass expectation.
    pub runs: Vec<SchedulerRun>,
    /// Whether auto's first failure printed `message` (null without one).
    pub message_found: Option<bool>,
    /// Whether the expectation was met.
    pub met: bool,
    /// Why not, when it was not.
    pub unmet: Option<String>,
    /// Wall-clock milliseconds of the row's runs (left out with `--no-timing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millis: Option<u64>,
}

impl Row {
    /// Explores `scenario` (read from `file`) as `expectation` says and judges it.
    pub fn explore(
        file: &str,
        scenario: &Arc<Scenario>,
        expectation: &Expectation,
        options: &CorpusOptions,
    ) -> Result<Row> {
        let strategy = scenario_strategy(&expectation.strategy, scenario)?;
        let setup = Setup::new(scenario.clone(), strategy.as_ref())?;
        let spec = |scheduler: SchedulerKind, budget: u64| RunSpec {
            scenario,
            setup: &setup,
            strategy: strategy.name(),
            scheduler,
            budget,
            shrink: scheduler == SchedulerKind::Auto,
        };
        let plan: Vec<RunSpec<'_>> = match expectation.verdict {
            ExpectedVerdict::Fail => FAIL_SCHEDULERS
                .iter()
                .map(|&k| spec(k, options.schedules))
                .collect(),
            ExpectedVerdict::Pass => vec![
                spec(SchedulerKind::Auto, options.schedules),
                spec(SchedulerKind::Dpor, options.dpor_cap),
            ],
        };
        let runs = plan
            .iter()
            .map(|s| s.run(options))
            .collect::<Result<Vec<_>>>()?;
        let message_found = match (&expectation.message, expectation.verdict) {
            (Some(m), ExpectedVerdict::Fail) => Some(runs[0].errors.iter().any(|e| e.contains(m))),
            _ => None,
        };
        let unmet = judge(expectation, &runs, message_found, options.within);
        let millis = match runs.iter().map(|r| r.millis).collect::<Option<Vec<u64>>>() {
            Some(each) if options.timing => Some(each.iter().sum()),
            _ => None,
        };
        Ok(Row {
            file: file.to_string(),
            scenario: scenario.name.clone(),
            tool: expectation.tool.clone(),
            incident: expectation.incident.clone(),
            source: expectation.source.clone(),
            expect: expectation.verdict.as_str().to_string(),
            strategy: expectation.strategy.clone(),
            message: expectation.message.clone(),
            runs,
            message_found,
            met: unmet.is_none(),
            unmet,
            millis,
        })
    }
}

/// Why the runs do not meet the expectation, or `None` when they do. A fail
/// expectation is met when auto (`runs[0]`) finds a failure within `within`
/// executions whose error lines hold the message; a pass expectation when
/// no run finds a failure.
fn judge(
    expectation: &Expectation,
    runs: &[SchedulerRun],
    message_found: Option<bool>,
    within: u64,
) -> Option<String> {
    match expectation.verdict {
        ExpectedVerdict::Fail => {
            let auto = &runs[0];
            if !auto.found {
                return Some(format!(
                    "auto found no failure in {} executions",
                    auto.executions
                ));
            }
            if auto.executions > within {
                return Some(format!(
                    "auto found the failure at execution {}, not within {within}",
                    auto.executions
                ));
            }
            if message_found == Some(false) {
                return Some(format!(
                    "the failure's error lines do not contain {:?}; the first is {:?}",
                    expectation.message.as_deref().unwrap_or(""),
                    auto.errors.first().map(String::as_str).unwrap_or("")
                ));
            }
            None
        }
        ExpectedVerdict::Pass => runs.iter().find(|r| r.found).map(|r| {
            format!(
                "{} found a failure at execution {}{}",
                r.scheduler,
                r.executions,
                match r.errors.first() {
                    Some(e) => format!(": {e}"),
                    None => " (the prefix differs from the serial run's)".to_string(),
                }
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectation(verdict: ExpectedVerdict, message: Option<&str>) -> Expectation {
        Expectation {
            verdict,
            strategy: "staged-copy".into(),
            tool: None,
            incident: None,
            source: None,
            message: message.map(str::to_string),
        }
    }

    fn run(scheduler: &str, found: bool, executions: u64) -> SchedulerRun {
        SchedulerRun {
            scheduler: scheduler.into(),
            verdict: if found { "fail" } else { "pass" }.into(),
            found,
            executions,
            budget: Some(1000),
            complete: false,
            classes: None,
            errors: if found {
                vec!["cp: cannot create directory 'x': File exists".into()]
            } else {
                Vec::new()
            },
            token: None,
            millis: None,
        }
    }

    #[test]
    fn a_fail_expectation_needs_auto_within_the_limit_inclusive() {
        let e = expectation(ExpectedVerdict::Fail, None);
        assert_eq!(judge(&e, &[run("auto", true, 10)], None, 10), None);
        let late = judge(&e, &[run("auto", true, 11)], None, 10).unwrap();
        assert!(late.contains("execution 11, not within 10"), "{late}");
        let none = judge(&e, &[run("auto", false, 1000)], None, 10).unwrap();
        assert!(none.contains("no failure in 1000"), "{none}");
        // Other schedulers finding it does not stand in for auto.
        let runs = [run("auto", false, 1000), run("random", true, 1)];
        assert!(judge(&e, &runs, None, 10).is_some());
    }

    #[test]
    fn a_fail_expectation_with_a_message_needs_it_printed() {
        let e = expectation(ExpectedVerdict::Fail, Some("Permission denied"));
        let why = judge(&e, &[run("auto", true, 1)], Some(false), 10).unwrap();
        assert!(why.contains("File exists"), "{why}");
        assert_eq!(judge(&e, &[run("auto", true, 1)], Some(true), 10), None);
    }

    #[test]
    fn a_pass_expectation_is_unmet_by_any_failure() {
        let e = expectation(ExpectedVerdict::Pass, None);
        assert_eq!(
            judge(
                &e,
                &[run("auto", false, 1000), run("dpor", false, 124)],
                None,
                10
            ),
            None
        );
        let why = judge(
            &e,
            &[run("auto", false, 1000), run("dpor", true, 7)],
            None,
            10,
        )
        .unwrap();
        assert!(
            why.starts_with("dpor found a failure at execution 7: cp:"),
            "{why}"
        );
    }
}
