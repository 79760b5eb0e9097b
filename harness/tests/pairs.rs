//! The indexed search for conflicting pairs finds exactly the pairs an
//! all-pairs comparison with `dependent` finds, on real executions.

use std::sync::Arc;

use prefixrace::internals::pairs::execution_pairs;
use prefixrace::internals::schedule::dependence::dependent;
use prefixrace::internals::ModelFs;
use prefixrace::strategy::{DirectInstall, StagedCopy};
use prefixrace::{scenario, SchedulerKind, Setup, Strategy};

#[test]
fn indexed_pairs_equal_all_pairs_on_the_builtin_scenarios() {
    let strategies: [&dyn Strategy; 2] = [&StagedCopy, &DirectInstall];
    for name in ["sage-32361-upgrade", "pip-21.1.2"] {
        let scenario = Arc::new(scenario::builtin::load(name).unwrap());
        for strategy in strategies {
            let setup = Setup::new(scenario.clone(), strategy).unwrap();
            let mut scheduler = SchedulerKind::Random.build(5, 3, setup.job_count(), 1000);
            let mut fs = ModelFs::new();
            let trace = setup.run(&mut fs, scheduler.as_mut(), true);
            let events = &trace.events;
            let mut naive = 0;
            for (i, a) in events.iter().enumerate() {
                for b in &events[i + 1..] {
                    if a.job != b.job && dependent(&a.op, &b.op) {
                        naive += 1;
                    }
                }
            }
            let found = execution_pairs(events).len();
            assert!(naive > 10, "{name}: too few pairs to mean anything");
            assert_eq!(found, naive, "{name} under {}", strategy.name());
        }
    }
}
