//! The recovery after a kill on the gate (`run --kill`) or an injected
//! fault (`run --fault`): as `make` run again does, every command that did
//! not exit 0 (the killed or failed one included) is rerun, alone and in
//! command order, on the prefix as the execution left it. The verdict then judges the commands as they ended (a rerun
//! stands for its command) and the recovered prefix against the serial
//! reference, with the same [`Criteria`](super::Criteria) as any execution:
//! no finding is `recovered`, any finding `unrecoverable`.

use super::fault_point::Struck;
use super::kill::Killed;
use super::runner::{trace_lines, trace_lines_with};
use super::tracer::{Hung, JobRun, Released, Traced};
use super::verdict::label;
use crate::schedule::JobId;

/// One command run again after the kill.
#[derive(Debug, Clone)]
pub struct Rerun {
    /// Its job.
    pub job: JobId,
    /// The rerun under the gate, alone; its calls carry `job`.
    pub traced: Traced,
}

impl Rerun {
    /// How the rerun ended.
    pub fn run(&self) -> &JobRun {
        &self.traced.jobs[0]
    }
}

/// What interrupted the execution: a kill or a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A job was killed (`--kill`).
    Killed(Killed),
    /// A call was struck by a fault (`--fault`, `--faults`).
    Struck(Struck),
}

impl Cause {
    /// The job killed or struck.
    pub fn job(&self) -> JobId {
        match self {
            Cause::Killed(k) => k.point.job,
            Cause::Struck(s) => s.point.job,
        }
    }

    /// How many gated calls (of all jobs) were released before it.
    pub fn step(&self) -> usize {
        match self {
            Cause::Killed(k) => k.step,
            Cause::Struck(s) => s.step,
        }
    }

    /// Its line in the trace.
    pub fn trace_line(&self) -> String {
        match self {
            Cause::Killed(k) => format!(
                "[{}] killed (SIGKILL to its process group) before {}",
                label(k.point.job),
                k.before
            ),
            Cause::Struck(s) => s.trace_line(),
        }
    }
}

/// A killed or struck execution and its recovery.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The kill or the fault.
    pub cause: Cause,
    /// The job's last released call before the kill or fault, with its
    /// result (none when it came before its first).
    pub last: Option<Released>,
    /// Each command's run in the execution, before the recovery (what the
    /// struck tool printed and how it exited).
    pub ended: Vec<JobRun>,
    /// The commands rerun, in command order.
    pub reruns: Vec<Rerun>,
    /// True when the recovered execution has no finding.
    pub recovered: bool,
}

/// A rerun that did not finish within the timeout (a lock the killed job
/// left behind, waited for in a loop): killed with its process group, it
/// counts as a failed rerun (128 + SIGKILL) whose stderr says so, with its
/// last gated syscalls and what its processes were doing.
pub fn hung_rerun(hung: &Hung, seconds: f64) -> Rerun {
    let mut stderr = format!(
        "prefixrace: the rerun did not finish within {seconds} s; killed with its process group\n"
    );
    if let Some(l) = hung.last.last() {
        stderr.push_str(&format!("prefixrace: its last gated syscall: {l}\n"));
    }
    for d in &hung.doing {
        stderr.push_str(&format!("prefixrace: {d}\n"));
    }
    Rerun {
        job: hung.job,
        traced: Traced {
            schedule: Default::default(),
            released: Vec::new(),
            jobs: vec![JobRun {
                status: 128 + libc::SIGKILL,
                stdout: String::new(),
                stderr,
            }],
            killed: None,
            struck: None,
            strikable: Vec::new(),
        },
    }
}

/// The jobs that must be rerun: every one that did not exit 0.
pub fn to_rerun(jobs: &[JobRun]) -> Vec<JobId> {
    (0..jobs.len()).filter(|&j| jobs[j].status != 0).collect()
}

/// Each command's run as it ended: the rerun where there is one.
pub fn final_runs(jobs: &[JobRun], reruns: &[Rerun]) -> Vec<JobRun> {
    let mut runs = jobs.to_vec();
    for r in reruns {
        runs[r.job] = r.run().clone();
    }
    runs
}

/// The last call of `cause`'s job released before it in `traced`.
pub fn last_call(traced: &Traced, cause: &Cause) -> Option<Released> {
    let before = cause.step().min(traced.released.len());
    traced.released[..before]
        .iter()
        .rev()
        .find(|r| r.job == cause.job())
        .cloned()
}

/// The verdict in one word: `survived` when nothing had to be rerun (a
/// fault every command took in its stride) and the prefix is right,
/// `recovered` when the reruns repaired it, `unrecoverable` otherwise.
pub fn verdict(recovery: &Recovery) -> &'static str {
    match (recovery.recovered, recovery.reruns.is_empty()) {
        (true, true) => "survived",
        (true, false) => "recovered",
        (false, _) => "unrecoverable",
    }
}

/// An execution's trace ([`trace_lines`]) with the kill or fault in its
/// place among the calls, then each rerun's calls, strace-style, marked
/// `(rerun)`.
pub fn with_recovery(traced: &Traced, recovery: &Recovery) -> Vec<String> {
    let c = &recovery.cause;
    let mut lines = trace_lines_with(traced, Some((c.step(), c.trace_line())));
    for r in &recovery.reruns {
        lines.extend(
            trace_lines(&r.traced)
                .into_iter()
                .map(|l| format!("(rerun) {l}")),
        );
        lines.push(format!(
            "(rerun) [{}] exited {}",
            label(r.job),
            r.run().status
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Schedule;

    fn run(status: i32, stderr: &str) -> JobRun {
        JobRun::exited(status, stderr)
    }

    #[test]
    fn the_failed_jobs_are_rerun_and_their_reruns_stand_for_them() {
        let jobs = [run(137, ""), run(0, "ok"), run(1, "boom")];
        assert_eq!(to_rerun(&jobs), [0, 2]);
        let rerun = |job, status| Rerun {
            job,
            traced: Traced {
                schedule: Schedule::default(),
                released: Vec::new(),
                jobs: vec![run(status, "again")],
                killed: None,
                struck: None,
                strikable: Vec::new(),
            },
        };
        let runs = final_runs(&jobs, &[rerun(0, 0), rerun(2, 1)]);
        assert_eq!(runs[0], run(0, "again"));
        assert_eq!(runs[1], run(0, "ok"));
        assert_eq!(runs[2], run(1, "again"));
        let killed = Killed {
            point: crate::gate::kill::KillPoint { job: 0, after: 1 },
            before: crate::gate::call::Call::in_prefix("mkdir", &["\"M\""]),
            step: 1,
        };
        let mut recovery = Recovery {
            cause: Cause::Killed(killed),
            last: None,
            ended: jobs.to_vec(),
            reruns: vec![rerun(0, 0)],
            recovered: true,
        };
        assert_eq!(verdict(&recovery), "recovered");
        recovery.recovered = false;
        assert_eq!(verdict(&recovery), "unrecoverable");
        recovery.reruns.clear();
        assert_eq!(verdict(&recovery), "unrecoverable");
        recovery.recovered = true;
        assert_eq!(verdict(&recovery), "survived");
    }

    #[test]
    fn the_struck_call_stands_in_its_place_with_its_temporary_name_numbered_like_the_calls() {
        use crate::gate::call::{Call, Outcome};
        use crate::gate::fault_point::{FaultPoint, Struck};
        use crate::gate::tracer::Released;
        let released = |call: Call| Released {
            job: 0,
            process: 0,
            call,
            outcome: Some(Outcome(0)),
        };
        let traced = Traced {
            schedule: Schedule::default(),
            released: vec![
                released(Call::in_prefix("openat", &["\"M/x.pyc.140737343702384\""])),
                released(Call::in_prefix("unlink", &["\"M/x.pyc.140737343702384\""])),
            ],
            jobs: vec![run(0, "")],
            killed: None,
            struck: None,
            strikable: Vec::new(),
        };
        let point = FaultPoint {
            job: 0,
            after: 1,
            fault: crate::fault::Fault::NoSpace,
        };
        let struck = Struck {
            asked: point,
            point,
            call: "write(<M/x.pyc.140737343702384>, 146)".into(),
            result: "-1 ENOSPC".into(),
            step: 1,
        };
        let recovery = Recovery {
            last: last_call(&traced, &Cause::Struck(struck.clone())),
            cause: Cause::Struck(struck),
            ended: traced.jobs.clone(),
            reruns: Vec::new(),
            recovered: true,
        };
        assert_eq!(
            with_recovery(&traced, &recovery),
            [
                "[A] openat(\"M/x.pyc.~1\") = 0",
                "[A] enospc struck write(<M/x.pyc.~1>, 146) = -1 ENOSPC",
                "[A] unlink(\"M/x.pyc.~1\") = 0",
            ]
        );
        assert_eq!(recovery.last.as_ref().unwrap().call.name, "openat");
        assert_eq!(verdict(&recovery), "survived");
    }
}
