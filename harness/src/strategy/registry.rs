//! Finding strategies by name: the built-in ones and those a scenario declares.

use std::sync::Arc;

use super::{
    AtomicRename, DirectInstall, ImageThenMerge, LockedStagedCopy, PipReinstall, PypaInstaller,
    StagedCopy, StagedMerge, Strategy, UvHardlink, UvInstall,
};
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// The built-in strategies, in the order `--strategy all` runs them.
pub fn builtin_strategies() -> Vec<Arc<dyn Strategy>> {
    vec![
        Arc::new(StagedCopy),
        Arc::new(DirectInstall),
        Arc::new(StagedMerge),
        Arc::new(AtomicRename),
        Arc::new(LockedStagedCopy),
        Arc::new(ImageThenMerge),
    ]
}

/// Strategies that model another installer and are chosen by name only:
/// `--strategy all` (the order-sensitivity matrix of the Sage strategies)
/// leaves them out: `pip` (pip 23 with its uninstall), `installer`
/// (pypa/installer), `uv` (uv in copy mode), `uv-hardlink` (uv's hard
/// links from its cache, under its prefix flock) and `uv-clone` (uv's
/// Linux default: the reflink refused, then hard links).
pub fn named_strategies() -> Vec<Arc<dyn Strategy>> {
    vec![
        Arc::new(PipReinstall),
        Arc::new(PypaInstaller),
        Arc::new(UvInstall),
        Arc::new(UvHardlink::default()),
        Arc::new(UvHardlink::CLONE),
    ]
}

/// The names no declared strategy may take: the matrix's and the named ones.
pub fn reserved_names() -> Vec<String> {
    builtin_strategies()
        .iter()
        .chain(named_strategies().iter())
        .map(|s| s.name().to_string())
        .collect()
}

/// Looks up a built-in strategy by name (the matrix's and the named ones).
pub fn builtin_strategy(name: &str) -> Result<Arc<dyn Strategy>> {
    find(name, builtin_strategies())
}

/// The built-in strategies followed by those `scenario` declares in
/// `[[strategy]]` tables, in declaration order.
pub fn scenario_strategies(scenario: &Scenario) -> Vec<Arc<dyn Strategy>> {
    let mut all = builtin_strategies();
    for d in &scenario.strategies {
        all.push(Arc::new(d.clone()));
    }
    all
}

/// Looks up a strategy by name among the built-in ones and those `scenario` declares.
pub fn scenario_strategy(name: &str, scenario: &Scenario) -> Result<Arc<dyn Strategy>> {
    find(name, scenario_strategies(scenario))
}

fn find(name: &str, all: Vec<Arc<dyn Strategy>>) -> Result<Arc<dyn Strategy>> {
    let names: Vec<String> = all
        .iter()
        .chain(named_strategies().iter())
        .map(|s| s.name().to_string())
        .collect();
    if let Some(named) = named_strategies().into_iter().find(|s| s.name() == name) {
        return Ok(named);
    }
    all.into_iter().find(|s| s.name() == name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown strategy {name:?}: expected {} or all",
            names.join(", ")
        ))
    })
}
