//! How much work one `bench` run does.

use super::install_method::InstallMethod;

/// The size of a benchmark run: repetitions and budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// A name for reports: `full`, `quick` or `smoke`.
    pub name: &'static str,
    /// Repetitions of every configuration (the median is quoted).
    pub reps: usize,
    /// Executions per exploration on the model filesystem, known tails reused.
    pub model_executions: u64,
    /// Executions per exploration on the model filesystem, every execution
    /// run to its end (about 50 times slower).
    pub model_rerun_executions: u64,
    /// Executions per exploration on the real filesystem (~0.3 s each).
    pub real_executions: u64,
    /// The budget of executions of each time-to-first-failure case.
    pub failure_budget: u64,
    /// The scenarios also explored on the real filesystem.
    pub real_scenarios: &'static [&'static str],
    /// The scenarios whose real-filesystem replay is timed against the floor.
    pub replay_scenarios: &'static [&'static str],
    /// The packages of the install set (see [`super::payload_set::PACKAGES`]).
    pub packages: &'static [&'static str],
    /// Thread counts of the parallel installs.
    pub threads: &'static [usize],
    /// The install methods measured.
    pub methods: &'static [InstallMethod],
    /// Concurrent long installs of the scaling rows ([`super::scaling`]).
    pub scaling_long: &'static [usize],
    /// Executions of each long-install scaling row.
    pub scaling_long_executions: u64,
    /// Package counts of the scaling rows.
    pub scaling_packages: &'static [usize],
    /// Executions of each package-count scaling row.
    pub scaling_package_executions: u64,
}

impl Scale {
    /// The default run: 5 repetitions, enough executions for steady rates.
    pub const FULL: Scale = Scale {
        name: "full",
        reps: 5,
        model_executions: 20_000,
        model_rerun_executions: 1000,
        real_executions: 5,
        failure_budget: 2000,
        real_scenarios: &["sage-32361", "pip-21.1.2"],
        replay_scenarios: &["sage-32361", "pip-21.1.2"],
        packages: super::payload_set::PACKAGES,
        threads: &[1, 2, 4],
        methods: &InstallMethod::ALL,
        scaling_long: &[2, 4, 8],
        scaling_long_executions: 100,
        scaling_packages: &[10, 100, 1000],
        scaling_package_executions: 10,
    };

    /// `--quick`: the same kind of table in under a minute on a 2-core
    /// machine: the two recorded packages (Cython, pip), 1 and 2 threads,
    /// no copy-only row, only sage-32361 on the
    /// real filesystem.
    pub const QUICK: Scale = Scale {
        name: "quick",
        reps: 3,
        model_executions: 2000,
        model_rerun_executions: 50,
        real_executions: 1,
        failure_budget: 100,
        real_scenarios: &["sage-32361"],
        replay_scenarios: &["sage-32361"],
        packages: &["Cython-0.29.21", "pip-21.1.2"],
        threads: &[1, 2],
        methods: &[
            InstallMethod::Floor,
            InstallMethod::DirectInstall,
            InstallMethod::StagedCopy,
        ],
        scaling_long: &[2, 4, 8],
        scaling_long_executions: 5,
        scaling_packages: &[10, 100, 1000],
        scaling_package_executions: 1,
    };

    /// For tests of the output's shape: seconds, figures meaningless.
    pub const SMOKE: Scale = Scale {
        name: "smoke",
        reps: 1,
        model_executions: 2,
        model_rerun_executions: 2,
        real_executions: 1,
        failure_budget: 2,
        real_scenarios: &["sage-32361", "pip-21.1.2"],
        replay_scenarios: &["sage-32361"],
        packages: &["six-1.16.0", "wheel-0.41.2"],
        threads: &[1, 2],
        methods: &InstallMethod::ALL,
        scaling_long: &[2],
        scaling_long_executions: 1,
        scaling_packages: &[10],
        scaling_package_executions: 1,
    };
}
