//! Reading a stopped tracee: its memory (strings), its cwd and its open fds,
//! all through `/proc/PID`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

/// The longest path string read from a tracee.
const MAX_PATH: usize = 4096;

/// `AT_FDCWD` as it arrives in a register.
pub const AT_FDCWD: i64 = -100;

/// Reads the NUL-terminated string at `addr` in the memory of `pid`.
/// Returns `None` for a NULL pointer or unreadable memory.
pub fn read_string(pid: i32, addr: u64) -> Option<Vec<u8>> {
    if addr == 0 {
        return None;
    }
    let mem = File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < MAX_PATH {
        // Never read across a page boundary in one go: the next page may be unmapped.
        let to_page_end = 4096 - (at % 4096) as usize;
        let mut buf = vec![0u8; to_page_end.min(MAX_PATH - out.len())];
        let n = mem.read_at(&mut buf, at).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = buf[..n].iter().position(|b| *b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Some(out);
        }
        out.extend_from_slice(&buf[..n]);
        at += n as u64;
    }
    Some(out)
}

/// The directory a relative path of `pid` is resolved against: its cwd for
/// `AT_FDCWD`, else what its fd `dirfd` names.
pub fn base_dir(pid: i32, dirfd: i64) -> Option<PathBuf> {
    if dirfd == AT_FDCWD {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
    } else {
        fd_path(pid, dirfd)
    }
}

/// The path fd `fd` of `pid` names, if it names a path.
pub fn fd_path(pid: i32, fd: i64) -> Option<PathBuf> {
    if !(0..=i32::MAX as i64).contains(&fd) {
        return None;
    }
    let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    target.is_absolute().then_some(target)
}

/// Resolves `path` (as the tracee passed it) against `base`, lexically:
/// `.` and `..` are folded, symlinks are not followed.
pub fn resolve(base: Option<&Path>, path: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let p = Path::new(std::ffi::OsStr::from_bytes(path));
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base?.join(p)
    };
    Some(normalize(&joined))
}

/// Folds `.` and `..` components of an absolute path.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Writes `bytes` at `addr` in the memory of the stopped tracee `pid`.
pub fn write_bytes(pid: i32, addr: u64, bytes: &[u8]) -> std::io::Result<()> {
    let mem = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{pid}/mem"))?;
    mem.write_all_at(bytes, addr)
}

/// How many times `pid` has been scheduled onto a CPU (the third field of
/// `/proc/PID/schedstat`, or the context switches of `/proc/PID/status`
/// where schedstat is not compiled in). A task asleep at two moments with
/// the same count did not run in between.
pub fn switches(pid: i32) -> Option<u64> {
    if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/schedstat")) {
        return s.split_whitespace().nth(2)?.parse().ok();
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut total = 0u64;
    for line in status.lines() {
        if let Some(v) = line
            .strip_prefix("voluntary_ctxt_switches:")
            .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
        {
            total += v.trim().parse::<u64>().ok()?;
        }
    }
    Some(total)
}

/// What `pid` is doing, in words: `asleep in nanosleep`, `running`.
pub fn describe(pid: i32) -> String {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let i = s.rfind(')')?;
            s[i + 1..].split_whitespace().next().map(str::to_string)
        });
    let nr = std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
    match (state.as_deref(), nr) {
        (None, _) | (Some("Z" | "X"), _) => "exiting".to_string(),
        (Some("S" | "D"), Some(nr)) => format!("asleep in {}", super::syscalls::name(nr)),
        (Some("S" | "D"), None) => "asleep".to_string(),
        _ => "running".to_string(),
    }
}

/// How the tracee is doing, from `/proc/PID/stat` and `/proc/PID/syscall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Running, runnable, in a ptrace stop or sleeping in anything but a wait.
    Busy,
    /// Asleep in a syscall of [`WAITING`](super::syscalls::WAITING): it waits
    /// for another process.
    Waiting,
    /// Gone.
    Gone,
}

/// What `pid` is doing right now.
pub fn activity(pid: i32) -> Activity {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Activity::Gone;
    };
    // The state follows the command name, which is in parentheses and may hold anything.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next())
        .unwrap_or("");
    let uninterruptible = match state {
        "Z" | "X" => return Activity::Gone,
        "S" => false,
        "D" => true,
        _ => return Activity::Busy,
    };
    let Ok(sys) = std::fs::read_to_string(format!("/proc/{pid}/syscall")) else {
        return Activity::Gone;
    };
    let mut fields = sys.split_whitespace();
    let nr = match fields.next().map(str::parse::<u64>) {
        Some(Ok(nr)) => nr,
        _ => return Activity::Busy,
    };
    let args: Vec<u64> = fields
        .take(6)
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(0))
        .collect();
    // Disk I/O sleeps uninterruptibly ("D") in read() and must not count as
    // waiting; the only uninterruptible wait for another process is a vfork
    // parent's.
    let waiting = if uninterruptible {
        super::syscalls::VFORK_WAITS.contains(&nr)
    } else {
        super::syscalls::WAITING.contains(&nr) && !timed(nr, &args)
    };
    if waiting {
        Activity::Waiting
    } else {
        Activity::Busy
    }
}

/// True when the wait `nr` with arguments `args` ends by the clock too: a
/// process in it moves on its own, so it counts as busy, not as waiting
/// (otherwise its wake-up would land at a time-dependent point of the
/// schedule).
pub fn timed(nr: u64, args: &[u64]) -> bool {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    match nr {
        7 => (arg(2) as i32) >= 0,         // poll(fds, n, timeout_ms)
        232 | 281 => (arg(3) as i32) >= 0, // epoll_wait/epoll_pwait(.., timeout_ms)
        23 | 270 => arg(4) != 0,           // select/pselect6(.., timeout*)
        271 => arg(2) != 0,                // ppoll(fds, n, timeout*)
        202 => {
            // futex(uaddr, op, val, timeout*): the waiting ops with a timeout.
            let cmd = arg(1) & !(128 | 256);
            matches!(cmd, 0 | 6 | 9 | 11 | 13) && arg(3) != 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_folds_dots_against_the_base() {
        let base = Path::new("/p/a");
        assert_eq!(
            resolve(Some(base), b"../b/./c"),
            Some(PathBuf::from("/p/b/c"))
        );
        assert_eq!(resolve(None, b"/x/../y"), Some(PathBuf::from("/y")));
        assert_eq!(resolve(None, b"rel"), None);
    }

    #[test]
    fn own_memory_and_fds_are_readable() {
        let s = std::ffi::CString::new("hello/world").unwrap();
        let me = std::process::id() as i32;
        assert_eq!(
            read_string(me, s.as_ptr() as u64).as_deref(),
            Some(&b"hello/world"[..])
        );
        assert_eq!(read_string(me, 0), None);
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(base_dir(me, AT_FDCWD), Some(cwd));
        assert_eq!(fd_path(me, -5), None);
    }
}
