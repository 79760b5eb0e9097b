//! Seeded entropy for the tracees: `getrandom(2)` is answered by the tracer
//! from a SplitMix64 stream, and opens of `/dev/urandom` and `/dev/random`
//! are redirected to a file of seeded bytes, so the random names pip and
//! Python's `tempfile` choose repeat from run to run.
//!
//! Each process has its own stream, keyed by the execution's entropy seed,
//! its job and its position in the job's order of creation: processes of
//! different jobs call `getrandom` between decisions in an order that depends
//! on time, so one shared stream would hand them different bytes from run to
//! run. Within one process the calls come in program order.

use std::path::Path;

use super::tracee;
use crate::schedule::SplitMix64;

/// The x86_64 number of `getrandom(2)`.
pub const GETRANDOM: u64 = 318;

/// The most bytes one `getrandom` answer holds (callers loop on short reads,
/// as the kernel's own answers may be short too).
const MAX_ANSWER: usize = 1 << 16;

/// Size of the per-execution file served for `/dev/urandom`.
pub const URANDOM_FILE_BYTES: usize = 1 << 20;

/// The entropy seed of execution `execution` of a run seeded with `seed`.
pub fn execution_seed(seed: u64, execution: u64) -> u64 {
    SplitMix64::for_execution(seed ^ 0x454e_5452_4f50_5921, execution).next_u64()
}

/// The stream of process `seq` of job `job`.
pub fn stream(execution_seed: u64, job: usize, seq: usize) -> SplitMix64 {
    let mut m = SplitMix64::for_execution(execution_seed, ((job as u64) << 32) | seq as u64);
    SplitMix64::new(m.next_u64())
}

/// `n` bytes from `rng`.
pub fn bytes(rng: &mut SplitMix64, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(n);
    out
}

/// Writes the seeded stand-in for `/dev/urandom` of one execution.
pub fn write_urandom_file(path: &Path, execution_seed: u64) -> std::io::Result<()> {
    let mut rng = SplitMix64::new(execution_seed ^ 0x5552_414e_444f_4d21);
    std::fs::write(path, bytes(&mut rng, URANDOM_FILE_BYTES))
}

/// Answers the `getrandom(buf, len, flags)` at which `regs` were taken: the
/// bytes are written into the tracee and the syscall is skipped with `len`
/// (at most 64 KiB) as its result, or `-EFAULT` when the buffer is not
/// writable. Returns the registers to set.
pub fn answer_getrandom(
    pid: i32,
    mut regs: libc::user_regs_struct,
    rng: &mut SplitMix64,
) -> libc::user_regs_struct {
    let len = (regs.rsi as usize).min(MAX_ANSWER);
    let data = bytes(rng, len);
    let result = match tracee::write_bytes(pid, regs.rdi, &data) {
        Ok(()) => len as i64,
        Err(_) => -(libc::EFAULT as i64),
    };
    // A syscall number of -1 at a seccomp stop skips the call; rax is its result.
    regs.orig_rax = u64::MAX;
    regs.rax = result as u64;
    regs
}

/// When the `open`/`openat`/`openat2` at which `regs` were taken names
/// `/dev/urandom` or `/dev/random`, writes `replacement` (a path) into the
/// tracee's stack below the red zone and points the path argument at it.
/// Returns the registers to set, or `None` when the call is left alone.
pub fn redirect_random_device(
    pid: i32,
    mut regs: libc::user_regs_struct,
    replacement: &Path,
) -> Option<libc::user_regs_struct> {
    use std::os::unix::ffi::OsStrExt;
    let path_reg = match regs.orig_rax {
        2 => regs.rdi,
        257 | 437 => regs.rsi,
        _ => return None,
    };
    let path = tracee::read_string(pid, path_reg)?;
    if path != b"/dev/urandom" && path != b"/dev/random" {
        return None;
    }
    let mut text = replacement.as_os_str().as_bytes().to_vec();
    text.push(0);
    // Below the 128-byte red zone, 16-byte aligned; the process is inside a
    // syscall, so nothing of its own lives there.
    let at = (regs.rsp - 256 - text.len() as u64) & !15;
    tracee::write_bytes(pid, at, &text).ok()?;
    match regs.orig_rax {
        2 => regs.rdi = at,
        _ => regs.rsi = at,
    }
    Some(regs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_repeat_per_process_and_differ_between_processes() {
        let seed = execution_seed(5, 0);
        assert_eq!(seed, execution_seed(5, 0));
        assert_ne!(seed, execution_seed(5, 1));
        let a = bytes(&mut stream(seed, 0, 3), 13);
        assert_eq!(a, bytes(&mut stream(seed, 0, 3), 13));
        assert_ne!(a, bytes(&mut stream(seed, 1, 3), 13));
        assert_ne!(a, bytes(&mut stream(seed, 0, 4), 13));
        assert_eq!(a.len(), 13);
    }
}
