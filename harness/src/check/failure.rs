//! A check's failure: the story `cargo test` prints.

use std::fmt;

use super::env::Seed;
use crate::explore;
use crate::report::FailureJson;

/// A failing execution found by a [`crate::Check`], with the story that
/// explains it.
///
/// Its `Display` is that story, in a few dozen lines: which check failed
/// and how the failure was found, the error exactly as the real tool
/// printed it, the ops of the race, the tree diff against the serial
/// reference, and how to replay it from Rust and from the shell.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The scenario's name.
    pub scenario: String,
    /// The strategy's name.
    pub strategy: String,
    /// The scheduler that explored.
    pub scheduler: String,
    /// The seed it explored with.
    pub seed: Seed,
    /// The 1-based execution it failed at (1 for a regression).
    pub execution: u64,
    /// The budget of executions (`u64::MAX`: none).
    pub budget: u64,
    /// What ran the failing execution (`race-directed, target 1 of 7 …`),
    /// or where a regression came from (`regression, replayed from …`).
    pub found_by: Option<String>,
    /// True when the failure is a saved regression, replayed first.
    pub regression: bool,
    /// The failing schedule's token.
    pub token: String,
    /// The failure explained: error, story, diff, as in the JSON report.
    pub explained: FailureJson,
    /// The failing execution itself: trace, verdict.
    pub details: explore::Failure,
    /// The error, the race, the diff and the notes, as text.
    pub(crate) body: String,
    /// `Check::…​.replay("t1.…")`.
    pub(crate) rust_replay: String,
    /// `prefixrace replay …`, when the scenario can be named on the command line.
    pub(crate) cli_replay: Option<String>,
    /// Where the token was saved, if it was.
    pub(crate) saved: Option<String>,
    /// Said about how the scenario was found.
    pub(crate) note: Option<String>,
}

impl Failure {
    /// The first error line, exactly as the failing tool printed it (none
    /// when every job succeeded but the prefix differs).
    pub fn error(&self) -> Option<&str> {
        self.explained.error.as_deref()
    }

    /// The line that replays the failure from Rust.
    pub fn rust_replay(&self) -> &str {
        &self.rust_replay
    }

    /// The command that replays it from the shell, when the scenario is a
    /// file or built in.
    pub fn cli_replay(&self) -> Option<&str> {
        self.cli_replay.as_deref()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "prefixrace: {} FAILS under {} (scheduler {}, seed {})",
            self.scenario,
            self.strategy,
            self.scheduler,
            self.seed.describe()
        )?;
        if let Some(note) = &self.note {
            writeln!(f, "note: {note}")?;
        }
        let budget = match self.budget {
            u64::MAX => String::new(),
            n => format!(" of at most {}", crate::thousands::thousands(n)),
        };
        match &self.found_by {
            Some(by) => writeln!(
                f,
                "found at: execution {}{budget}, by {by}",
                crate::thousands::thousands(self.execution)
            )?,
            None => writeln!(
                f,
                "found at: execution {}{budget}",
                crate::thousands::thousands(self.execution)
            )?,
        }
        writeln!(f)?;
        f.write_str(&self.body)?;
        writeln!(f, "\nreplay from Rust:\n  {}", self.rust_replay)?;
        if let Some(cli) = &self.cli_replay {
            writeln!(f, "replay from the shell:\n  {cli}")?;
        }
        if let Some(saved) = &self.saved {
            writeln!(f, "{saved}")?;
        }
        Ok(())
    }
}
