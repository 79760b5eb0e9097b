//! Exploration speed on the built-in scenarios, on the model filesystem.
//!
//! `cargo bench -p prefixrace-benches --bench explore`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use prefixrace::strategy::{DirectInstall, StagedCopy};
use prefixrace::{explore, scenario, ExploreOptions, SchedulerKind, Setup, Strategy};

const EXECUTIONS: u64 = 50;

fn exploration(c: &mut Criterion) {
    let mut group = c.benchmark_group("explore");
    group.sample_size(10);
    for name in ["sage-32361", "pip-21.1.2"] {
        let scenario = Arc::new(scenario::builtin::load(name).expect("built-in scenario"));
        let strategies: [&dyn Strategy; 2] = [&DirectInstall, &StagedCopy];
        for strategy in strategies {
            let setup = Setup::new(scenario.clone(), strategy).expect("setup");
            for scheduler in [SchedulerKind::Random, SchedulerKind::Pct { depth: 3 }] {
                // Staged copy fails at once; run a fixed budget of passing executions instead by exploring
                // direct install, and for staged copy measure executions up to the first failure.
                group.throughput(Throughput::Elements(EXECUTIONS));
                let id = BenchmarkId::new(format!("{name}/{}", strategy.name()), scheduler);
                group.bench_with_input(id, &setup, |b, setup| {
                    b.iter(|| {
                        let options = ExploreOptions {
                            scheduler,
                            schedules: EXECUTIONS,
                            seed: 1,
                            threads: 1,
                            ..Default::default()
                        };
                        explore(setup, &options).expect("explore")
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, exploration);
criterion_main!(benches);
