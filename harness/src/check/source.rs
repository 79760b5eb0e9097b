//! What a check runs: its scenario, found from a path, a built-in name or
//! a value, and its strategy; with how to name them again in a replay
//! line and where their regressions live.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::scenario::{self, shell_quote, Scenario};
use crate::strategy::{scenario_strategy, DeclaredStrategy, Strategy};

/// How a check was given its scenario.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// `Check::scenario(path)`.
    File(PathBuf),
    /// `Check::builtin(name)`.
    Builtin(String),
    /// `Check::new(scenario)`.
    Code(Arc<Scenario>),
}

/// The strategy of a check: a name, or a strategy value.
#[derive(Clone)]
pub enum StrategyChoice {
    /// A built-in strategy, or one the scenario declares, by name.
    Named(String),
    /// A strategy value.
    Given(Arc<dyn Strategy>),
}

impl std::fmt::Debug for StrategyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StrategyChoice::Named(n) => f.debug_tuple("Named").field(n).finish(),
            StrategyChoice::Given(s) => f.debug_tuple("Given").field(&s.name()).finish(),
        }
    }
}

impl From<&str> for StrategyChoice {
    fn from(name: &str) -> Self {
        StrategyChoice::Named(name.to_string())
    }
}

impl From<String> for StrategyChoice {
    fn from(name: String) -> Self {
        StrategyChoice::Named(name)
    }
}

impl From<DeclaredStrategy> for StrategyChoice {
    fn from(strategy: DeclaredStrategy) -> Self {
        StrategyChoice::Given(Arc::new(strategy))
    }
}

impl From<Arc<dyn Strategy>> for StrategyChoice {
    fn from(strategy: Arc<dyn Strategy>) -> Self {
        StrategyChoice::Given(strategy)
    }
}

/// A check's scenario and strategy, ready to run.
pub(crate) struct Resolved {
    pub scenario: Arc<Scenario>,
    pub strategy: Arc<dyn Strategy>,
    /// The Rust expression that rebuilds the check up to `.replay(…)`.
    pub rust: String,
    /// The scenario as `prefixrace replay` takes it, when it can.
    pub cli: Option<String>,
    /// Where the regressions live by default.
    pub regressions: PathBuf,
    /// Said when the scenario is not what the path named (the built-in
    /// stand-in of a missing file) or was found above the current directory.
    pub note: Option<String>,
}

impl Source {
    /// Loads the scenario and finds `strategy` for it.
    pub(crate) fn resolve(&self, strategy: Option<&StrategyChoice>) -> Result<Resolved> {
        let (scenario, mut rust, regressions, note) = match self {
            Source::File(path) => {
                let given = format!("Check::scenario({:?})", path.display().to_string());
                match find_upward(path) {
                    Some(found) => {
                        let note = (found != *path)
                            .then(|| format!("{} found as {}", path.display(), found.display()));
                        let s = scenario::load(&found)?;
                        let stem = found
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_else(|| s.name.clone());
                        let regressions = found.with_file_name(format!("{stem}.regressions"));
                        (s, given, regressions, note)
                    }
                    None => {
                        let stem = path
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        if !scenario::builtin::names().contains(&stem.as_str()) {
                            return Err(Error::Usage(format!(
                                "{}: no such scenario file in {} or above it, and no built-in scenario is named {stem:?} (built-in: {})",
                                path.display(),
                                current_dir().display(),
                                scenario::builtin::names().join(", ")
                            )));
                        }
                        let s = scenario::builtin::load(&stem)?;
                        let note = format!(
                            "{} is not in {} or above it: using the built-in scenario {stem} (the same file, compiled into prefixrace)",
                            path.display(),
                            current_dir().display()
                        );
                        (s, given, builtin_regressions(&stem), Some(note))
                    }
                }
            }
            Source::Builtin(name) => (
                scenario::builtin::load(name)?,
                format!("Check::builtin({name:?})"),
                builtin_regressions(name),
                None,
            ),
            Source::Code(s) => (
                (**s).clone(),
                "Check::new(scenario)".to_string(),
                builtin_regressions(&s.name),
                None,
            ),
        };
        let strategy = match strategy {
            None => {
                return Err(Error::Usage(
                    "no strategy: call .strategy(NAME) (e.g. \"direct-install\") before running the check".into(),
                ))
            }
            Some(StrategyChoice::Named(name)) => {
                rust.push_str(&format!(".strategy({name:?})"));
                scenario_strategy(name, &scenario)
                    .map_err(|e| Error::Usage(scenario.origin.qualify(e.to_string())))?
            }
            Some(StrategyChoice::Given(s)) => {
                rust.push_str(".strategy(strategy)");
                s.clone()
            }
        };
        let cli = match (
            &scenario.origin,
            strategy_is_named(strategy.name(), &scenario),
        ) {
            (scenario::Origin::Code, _) | (_, false) => None,
            (origin, true) => Some(origin.cli_args()),
        };
        Ok(Resolved {
            scenario: Arc::new(scenario),
            strategy,
            rust,
            cli,
            regressions,
            note,
        })
    }
}

/// True when `name` names a strategy the command line can find for `scenario`.
fn strategy_is_named(name: &str, scenario: &Scenario) -> bool {
    scenario_strategy(name, scenario).is_ok()
}

/// `prefixrace-regressions/NAME.txt` under the current directory.
fn builtin_regressions(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("prefixrace-regressions").join(format!("{safe}.txt"))
}

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// `path` if it exists; for a relative path, else the first parent of the
/// current directory holding it (as a path relative to the current
/// directory, `../../scenarios/x.toml`, so that replay lines stay short).
fn find_upward(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    if path.is_absolute() {
        return None;
    }
    let mut up = PathBuf::new();
    for dir in current_dir().ancestors().skip(1) {
        up.push("..");
        if dir.join(path).is_file() {
            return Some(up.join(path));
        }
    }
    None
}

/// How a replay line names the scenario on the command line.
pub(crate) fn cli_replay(cli: &str, strategy: &str, token: &str) -> String {
    format!(
        "prefixrace replay {cli} --strategy {} --token {token}",
        shell_quote(strategy)
    )
}
