//! How much work one `bench` run does.

/// The size of a benchmark run: repetitions and budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// A name for reports: `full`, `quick` or `smoke`.
    pub name: &'static str,
    /// Repetitions of every configuration (the median is quoted).
    pub reps: usize,
    /// Executions per exploration on the model filesystem.
    pub model_executions: u64,
    /// Executions per exploration on the real filesystem (~0.3 s each).
    pub real_executions: u64,
    /// Whether the install set is the whole recorded set or only its small packages.
    pub whole_payload_set: bool,
    /// Thread counts of the parallel installs.
    pub threads: &'static [usize],
}

impl Scale {
    /// The default run: 5 repetitions, enough executions for steady rates.
    pub const FULL: Scale = Scale {
        name: "full",
        reps: 5,
        model_executions: 1000,
        real_executions: 5,
        whole_payload_set: true,
        threads: &[1, 2, 4],
    };

    /// `--quick`: the same table in under a minute on a 2-core machine.
    pub const QUICK: Scale = Scale {
        name: "quick",
        reps: 3,
        model_executions: 200,
        real_executions: 2,
        whole_payload_set: true,
        threads: &[1, 2, 4],
    };

    /// For tests of the output's shape: seconds, figures meaningless.
    pub const SMOKE: Scale = Scale {
        name: "smoke",
        reps: 1,
        model_executions: 2,
        real_executions: 1,
        whole_payload_set: false,
        threads: &[1, 2],
    };
}
