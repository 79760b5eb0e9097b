//! Running a check: regressions first, then the exploration, then the
//! verdict, told the way `prefixrace explore` tells it.

use std::path::PathBuf;
use std::time::Duration;

use super::env::{self, Seed};
use super::regressions::Regressions;
use super::source::{cli_replay, Resolved};
use super::{Check, Failure, RegressionsSetting, Report};
use crate::error::{Error, Result};
use crate::explore::{explore, replay, Exploration, ExploreOptions, Verdict, DEFAULT_SCHEDULES};
use crate::fs::FsKind;
use crate::report::{self, RunInfo};
use crate::schedule::SchedulerKind;
use crate::setup::Setup;

/// What a check ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `run`: explore, save a failure.
    Run,
    /// `find_race`: explore, keep the failure to return.
    Find,
    /// `prove`: dpor to the end, save a failure.
    Prove,
}

/// The settings of one run, after code, environment and defaults.
#[derive(Debug, Clone, Copy)]
struct Settings {
    scheduler: SchedulerKind,
    schedules: u64,
    seed: Seed,
    jobs: usize,
    time_limit: Option<Duration>,
    faults: crate::crash::Faults,
}

/// The outcome of a check before it is told.
enum Outcome {
    Passed(Box<Report>),
    Failed(Box<Failure>),
}

impl Check {
    /// Explores and panics with the story of the first failure (see
    /// [`Failure`]), after saving its token to the regressions file. A run
    /// whose budget ends without a failure returns its [`Report`] (verdict
    /// pass, or incomplete when auto's dpor part did not end): like a
    /// random test, it is not a proof; [`Check::prove`] is.
    ///
    /// Also panics, with one line, when the scenario, the strategy, a
    /// setting or an environment knob is wrong.
    pub fn run(&self) -> Report {
        match self.outcome(Mode::Run) {
            Outcome::Passed(report) => {
                println!("{report}");
                *report
            }
            Outcome::Failed(failure) => panic!("{failure}"),
        }
    }

    /// Explores and returns the first failure, or `None` when the budget
    /// ended without one. For tests that expect a race; the failure is not
    /// saved as a regression (saved ones are still replayed first).
    pub fn find_race(&self) -> Option<Failure> {
        match self.outcome(Mode::Find) {
            Outcome::Passed(report) => {
                println!("{report}");
                None
            }
            Outcome::Failed(failure) => Some(*failure),
        }
    }

    /// Proves the strategy safe on the scenario: dpor to the end of its
    /// search. Panics with the story when an execution fails (saving its
    /// token), and when the search did not end (a [`Check::schedules`] cap
    /// or a time limit): an incomplete search proves nothing. Reads
    /// `PREFIXRACE_JOBS` and `PREFIXRACE_TIME_LIMIT`; the scheduler, budget
    /// and seed knobs do not apply to a proof.
    pub fn prove(&self) -> Report {
        match self.outcome(Mode::Prove) {
            Outcome::Passed(report) if report.verdict == Verdict::Pass => {
                println!("{report}");
                *report
            }
            Outcome::Passed(report) => panic!(
                "prefixrace: not proved: the search did not end, so what it did not explore may still fail\n\n{report}"
            ),
            Outcome::Failed(failure) => panic!("{failure}"),
        }
    }

    /// Replays `token` (from a failure's replay line) and panics with the
    /// story if it still fails; returns when it passes.
    pub fn replay(&self, token: &str) {
        if let Some(failure) = self.replay_race(token) {
            panic!("{failure}");
        }
    }

    /// Replays `token` and returns the failure it still shows, if any.
    pub fn replay_race(&self, token: &str) -> Option<Failure> {
        let r = or_panic(self.source.resolve(self.strategy.as_ref()));
        let setup = or_panic(Setup::new(r.scenario.clone(), r.strategy.as_ref()));
        let replayed = or_panic(replay(&setup, token, FsKind::Model));
        replayed.failure.map(|f| {
            let settings = Settings {
                scheduler: SchedulerKind::Serial,
                // No budget: the story says "execution 1", not "of at most 1".
                schedules: u64::MAX,
                seed: Seed::Fixed(0),
                jobs: 1,
                time_limit: None,
                faults: crate::crash::Faults::NONE,
            };
            let mut failure = tell(&r, &settings, f, Some("replay of the token given".into()));
            failure.scheduler = "replay".into();
            failure
        })
    }

    /// Runs the check in `mode` and says how it went; every error panics
    /// with one line.
    fn outcome(&self, mode: Mode) -> Outcome {
        or_panic(self.try_outcome(mode))
    }

    fn try_outcome(&self, mode: Mode) -> Result<Outcome> {
        let r = self.source.resolve(self.strategy.as_ref())?;
        let settings = self.settings(mode)?;
        let setup = Setup::new(r.scenario.clone(), r.strategy.as_ref())?;
        let regressions = match &self.regressions {
            RegressionsSetting::Default => Some(r.regressions.clone()),
            RegressionsSetting::File(p) => Some(p.clone()),
            RegressionsSetting::Off => None,
        };
        if let Some(path) = &regressions {
            let saved = Regressions::load(path)?;
            if let Some(hit) = saved.replay_first(&setup, FsKind::Model)? {
                let mut failure = tell(&r, &settings, hit.failure, Some(hit.found_by));
                failure.regression = true;
                failure.saved = Some(format!(
                    "saved in {}: remove its line once the race is fixed",
                    path.display()
                ));
                return Ok(Outcome::Failed(Box::new(failure)));
            }
        }
        let options = ExploreOptions {
            scheduler: settings.scheduler,
            schedules: settings.schedules,
            seed: settings.seed.value(),
            threads: settings.jobs,
            time_limit: settings.time_limit,
            faults: settings.faults,
            ..ExploreOptions::default()
        };
        let ex = explore(&setup, &options)?;
        let Some(first) = ex.first_failure.clone() else {
            return Ok(Outcome::Passed(Box::new(report_of(
                &r,
                &settings,
                ex,
                &regressions,
            ))));
        };
        let mut failure = tell(&r, &settings, first, ex.found_by.clone());
        if let (Some(path), true) = (&regressions, mode != Mode::Find) {
            let comment = format!(
                "scenario {}, scheduler {}, seed {}, execution {}",
                r.scenario.name,
                settings.scheduler,
                settings.seed.value(),
                failure.execution
            );
            let fresh = Regressions::save(
                path,
                &r.scenario.name,
                r.strategy.name(),
                &failure.token,
                &comment,
            )?;
            failure.saved = Some(format!(
                "{} {}: every later check of this scenario replays it first",
                if fresh { "saved to" } else { "already in" },
                path.display()
            ));
        }
        Ok(Outcome::Failed(Box::new(failure)))
    }

    /// Code first, then the environment, then the defaults.
    fn settings(&self, mode: Mode) -> Result<Settings> {
        let jobs = match self.jobs {
            Some(0) => return Err(Error::Usage(".jobs(0): at least 1 worker thread".into())),
            Some(n) => n,
            None => match env::jobs()? {
                Some(n) => n,
                None => std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
            },
        };
        let time_limit = match self.time_limit {
            Some(t) if t.is_zero() => {
                return Err(Error::Usage(
                    ".time_limit(0): give a positive duration".into(),
                ))
            }
            Some(t) => Some(t),
            None => env::time_limit()?,
        };
        if self.schedules == Some(0) {
            return Err(Error::Usage(".schedules(0): at least 1 execution".into()));
        }
        if mode == Mode::Prove {
            return Ok(Settings {
                scheduler: SchedulerKind::Dpor,
                schedules: self.schedules.unwrap_or(u64::MAX),
                seed: Seed::Fixed(self.seed.unwrap_or(0)),
                jobs,
                time_limit,
                faults: self.faults,
            });
        }
        let scheduler = match &self.scheduler {
            Some(s) => s
                .parse()
                .map_err(|e: String| Error::Usage(format!(".scheduler({s:?}): {e}")))?,
            None => env::scheduler()?.unwrap_or(SchedulerKind::Auto),
        };
        let schedules = match self.schedules {
            Some(n) => n,
            None => env::schedules()?.unwrap_or(match scheduler {
                SchedulerKind::Dpor => u64::MAX,
                _ => DEFAULT_SCHEDULES,
            }),
        };
        let seed = match self.seed {
            Some(s) => Seed::Fixed(s),
            None => env::seed()?.unwrap_or(Seed::Fixed(0)),
        };
        Ok(Settings {
            scheduler,
            schedules,
            seed,
            jobs,
            time_limit,
            faults: self.faults,
        })
    }
}

/// The failure of `r` explained, with its replay lines.
fn tell(
    r: &Resolved,
    settings: &Settings,
    failure: crate::explore::Failure,
    found_by: Option<String>,
) -> Failure {
    let explained = report::explain(&failure, &r.scenario, r.strategy.name());
    let token = failure.token.clone();
    Failure {
        scenario: r.scenario.name.clone(),
        strategy: r.strategy.name().to_string(),
        scheduler: settings.scheduler.to_string(),
        seed: settings.seed,
        execution: failure.execution.unwrap_or(1),
        budget: settings.schedules,
        regression: false,
        found_by,
        body: explained.body(),
        explained: explained.json().clone(),
        rust_replay: format!("{}.replay({token:?})", r.rust),
        cli_replay: r
            .cli
            .as_ref()
            .map(|cli| cli_replay(cli, r.strategy.name(), &token)),
        token,
        details: failure,
        saved: None,
        note: r.note.clone(),
    }
}

/// The report of a run without failure: the CLI's, with the check's notes.
fn report_of(
    r: &Resolved,
    settings: &Settings,
    ex: Exploration,
    regressions: &Option<PathBuf>,
) -> Report {
    let info = RunInfo {
        scenario: &r.scenario,
        strategy: r.strategy.name(),
        scheduler: settings.scheduler.to_string(),
        seed: settings.seed.value(),
        schedules: settings.schedules,
    };
    let mut text = report::exploration_text(&info, &ex);
    if let Seed::Random(_) = settings.seed {
        text.push_str(&format!("seed: {}\n", settings.seed.describe()));
    }
    if let Some(note) = &r.note {
        text.push_str(&format!("note: {note}\n"));
    }
    if let Some(path) = regressions.as_ref().filter(|p| p.exists()) {
        text.push_str(&format!(
            "regressions: replayed first from {}, none fails\n",
            path.display()
        ));
    }
    Report {
        verdict: ex.verdict(),
        seed: settings.seed,
        exploration: ex,
        text,
    }
}

/// The value, or a panic with the error on one line.
fn or_panic<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("prefixrace: {e}"))
}
