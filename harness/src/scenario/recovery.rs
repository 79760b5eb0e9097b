//! The `[recovery]` table: what the user does after a crash, for
//! `--faults crash` ([`crate::crash`]).
//!
//! ```toml
//! [recovery]
//! rerun = "failed"     # the jobs that did not exit 0 (default), or "all"
//! strategy = "pip"     # rerun the installs under this strategy (default: the one explored)
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::line_index::LineIndex;
use crate::error::{Error, Result};

/// Which jobs a rerun of the build runs again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rerun {
    /// Every job that did not exit 0 (the killed one, the failed ones, the
    /// skipped ones), as `make` run again does.
    #[default]
    Failed,
    /// Every job, as a clean rebuild does.
    All,
}

/// What the user does after a crash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Which jobs run again.
    pub rerun: Rerun,
    /// The strategy the installs run again under (such as `pip`, pip's
    /// `--force-reinstall`); `None`: the strategy explored.
    pub strategy: Option<String>,
}

/// The `[recovery]` table as written, before its values are checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecovery {
    #[serde(default)]
    rerun: Option<Spanned<String>>,
    #[serde(default)]
    strategy: Option<Spanned<String>>,
}

impl RawRecovery {
    /// Checks the values; `is_strategy` says whether a name is a strategy
    /// the scenario can run under.
    pub(super) fn check(
        self,
        file: &str,
        lines: &LineIndex,
        is_strategy: &dyn Fn(&str) -> bool,
    ) -> Result<Recovery> {
        let rerun = match &self.rerun {
            None => Rerun::Failed,
            Some(r) => match r.get_ref().as_str() {
                "failed" => Rerun::Failed,
                "all" => Rerun::All,
                other => {
                    return Err(Error::input(
                        file,
                        lines.line(r.span().start),
                        "recovery.rerun",
                        format!("{other:?} is not \"failed\" or \"all\""),
                    ))
                }
            },
        };
        let strategy = match self.strategy {
            None => None,
            Some(s) if is_strategy(s.get_ref()) => Some(s.into_inner()),
            Some(s) => {
                return Err(Error::input(
                    file,
                    lines.line(s.span().start),
                    "recovery.strategy",
                    format!(
                        "{:?} is not a strategy (see `prefixrace list`)",
                        s.get_ref()
                    ),
                ))
            }
        };
        Ok(Recovery { rerun, strategy })
    }
}
