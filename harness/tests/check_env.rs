//! `Check` reads the `PREFIXRACE_*` knobs for what the code leaves unset.
//! One test in a binary of its own: it sets the process's environment,
//! which no other test may see.

use std::panic::{catch_unwind, AssertUnwindSafe};

use prefixrace::check::env::ALL;
use prefixrace::{Check, Verdict};

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the check should panic");
    err.downcast_ref::<String>()
        .cloned()
        .expect("a string panic")
}

fn direct() -> Check {
    Check::builtin("sage-32361")
        .strategy("direct-install")
        .no_regressions()
}

#[test]
fn check_reads_the_knobs_code_beats_them_and_bad_values_panic_naming_the_variable() {
    for v in ALL {
        std::env::remove_var(v);
    }
    std::env::set_var("PREFIXRACE_SCHEDULES", "7");
    std::env::set_var("PREFIXRACE_SCHEDULER", "random");
    std::env::set_var("PREFIXRACE_SEED", "3");
    std::env::set_var("PREFIXRACE_JOBS", "1");
    let r = direct().run();
    assert_eq!((r.executions(), r.verdict), (7, Verdict::Pass));
    assert!(r.to_string().contains("scheduler: random, seed 3\n"), "{r}");
    // Code beats the environment.
    let r = direct().schedules(4).scheduler("pct:2").seed(9).run();
    assert_eq!(r.executions(), 4);
    assert!(r.to_string().contains("scheduler: pct:2, seed 9\n"), "{r}");
    // prove() is a proof whatever the budget knobs say.
    assert!(direct().prove().is_proof());

    // A fresh seed, printed in the report and in a failure's story.
    std::env::set_var("PREFIXRACE_SEED", "random");
    let r = direct().run();
    let seed = r.seed.value();
    assert!(
        r.to_string().contains(&format!(
            "({}=random; rerun with PREFIXRACE_SEED={seed})",
            "PREFIXRACE_SEED"
        )),
        "{r}"
    );
    std::env::set_var("PREFIXRACE_SCHEDULER", "auto");
    let f = Check::builtin("sage-32361")
        .strategy("staged-copy")
        .no_regressions()
        .find_race()
        .unwrap();
    assert!(f
        .to_string()
        .lines()
        .next()
        .unwrap()
        .contains("=random; rerun with PREFIXRACE_SEED="));

    // The time limit: a run cut short says so.
    std::env::set_var("PREFIXRACE_SEED", "0");
    std::env::set_var("PREFIXRACE_SCHEDULES", "100000000");
    std::env::set_var("PREFIXRACE_SCHEDULER", "random");
    std::env::set_var("PREFIXRACE_TIME_LIMIT", "0.3");
    let r = direct().run();
    assert_eq!(r.verdict, Verdict::Incomplete, "{r}");
    assert!(
        r.to_string()
            .contains("the time limit of 0.3 s was reached"),
        "{r}"
    );
    std::env::remove_var("PREFIXRACE_TIME_LIMIT");

    for (var, value) in [
        ("PREFIXRACE_SCHEDULES", "0"),
        ("PREFIXRACE_SEED", "soon"),
        ("PREFIXRACE_SCHEDULER", "fast"),
        ("PREFIXRACE_JOBS", "none"),
        ("PREFIXRACE_TIME_LIMIT", "inf"),
    ] {
        std::env::set_var(var, value);
        let m = panic_message(|| {
            direct().run();
        });
        assert!(
            m.starts_with(&format!("prefixrace: {var}={value}: ")),
            "{m}"
        );
        assert!(!m.contains('\n'), "{m}");
        std::env::remove_var(var);
    }
}
