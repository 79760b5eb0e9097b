//! The tracer: runs one execution of the commands with every prefix syscall
//! held at the gate until the scheduler picks its job.
//!
//! A scheduling decision is taken only when the execution is *settled*: every
//! live traced process is parked at the gate, or asleep waiting for another
//! process (a shell in `wait4`, a reader on a pipe), and no ptrace event is
//! pending. "Asleep" is judged twice, with the number of times each process
//! was put on a CPU read both times: the states of several processes cannot
//! be read at one instant, and a process seen asleep may have been woken by
//! one read later; equal counts in two passes with nothing pending between
//! them mean that at the end of the first pass all of them slept at once. The picked job's oldest parked process is released: its syscall
//! runs, its result is read at the syscall-exit stop, and it goes on until its
//! next gated syscall or its exit. So for single-threaded tools exactly one
//! process moves between two decisions, and the order of prefix syscalls is a
//! function of the choices alone.
//!
//! The tracer reaps every child of the calling process (`waitpid(-1)`), so it
//! must run in a process whose only children are its tracees, such as the CLI.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::ptrace::{self, Options};
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::call::{decode, Call, Outcome, PrefixView};
use super::census::Strikable;
use super::entropy;
use super::fault_point::{FaultPoint, Struck};
use super::filter::Filter;
use super::interrupt;
use super::kill::{KillPoint, Killed};
use super::picker::{Offer, Picker};
use super::spawn::{spawn, Launch};
use super::strike::{self, AtExit, Target};
use super::syscalls;
use super::tracee::{self, Activity};
use super::verdict::label;
use super::GateError;
use crate::schedule::{JobId, Schedule, SplitMix64};

/// One released prefix syscall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// The job (index of the command).
    pub job: JobId,
    /// Which process of the job, in order of creation (0: the command's shell).
    pub process: usize,
    /// The call.
    pub call: Call,
    /// Its result, once the syscall returned (none if the process died in it).
    pub outcome: Option<Outcome>,
}

/// What one command did in an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// Exit status of its shell: the exit code, or 128 + signal.
    pub status: i32,
    /// Everything it wrote to standard output.
    pub stdout: String,
    /// Everything it wrote to standard error.
    pub stderr: String,
}

#[cfg(test)]
impl JobRun {
    /// A run that exited with `status`, printing `stderr` and nothing on
    /// standard output (for the verdict's and the recovery's tests).
    pub(crate) fn exited(status: i32, stderr: &str) -> JobRun {
        JobRun {
            status,
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }
}

/// The record of one execution.
#[derive(Debug, Clone)]
pub struct Traced {
    /// The choices taken.
    pub schedule: Schedule,
    /// Every released prefix syscall, in release order.
    pub released: Vec<Released>,
    /// Each command's run, by job.
    pub jobs: Vec<JobRun>,
    /// The job killed at the context's kill point, when it was reached.
    pub killed: Option<Killed>,
    /// The call struck by the context's fault, when one was.
    pub struck: Option<Struck>,
    /// With [`ExecContext::census`]: every call a fault could have struck,
    /// in the order made (`census.rs`); empty otherwise.
    pub strikable: Vec<Strikable>,
}

impl Traced {
    /// How far `job` got: the gated syscalls it made, and its exit status
    /// (-1 when it has none).
    pub fn progress_of(&self, job: JobId) -> (usize, i32) {
        let made = self.released.iter().filter(|r| r.job == job).count();
        let status = self.jobs.get(job).map_or(-1, |j| j.status);
        (made, status)
    }
}

#[derive(Debug)]
enum State {
    /// Waiting for its first stop (after exec, or after being forked).
    Starting,
    /// Running freely between gated syscalls.
    Running,
    /// Held at the gate.
    Parked(Call),
    /// Released: executing its gated syscall; the index into `released`.
    InCall(usize),
}

#[derive(Debug)]
struct Proc {
    job: JobId,
    seq: usize,
    state: State,
    /// Where its `getrandom` answers come from.
    entropy: SplitMix64,
    /// What its parked call is for the faults (`strike.rs`).
    parked_target: Option<Target>,
}

/// Everything one execution is started with besides the commands.
#[derive(Debug, Clone)]
pub struct ExecContext {
    /// Variables added to each command's environment.
    pub env: Vec<(OsString, OsString)>,
    /// A fresh, empty directory of this execution: the commands' outputs go
    /// there, and the stand-in for `/dev/urandom`.
    pub dir: PathBuf,
    /// The seed of the tracees' entropy ([`entropy::execution_seed`]).
    pub entropy_seed: u64,
    /// How long the execution may take before it is reported as a hang.
    pub timeout: Duration,
    /// Kill this job's process group once this many of its gated syscalls
    /// have been released (`kill.rs`).
    pub kill: Option<KillPoint>,
    /// Strike this job's first call the fault strikes once this many of
    /// its gated syscalls have been released (`fault_point.rs`).
    pub fault: Option<FaultPoint>,
    /// Stop at reads and writes (and decline kernel copies) as a fault
    /// execution does, striking nothing, and record every call a fault
    /// could strike ([`Traced::strikable`]): the census of a walk.
    pub census: bool,
}

/// What a command that did not finish in time was doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hung {
    /// The execution, or `None` for the serial reference.
    pub execution: Option<u64>,
    /// The job.
    pub job: JobId,
    /// Its last released prefix syscalls, oldest first (at most five).
    pub last: Vec<String>,
    /// What each of its live processes was doing.
    pub doing: Vec<String>,
    /// In a walk (`walk.rs`): the point the execution injected.
    pub point: Option<String>,
}

/// Runs `commands` (each under `sh -c`) concurrently under the gate,
/// picking with `scheduler`.
pub fn run_gated(
    commands: &[String],
    ctx: &ExecContext,
    view: &PrefixView,
    scheduler: &mut dyn Picker,
) -> Result<Traced, GateError> {
    let mut tracer = Tracer::default();
    tracer.entropy_seed = ctx.entropy_seed;
    tracer.urandom = ctx.dir.join("urandom");
    tracer.kill = ctx.kill;
    tracer.fault = ctx.fault;
    tracer.census = ctx.census;
    entropy::write_urandom_file(&tracer.urandom, ctx.entropy_seed)
        .map_err(|e| GateError::os("entropy file", &e))?;
    // Reads, writes and kernel-side copies stop only when a fault is set,
    // or in a census, which must see the calls a fault execution sees.
    let striking: Vec<u64> = [strike::STRUCK_ONLY, strike::DECLINED].concat();
    let filter = if ctx.fault.is_some() || ctx.census {
        Filter::gate_and(&striking)
    } else {
        Filter::gate()
    };
    let mut files = Vec::new();
    let env = &ctx.env;
    for (job, command) in commands.iter().enumerate() {
        let out = ctx.dir.join(format!("{job}.out"));
        let err = ctx.dir.join(format!("{job}.err"));
        let create =
            |p: &std::path::Path| File::create(p).map_err(|e| GateError::os("output file", &e));
        let launch = Launch {
            command,
            env,
            stdout: create(&out)?,
            stderr: create(&err)?,
        };
        let pid = spawn(launch, &filter).map_err(|e| GateError::os("/bin/sh", &e))?;
        tracer.roots.push(pid);
        tracer.procs.insert(
            pid,
            Proc {
                job,
                seq: 0,
                state: State::Starting,
                entropy: entropy::stream(ctx.entropy_seed, job, 0),
                parked_target: None,
            },
        );
        tracer.next_seq.push(1);
        files.push((out, err));
    }
    tracer.statuses = vec![None; commands.len()];
    let timer = interrupt::Deadline::arm(ctx.timeout);
    let driven = tracer.drive(view, scheduler);
    drop(timer);
    driven?;
    let read = |p: &std::path::Path| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| GateError::os("output file", &e))
    };
    let mut jobs = Vec::new();
    for (job, (out, err)) in files.iter().enumerate() {
        jobs.push(JobRun {
            status: tracer.statuses[job].unwrap_or(-1),
            stdout: read(out)?,
            stderr: read(err)?,
        });
    }
    Ok(Traced {
        schedule: Schedule {
            choices: std::mem::take(&mut tracer.choices),
        },
        released: std::mem::take(&mut tracer.released),
        jobs,
        killed: tracer.killed.take(),
        struck: tracer.struck.take(),
        strikable: std::mem::take(&mut tracer.strikable),
    })
}

#[derive(Default)]
struct Tracer {
    entropy_seed: u64,
    urandom: PathBuf,
    roots: Vec<i32>,
    procs: BTreeMap<i32, Proc>,
    next_seq: Vec<usize>,
    /// Stops of new processes seen before their parent's fork event.
    early: BTreeSet<i32>,
    statuses: Vec<Option<i32>>,
    choices: Vec<JobId>,
    released: Vec<Released>,
    /// Released calls per job.
    per_job: Vec<usize>,
    /// Where a job is to be killed.
    kill: Option<KillPoint>,
    /// The kill, once done.
    killed: Option<Killed>,
    /// Where a fault is to strike.
    fault: Option<FaultPoint>,
    /// The struck call, once struck.
    struck: Option<Struck>,
    /// What is left to do at the syscall-exit stop of a struck call, by pid.
    at_exit: BTreeMap<i32, AtExit>,
    /// Record the calls a fault could strike (a walk's census).
    census: bool,
    /// The calls recorded in a census.
    strikable: Vec<Strikable>,
}

const OPTIONS: Options = Options::PTRACE_O_TRACESYSGOOD
    .union(Options::PTRACE_O_TRACEFORK)
    .union(Options::PTRACE_O_TRACEVFORK)
    .union(Options::PTRACE_O_TRACECLONE)
    .union(Options::PTRACE_O_TRACEEXEC)
    .union(Options::PTRACE_O_TRACESECCOMP)
    .union(Options::PTRACE_O_EXITKILL);

fn os(what: &str, e: Errno) -> GateError {
    GateError::Os(format!("{what}: {}", e.desc()))
}

impl Tracer {
    /// The event loop: until every traced process has exited.
    fn drive(&mut self, view: &PrefixView, scheduler: &mut dyn Picker) -> Result<(), GateError> {
        let mut pause = Duration::from_micros(10);
        while !self.procs.is_empty() {
            if interrupt::requested() {
                return Err(GateError::Interrupted);
            }
            if interrupt::Deadline::passed() {
                return Err(GateError::Hang(self.hung()));
            }
            let must_block = self.procs.values().all(|p| {
                matches!(
                    p.state,
                    State::Starting | State::InCall(_) | State::Parked(_)
                )
            }) && self
                .procs
                .values()
                .any(|p| matches!(p.state, State::Starting | State::InCall(_)));
            if must_block {
                // An event is certain: wait for it (a signal interrupts the wait).
                match waitpid(None, Some(WaitPidFlag::__WALL)) {
                    Ok(status) => self.handle(status, view)?,
                    Err(Errno::EINTR) => {}
                    Err(e) => return Err(os("waitpid", e)),
                }
                pause = Duration::from_micros(10);
                continue;
            }
            if self.drain(view)? > 0 {
                pause = Duration::from_micros(10);
                continue;
            }
            // Two passes, nothing pending between or after them (see the module doc).
            let settled = match self.asleep() {
                Some(first) if self.drain(view)? == 0 => {
                    self.asleep().is_some_and(|second| second == first) && self.drain(view)? == 0
                }
                _ => false,
            };
            if !settled {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(1));
                continue;
            }
            let mut offers: Vec<Offer<'_>> = Vec::new();
            for p in self.procs.values() {
                if let State::Parked(call) = &p.state {
                    match offers.iter_mut().find(|o| o.job == p.job) {
                        // The job's oldest parked process is the one released.
                        Some(o) if o.index <= p.seq => {}
                        Some(o) => {
                            o.call = call;
                            o.index = p.seq;
                        }
                        None => offers.push(Offer {
                            job: p.job,
                            call,
                            index: p.seq,
                            spins: false,
                        }),
                    }
                }
            }
            if offers.is_empty() {
                // Everyone waits on something outside the gate.
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(1));
                continue;
            }
            offers.sort_by_key(|o| o.job);
            for o in &mut offers {
                o.index = self.per_job.get(o.job).copied().unwrap_or(0);
                o.spins = self
                    .released
                    .iter()
                    .rev()
                    .find(|r| r.job == o.job)
                    .is_some_and(|r| {
                        r.call == *o.call && r.outcome.is_some_and(|x| (-4095..0).contains(&x.0))
                    });
            }
            // The job to kill is parked at the call after its K-th: kill it
            // there, before any other decision.
            let kill_now = self.kill.filter(|_| self.killed.is_none()).and_then(|k| {
                offers
                    .iter()
                    .find(|o| o.job == k.job && o.index == k.after)
                    .map(|o| (k, o.call.clone()))
            });
            if let Some((point, before)) = kill_now {
                self.kill_job(point, before, view)?;
                pause = Duration::from_micros(10);
                continue;
            }
            let step = self.choices.len();
            let Some(job) = scheduler.pick(&offers, step) else {
                let offered: Vec<String> = offers
                    .iter()
                    .map(|o| format!("{} before {}", label(o.job), o.call))
                    .collect();
                let last = self.released.last().map_or_else(
                    || "nothing released yet".to_string(),
                    |r| format!("last released: {} {}", label(r.job), r.call),
                );
                return Err(GateError::Diverged {
                    step,
                    detail: format!(
                        "the token ends or names a job not runnable there; runnable: {}; {last}",
                        offered.join(", ")
                    ),
                });
            };
            self.choices.push(job);
            self.release(job)?;
            pause = Duration::from_micros(10);
        }
        Ok(())
    }

    /// What the unfinished jobs were doing when the deadline passed: the
    /// first job with a live process, its last released calls, its processes.
    fn hung(&self) -> Hung {
        let job = self.procs.values().map(|p| p.job).min().unwrap_or(0);
        let last = self
            .released
            .iter()
            .filter(|r| r.job == job)
            .map(|r| match r.outcome {
                Some(o) => format!("{} = {o}", r.call),
                None => format!("{} = ?", r.call),
            })
            .collect::<Vec<_>>();
        let last = last[last.len().saturating_sub(5)..].to_vec();
        let doing = self
            .procs
            .iter()
            .filter(|(_, p)| p.job == job)
            .map(|(pid, p)| {
                let who = if p.seq == 0 {
                    label(job)
                } else {
                    format!("{}.{}", label(job), p.seq)
                };
                match &p.state {
                    State::Parked(call) => format!("{who} parked before {call}"),
                    State::InCall(i) => format!("{who} inside {}", self.released[*i].call),
                    State::Starting => format!("{who} starting"),
                    State::Running => format!("{who} {}", tracee::describe(*pid)),
                }
            })
            .collect();
        Hung {
            execution: None,
            job,
            last,
            doing,
            point: None,
        }
    }

    /// Handles every pending event without blocking; returns how many there were.
    fn drain(&mut self, view: &PrefixView) -> Result<usize, GateError> {
        let mut n = 0;
        loop {
            match waitpid(None, Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(n),
                Ok(status) => {
                    n += 1;
                    self.handle(status, view)?;
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(os("waitpid", e)),
            }
        }
    }

    /// When no process can move without a decision: for every running
    /// process, its pid and how often it has been on a CPU. `None` while a
    /// process is busy, starting, in a released call, or not yet known.
    fn asleep(&self) -> Option<Vec<(i32, u64)>> {
        if !self.early.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for (pid, p) in &self.procs {
            match p.state {
                State::Parked(_) => {}
                State::Running => {
                    if tracee::activity(*pid) != Activity::Waiting {
                        return None;
                    }
                    out.push((*pid, tracee::switches(*pid)?));
                }
                State::Starting | State::InCall(_) => return None,
            }
        }
        Some(out)
    }

    /// Sends `SIGKILL` to the process group of `point.job` and to each of
    /// its known processes, and waits until all of them are gone, so that
    /// nothing of it runs past this decision (its descriptors are closed by
    /// the kernel, as for any killed process).
    fn kill_job(
        &mut self,
        point: KillPoint,
        before: Call,
        view: &PrefixView,
    ) -> Result<(), GateError> {
        if let Some(root) = self.roots.get(point.job) {
            let _ = signal::killpg(Pid::from_raw(*root), Signal::SIGKILL);
        }
        for (pid, p) in &self.procs {
            if p.job == point.job {
                let _ = signal::kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        self.killed = Some(Killed {
            point,
            before,
            step: self.released.len(),
        });
        while self.procs.values().any(|p| p.job == point.job) {
            if interrupt::requested() {
                return Err(GateError::Interrupted);
            }
            if interrupt::Deadline::passed() {
                return Err(GateError::Hang(self.hung()));
            }
            match waitpid(None, Some(WaitPidFlag::__WALL)) {
                Ok(status) => self.handle(status, view)?,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(os("waitpid", e)),
            }
        }
        Ok(())
    }

    /// The point at which a call of `job` that is `target` is struck now,
    /// if it is: the fault is this job's, not yet struck, the job has had
    /// at least the asked count of gated calls released, and the fault
    /// strikes that kind of call.
    fn strike_now(&self, job: JobId, target: Option<Target>) -> Option<FaultPoint> {
        let asked = self
            .fault
            .filter(|f| f.job == job && self.struck.is_none())?;
        let done = self.per_job.get(job).copied().unwrap_or(0);
        let hits = target.is_some_and(|t| strike::strikes(asked.fault, t));
        (done >= asked.after && hits).then_some(FaultPoint {
            after: done,
            ..asked
        })
    }

    /// Records, in a census, that `job` made a call that is `target` once
    /// as many of its gated syscalls as it has now were released; a
    /// repeat of the last one recorded (a big file's writes) is not kept
    /// twice, so a census grows with the points, not with the bytes.
    fn count_strikable(&mut self, job: JobId, target: Target) {
        let after = self.per_job.get(job).copied().unwrap_or(0);
        let seen = Strikable { job, after, target };
        if self.strikable.last() != Some(&seen) {
            self.strikable.push(seen);
        }
    }

    /// Strikes the call `pid` is stopped at (its seccomp stop) at `point`:
    /// sets its registers and remembers what is left for its exit stop.
    fn strike(&mut self, pid: i32, point: FaultPoint, call: String) -> Result<(), GateError> {
        let raw = Pid::from_raw(pid);
        let regs = ptrace::getregs(raw).map_err(|e| os("ptrace(GETREGS)", e))?;
        let (set, todo) = strike::at_entry(point.fault, regs);
        ptrace::setregs(raw, set).map_err(|e| os("ptrace(SETREGS)", e))?;
        self.at_exit.insert(pid, todo);
        self.struck = Some(Struck {
            asked: self.fault.unwrap_or(point),
            point,
            call,
            result: "?".into(),
            step: self.released.len(),
        });
        Ok(())
    }

    /// At the seccomp stop of a read or write (never gated): strikes it
    /// when the fault is due and its descriptor names a prefix file, then
    /// lets it go on (to its exit stop when struck).
    fn read_or_write(
        &mut self,
        pid: i32,
        regs: &libc::user_regs_struct,
        view: &PrefixView,
    ) -> Result<(), GateError> {
        let job = self.procs.get(&pid).map(|p| p.job);
        let target = strike::target(regs.orig_rax, regs);
        if let (true, Some(job), Some(target)) = (self.census, job, target) {
            let on_prefix =
                tracee::fd_path(pid, regs.rdi as i32 as i64).is_some_and(|p| view.contains(&p));
            if on_prefix {
                self.count_strikable(job, target);
            }
        }
        let due = job.and_then(|j| self.strike_now(j, target));
        let path = due.and_then(|_| tracee::fd_path(pid, regs.rdi as i32 as i64));
        match (due, path) {
            (Some(point), Some(path)) if view.contains(&path) => {
                let call = format!(
                    "{}(<{}>, {})",
                    syscalls::name(regs.orig_rax),
                    view.show(&path),
                    regs.rdx
                );
                self.strike(pid, point, call)?;
                match ptrace::syscall(Pid::from_raw(pid), None) {
                    Ok(()) | Err(Errno::ESRCH) => Ok(()),
                    Err(e) => Err(os("ptrace", e)),
                }
            }
            _ => self.resume(pid, None),
        }
    }

    /// Releases the oldest parked process of `job`.
    fn release(&mut self, job: JobId) -> Result<(), GateError> {
        let (pid, call, target) = self
            .procs
            .iter()
            .filter(|(_, p)| p.job == job && matches!(p.state, State::Parked(_)))
            .min_by_key(|(_, p)| p.seq)
            .map(|(pid, p)| {
                let State::Parked(call) = &p.state else {
                    unreachable!("filtered on Parked")
                };
                (*pid, call.to_string(), p.parked_target)
            })
            .expect("a runnable job has a parked process");
        if let (true, Some(t)) = (self.census, target) {
            self.count_strikable(job, t);
        }
        if let Some(point) = self.strike_now(job, target) {
            self.strike(pid, point, call)?;
        }
        let proc_ = self.procs.get_mut(&pid).expect("found above");
        let State::Parked(call) = std::mem::replace(&mut proc_.state, State::Running) else {
            unreachable!("filtered on Parked")
        };
        if self.per_job.len() <= job {
            self.per_job.resize(job + 1, 0);
        }
        self.per_job[job] += 1;
        self.released.push(Released {
            job,
            process: proc_.seq,
            call,
            outcome: None,
        });
        proc_.state = State::InCall(self.released.len() - 1);
        self.resume(pid, None)
    }

    /// Resumes `pid`: to the syscall exit when it is inside a released call, else freely.
    fn resume(&mut self, pid: i32, sig: Option<Signal>) -> Result<(), GateError> {
        let in_call = matches!(
            self.procs.get(&pid).map(|p| &p.state),
            Some(State::InCall(_))
        );
        let r = if in_call {
            ptrace::syscall(Pid::from_raw(pid), sig)
        } else {
            ptrace::cont(Pid::from_raw(pid), sig)
        };
        match r {
            // The process was killed meanwhile; its exit event follows.
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(os("ptrace", e)),
        }
    }

    fn handle(&mut self, status: WaitStatus, view: &PrefixView) -> Result<(), GateError> {
        match status {
            WaitStatus::Exited(pid, code) => self.gone(pid.as_raw(), code),
            WaitStatus::Signaled(pid, sig, _) => self.gone(pid.as_raw(), 128 + sig as i32),
            WaitStatus::PtraceEvent(pid, _, event) => self.event(pid.as_raw(), event, view)?,
            WaitStatus::PtraceSyscall(pid) => {
                let pid = pid.as_raw();
                if let Some(todo) = self.at_exit.remove(&pid) {
                    let raw = Pid::from_raw(pid);
                    if let Ok(regs) = ptrace::getregs(raw) {
                        let fixed = strike::at_exit(todo, regs);
                        ptrace::setregs(raw, fixed).map_err(|e| os("ptrace(SETREGS)", e))?;
                        if let Some(s) = &mut self.struck {
                            s.result = Outcome(fixed.rax as i64).to_string();
                        }
                    }
                }
                if let Some(p) = self.procs.get_mut(&pid) {
                    if let State::InCall(i) = p.state {
                        let regs = ptrace::getregs(Pid::from_raw(pid));
                        if let Ok(regs) = regs {
                            self.released[i].outcome = Some(Outcome(regs.rax as i64));
                        }
                        p.state = State::Running;
                    }
                }
                self.resume(pid, None)?;
            }
            WaitStatus::Stopped(pid, sig) => self.stopped(pid.as_raw(), sig)?,
            WaitStatus::Continued(_) | WaitStatus::StillAlive => {}
        }
        Ok(())
    }

    fn gone(&mut self, pid: i32, status: i32) {
        self.at_exit.remove(&pid);
        if let Some(p) = self.procs.remove(&pid) {
            if p.seq == 0 && self.roots.get(p.job) == Some(&pid) {
                self.statuses[p.job] = Some(status);
            }
        }
        self.early.remove(&pid);
    }

    fn stopped(&mut self, pid: i32, sig: Signal) -> Result<(), GateError> {
        let Some(p) = self.procs.get_mut(&pid) else {
            // A new process whose parent's fork event has not arrived yet.
            self.early.insert(pid);
            return Ok(());
        };
        match (&p.state, sig) {
            (State::Starting, Signal::SIGTRAP | Signal::SIGSTOP) => {
                if p.seq == 0 {
                    ptrace::setoptions(Pid::from_raw(pid), OPTIONS)
                        .map_err(|e| os("ptrace(SETOPTIONS)", e))?;
                }
                p.state = State::Running;
                self.resume(pid, None)
            }
            // Job control would stop a tracee behind the scheduler's back: suppress it.
            (_, Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU) => {
                self.resume(pid, None)
            }
            _ => self.resume(pid, Some(sig)),
        }
    }

    fn event(&mut self, pid: i32, event: i32, view: &PrefixView) -> Result<(), GateError> {
        let raw = Pid::from_raw(pid);
        match event {
            libc::PTRACE_EVENT_SECCOMP => {
                let regs = ptrace::getregs(raw).map_err(|e| os("ptrace(GETREGS)", e))?;
                if regs.orig_rax == entropy::GETRANDOM {
                    if let Some(p) = self.procs.get_mut(&pid) {
                        let answered = entropy::answer_getrandom(pid, regs, &mut p.entropy);
                        ptrace::setregs(raw, answered).map_err(|e| os("ptrace(SETREGS)", e))?;
                    }
                    return self.resume(pid, None);
                }
                if let Some(redirected) = entropy::redirect_random_device(pid, regs, &self.urandom)
                {
                    ptrace::setregs(raw, redirected).map_err(|e| os("ptrace(SETREGS)", e))?;
                    return self.resume(pid, None);
                }
                if strike::STRUCK_ONLY.contains(&regs.orig_rax) {
                    return self.read_or_write(pid, &regs, view);
                }
                if let Some(fd) = strike::copy_destination(regs.orig_rax, &regs) {
                    // Copies into the prefix go through read and write.
                    if tracee::fd_path(pid, fd).is_some_and(|p| view.contains(&p)) {
                        ptrace::setregs(raw, strike::decline(regs))
                            .map_err(|e| os("ptrace(SETREGS)", e))?;
                    }
                    return self.resume(pid, None);
                }
                let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
                let gated = syscalls::lookup(regs.orig_rax)
                    .map(|sc| decode(sc, pid, &args, view))
                    .filter(|c| c.in_prefix);
                match (gated, self.procs.get_mut(&pid)) {
                    (Some(call), Some(p)) => {
                        p.state = State::Parked(call);
                        p.parked_target = strike::target(regs.orig_rax, &regs);
                        Ok(())
                    }
                    _ => self.resume(pid, None),
                }
            }
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                let child = ptrace::getevent(raw).map_err(|e| os("ptrace(GETEVENTMSG)", e))? as i32;
                if let Some(job) = self.procs.get(&pid).map(|p| p.job) {
                    let seq = self.next_seq[job];
                    self.next_seq[job] += 1;
                    let early = self.early.remove(&child);
                    self.procs.insert(
                        child,
                        Proc {
                            job,
                            seq,
                            entropy: entropy::stream(self.entropy_seed, job, seq),
                            parked_target: None,
                            state: if early {
                                State::Running
                            } else {
                                State::Starting
                            },
                        },
                    );
                    if early {
                        self.resume(child, None)?;
                    }
                }
                self.resume(pid, None)
            }
            libc::PTRACE_EVENT_EXEC => {
                // A non-leader thread that execs takes over the leader's pid;
                // its own id vanishes without an exit event.
                if let Ok(former) = ptrace::getevent(raw) {
                    let former = former as i32;
                    if former != pid {
                        self.procs.remove(&former);
                    }
                }
                self.resume(pid, None)
            }
            _ => self.resume(pid, None),
        }
    }
}

impl Drop for Tracer {
    /// Kills every traced process and reaps them all, whatever the exit path.
    fn drop(&mut self) {
        for root in &self.roots {
            let _ = signal::killpg(Pid::from_raw(*root), Signal::SIGKILL);
        }
        for pid in self
            .procs
            .keys()
            .chain(self.early.iter())
            .chain(&self.roots)
        {
            let _ = signal::kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::__WALL)) {
                Ok(status) => {
                    if let Some(pid) = status.pid() {
                        if !matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
                            let _ = signal::kill(pid, Signal::SIGKILL);
                        }
                    }
                }
                Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
    }
}
