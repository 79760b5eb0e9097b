//! The file syscalls the gate stops on (x86_64 numbers), and how to read their
//! arguments.
//!
//! Each gated syscall is described by the list of its arguments that matter:
//! paths (resolved against a directory fd or the cwd), plain fds, literal
//! strings, modes and flags. Everything else about the call is ignored.

/// How one argument register of a gated syscall is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// A path resolved against the cwd.
    Path,
    /// A directory fd; the next argument is a path resolved against it.
    DirFd,
    /// A path that may be NULL or empty, then naming the preceding `DirFd` itself.
    PathOrFd,
    /// A file descriptor naming a file by itself.
    Fd,
    /// A string printed as is and never resolved (a symlink's target).
    Literal,
    /// Permission bits, printed in octal.
    Mode,
    /// `open(2)` flags, printed symbolically; the next `Mode` is shown only with `O_CREAT`.
    OpenFlags,
    /// Other flags, printed in hex.
    Flags,
    /// An argument that is not shown.
    Skip,
}

/// One gated syscall: its number, name and argument layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatedSyscall {
    /// The x86_64 syscall number.
    pub number: u64,
    /// The name strace prints.
    pub name: &'static str,
    /// The arguments, in register order.
    pub args: &'static [Arg],
}

use Arg::*;

/// Every syscall the gate stops on.
pub const GATED: &[GatedSyscall] = &[
    sc(2, "open", &[Path, OpenFlags, Mode]),
    sc(4, "stat", &[Path]),
    sc(6, "lstat", &[Path]),
    sc(21, "access", &[Path, Flags]),
    sc(76, "truncate", &[Path]),
    sc(82, "rename", &[Path, Path]),
    sc(83, "mkdir", &[Path, Mode]),
    sc(84, "rmdir", &[Path]),
    sc(85, "creat", &[Path, Mode]),
    sc(86, "link", &[Path, Path]),
    sc(87, "unlink", &[Path]),
    sc(88, "symlink", &[Literal, Path]),
    sc(89, "readlink", &[Path]),
    sc(90, "chmod", &[Path, Mode]),
    sc(91, "fchmod", &[Fd, Mode]),
    sc(92, "chown", &[Path]),
    sc(93, "fchown", &[Fd]),
    sc(94, "lchown", &[Path]),
    sc(188, "setxattr", &[Path, Literal]),
    sc(189, "lsetxattr", &[Path, Literal]),
    sc(190, "fsetxattr", &[Fd, Literal]),
    sc(217, "getdents64", &[Fd]),
    sc(257, "openat", &[DirFd, Path, OpenFlags, Mode]),
    sc(258, "mkdirat", &[DirFd, Path, Mode]),
    sc(260, "fchownat", &[DirFd, Path, Skip, Skip, Flags]),
    sc(262, "newfstatat", &[DirFd, PathOrFd, Skip, Flags]),
    sc(263, "unlinkat", &[DirFd, Path, Flags]),
    sc(264, "renameat", &[DirFd, Path, DirFd, Path]),
    sc(265, "linkat", &[DirFd, Path, DirFd, Path, Flags]),
    sc(266, "symlinkat", &[Literal, DirFd, Path]),
    sc(267, "readlinkat", &[DirFd, Path]),
    sc(268, "fchmodat", &[DirFd, Path, Mode]),
    sc(269, "faccessat", &[DirFd, Path, Flags]),
    sc(280, "utimensat", &[DirFd, PathOrFd, Skip, Flags]),
    sc(316, "renameat2", &[DirFd, Path, DirFd, Path, Flags]),
    sc(332, "statx", &[DirFd, PathOrFd, Flags]),
    sc(437, "openat2", &[DirFd, Path]),
    sc(439, "faccessat2", &[DirFd, Path, Flags, Flags]),
    sc(452, "fchmodat2", &[DirFd, Path, Mode, Flags]),
];

const fn sc(number: u64, name: &'static str, args: &'static [Arg]) -> GatedSyscall {
    GatedSyscall { number, name, args }
}

/// The gated syscall with number `number`, if it is one.
pub fn lookup(number: u64) -> Option<&'static GatedSyscall> {
    GATED.iter().find(|s| s.number == number)
}

/// Syscalls a process may sleep in while it waits for another traced process
/// (a shell waiting for its child, a reader waiting on a pipe, a thread on a
/// lock, a parent of a vfork child), without a timeout. Such a process
/// counts as settled: decisions go on without it. A wait with a timeout, and
/// `nanosleep`, end by the clock: a process in one counts as busy, so the
/// schedule waits for it instead of letting its wake-up land at a
/// time-dependent point (see `tracee::timed`).
pub const WAITING: &[u64] = &[
    0,   // read
    7,   // poll
    23,  // select
    34,  // pause
    61,  // wait4
    130, // rt_sigsuspend
    202, // futex
    232, // epoll_wait
    247, // waitid
    270, // pselect6
    271, // ppoll
    281, // epoll_pwait
];

/// A readable name for syscall `nr`: the gated ones and the waits by name,
/// others by number.
pub fn name(nr: u64) -> String {
    if let Some(s) = lookup(nr) {
        return s.name.to_string();
    }
    let known = [
        (0, "read"),
        (1, "write"),
        (7, "poll"),
        (17, "pread64"),
        (18, "pwrite64"),
        (20, "writev"),
        (23, "select"),
        (34, "pause"),
        (35, "nanosleep"),
        (56, "clone"),
        (58, "vfork"),
        (61, "wait4"),
        (130, "rt_sigsuspend"),
        (202, "futex"),
        (230, "clock_nanosleep"),
        (232, "epoll_wait"),
        (247, "waitid"),
        (270, "pselect6"),
        (271, "ppoll"),
        (281, "epoll_pwait"),
        (435, "clone3"),
    ];
    known
        .iter()
        .find(|(n, _)| *n == nr)
        .map_or_else(|| format!("syscall {nr}"), |(_, s)| s.to_string())
}

/// Syscalls stopped on besides the gated ones, never parked: `getrandom`,
/// answered from the seeded stream (see `entropy.rs`).
pub const ANSWERED: &[u64] = &[super::entropy::GETRANDOM];

/// The syscalls a vfork parent sleeps in, uninterruptibly, until its child
/// execs or exits.
pub const VFORK_WAITS: &[u64] = &[56, 58, 435];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_layouts_pair_dirfds_with_paths() {
        let mut numbers: Vec<u64> = GATED.iter().map(|s| s.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), GATED.len());
        for s in GATED {
            for (i, a) in s.args.iter().enumerate() {
                if *a == DirFd {
                    assert!(
                        matches!(s.args.get(i + 1), Some(Path | PathOrFd)),
                        "{}",
                        s.name
                    );
                }
            }
        }
        assert_eq!(lookup(258).map(|s| s.name), Some("mkdirat"));
        assert!(lookup(1).is_none());
    }
}
