//! The acme installer's race tests, as its maintainer writes them: a TOML
//! scenario, the same scenario built in code, the strategy acme uses now
//! (declared in the scenario, and again from typed steps), proofs, and a
//! committed regressions file that pins the race the old strategy had.
//! No profile setting: a default debug build runs them in seconds.

use prefixrace::{Check, DeclaredStrategy, Scenario, Step, Verdict};

const SCENARIO: &str = "scenarios/acme-plugins.toml";

/// `scenarios/acme-plugins.toml`, built in code.
fn acme_plugins() -> Scenario {
    Scenario::builder("acme-plugins-in-code")
        .prefix("/opt/acme")
        .site_packages("lib/python3.11/site-packages")
        .python_tag("cpython-311")
        .initial("acme")
        .version("3.0.0")
        .file("acme/__init__.py", "VERSION = '3.0.0'\n")
        .package("acme-plugin-git")
        .version("2.1.0")
        .file(
            "acme_plugins/__init__.py",
            "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
        )
        .file("acme_plugins/git.py", "NAME = 'git'\n")
        .import("acme-loads-plugins", ["acme_plugins", "acme_plugins.git"])
        .build()
        .expect("a valid scenario")
}

/// What acme does now, as typed steps: the twin of the scenario's
/// `[[strategy]]` table.
fn atomic_write() -> DeclaredStrategy {
    DeclaredStrategy::from_steps(
        "atomic-write-in-code",
        [Step::Write { atomic: true }, Step::Compile],
    )
    .expect("valid steps")
}

#[test]
fn the_strategy_acme_uses_now_is_proved_safe() {
    let report = Check::scenario(SCENARIO).strategy("atomic-write").prove();
    assert!(report.is_proof());
}

#[test]
fn the_same_strategy_from_typed_steps_is_proved_safe_too() {
    Check::scenario(SCENARIO).strategy(atomic_write()).prove();
}

#[test]
fn the_old_staged_copy_race_is_pinned_by_the_committed_regressions_file() {
    // scenarios/acme-plugins.regressions holds the schedule that broke the
    // old installer; it is replayed before anything is explored.
    let failure = Check::scenario(SCENARIO)
        .strategy("staged-copy")
        .find_race()
        .expect("the staged copy still races");
    assert!(failure.regression, "{failure}");
    assert_eq!(failure.execution, 1);
    assert!(failure.to_string().contains("File exists"), "{failure}");
}

#[test]
fn the_scenario_built_in_code_races_and_passes_like_the_file() {
    let failure = Check::new(acme_plugins())
        .strategy("staged-copy")
        .find_race()
        .expect("the staged copy races");
    assert!(
        failure.error().unwrap().contains("File exists"),
        "{failure}"
    );
    assert!(failure
        .rust_replay()
        .starts_with("Check::new(scenario).strategy(\"staged-copy\").replay(\"t1."));
    // The failure's own replay line replays it.
    assert!(Check::new(acme_plugins())
        .strategy("staged-copy")
        .replay_race(&failure.token)
        .is_some());
    // auto's dpor part ends within the budget: the pass is a proof.
    let report = Check::new(acme_plugins()).strategy(atomic_write()).run();
    assert_eq!(report.verdict, Verdict::Pass);
    assert!(report.is_proof(), "{report}");
}
