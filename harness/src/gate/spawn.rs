//! Starting a command as a tracee: `sh -c COMMAND` in a process group of its
//! own, traced from its first instruction, with the gate's seccomp filter
//! installed and address-space randomization off.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use super::filter::Filter;

/// What a command is started with.
#[derive(Debug)]
pub struct Launch<'a> {
    /// The shell command.
    pub command: &'a str,
    /// Variables added to the environment.
    pub env: &'a [(OsString, OsString)],
    /// Where its standard output goes.
    pub stdout: File,
    /// Where its standard error goes.
    pub stderr: File,
}

/// Starts `launch` under `sh -c`. The child stops with SIGTRAP right after
/// its exec; the caller (the tracer, this very thread) must then set the
/// ptrace options and resume it. Returns the child's pid.
pub fn spawn(launch: Launch<'_>, filter: &Filter) -> std::io::Result<i32> {
    let filter = filter.clone();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(launch.command)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(launch.stdout)
        .stderr(launch.stderr);
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe syscalls (setpgid, prctl, personality, ptrace, seccomp);
    // it allocates nothing: the filter program was built before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let persona = libc::personality(0xffff_ffff);
            if persona != -1 {
                libc::personality((persona | libc::ADDR_NO_RANDOMIZE) as libc::c_ulong);
            }
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            filter.install()
        });
    }
    let child = cmd.spawn()?;
    Ok(child.id() as i32)
}
