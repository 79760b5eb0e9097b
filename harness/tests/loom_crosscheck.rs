//! Cross-check of `--scheduler dpor` against loom on tiny scenarios (12 ops or
//! fewer): every job runs as a loom thread over one `loom::sync::Mutex`-guarded
//! `ModelFs`, taking the lock for each op, so loom explores the interleavings
//! of ops. loom and dpor must agree on whether a failing interleaving exists,
//! and dpor must need no more executions than loom.
//!
//! Run with:
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test --release --test loom_crosscheck
//! ```
//!
//! Without `--cfg loom` this file compiles to nothing.
#![cfg(loom)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use loom::sync::Mutex;
use prefixrace::internals::job::Step;
use prefixrace::internals::schedule::SchedulerKind;
use prefixrace::internals::{Fs, ModelFs, Oracle};
use prefixrace::strategy::DirectInstall;
use prefixrace::{explore, scenario, ExploreOptions, Setup};

fn setup(fixture: &str) -> Setup {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let scenario = Arc::new(scenario::load(&path).unwrap());
    Setup::new(scenario, &DirectInstall).unwrap()
}

/// Explores every interleaving with loom; returns (executions, a failure exists).
fn loom_verdict(setup: &Setup) -> (u64, bool) {
    let reference = Oracle::new(setup).unwrap().reference().clone();
    assert!(
        setup.deps().iter().all(|d| d.is_empty()),
        "the cross-check runs independent jobs only"
    );
    let executions = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let jobs = setup.jobs();
    {
        let executions = executions.clone();
        let failed = failed.clone();
        loom::model(move || {
            executions.fetch_add(1, Ordering::Relaxed);
            let fs = loom::sync::Arc::new(Mutex::new(ModelFs::new()));
            let handles: Vec<_> = jobs
                .clone()
                .into_iter()
                .map(|mut job| {
                    let fs = fs.clone();
                    loom::thread::spawn(move || loop {
                        let mut guard = fs.lock().unwrap();
                        let step = {
                            let probe = |p: &str| guard.probe(p);
                            job.step(&probe)
                        };
                        match step {
                            Step::Op(op) => {
                                let result = guard.apply(&op);
                                drop(guard);
                                job.complete(&result);
                            }
                            Step::Wait(_) => {
                                drop(guard);
                                loom::thread::yield_now();
                            }
                            Step::Exit(code) => return code,
                        }
                    })
                })
                .collect();
            let codes: Vec<i32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let tree = fs.lock().unwrap().tree();
            if codes.iter().any(|&c| c != 0) || tree != reference {
                failed.store(true, Ordering::Relaxed);
            }
        });
    }
    (
        executions.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    )
}

fn check(fixture: &str) {
    let setup = setup(fixture);
    assert!(
        Oracle::new(&setup).unwrap().reference_steps() <= 12,
        "{fixture} is not tiny"
    );
    let (loom_executions, loom_fails) = loom_verdict(&setup);
    let options = ExploreOptions {
        scheduler: SchedulerKind::Dpor,
        schedules: 100_000,
        ..Default::default()
    };
    let ours = explore(&setup, &options).unwrap();
    assert_eq!(
        ours.first_failure.is_some(),
        loom_fails,
        "{fixture}: dpor and loom disagree on whether a failure exists"
    );
    if !loom_fails {
        assert!(ours.coverage.as_ref().unwrap().complete, "{fixture}");
    }
    assert!(
        ours.executions <= loom_executions,
        "{fixture}: dpor ran {} executions, loom {loom_executions}",
        ours.executions
    );
    eprintln!(
        "{fixture}: loom {loom_executions} executions (failure: {loom_fails}), dpor {}",
        ours.executions
    );
}

#[test]
fn loom_and_dpor_agree_on_a_one_step_window() {
    check("loom-tiny-race.toml");
}

#[test]
fn loom_and_dpor_agree_on_independent_jobs() {
    check("loom-tiny-safe.toml");
}
