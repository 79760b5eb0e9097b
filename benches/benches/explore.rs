//! Exploration speed: executions/s (criterion's elements/s) of `explore` on
//! the cases of `prefixrace::internals::bench::ExplorationCase::all`: sage-32361 and
//! pip-21.1.2 under direct install and sage-32361-upgrade under staged copy,
//! on the model and the real filesystem, under every scheduler of
//! `prefixrace::internals::bench::SCHEDULERS` (adding a scheduler there adds it here),
//! random and pct on the model with known tails reused and rerun. Every case
//! passes, so it runs its whole budget. Ops/s = elements/s × ops per
//! execution (printed by `prefixrace bench`).
//!
//! `cargo bench -p prefixrace-benches --bench explore`

use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

use prefixrace::explore;
use prefixrace::internals::bench::{ExplorationCase, Scale};
use prefixrace::internals::fs::FsKind;

/// Executions per measured exploration on the model filesystem, tails reused.
const MODEL_EXECUTIONS: u64 = 2000;
/// Executions per measured exploration on the model filesystem, tails rerun.
const MODEL_RERUN_EXECUTIONS: u64 = 50;
/// Executions per measured exploration on the real filesystem (~0.3 s each).
const REAL_EXECUTIONS: u64 = 1;

fn exploration(c: &mut Criterion) {
    let scale = Scale {
        model_executions: MODEL_EXECUTIONS,
        model_rerun_executions: MODEL_RERUN_EXECUTIONS,
        real_executions: REAL_EXECUTIONS,
        ..Scale::FULL
    };
    for fs in [FsKind::Model, FsKind::Real] {
        let mut group = c.benchmark_group(format!("explore/{fs}"));
        group.sample_size(10);
        if fs == FsKind::Real {
            // Flat sampling: 10 samples of one exploration each, not 55 explorations.
            group.sampling_mode(SamplingMode::Flat);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(3));
        }
        for case in ExplorationCase::all(&scale)
            .into_iter()
            .filter(|c| c.fs == fs)
        {
            let setup = case.setup().expect("built-in scenario");
            let options = case.options();
            // The executions one exploration runs: its budget, or fewer when
            // dpor covers the space or finds a failure first.
            let executions = explore(&setup, &options).expect("explore").executions;
            group.throughput(Throughput::Elements(executions));
            let id = BenchmarkId::new(
                format!("{}/{}", case.scenario, case.strategy),
                format!("{}/{}", case.scheduler, case.tails()),
            );
            group.bench_function(id, |b| {
                b.iter(|| explore(&setup, &options).expect("explore"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, exploration);
criterion_main!(benches);
