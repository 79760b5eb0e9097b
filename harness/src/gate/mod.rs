//! The syscall gate: real processes under the scheduler.
//!
//! Each command runs under `sh -c` as a ptrace tracee with a seccomp-bpf
//! filter that stops it before every file syscall ([`syscalls`]). When the
//! syscall's path resolves inside the prefix, the process is parked until the
//! scheduler picks its job; other syscalls run freely. Decisions are taken
//! only when every traced process is parked, waiting on another one, or gone
//! ([`tracer`]), so one schedule token replays one interleaving of prefix
//! syscalls. An execution is judged against the serial reference
//! ([`verdict`]); the prefix is restored from a snapshot before each one
//! ([`snapshot`]). Children are killed and reaped on every exit path,
//! interrupts included ([`interrupt`]).
//!
//! Linux on x86_64 only. The tracer reaps every child of its process, so run
//! it from a process that has no other children (the `prefixrace` binary).

pub mod call;
pub mod census;
pub mod dependence;
pub mod directed;
pub mod dpor_picker;
pub mod entropy;
pub mod fault_plan;
pub mod fault_point;
pub mod filter;
pub mod gate_dpor;
pub mod guide;
pub mod interrupt;
pub mod kill;
pub mod model_step;
pub mod picker;
pub mod races;
pub mod real_tree;
pub mod recovery;
pub mod runner;
pub mod snapshot;
pub mod spawn;
pub mod strike;
pub mod syscalls;
pub mod temp_names;
pub mod tracee;
pub mod tracer;
pub mod verdict;
pub mod walk;
pub mod walk_point;
pub mod workdir;

pub use runner::{run, ExecutionReport, RunReport, RunSpec};
pub use verdict::{Criteria, Finding};

use thiserror::Error;

/// Why a gated run could not complete.
#[derive(Debug, Error)]
pub enum GateError {
    /// SIGINT, SIGTERM or SIGHUP: everything was killed and reaped.
    #[error("interrupted")]
    Interrupted,
    /// A replayed token does not fit these commands.
    #[error("the token does not match these commands: it diverges at step {step} ({detail})")]
    Diverged {
        /// The first step that could not be replayed.
        step: usize,
        /// What the token asked for next to what the commands offered.
        detail: String,
    },
    /// A command failed even when the commands ran one after another.
    #[error("the serial reference failed: command {job} exited {status}: {stderr}")]
    Reference {
        /// The job label.
        job: String,
        /// Its exit status.
        status: i32,
        /// The matching or last line of its stderr.
        stderr: String,
    },
    /// An execution (or a command of the serial reference) did not finish
    /// within the timeout; everything was killed.
    #[error("{} did not finish in time", verdict::label(.0.job))]
    Hang(tracer::Hung),
    /// `--kill JOB@K` was never reached: the job ended first.
    #[error("--kill {point}: {detail}; nothing was killed")]
    KillNotReached {
        /// The kill point asked for.
        point: kill::KillPoint,
        /// How far the job got.
        detail: String,
    },
    /// `--fault JOB@K:FAULT` struck nothing: the job ended first.
    #[error("--fault {point}: {detail}; nothing was struck")]
    FaultNotReached {
        /// The fault point asked for.
        point: fault_point::FaultPoint,
        /// How far the job got.
        detail: String,
    },
    /// Another run holds the prefix, or a killed run left it in a state
    /// that needs the user.
    #[error("{0}")]
    Busy(String),
    /// The operating system refused something (ptrace not permitted, I/O).
    #[error("{0}")]
    Os(String),
}

impl GateError {
    /// An OS error about `what`.
    pub fn os(what: &str, e: &std::io::Error) -> GateError {
        GateError::Os(crate::error::one_line(&format!("{what}: {e}")))
    }
}

/// Makes the calling process the reaper of its orphaned descendants
/// (`PR_SET_CHILD_SUBREAPER`), so a command's grandchild whose parent died is
/// reaped by the tracer's cleanup instead of lingering as a zombie.
pub fn adopt_orphans() -> Result<(), GateError> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(GateError::os(
            "prctl(PR_SET_CHILD_SUBREAPER)",
            &std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}
