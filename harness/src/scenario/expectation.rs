//! A scenario's `[expect]` table: what `prefixrace corpus` should find.
//!
//! ```toml
//! [expect]
//! verdict = "fail"                 # required: "fail" (a buggy variant) or "pass" (a fixed one)
//! strategy = "staged-copy"         # the strategy it is about (default: direct-install)
//! tool = "sage"                    # shown in the corpus table
//! incident = "sage#32361"          # shown in the corpus table
//! source = "https://…"             # where the incident is told; free text
//! message = "cannot create directory"  # fail only: in the first failure's error lines
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::line_index::LineIndex;
use crate::error::{Error, Result};

/// The strategy an expectation is about when it names none: the plainest
/// install, one installer straight into the prefix, which is also what a
/// scenario of recorded processes alone runs under.
pub const DEFAULT_EXPECT_STRATEGY: &str = "direct-install";

/// What a scenario expects of its exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVerdict {
    /// A failure is found: the buggy variant of an incident.
    Fail,
    /// No failure is found: the fixed variant.
    Pass,
}

impl ExpectedVerdict {
    /// `fail` or `pass`, as the TOML spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedVerdict::Fail => "fail",
            ExpectedVerdict::Pass => "pass",
        }
    }
}

/// A scenario's `[expect]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Fail or pass.
    pub verdict: ExpectedVerdict,
    /// The strategy the expectation is about.
    pub strategy: String,
    /// The tool the incident happened with (`pnpm`), if given.
    pub tool: Option<String>,
    /// The incident (`pnpm#10896`), if given.
    pub incident: Option<String>,
    /// Where the incident is told (a URL), if given.
    pub source: Option<String>,
    /// For a fail expectation: a substring of the first failure's error lines.
    pub message: Option<String>,
}

/// The `[expect]` table as written, before its values are checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpectation {
    verdict: Spanned<String>,
    #[serde(default)]
    strategy: Option<Spanned<String>>,
    #[serde(default)]
    tool: Option<Spanned<String>>,
    #[serde(default)]
    incident: Option<Spanned<String>>,
    #[serde(default)]
    source: Option<Spanned<String>>,
    #[serde(default)]
    message: Option<Spanned<String>>,
}

/// One optional text field: refused when empty or when it holds a control
/// character (reports print it on one line).
fn text(
    file: &str,
    lines: &LineIndex,
    field: &str,
    value: Option<Spanned<String>>,
) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let line = lines.line(value.span().start);
    let v = value.into_inner();
    if v.trim().is_empty() {
        return Err(Error::input(
            file,
            line,
            format!("expect.{field}"),
            "is empty",
        ));
    }
    if let Some(c) = v.chars().find(|c| c.is_control()) {
        return Err(Error::input(
            file,
            line,
            format!("expect.{field}"),
            format!("{v:?} holds the control character {c:?}"),
        ));
    }
    Ok(Some(v))
}

impl RawExpectation {
    /// Checks the values; `is_strategy` says whether a name is a strategy
    /// the scenario can run under.
    pub(super) fn check(
        self,
        file: &str,
        lines: &LineIndex,
        is_strategy: &dyn Fn(&str) -> bool,
    ) -> Result<Expectation> {
        let verdict_line = lines.line(self.verdict.span().start);
        let verdict = match self.verdict.get_ref().as_str() {
            "fail" => ExpectedVerdict::Fail,
            "pass" => ExpectedVerdict::Pass,
            other => {
                return Err(Error::input(
                    file,
                    verdict_line,
                    "expect.verdict",
                    format!("{other:?}: expected \"fail\" or \"pass\""),
                ))
            }
        };
        let strategy_line = self.strategy.as_ref().map(|s| lines.line(s.span().start));
        let strategy = text(file, lines, "strategy", self.strategy)?
            .unwrap_or_else(|| DEFAULT_EXPECT_STRATEGY.to_string());
        if !is_strategy(&strategy) {
            return Err(Error::input(
                file,
                strategy_line.unwrap_or(verdict_line),
                "expect.strategy",
                format!(
                    "unknown strategy {strategy:?}: neither built in nor declared in the scenario"
                ),
            ));
        }
        let message_line = self.message.as_ref().map(|m| lines.line(m.span().start));
        let message = text(file, lines, "message", self.message)?;
        if let (Some(line), ExpectedVerdict::Pass) = (message_line, verdict) {
            return Err(Error::input(
                file,
                line,
                "expect.message",
                "a message belongs to verdict = \"fail\": a passing run prints no failure",
            ));
        }
        Ok(Expectation {
            verdict,
            strategy,
            tool: text(file, lines, "tool", self.tool)?,
            incident: text(file, lines, "incident", self.incident)?,
            source: text(file, lines, "source", self.source)?,
            message,
        })
    }
}
