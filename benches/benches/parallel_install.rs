//! Parallel installs on the real filesystem: recorded payloads (Cython
//! 0.29.21, pip 21.1.2, six, wheel; with `PREFIXRACE_BENCH_SET=full` also
//! setuptools and sympy, ~4 s per install here) installed free-running into a fresh `TempDir` prefix with 1, 2 and 4 rayon threads,
//! by staged copy, direct install, the copy alone, and the floor (a plain
//! loop writing the same tree). Throughput is bytes (criterion's MB/s);
//! files/s = bytes/s × files / bytes, printed by `prefixrace bench`.
//!
//! Each iteration creates and removes its prefix outside the timed region
//! (`iter_custom`).
//!
//! `cargo bench -p prefixrace-benches --bench parallel_install`

use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};

use prefixrace::internals::bench::parallel_install::{install_once, worker_pool};
use prefixrace::internals::bench::payload_set::PACKAGES;

/// The default set: the two recorded packages and two small ones (~1,300 files).
const DEFAULT_SET: &[&str] = &["Cython-0.29.21", "pip-21.1.2", "six-1.16.0", "wheel-0.41.2"];
use prefixrace::internals::bench::{InstallMethod, PayloadSet};

/// Thread counts measured.
const THREADS: [usize; 3] = [1, 2, 4];

fn parallel_install(c: &mut Criterion) {
    let names = match std::env::var("PREFIXRACE_BENCH_SET").as_deref() {
        Ok("full") => PACKAGES,
        _ => DEFAULT_SET,
    };
    let set = PayloadSet::load(names).expect("embedded payload set");
    eprintln!(
        "payload set: {} ({} files, {:.1} MB)",
        set.names().join(", "),
        set.file_count(),
        set.byte_count() as f64 / 1e6
    );
    let mut group = c.benchmark_group("parallel_install");
    group.sample_size(10);
    // Flat sampling: 10 installs per configuration, not criterion's linear 55.
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Bytes(set.byte_count()));
    for threads in THREADS {
        let pool = worker_pool(threads).expect("worker pool");
        for method in InstallMethod::ALL {
            let id = BenchmarkId::new(method.name(), threads);
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| install_once(&set, method, &pool).expect("install").elapsed)
                        .sum()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, parallel_install);
criterion_main!(benches);
