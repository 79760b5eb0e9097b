//! The public surface stays small: what a test author needs at the top of
//! the crate, and the machinery under `prefixrace::internals`.

// Everything the top level promises, nameable from outside the crate.
#[allow(unused_imports)]
use prefixrace::{
    check, explore, replay, scenario, strategy, Check, DeclaredStrategy, Error, Exploration,
    ExploreOptions, Failure, FailureKind, Replay, Report, Result, Scenario, ScenarioBuilder,
    SchedulerKind, Setup, Step, Strategy, Verdict,
};

/// The names `lib.rs` makes public at the top level: `pub mod NAME` and
/// the names of each top-level `pub use`.
fn top_level_items() -> Vec<String> {
    let lib = include_str!("../src/lib.rs");
    let mut names = Vec::new();
    let mut statement = String::new();
    for line in lib.lines() {
        if !statement.is_empty() || line.starts_with("pub use ") {
            statement.push_str(line);
            if line.trim_end().ends_with(';') {
                let list = statement
                    .rsplit("::")
                    .next()
                    .unwrap()
                    .trim_end_matches(';')
                    .trim_matches(|c| c == '{' || c == '}');
                names.extend(list.split(',').map(|n| n.trim().to_string()));
                statement.clear();
            }
        } else if let Some(name) = line.strip_prefix("pub mod ") {
            names.push(name.trim_end_matches([';', ' ', '{']).to_string());
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

#[test]
fn the_top_level_is_small_and_the_machinery_is_under_internals() {
    let names = top_level_items();
    assert!(
        names.len() <= 30,
        "{} top-level items: {names:?}",
        names.len()
    );
    for needed in [
        "Check",
        "Scenario",
        "Strategy",
        "SchedulerKind",
        "Failure",
        "Verdict",
        "Report",
        "Error",
        "Result",
        "internals",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "{needed} missing: {names:?}"
        );
    }
    for internal in [
        "fs",
        "gate",
        "dpor",
        "tail",
        "state_graph",
        "shrink",
        "bench",
    ] {
        assert!(
            !names.iter().any(|n| n == internal),
            "{internal} is public at the top level"
        );
    }
    // The machinery is still reachable for the binary and the benches.
    let _ = prefixrace::internals::fs::FsKind::Model;
}
