//! A gated syscall as the tracer decoded it: which paths it touches, whether
//! any of them lies inside the prefix, and its strace-style rendering with
//! paths relative to the prefix (no fd numbers, no PIDs).

use std::fmt;
use std::path::{Path, PathBuf};

use super::syscalls::{Arg, GatedSyscall};
use super::tracee;

/// One decoded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The syscall name.
    pub name: &'static str,
    /// The rendered arguments.
    pub args: Vec<String>,
    /// True when a path it names is the prefix or lies below it.
    pub in_prefix: bool,
}

/// The result of a released call, from the syscall-exit stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome(pub i64);

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (-4095..0).contains(&self.0) {
            let e = nix::errno::Errno::from_raw((-self.0) as i32);
            write!(f, "-1 {e:?}")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Call {
    /// A call on prefix paths, for tests: `args` as the trace prints them.
    #[cfg(test)]
    pub fn in_prefix(name: &'static str, args: &[&str]) -> Call {
        Call {
            name,
            args: args.iter().map(|s| s.to_string()).collect(),
            in_prefix: true,
        }
    }

    /// The prefix-relative paths it names, in argument order: quoted
    /// arguments and `<path>` descriptors that do not start with `/`.
    pub fn relative_paths(&self) -> Vec<&str> {
        self.args
            .iter()
            .filter_map(|a| {
                let inner = a
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .or_else(|| a.strip_prefix('<').and_then(|r| r.strip_suffix('>')))?;
                (!inner.starts_with('/')).then_some(inner)
            })
            .collect()
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.args.join(", "))
    }
}

/// Where paths are judged and shown relative to.
#[derive(Debug, Clone)]
pub struct PrefixView {
    root: PathBuf,
}

impl PrefixView {
    /// A view of the canonical prefix `root`.
    pub fn new(root: PathBuf) -> PrefixView {
        PrefixView { root }
    }

    /// The prefix.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when `p` is the prefix or below it.
    pub fn contains(&self, p: &Path) -> bool {
        p.starts_with(&self.root)
    }

    /// `p` relative to the prefix (`.` for the prefix itself), or absolute when outside.
    pub fn show(&self, p: &Path) -> String {
        match p.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => p.display().to_string(),
        }
    }
}

/// Decodes the gated syscall `sc` of stopped process `pid` from its argument registers.
pub fn decode(sc: &GatedSyscall, pid: i32, regs: &[u64; 6], view: &PrefixView) -> Call {
    let mut args = Vec::new();
    let mut in_prefix = false;
    let mut dirfd: Option<i64> = None;
    let mut creating = false;
    for (i, kind) in sc.args.iter().enumerate() {
        let raw = regs[i];
        match kind {
            Arg::DirFd => dirfd = Some(raw as i32 as i64),
            Arg::Path | Arg::PathOrFd => {
                let fd = dirfd.take().unwrap_or(tracee::AT_FDCWD);
                let text = tracee::read_string(pid, raw);
                let resolved = match &text {
                    Some(t) if !t.is_empty() => {
                        let base = if t.first() == Some(&b'/') {
                            None
                        } else {
                            tracee::base_dir(pid, fd)
                        };
                        tracee::resolve(base.as_deref(), t)
                    }
                    _ if *kind == Arg::PathOrFd => tracee::fd_path(pid, fd),
                    _ => None,
                };
                match resolved {
                    Some(p) => {
                        in_prefix |= view.contains(&p);
                        args.push(format!("{:?}", view.show(&p)));
                    }
                    None => args.push(match text {
                        Some(t) => format!("{:?}", String::from_utf8_lossy(&t)),
                        None => "NULL".to_string(),
                    }),
                }
            }
            Arg::Fd => match tracee::fd_path(pid, raw as i32 as i64) {
                Some(p) => {
                    in_prefix |= view.contains(&p);
                    args.push(format!("<{}>", view.show(&p)));
                }
                None => args.push("<fd>".to_string()),
            },
            Arg::Literal => args.push(match tracee::read_string(pid, raw) {
                Some(t) => format!("{:?}", String::from_utf8_lossy(&t)),
                None => "NULL".to_string(),
            }),
            Arg::OpenFlags => {
                let flags = raw as u32 as i32;
                creating = flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
                args.push(open_flags(flags));
            }
            Arg::Mode => {
                let is_open = sc.args.contains(&Arg::OpenFlags);
                if !is_open || creating {
                    args.push(format!("0{:03o}", raw as u32 & 0o7777));
                }
            }
            Arg::Flags => args.push(format!("{:#x}", raw as u32)),
            Arg::Skip => {}
        }
    }
    Call {
        name: sc.name,
        args,
        in_prefix,
    }
}

/// `open(2)` flags the way strace prints them.
pub fn open_flags(flags: i32) -> String {
    let mut parts = vec![match flags & libc::O_ACCMODE {
        libc::O_WRONLY => "O_WRONLY",
        libc::O_RDWR => "O_RDWR",
        _ => "O_RDONLY",
    }
    .to_string()];
    let mut rest = flags & !libc::O_ACCMODE;
    if rest & libc::O_TMPFILE == libc::O_TMPFILE {
        parts.push("O_TMPFILE".into());
        rest &= !libc::O_TMPFILE;
    }
    let named = [
        (libc::O_CREAT, "O_CREAT"),
        (libc::O_EXCL, "O_EXCL"),
        (libc::O_NOCTTY, "O_NOCTTY"),
        (libc::O_TRUNC, "O_TRUNC"),
        (libc::O_APPEND, "O_APPEND"),
        (libc::O_NONBLOCK, "O_NONBLOCK"),
        (libc::O_DSYNC, "O_DSYNC"),
        (libc::O_DIRECT, "O_DIRECT"),
        (0o100000, "O_LARGEFILE"),
        (libc::O_DIRECTORY, "O_DIRECTORY"),
        (libc::O_NOFOLLOW, "O_NOFOLLOW"),
        (libc::O_NOATIME, "O_NOATIME"),
        (libc::O_CLOEXEC, "O_CLOEXEC"),
        (libc::O_PATH, "O_PATH"),
    ];
    for (bit, name) in named {
        if rest & bit == bit && bit != 0 {
            parts.push(name.into());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_results_and_paths_render_like_strace() {
        assert_eq!(
            open_flags(libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL),
            "O_WRONLY|O_CREAT|O_EXCL"
        );
        assert_eq!(
            open_flags(libc::O_RDONLY | libc::O_CLOEXEC | libc::O_DIRECTORY),
            "O_RDONLY|O_DIRECTORY|O_CLOEXEC"
        );
        assert_eq!(Outcome(-17).to_string(), "-1 EEXIST");
        assert_eq!(Outcome(3).to_string(), "3");
        let v = PrefixView::new(PathBuf::from("/p/pre"));
        assert_eq!(v.show(Path::new("/p/pre")), ".");
        assert_eq!(v.show(Path::new("/p/pre/M/x")), "M/x");
        assert_eq!(v.show(Path::new("/p/prefix2")), "/p/prefix2");
        assert!(!v.contains(Path::new("/p/prefix2")));
        assert!(v.contains(Path::new("/p/pre/a")));
    }
}
