//! The one-line text form of a recorded op, as stored in a scenario's trace
//! activity: strace-like, with paths relative to the prefix.
//!
//! ```text
//! lstat("lib") = -1 ENOENT
//! mkdir("lib", 0700) = 0
//! open("lib/x.py", O_WRONLY|O_CREAT|O_EXCL, 0600) = 5
//! write(5, 520) = 520
//! close(5) = 0
//! rename("a.tmp", "a") = 0
//! ```
//!
//! Descriptor ops name the descriptor the recorded process saw; [`parse_ops`]
//! resolves it to the path it was opened as. Rendering then parsing gives the
//! same ops back.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::content::Blob;
use crate::job::{RecordedOp, RecordedResult};
use crate::op::{Errno, Fd, LockCall, Op, OpenFlags};

use crate::limits::{MAX_FILE_SIZE as MAX_WRITE, MAX_PACKAGE_SIZE as MAX_TOTAL_WRITES};

/// Errno names strace prints that [`Errno::from_name`] does not know, by number.
const MORE_ERRNOS: &[(&str, i32)] = &[
    ("ESRCH", 3),
    ("EINTR", 4),
    ("EIO", 5),
    ("ENXIO", 6),
    ("E2BIG", 7),
    ("ENOEXEC", 8),
    ("ECHILD", 10),
    ("ENOMEM", 12),
    ("EFAULT", 14),
    ("ENOTBLK", 15),
    ("EBUSY", 16),
    ("ENODEV", 19),
    ("ENFILE", 23),
    ("EMFILE", 24),
    ("ENOTTY", 25),
    ("ETXTBSY", 26),
    ("EFBIG", 27),
    ("ENOSPC", 28),
    ("ESPIPE", 29),
    ("EROFS", 30),
    ("EMLINK", 31),
    ("EPIPE", 32),
    ("EDOM", 33),
    ("ERANGE", 34),
    ("EDEADLK", 35),
    ("ENAMETOOLONG", 36),
    ("ENOLCK", 37),
    ("ENOSYS", 38),
    ("ENOMSG", 42),
    ("EIDRM", 43),
    ("ENOSTR", 60),
    ("ENODATA", 61),
    ("ETIME", 62),
    ("ENOSR", 63),
    ("EREMOTE", 66),
    ("ENOLINK", 67),
    ("EPROTO", 71),
    ("EMULTIHOP", 72),
    ("EBADMSG", 74),
    ("EOVERFLOW", 75),
    ("EILSEQ", 84),
    ("EUSERS", 87),
    ("ENOTSOCK", 88),
    ("EDESTADDRREQ", 89),
    ("EMSGSIZE", 90),
    ("EPROTOTYPE", 91),
    ("ENOPROTOOPT", 92),
    ("EPROTONOSUPPORT", 93),
    ("ESOCKTNOSUPPORT", 94),
    ("EOPNOTSUPP", 95),
    ("EPFNOSUPPORT", 96),
    ("EAFNOSUPPORT", 97),
    ("EADDRINUSE", 98),
    ("EADDRNOTAVAIL", 99),
    ("ENETDOWN", 100),
    ("ENETUNREACH", 101),
    ("ENETRESET", 102),
    ("ECONNABORTED", 103),
    ("ECONNRESET", 104),
    ("ENOBUFS", 105),
    ("EISCONN", 106),
    ("ENOTCONN", 107),
    ("ESHUTDOWN", 108),
    ("ETOOMANYREFS", 109),
    ("ETIMEDOUT", 110),
    ("ECONNREFUSED", 111),
    ("EHOSTDOWN", 112),
    ("EHOSTUNREACH", 113),
    ("EALREADY", 114),
    ("EINPROGRESS", 115),
    ("ESTALE", 116),
    ("EDQUOT", 122),
    ("ECANCELED", 125),
    ("ENOKEY", 126),
    ("EOWNERDEAD", 130),
    ("ENOTRECOVERABLE", 131),
    ("ERFKILL", 132),
    ("EHWPOISON", 133),
    ("ENOTSUP", 95),
];

/// Parses an errno name as strace prints it (`EEXIST`, `EROFS`, `E123`).
pub fn errno_from_name(name: &str) -> Option<Errno> {
    if let Some(e) = Errno::from_name(name) {
        return Some(e);
    }
    if let Some((_, n)) = MORE_ERRNOS.iter().find(|(n, _)| *n == name) {
        return Some(Errno::Other(*n));
    }
    name.strip_prefix('E')
        .and_then(|n| n.parse::<i32>().ok())
        .filter(|n| *n > 0)
        .map(Errno::Other)
}

/// The name [`errno_from_name`] reads back.
pub fn errno_name(e: Errno) -> String {
    match e {
        Errno::Other(n) => MORE_ERRNOS
            .iter()
            .find(|(_, m)| *m == n)
            .map(|(s, _)| s.to_string())
            .unwrap_or_else(|| format!("E{n}")),
        other => other.name(),
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

fn flags_text(f: &OpenFlags) -> String {
    f.to_string()
}

/// Renders one recorded op as a line.
pub fn render_op(rec: &RecordedOp) -> String {
    let call = match &rec.op {
        Op::Lstat { path } => format!("lstat({})", quote(path)),
        Op::Stat { path } => format!("stat({})", quote(path)),
        Op::Mkdir { path, mode } => format!("mkdir({}, {:04o})", quote(path), mode),
        Op::Open { path, flags, mode } => {
            if flags.create {
                format!("open({}, {}, {:04o})", quote(path), flags_text(flags), mode)
            } else {
                format!("open({}, {})", quote(path), flags_text(flags))
            }
        }
        Op::Write { fd, blob, .. } => format!("write({fd}, {})", blob.len()),
        Op::Read { fd, .. } => format!("read({fd})"),
        Op::Close { fd, .. } => format!("close({fd})"),
        Op::Rename { from, to } => format!("rename({}, {})", quote(from), quote(to)),
        Op::Unlink { path } => format!("unlink({})", quote(path)),
        Op::Rmdir { path } => format!("rmdir({})", quote(path)),
        Op::Symlink { target, path } => format!("symlink({}, {})", quote(target), quote(path)),
        Op::Chmod { path, mode } => format!("chmod({}, {:04o})", quote(path), mode),
        Op::Readdir { path } => format!("getdents({})", quote(path)),
        Op::Link { from, to } => format!("link({}, {})", quote(from), quote(to)),
        Op::Flock {
            fd,
            call: LockCall::Flock,
            ..
        } => format!("flock({fd})"),
        // Recordings hold no `fcntl` locks (`strace.rs` keeps `flock`s only).
        Op::Flock { fd, .. } => format!("fcntl({fd})"),
        Op::RenameExchange { a, b } => format!("exchange({}, {})", quote(a), quote(b)),
    };
    let result = match rec.result {
        RecordedResult::Ok(v) => v.to_string(),
        RecordedResult::Err(e) => format!("-1 {}", errno_name(e)),
    };
    format!("{call} = {result}")
}

/// One argument of an op line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Str(String),
    Word(String),
}

/// Splits `name(args) = result` into its parts. Strings are JSON-quoted.
fn split_line(line: &str) -> Result<(String, Vec<Arg>, String), String> {
    let open = line.find('(').ok_or("expected `name(args) = result`")?;
    let name = line[..open].trim().to_string();
    let rest = &line[open + 1..];
    let mut args = Vec::new();
    let mut chars = rest.char_indices().peekable();
    let mut end = None;
    let mut word = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let start = i;
                let mut escaped = false;
                let mut stop = None;
                for (j, d) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == '"' {
                        stop = Some(j);
                        break;
                    }
                }
                let stop = stop.ok_or("unterminated string")?;
                let s: String = serde_json::from_str(&rest[start..=stop])
                    .map_err(|e| format!("bad string: {e}"))?;
                args.push(Arg::Str(s));
            }
            ',' => {
                if !word.trim().is_empty() {
                    args.push(Arg::Word(word.trim().to_string()));
                }
                word.clear();
            }
            ')' => {
                if !word.trim().is_empty() {
                    args.push(Arg::Word(word.trim().to_string()));
                }
                end = Some(i);
                break;
            }
            c => word.push(c),
        }
    }
    let end = end.ok_or("missing `)`")?;
    let result = rest[end + 1..]
        .trim()
        .strip_prefix('=')
        .ok_or("missing `= result`")?
        .trim()
        .to_string();
    Ok((name, args, result))
}

fn parse_result(text: &str) -> Result<RecordedResult, String> {
    if let Some(name) = text.strip_prefix("-1 ") {
        let name = name.split_whitespace().next().unwrap_or("");
        return errno_from_name(name)
            .map(RecordedResult::Err)
            .ok_or_else(|| format!("unknown errno {name:?}"));
    }
    text.parse::<i64>()
        .map(RecordedResult::Ok)
        .map_err(|_| format!("result {text:?} is neither a number nor `-1 ERRNO`"))
}

fn parse_flags(text: &str) -> Result<OpenFlags, String> {
    let mut f = OpenFlags::READ;
    for part in text.split('|') {
        match part.trim() {
            "O_RDONLY" => {}
            "O_WRONLY" | "O_RDWR" => f.write = true,
            "O_CREAT" => f.create = true,
            "O_EXCL" => f.excl = true,
            "O_TRUNC" => f.trunc = true,
            other => return Err(format!("unknown open flag {other:?}")),
        }
    }
    Ok(f)
}

fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("mode {text:?} is not an octal mode"))
}

/// Parses op lines; `fds` carries which path each descriptor was opened as.
/// Errors name the index of the bad line.
pub fn parse_ops(lines: &[&str]) -> Result<Vec<RecordedOp>, (usize, String)> {
    let mut fds: BTreeMap<Fd, Arc<str>> = BTreeMap::new();
    let mut out = Vec::with_capacity(lines.len());
    let mut total = 0u64;
    for (i, line) in lines.iter().enumerate() {
        let rec = parse_one(line, &mut fds).map_err(|e| (i, e))?;
        if let Some((field, c)) = crate::fs::control_in_op(&rec.op) {
            return Err((i, format!("{field} holds the control character {c:?}")));
        }
        if let Op::Write { blob, .. } = &rec.op {
            total += blob.len();
            if total > MAX_TOTAL_WRITES {
                return Err((
                    i,
                    format!("the writes exceed the limit of {MAX_TOTAL_WRITES} bytes"),
                ));
            }
        }
        out.push(rec);
    }
    Ok(out)
}

fn path_arg(args: &[Arg], i: usize) -> Result<Arc<str>, String> {
    match args.get(i) {
        Some(Arg::Str(s)) if !s.is_empty() && !s.starts_with('/') => {
            if s.split('/').any(|c| c == "..") {
                Err(format!("path {s:?} climbs out of the prefix"))
            } else {
                Ok(s.as_str().into())
            }
        }
        Some(Arg::Str(s)) => Err(format!("path {s:?} must be relative to the prefix")),
        _ => Err(format!("argument {} must be a quoted path", i + 1)),
    }
}

fn word_arg(args: &[Arg], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Arg::Word(w)) => Ok(w),
        _ => Err(format!("argument {} is missing", i + 1)),
    }
}

fn fd_arg(args: &[Arg], fds: &BTreeMap<Fd, Arc<str>>) -> Result<(Fd, Arc<str>), String> {
    let fd: Fd = word_arg(args, 0)?
        .parse()
        .map_err(|_| "the descriptor is not a number".to_string())?;
    let path = fds
        .get(&fd)
        .cloned()
        .ok_or_else(|| format!("descriptor {fd} was not opened by an earlier op"))?;
    Ok((fd, path))
}

fn parse_one(line: &str, fds: &mut BTreeMap<Fd, Arc<str>>) -> Result<RecordedOp, String> {
    let (name, args, result) = split_line(line)?;
    let result = parse_result(&result)?;
    let arity = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!("{name} takes {n} arguments, found {}", args.len()))
        }
    };
    let op = match name.as_str() {
        "lstat" | "stat" | "unlink" | "rmdir" | "getdents" => {
            arity(1)?;
            let path = path_arg(&args, 0)?;
            match name.as_str() {
                "lstat" => Op::Lstat { path },
                "stat" => Op::Stat { path },
                "unlink" => Op::Unlink { path },
                "rmdir" => Op::Rmdir { path },
                _ => Op::Readdir { path },
            }
        }
        "mkdir" | "chmod" => {
            arity(2)?;
            let path = path_arg(&args, 0)?;
            let mode = parse_mode(word_arg(&args, 1)?)?;
            if name == "mkdir" {
                Op::Mkdir { path, mode }
            } else {
                Op::Chmod { path, mode }
            }
        }
        "open" => {
            if args.len() != 2 && args.len() != 3 {
                return Err(format!("open takes 2 or 3 arguments, found {}", args.len()));
            }
            let path = path_arg(&args, 0)?;
            let flags = parse_flags(word_arg(&args, 1)?)?;
            let mode = if args.len() == 3 {
                parse_mode(word_arg(&args, 2)?)?
            } else {
                0
            };
            if let RecordedResult::Ok(fd) = result {
                let fd = Fd::try_from(fd).map_err(|_| "open returned a bad descriptor")?;
                fds.insert(fd, path.clone());
            }
            Op::Open { path, flags, mode }
        }
        "write" => {
            arity(2)?;
            let (fd, path) = fd_arg(&args, fds)?;
            let len: u64 = word_arg(&args, 1)?
                .parse()
                .map_err(|_| "the byte count is not a number".to_string())?;
            if len > MAX_WRITE {
                return Err(format!("write of {len} bytes exceeds the file size limit"));
            }
            Op::Write {
                fd,
                path,
                blob: Blob::synthetic(b"", len),
            }
        }
        "read" | "close" | "flock" => {
            arity(1)?;
            let (fd, path) = fd_arg(&args, fds)?;
            match name.as_str() {
                "close" => {
                    fds.remove(&fd);
                    Op::Close { fd, path }
                }
                "flock" => Op::Flock {
                    fd,
                    path,
                    call: LockCall::Flock,
                },
                _ => Op::Read { fd, path },
            }
        }
        "rename" | "link" | "exchange" => {
            arity(2)?;
            let (from, to) = (path_arg(&args, 0)?, path_arg(&args, 1)?);
            match name.as_str() {
                "rename" => Op::Rename { from, to },
                "link" => Op::Link { from, to },
                _ => Op::RenameExchange { a: from, b: to },
            }
        }
        "symlink" => {
            arity(2)?;
            let target = match args.first() {
                Some(Arg::Str(s)) if !s.is_empty() => Arc::from(s.as_str()),
                _ => return Err("symlink needs a quoted target".into()),
            };
            Op::Symlink {
                target,
                path: path_arg(&args, 1)?,
            }
        }
        other => return Err(format!("unknown op {other:?}")),
    };
    Ok(RecordedOp { op, result })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let lines = [
            r#"lstat("lib") = -1 ENOENT"#,
            r#"mkdir("lib", 0700) = 0"#,
            r#"open("lib/a \"q\".py", O_WRONLY|O_CREAT|O_EXCL, 0600) = 5"#,
            r#"write(5, 520) = 520"#,
            r#"close(5) = 0"#,
            r#"rename("lib/t", "lib/u") = -1 EROFS"#,
            r#"symlink("../x", "lib/l") = 0"#,
            r#"chmod("lib", 0755) = 0"#,
            r#"open("lib/b", O_RDONLY) = 3"#,
            r#"flock(3) = -1 EAGAIN"#,
            r#"link("lib/b", "lib/c") = 0"#,
            r#"exchange("lib/c", "lib/u") = 0"#,
        ];
        let ops = parse_ops(&lines).unwrap();
        let back: Vec<String> = ops.iter().map(render_op).collect();
        assert_eq!(back, lines);
        assert_eq!(&**ops[3].op.path(), "lib/a \"q\".py");
    }

    #[test]
    fn a_control_character_in_a_path_or_target_is_refused() {
        let err =
            parse_ops(&[r#"mkdir("a", 0700) = 0"#, r#"mkdir("a/b\nc", 0700) = 0"#]).unwrap_err();
        assert_eq!(
            err,
            (1, "path holds the control character '\\n'".to_string())
        );
        let err = parse_ops(&[r#"symlink("x\ny", "l") = 0"#]).unwrap_err();
        assert_eq!(
            err,
            (0, "target holds the control character '\\n'".to_string())
        );
    }

    #[test]
    fn bad_lines_name_their_index() {
        let err = parse_ops(&[r#"mkdir("a", 0700) = 0"#, r#"close(9) = 0"#]).unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.contains("descriptor 9"), "{}", err.1);
        let err = parse_ops(&[r#"mkdir("/etc", 0700) = 0"#]).unwrap_err();
        assert!(err.1.contains("relative"), "{}", err.1);
        let err = parse_ops(&[r#"mkdir("a/../../b", 0700) = 0"#]).unwrap_err();
        assert!(err.1.contains("climbs"), "{}", err.1);
    }
}
