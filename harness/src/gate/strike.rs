//! Striking a real syscall with a fault (`run --fault`): which calls each
//! fault strikes, mapped from the model's rules in `crate::fault` to x86_64
//! syscalls, and the register changes that make the tracee see the fault.
//!
//! - `enospc` strikes `write`, `pwrite64` and `writev` of at least one byte,
//!   `open`/`openat` with `O_CREAT` (or `O_TMPFILE`), `creat`, `mkdir`,
//!   `mkdirat`, `symlink`, `symlinkat`, `link` and `linkat`.
//! - `eio` and `eintr` strike those writes and `read`/`pread64`.
//! - `short-write` strikes `write` and `pwrite64` of at least two bytes
//!   (not `writev`, whose count is of buffers, not bytes).
//!
//! An errno fault skips the call at its seccomp stop (`orig_rax = -1`) and
//! sets `rax = -errno`, again at its syscall-exit stop, so the process sees
//! exactly that errno and nothing happened. A short write halves the count
//! (`rdx`, keeping at least one byte) at the seccomp stop, so the kernel
//! really writes the first half and returns its length; the count register
//! is put back at the syscall-exit stop, as the syscall ABI preserves it.
//! `openat2` (its flags are in memory) is not struck.
//!
//! Copies made in the kernel would go round the writes: GNU cp since 9.0
//! copies with `copy_file_range`, Python's `shutil` with `sendfile`. So
//! while a fault is set, those two calls into a prefix file fail with
//! `ENOSYS`, as on a kernel without them, and the tools fall back to `read`
//! and `write` (the calls the model's tools make); nothing else changes.

use crate::fault::Fault;

/// The syscalls stopped on only to be struck, never gated: the reads and
/// writes through descriptors (`read`, `write`, `pread64`, `pwrite64`,
/// `writev`).
pub const STRUCK_ONLY: &[u64] = &[0, 1, 17, 18, 20];

/// The kernel-side copies declined with `ENOSYS` while a fault is set:
/// `sendfile` and `copy_file_range`.
pub const DECLINED: &[u64] = &[40, 326];

/// The destination descriptor of the declined copy `nr` with argument
/// registers `regs`; `None` when `nr` is not one.
pub fn copy_destination(nr: u64, regs: &libc::user_regs_struct) -> Option<i64> {
    match nr {
        40 => Some(regs.rdi as i32 as i64),
        326 => Some(regs.rdx as i32 as i64),
        _ => None,
    }
}

/// The registers that skip the call at whose seccomp stop `regs` were taken
/// and fail it with `ENOSYS`.
pub fn decline(mut regs: libc::user_regs_struct) -> libc::user_regs_struct {
    regs.orig_rax = u64::MAX;
    regs.rax = (-(libc::ENOSYS as i64)) as u64;
    regs
}

/// What a syscall is, as far as the faults are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A write of `bytes` bytes (`None`: a `writev` of at least one buffer).
    Write {
        /// The byte count, when the call has one.
        bytes: Option<u64>,
    },
    /// A read.
    Read,
    /// A call that may create a file, directory or link.
    Create,
}

/// What syscall `nr` with argument registers `regs` is for the faults;
/// `None` when no fault strikes it.
pub fn target(nr: u64, regs: &libc::user_regs_struct) -> Option<Target> {
    let creates = |flags: u64| {
        let flags = flags as u32 as i32;
        flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE
    };
    match nr {
        0 | 17 => Some(Target::Read),
        1 | 18 if regs.rdx > 0 => Some(Target::Write {
            bytes: Some(regs.rdx),
        }),
        20 if regs.rdx > 0 => Some(Target::Write { bytes: None }),
        2 if creates(regs.rsi) => Some(Target::Create),
        257 if creates(regs.rdx) => Some(Target::Create),
        // creat, mkdir, mkdirat, symlink, symlinkat, link, linkat
        85 | 83 | 258 | 88 | 266 | 86 | 265 => Some(Target::Create),
        _ => None,
    }
}

/// True when `fault` strikes a call that is `target`.
pub fn strikes(fault: Fault, target: Target) -> bool {
    match (fault, target) {
        (Fault::NoSpace, Target::Create) => true,
        (Fault::NoSpace | Fault::Io | Fault::Interrupted, Target::Write { .. }) => true,
        (Fault::Io | Fault::Interrupted, Target::Read) => true,
        (Fault::ShortWrite, Target::Write { bytes: Some(n) }) => n >= 2,
        _ => false,
    }
}

/// The errno (a libc number) an errno fault fails the call with; `None`
/// for a short write.
pub fn errno(fault: Fault) -> Option<i32> {
    match fault {
        Fault::NoSpace => Some(libc::ENOSPC),
        Fault::Io => Some(libc::EIO),
        Fault::Interrupted => Some(libc::EINTR),
        Fault::ShortWrite => None,
    }
}

/// What is left to do at the struck call's syscall-exit stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtExit {
    /// Set `rax` to `-errno`.
    pub errno: Option<i32>,
    /// Put the count register back to this.
    pub count: Option<u64>,
}

/// Strikes the call at whose seccomp stop `regs` were taken: returns the
/// registers to set there and what to do at its syscall-exit stop.
pub fn at_entry(
    fault: Fault,
    mut regs: libc::user_regs_struct,
) -> (libc::user_regs_struct, AtExit) {
    match errno(fault) {
        Some(e) => {
            // A syscall number of -1 at a seccomp stop skips the call.
            regs.orig_rax = u64::MAX;
            regs.rax = (-(e as i64)) as u64;
            (
                regs,
                AtExit {
                    errno: Some(e),
                    count: None,
                },
            )
        }
        None => {
            let count = regs.rdx;
            regs.rdx = (count / 2).max(1);
            (
                regs,
                AtExit {
                    errno: None,
                    count: Some(count),
                },
            )
        }
    }
}

/// The registers to set at the struck call's syscall-exit stop.
pub fn at_exit(todo: AtExit, mut regs: libc::user_regs_struct) -> libc::user_regs_struct {
    if let Some(e) = todo.errno {
        regs.rax = (-(e as i64)) as u64;
    }
    if let Some(c) = todo.count {
        regs.rdx = c;
    }
    regs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(rsi: u64, rdx: u64) -> libc::user_regs_struct {
        // SAFETY: user_regs_struct is plain integers; all zeros is valid.
        let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        r.rsi = rsi;
        r.rdx = rdx;
        r
    }

    #[test]
    fn the_faults_strike_the_syscalls_of_the_models_rules() {
        let creat = libc::O_WRONLY | libc::O_CREAT;
        let plain_open = target(257, &regs(0, libc::O_RDONLY as u64));
        assert_eq!(plain_open, None);
        let create = target(257, &regs(0, creat as u64)).unwrap();
        let write = target(1, &regs(0, 5)).unwrap();
        let one_byte = target(1, &regs(0, 1)).unwrap();
        let read = target(0, &regs(0, 4096)).unwrap();
        assert!(strikes(Fault::NoSpace, create) && !strikes(Fault::Io, create));
        assert!(!strikes(Fault::Interrupted, create) && !strikes(Fault::ShortWrite, create));
        for f in Fault::ALL {
            assert!(strikes(f, write), "{f}");
        }
        assert!(!strikes(Fault::ShortWrite, one_byte) && strikes(Fault::Io, one_byte));
        assert!(strikes(Fault::Io, read) && strikes(Fault::Interrupted, read));
        assert!(!strikes(Fault::NoSpace, read) && !strikes(Fault::ShortWrite, read));
        assert_eq!(target(1, &regs(0, 0)), None, "a write of nothing");
        let writev = target(20, &regs(0, 3)).unwrap();
        assert!(strikes(Fault::Io, writev) && !strikes(Fault::ShortWrite, writev));
        assert_eq!(target(83, &regs(0, 0)), Some(Target::Create));
        assert_eq!(target(4, &regs(0, 0)), None, "stat");
    }

    #[test]
    fn an_errno_fault_skips_the_call_and_a_short_write_halves_its_count_then_restores_it() {
        let (entry, todo) = at_entry(Fault::NoSpace, regs(0, 10));
        assert_eq!(entry.orig_rax, u64::MAX);
        assert_eq!(entry.rax as i64, -(libc::ENOSPC as i64));
        assert_eq!(
            at_exit(todo, regs(0, 10)).rax as i64,
            -(libc::ENOSPC as i64)
        );
        let (entry, todo) = at_entry(Fault::ShortWrite, regs(0, 11));
        assert_eq!(entry.rdx, 5);
        let mut after = entry;
        after.rax = 5;
        let exit = at_exit(todo, after);
        assert_eq!((exit.rax, exit.rdx), (5, 11));
        assert_eq!(at_entry(Fault::ShortWrite, regs(0, 3)).0.rdx, 1);
        let mut copy = regs(0, 7);
        copy.rdi = 3;
        assert_eq!(copy_destination(326, &copy), Some(7));
        assert_eq!(copy_destination(40, &copy), Some(3));
        assert_eq!(copy_destination(1, &copy), None);
        let declined = decline(copy);
        assert_eq!(declined.orig_rax, u64::MAX);
        assert_eq!(declined.rax as i64, -(libc::ENOSYS as i64));
    }
}
