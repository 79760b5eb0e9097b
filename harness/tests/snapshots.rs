//! insta snapshots (under `snapshots/`) of the reference trees and of the
//! sage-32361 report.

use std::sync::Arc;

use prefixrace::internals::report::{exploration_text, RunInfo};
use prefixrace::internals::Oracle;
use prefixrace::strategy::{DirectInstall, StagedCopy};
use prefixrace::{explore, scenario, ExploreOptions, SchedulerKind, Setup};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn reference_trees_of_the_builtin_scenarios() {
    for name in scenario::builtin::names() {
        let scenario = Arc::new(scenario::builtin::load(name).unwrap());
        let staged = Oracle::new(&Setup::new(scenario.clone(), &StagedCopy).unwrap()).unwrap();
        let direct = Oracle::new(&Setup::new(scenario.clone(), &DirectInstall).unwrap()).unwrap();
        assert_eq!(
            staged.reference(),
            direct.reference(),
            "{name}: staged-copy and direct-install references differ"
        );
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("{name}-reference-tree"),
                direct.reference().to_string()
            )
        });
    }
}

#[test]
fn sage_32361_staged_copy_report() {
    let scenario = Arc::new(scenario::builtin::load("sage-32361").unwrap());
    let setup = Setup::new(scenario.clone(), &StagedCopy).unwrap();
    let options = ExploreOptions {
        seed: 1,
        scheduler: SchedulerKind::Random,
        count_pairs: true,
        ..Default::default()
    };
    let ex = explore(&setup, &options).unwrap();
    let info = RunInfo {
        scenario: &scenario,
        strategy: "staged-copy",
        scheduler: "random".into(),
        seed: 1,
        schedules: 1000,
    };
    settings().bind(|| {
        insta::assert_snapshot!(
            "sage-32361-staged-copy-report",
            exploration_text(&info, &ex)
        )
    });
}
