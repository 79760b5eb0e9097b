//! Reads an `strace -f` log into one recorded process per pid.
//!
//! Accepted: lines with or without a pid column (`1234 ` or `[pid 1234] `),
//! with or without `-t`/`-tt`/`-ttt` times, `<unfinished ...>` halves joined
//! with their `<... name resumed>` rest, quoted strings with C escapes
//! (`\"`, `\\`, `\n`, octal `\303`, `\x..`), `+++ exited with N +++`,
//! `--- SIG… ---` and `strace:` notices. Gzip input is detected by its
//! magic bytes. Anything else is an error naming the file and line.
//!
//! Paths are resolved per process (`AT_FDCWD` and its `chdir`s, directory
//! descriptors of `*at` calls) and only ops on paths strictly below the
//! prefix are kept, relative to it. Processes become jobs named after their
//! tool, numbered in order of first appearance (`cp-1`, `pip-2`), so pids
//! never leak into the output.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::content::Blob;
use crate::error::{Error, Result};
use crate::job::{RecordedOp, RecordedResult, TraceProgram, TraceSpec};
use crate::op::{Errno, Fd, LockCall, Op, OpenFlags};

use super::op_line::errno_from_name;
use crate::limits::{read_bounded, read_input, MAX_INPUT_FILE};

/// The most bytes one recorded write may stand for: a payload file's limit.
const MAX_WRITE: i64 = crate::limits::MAX_FILE_SIZE as i64;

/// The most bytes one recorded process may write to the prefix: a
/// package's limit.
const MAX_TOTAL_WRITES: i64 = crate::limits::MAX_PACKAGE_SIZE as i64;

/// One recorded process, ready to become a trace job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedProcess {
    /// Stable job name: the tool and the order of first appearance.
    pub name: String,
    /// What it was and what it did to the prefix.
    pub spec: TraceSpec,
}

/// An strace log read into processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StraceLog {
    /// The prefix the ops are relative to (absolute, no trailing slash).
    pub prefix: String,
    /// Processes that touched the prefix, in order of first appearance.
    pub processes: Vec<TracedProcess>,
}

/// Reads a log file, gzip or plain.
pub fn read_log(path: &Path) -> Result<String> {
    let shown = path.display().to_string();
    let raw = read_input(path).map_err(|e| Error::io(&shown, &e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        read_bounded(flate2::read::MultiGzDecoder::new(&raw[..]), MAX_INPUT_FILE)
            .map_err(|e| Error::input(&shown, 0, "gzip", format!("cannot decompress: {e}")))?
    } else {
        raw
    };
    String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        Error::input(&shown, line, "encoding", "strace log is not valid UTF-8")
    })
}

/// One syscall line, joined if it was split.
#[derive(Debug, Clone)]
struct Call {
    line: usize,
    pid: u32,
    name: String,
    args: Vec<Arg>,
    result: CallResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CallResult {
    Value(i64),
    Errno(Errno),
    Unknown,
}

/// A parsed argument: its raw text, and the decoded bytes when it is a string.
#[derive(Debug, Clone)]
struct Arg {
    raw: String,
    string: Option<Vec<u8>>,
}

impl Arg {
    fn text(&self) -> Option<String> {
        self.string
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// What one log line is.
enum Line {
    Call(Call),
    Unfinished {
        pid: u32,
        head: String,
    },
    Resumed {
        pid: u32,
        name: String,
        rest: String,
    },
    Exit {
        pid: u32,
        code: i32,
    },
    Ignore,
}

fn strip_time(s: &str) -> &str {
    let t = s.trim_start();
    let end = t.find(' ').unwrap_or(0);
    let head = &t[..end];
    let is_time = !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
        && (head.contains(':') || head.contains('.'));
    if is_time {
        t[end..].trim_start()
    } else {
        t
    }
}

fn split_pid(s: &str) -> (u32, &str) {
    if let Some(rest) = s.strip_prefix("[pid") {
        if let Some(close) = rest.find(']') {
            if let Ok(pid) = rest[..close].trim().parse() {
                return (pid, rest[close + 1..].trim_start());
            }
        }
    }
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end > 0 && s[end..].starts_with(' ') {
        // A bare number followed by a time or a call is a pid column.
        let rest = s[end..].trim_start();
        let looks_like_call = rest.chars().next().is_some_and(|c| {
            c.is_ascii_alphabetic() || c == '<' || c == '+' || c == '-' || c.is_ascii_digit()
        });
        if looks_like_call {
            if let Ok(pid) = s[..end].parse() {
                return (pid, rest);
            }
        }
    }
    (0, s)
}

fn classify(text: &str, line: usize) -> std::result::Result<Line, String> {
    let trimmed = text.trim_end();
    if trimmed.is_empty() || trimmed.starts_with("strace: ") {
        return Ok(Line::Ignore);
    }
    let (pid, rest) = split_pid(trimmed);
    let rest = strip_time(rest);
    if rest.starts_with("--- ") {
        return Ok(Line::Ignore);
    }
    if let Some(inner) = rest.strip_prefix("+++ ") {
        if let Some(code) = inner.strip_prefix("exited with ") {
            let code = code
                .trim_end_matches(" +++")
                .trim()
                .parse()
                .map_err(|_| "malformed `+++ exited with N +++` line".to_string())?;
            return Ok(Line::Exit { pid, code });
        }
        if inner.starts_with("killed by ") {
            return Ok(Line::Exit { pid, code: 128 });
        }
        return Err("unknown `+++` line".into());
    }
    if let Some(inner) = rest.strip_prefix("<... ") {
        let Some(end) = inner.find(" resumed>") else {
            return Err("malformed `<... resumed>` line".into());
        };
        return Ok(Line::Resumed {
            pid,
            name: inner[..end].to_string(),
            rest: inner[end + " resumed>".len()..].to_string(),
        });
    }
    if let Some(head) = rest.strip_suffix("<unfinished ...>") {
        check_call_start(head)?;
        return Ok(Line::Unfinished {
            pid,
            head: head.to_string(),
        });
    }
    parse_call(pid, rest, line).map(Line::Call)
}

fn check_call_start(s: &str) -> std::result::Result<(), String> {
    let open = s
        .find('(')
        .ok_or("not an strace line: expected `syscall(args) = result`")?;
    let name = &s[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("not an strace line: bad syscall name {name:?}"));
    }
    Ok(())
}

/// Parses `name(args) = result`.
fn parse_call(pid: u32, s: &str, line: usize) -> std::result::Result<Call, String> {
    check_call_start(s)?;
    let open = s.find('(').expect("checked");
    let name = s[..open].to_string();
    let bytes = s.as_bytes();
    let mut i = open + 1;
    let mut args = Vec::new();
    let mut depth = 0i32;
    let mut raw = String::new();
    let mut string: Option<Vec<u8>> = None;
    let mut closed = None;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' if depth == 0 || string.is_none() => {
                let (decoded, next) = decode_string(s, i)?;
                raw.push_str(&s[i..next]);
                if depth == 0 && string.is_none() {
                    string = Some(decoded);
                }
                i = next;
                continue;
            }
            b'"' => {
                let (_, next) = decode_string(s, i)?;
                raw.push_str(&s[i..next]);
                i = next;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = s[i + 2..].find("*/").ok_or("unterminated /* comment */")?;
                i = i + 2 + end + 2;
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth -= 1,
            b'(' => depth += 1,
            b')' if depth > 0 => depth -= 1,
            b')' => {
                closed = Some(i);
                break;
            }
            b',' if depth == 0 => {
                args.push(Arg {
                    raw: raw.trim().to_string(),
                    string: string.take(),
                });
                raw.clear();
                i += 1;
                continue;
            }
            _ => {}
        }
        let ch_len = s[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        raw.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
    let close = closed.ok_or("not an strace line: missing `)`")?;
    if !raw.trim().is_empty() || string.is_some() {
        args.push(Arg {
            raw: raw.trim().to_string(),
            string,
        });
    }
    let tail = s[close + 1..].trim();
    let result_text = tail
        .strip_prefix('=')
        .ok_or("not an strace line: missing `= result`")?
        .trim();
    let result = parse_result(result_text)?;
    Ok(Call {
        line,
        pid,
        name,
        args,
        result,
    })
}

fn parse_result(text: &str) -> std::result::Result<CallResult, String> {
    let first = text.split_whitespace().next().unwrap_or("");
    if first == "?" {
        return Ok(CallResult::Unknown);
    }
    if first == "-1" {
        let name = text.split_whitespace().nth(1).unwrap_or("");
        if !name.starts_with('E') || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("malformed error result {text:?}"));
        }
        // An errno this table does not know cannot be replayed: the call is
        // kept out of the recording rather than guessed.
        return Ok(errno_from_name(name).map_or(CallResult::Unknown, CallResult::Errno));
    }
    let number = first.split('<').next().unwrap_or(first);
    if let Some(hex) = number.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16)
            .map(CallResult::Value)
            .or(Ok(CallResult::Unknown));
    }
    number
        .parse::<i64>()
        .map(CallResult::Value)
        .map_err(|_| format!("result {text:?} is not a number"))
}

/// Decodes a C-escaped string starting at the quote at `start`. Returns the
/// bytes and the index after the closing quote (and a `...` truncation mark).
fn decode_string(s: &str, start: usize) -> std::result::Result<(Vec<u8>, usize), String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let mut next = i + 1;
                if s[next..].starts_with("...") {
                    next += 3;
                }
                return Ok((out, next));
            }
            b'\\' => {
                let e = *b.get(i + 1).ok_or("unterminated escape")?;
                i += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'v' => out.push(0x0b),
                    b'f' => out.push(0x0c),
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b'x' => {
                        let hex = s.get(i..i + 2).ok_or("bad \\x escape")?;
                        out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad \\x escape")?);
                        i += 2;
                    }
                    b'0'..=b'7' => {
                        let mut v: u32 = u32::from(e - b'0');
                        let mut n = 1;
                        while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                            v = v * 8 + u32::from(b[i] - b'0');
                            i += 1;
                            n += 1;
                        }
                        out.push(u8::try_from(v).map_err(|_| "octal escape out of range")?);
                    }
                    other => out.push(other),
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err("unterminated string".into())
}

/// Reads the calls of a log, joining `<unfinished ...>` halves.
fn calls(file: &str, text: &str) -> Result<(Vec<Call>, BTreeMap<u32, i32>)> {
    let mut out = Vec::new();
    let mut exits = BTreeMap::new();
    let mut pending: BTreeMap<u32, (usize, String)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |m: String| Error::input(file, line, "strace", m);
        match classify(raw, line).map_err(err)? {
            Line::Ignore => {}
            Line::Call(c) => out.push(c),
            Line::Exit { pid, code } => {
                exits.insert(pid, code);
            }
            Line::Unfinished { pid, head } => {
                pending.insert(pid, (line, head));
            }
            Line::Resumed { pid, name, rest } => {
                let Some((first, head)) = pending.remove(&pid) else {
                    return Err(err(format!(
                        "`<... {name} resumed>` without an unfinished call"
                    )));
                };
                let joined = format!("{head}{rest}");
                let c = parse_call(pid, &joined, first)
                    .map_err(|m| Error::input(file, line, "strace", m))?;
                if c.name != name {
                    return Err(Error::input(
                        file,
                        line,
                        "strace",
                        format!("`{name}` resumed, but `{}` was unfinished", c.name),
                    ));
                }
                out.push(c);
            }
        }
    }
    Ok((out, exits))
}

/// Lexically normalizes an absolute path (`.`, `..`, repeated and trailing `/`).
fn normalize_abs(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What a descriptor refers to.
#[derive(Debug, Clone)]
struct FdInfo {
    path: String,
    /// A directory or `O_PATH` descriptor: no op stands for it.
    dir: bool,
    /// Whether a read from it was recorded already (only the first counts:
    /// the model's read returns the whole rest of the file).
    read: bool,
}

#[derive(Debug, Default)]
struct Process {
    cwd: Option<String>,
    fds: BTreeMap<i64, FdInfo>,
    argv: Vec<String>,
    /// The program path of the last successful `execve` (printed whole,
    /// unlike argv strings, which `-s` truncates).
    exe: String,
    ops: Vec<RecordedOp>,
    first_line: usize,
    /// Bytes written to the prefix so far.
    written: i64,
}

impl Process {
    fn resolve(&self, dirfd: Option<&str>, path: &str) -> Option<String> {
        if path.starts_with('/') {
            return Some(normalize_abs(path));
        }
        let base = match dirfd {
            None | Some("AT_FDCWD") => self.cwd.clone()?,
            Some(n) => self.fds.get(&n.parse::<i64>().ok()?)?.path.clone(),
        };
        Some(normalize_abs(&format!("{base}/{path}")))
    }
}

fn recorded(result: &CallResult) -> Option<RecordedResult> {
    match result {
        CallResult::Value(v) => Some(RecordedResult::Ok(*v)),
        CallResult::Errno(e) => Some(RecordedResult::Err(*e)),
        CallResult::Unknown => None,
    }
}

fn parse_mode(raw: &str) -> Option<u32> {
    let t = raw.trim();
    let digits = t.trim_start_matches("0o");
    if t.starts_with('0') {
        u32::from_str_radix(digits, 8).ok()
    } else {
        t.parse().ok()
    }
    .map(|m| m & 0o7777)
}

fn parse_open_flags(raw: &str) -> (OpenFlags, bool) {
    let mut f = OpenFlags::READ;
    let mut dir = false;
    for part in raw.split('|') {
        match part.trim() {
            "O_WRONLY" | "O_RDWR" => f.write = true,
            "O_CREAT" => f.create = true,
            "O_EXCL" => f.excl = true,
            "O_TRUNC" => f.trunc = true,
            "O_DIRECTORY" | "O_PATH" => dir = true,
            _ => {}
        }
    }
    (f, dir)
}

/// The mode a `system.posix_acl_access` value sets, when it is a plain
/// owner/group/other ACL (cp -p restores modes this way).
fn acl_mode(value: &[u8]) -> Option<u32> {
    if value.len() < 4 || (value.len() - 4) % 8 != 0 || value[..4] != [2, 0, 0, 0] {
        return None;
    }
    let (mut user, mut group, mut other, mut mask) = (None, None, None, None);
    for e in value[4..].chunks(8) {
        let tag = u16::from_le_bytes([e[0], e[1]]);
        let perm = u32::from(u16::from_le_bytes([e[2], e[3]]) & 7);
        match tag {
            0x01 => user = Some(perm),
            0x04 => group = Some(perm),
            0x10 => mask = Some(perm),
            0x20 => other = Some(perm),
            _ => return None,
        }
    }
    Some(user? << 6 | mask.or(group)? << 3 | other?)
}

/// Which prefix the log's processes installed into, from their command lines.
fn prefix_from_argv(argv: &[String], cwd: Option<&str>) -> Option<String> {
    let absolute = |p: &str| -> Option<String> {
        if p.starts_with('/') {
            Some(normalize_abs(p))
        } else {
            cwd.map(|c| normalize_abs(&format!("{c}/{p}")))
        }
    };
    match TraceProgram::from_argv(argv) {
        TraceProgram::Cp => {
            let operands: Vec<&String> = argv[1..].iter().filter(|a| !a.starts_with('-')).collect();
            if operands.len() >= 2 {
                absolute(operands[operands.len() - 1])
            } else {
                None
            }
        }
        TraceProgram::Pip => {
            let value = |flag: &str| -> Option<String> {
                argv.iter().enumerate().find_map(|(i, a)| {
                    if a == flag {
                        argv.get(i + 1).cloned()
                    } else {
                        a.strip_prefix(&format!("{flag}=")).map(str::to_string)
                    }
                })
            };
            let root = value("--root");
            let prefix = value("--prefix").or_else(|| value("--target"));
            match (root, prefix) {
                (Some(r), Some(p)) => absolute(&format!("{r}/{p}")),
                (Some(r), None) => absolute(&r),
                (None, Some(p)) => absolute(&p),
                (None, None) => None,
            }
        }
        _ => None,
    }
}

/// Parses a log. `prefix` is the install prefix; `None` infers it from the
/// first cp or pip command line (cp's destination, pip's `--root`/`--prefix`/
/// `--target`). `cwd` is the directory the traced command started in, when
/// known: relative paths resolve against it (and against each process's own
/// `chdir`s); without it, ops on relative paths are left out.
pub fn parse_log(
    file: &str,
    text: &str,
    prefix: Option<&str>,
    cwd: Option<&str>,
) -> Result<StraceLog> {
    let (calls, exits) = calls(file, text)?;
    let cwd = match cwd {
        Some(c) if c.starts_with('/') => Some(normalize_abs(c)),
        Some(c) => {
            return Err(Error::Usage(format!(
                "--cwd {c:?}: the directory must be an absolute path"
            )))
        }
        None => None,
    };
    let prefix = match prefix {
        Some(p) if p.starts_with('/') => normalize_abs(p),
        Some(p) => {
            return Err(Error::Usage(format!(
                "--prefix {p:?}: the prefix must be an absolute path, as the log shows it"
            )))
        }
        None => calls
            .iter()
            .filter(|c| c.name == "execve" && c.result == CallResult::Value(0))
            .find_map(|c| prefix_from_argv(&string_array(c.args.get(1)?), cwd.as_deref()))
            .ok_or_else(|| {
                Error::input(
                    file,
                    0,
                    "prefix",
                    "cannot infer the prefix (no cp or pip command line with a destination): give --prefix",
                )
            })?,
    };
    if prefix == "/" {
        return Err(Error::Usage(
            "--prefix /: refusing to record the whole filesystem".into(),
        ));
    }
    let mut procs: BTreeMap<u32, Process> = BTreeMap::new();
    let fresh = |line: usize| Process {
        first_line: line,
        cwd: cwd.clone(),
        ..Process::default()
    };
    for c in &calls {
        let p = procs.entry(c.pid).or_insert_with(|| fresh(c.line));
        let before = p.ops.len();
        record_call(p, c, &prefix).map_err(|m| Error::input(file, c.line, &c.name, m))?;
        for rec in &p.ops[before..] {
            if let Some((field, ch)) = crate::fs::control_in_op(&rec.op) {
                return Err(Error::input(
                    file,
                    c.line,
                    format!("{} {field}", c.name),
                    format!("{:?} holds the control character {ch:?}", rec.op.path()),
                ));
            }
        }
        // A child that has not exec'd yet is its parent's program, in its
        // parent's directory, with its parent's descriptors.
        if let ("clone" | "clone3" | "fork" | "vfork", CallResult::Value(child)) =
            (c.name.as_str(), &c.result)
        {
            let Ok(child) = u32::try_from(*child) else {
                continue;
            };
            if child == 0 || child == c.pid {
                continue;
            }
            let (argv, exe) = (p.argv.clone(), p.exe.clone());
            let (pcwd, fds) = (p.cwd.clone(), p.fds.clone());
            let kid = procs.entry(child).or_insert_with(|| fresh(c.line));
            if kid.argv.is_empty() && kid.exe.is_empty() {
                kid.argv = argv;
                kid.exe = exe;
            }
            if kid.ops.is_empty() && kid.fds.is_empty() {
                kid.cwd = pcwd;
                kid.fds = fds;
            }
        }
    }
    // Jobs are numbered in order of the process's first line in the log.
    let mut kept: Vec<(u32, Process)> = procs
        .into_iter()
        .filter(|(_, p)| !p.ops.is_empty())
        .collect();
    kept.sort_by_key(|(_, p)| p.first_line);
    let mut processes = Vec::new();
    for (n, (pid, p)) in kept.into_iter().enumerate() {
        let program = program_of(&p.exe, &p.argv);
        processes.push(TracedProcess {
            name: job_name(&program, n + 1),
            spec: TraceSpec {
                program,
                argv: p.argv,
                exit: exits.get(&pid).copied().unwrap_or(0),
                ops: p.ops,
            },
        });
    }
    Ok(StraceLog { prefix, processes })
}

/// The tool of a process: named by the program it exec'd (`argv[0]` may be a
/// relative name, or cut short by `-s`), with its arguments telling
/// `python -m pip` from other Python runs.
fn program_of(exe: &str, argv: &[String]) -> TraceProgram {
    let mut named = argv.to_vec();
    if !exe.is_empty() {
        match named.first_mut() {
            Some(first) => *first = exe.to_string(),
            None => named.push(exe.to_string()),
        }
    }
    TraceProgram::from_argv(&named)
}

/// `cp-1`, `pip-2`: the tool and a number, never a pid.
fn job_name(program: &TraceProgram, n: usize) -> String {
    let tool: String = program
        .name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{tool}-{n}")
}

impl StraceLog {
    /// Several logs as one: each log's ops are already relative to its own
    /// prefix, so installs recorded into different directories meet in one
    /// prefix (the first log's). Jobs are renumbered in log order.
    pub fn merge(logs: Vec<StraceLog>) -> Option<StraceLog> {
        let prefix = logs.first()?.prefix.clone();
        let processes = logs
            .into_iter()
            .flat_map(|l| l.processes)
            .enumerate()
            .map(|(n, p)| TracedProcess {
                name: job_name(&p.spec.program, n + 1),
                spec: p.spec,
            })
            .collect();
        Some(StraceLog { prefix, processes })
    }
}

fn string_array(arg: &Arg) -> Vec<String> {
    let raw = arg.raw.trim();
    let Some(inner) = raw.strip_prefix('[') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(q) = inner[i..].find('"') {
        match decode_string(inner, i + q) {
            Ok((bytes, next)) => {
                out.push(String::from_utf8_lossy(&bytes).into_owned());
                i = next;
            }
            Err(_) => break,
        }
    }
    out
}

/// Turns one call into zero or more prefix ops of its process.
fn record_call(p: &mut Process, c: &Call, prefix: &str) -> std::result::Result<(), String> {
    let rel = |abs: &str| -> Option<Arc<str>> {
        abs.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|r| !r.is_empty())
            .map(Arc::from)
    };
    let arg = |i: usize| c.args.get(i);
    let text = |i: usize| arg(i).and_then(Arg::text);
    let raw = |i: usize| arg(i).map(|a| a.raw.as_str()).unwrap_or("");
    let Some(result) = recorded(&c.result) else {
        return Ok(());
    };
    let ok = matches!(result, RecordedResult::Ok(_));
    let push = |p: &mut Process, op: Op| p.ops.push(RecordedOp { op, result });
    // (dirfd, path) of the call's main path, by syscall shape.
    let at =
        |dir: usize, path: usize| -> Option<String> { p.resolve(Some(raw(dir)), &text(path)?) };
    let plain = |path: usize| -> Option<String> { p.resolve(None, &text(path)?) };
    match c.name.as_str() {
        "execve" if ok => {
            p.exe = text(0).unwrap_or_default();
            p.argv = arg(1).map(string_array).unwrap_or_default();
        }
        "execveat" if ok => {
            p.exe = text(1).unwrap_or_default();
            p.argv = arg(2).map(string_array).unwrap_or_default();
        }
        "chdir" if ok => p.cwd = plain(0),
        "fchdir" if ok => {
            p.cwd = raw(0)
                .parse::<i64>()
                .ok()
                .and_then(|fd| p.fds.get(&fd))
                .map(|f| f.path.clone());
        }
        "open" | "openat" | "creat" => {
            let (abs, flags_raw, mode_raw) = match c.name.as_str() {
                "open" => (plain(0), raw(1).to_string(), raw(2).to_string()),
                "creat" => (
                    plain(0),
                    "O_WRONLY|O_CREAT|O_TRUNC".to_string(),
                    raw(1).to_string(),
                ),
                _ => (at(0, 1), raw(2).to_string(), raw(3).to_string()),
            };
            let Some(abs) = abs else { return Ok(()) };
            let (flags, dir) = parse_open_flags(&flags_raw);
            if let RecordedResult::Ok(fd) = result {
                p.fds.insert(
                    fd,
                    FdInfo {
                        path: abs.clone(),
                        dir,
                        read: false,
                    },
                );
            }
            let Some(path) = rel(&abs) else { return Ok(()) };
            if dir && !flags.write {
                push(p, Op::Stat { path });
            } else {
                let mode = if flags.create {
                    parse_mode(&mode_raw).unwrap_or(0o666)
                } else {
                    0
                };
                push(p, Op::Open { path, flags, mode });
            }
        }
        "close" => {
            let Ok(fd) = raw(0).parse::<i64>() else {
                return Ok(());
            };
            if let Some(info) = p.fds.remove(&fd) {
                if let (false, Some(path)) = (info.dir, rel(&info.path)) {
                    push(
                        p,
                        Op::Close {
                            fd: fd_num(fd)?,
                            path,
                        },
                    );
                }
            }
        }
        "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2" | "copy_file_range"
        | "sendfile" | "sendfile64" | "splice" => {
            let fd_index = match c.name.as_str() {
                "copy_file_range" | "splice" => 2,
                _ => 0,
            };
            let (RecordedResult::Ok(n), Ok(fd)) = (result, raw(fd_index).parse::<i64>()) else {
                return Ok(());
            };
            if n <= 0 {
                return Ok(());
            }
            if let Some(info) = p.fds.get(&fd) {
                if let (false, Some(path)) = (info.dir, rel(&info.path)) {
                    if n > MAX_WRITE || p.written + n > MAX_TOTAL_WRITES {
                        return Err(format!(
                            "a write of {n} bytes exceeds the limits of {MAX_WRITE} bytes per write and {MAX_TOTAL_WRITES} per process"
                        ));
                    }
                    p.written += n;
                    let blob = Blob::synthetic(b"", n as u64);
                    push(
                        p,
                        Op::Write {
                            fd: fd_num(fd)?,
                            path,
                            blob,
                        },
                    );
                }
            }
        }
        "read" | "pread64" | "readv" | "preadv" | "preadv2" => {
            let (RecordedResult::Ok(_), Ok(fd)) = (result, raw(0).parse::<i64>()) else {
                return Ok(());
            };
            if let Some(info) = p.fds.get_mut(&fd) {
                if info.dir || info.read {
                    return Ok(());
                }
                info.read = true;
                if let Some(path) = rel(&info.path) {
                    push(
                        p,
                        Op::Read {
                            fd: fd_num(fd)?,
                            path,
                        },
                    );
                }
            }
        }
        "dup" | "dup2" | "dup3" | "fcntl" | "fcntl64" => {
            let RecordedResult::Ok(new) = result else {
                return Ok(());
            };
            let dup = c.name.starts_with("dup") || raw(1).starts_with("F_DUPFD");
            if dup {
                if let Some(info) = raw(0)
                    .parse::<i64>()
                    .ok()
                    .and_then(|fd| p.fds.get(&fd))
                    .cloned()
                {
                    // A duplicate stands for the same open file; it is not an op.
                    p.fds.insert(
                        new,
                        FdInfo {
                            path: info.path,
                            dir: true,
                            read: true,
                        },
                    );
                }
            }
        }
        "stat" | "lstat" | "stat64" | "lstat64" | "access" => {
            if let Some(path) = plain(0).as_deref().and_then(rel) {
                let op = if c.name.starts_with("lstat") {
                    Op::Lstat { path }
                } else {
                    Op::Stat { path }
                };
                push(p, op);
            }
        }
        "newfstatat" | "fstatat64" | "statx" | "faccessat" | "faccessat2" => {
            let flags = match c.name.as_str() {
                "statx" => raw(2),
                "faccessat" | "faccessat2" => raw(3),
                _ => raw(3),
            };
            if text(1).is_some_and(|t| t.is_empty()) {
                return Ok(());
            }
            if let Some(path) = at(0, 1).as_deref().and_then(rel) {
                let op = if flags.contains("AT_SYMLINK_NOFOLLOW") {
                    Op::Lstat { path }
                } else {
                    Op::Stat { path }
                };
                push(p, op);
            }
        }
        "mkdir" | "mkdirat" => {
            let (abs, mode) = if c.name == "mkdir" {
                (plain(0), raw(1))
            } else {
                (at(0, 1), raw(2))
            };
            if let Some(path) = abs.as_deref().and_then(rel) {
                push(
                    p,
                    Op::Mkdir {
                        path,
                        mode: parse_mode(mode).unwrap_or(0o777),
                    },
                );
            }
        }
        "unlink" | "rmdir" | "unlinkat" => {
            let (abs, dir) = match c.name.as_str() {
                "unlink" => (plain(0), false),
                "rmdir" => (plain(0), true),
                _ => (at(0, 1), raw(2).contains("AT_REMOVEDIR")),
            };
            if let Some(path) = abs.as_deref().and_then(rel) {
                push(
                    p,
                    if dir {
                        Op::Rmdir { path }
                    } else {
                        Op::Unlink { path }
                    },
                );
            }
        }
        "rename" | "renameat" | "renameat2" => {
            let (from, to) = if c.name == "rename" {
                (plain(0), plain(1))
            } else {
                (at(0, 1), at(2, 3))
            };
            let exchange = c.name == "renameat2" && raw(4).contains("RENAME_EXCHANGE");
            if let (Some(from), Some(to)) =
                (from.as_deref().and_then(rel), to.as_deref().and_then(rel))
            {
                push(
                    p,
                    if exchange {
                        Op::RenameExchange { a: from, b: to }
                    } else {
                        Op::Rename { from, to }
                    },
                );
            }
        }
        "link" | "linkat" => {
            let (from, to) = if c.name == "link" {
                (plain(0), plain(1))
            } else {
                (at(0, 1), at(2, 3))
            };
            if let (Some(from), Some(to)) =
                (from.as_deref().and_then(rel), to.as_deref().and_then(rel))
            {
                push(p, Op::Link { from, to });
            }
        }
        "flock" => {
            let Ok(fd) = raw(0).parse::<i64>() else {
                return Ok(());
            };
            // Only exclusive locks are modelled (`LOCK_EX`, blocking or
            // not); an unlock is the close that follows. A `LOCK_NB` try
            // refused (EAGAIN) is left out: the blocking retry that
            // follows stands for the wait, which a replay makes itself.
            if !raw(1).contains("LOCK_EX") || result == RecordedResult::Err(Errno::EAGAIN) {
                return Ok(());
            }
            if let Some(info) = p.fds.get(&fd) {
                if let (false, Some(path)) = (info.dir, rel(&info.path)) {
                    push(
                        p,
                        Op::Flock {
                            fd: fd_num(fd)?,
                            path,
                            call: LockCall::Flock,
                        },
                    );
                }
            }
        }
        "symlink" | "symlinkat" => {
            let target = text(0).unwrap_or_default();
            let abs = if c.name == "symlink" {
                plain(1)
            } else {
                at(1, 2)
            };
            if let (Some(path), false) = (abs.as_deref().and_then(rel), target.is_empty()) {
                push(
                    p,
                    Op::Symlink {
                        target: target.into(),
                        path,
                    },
                );
            }
        }
        "chmod" | "fchmodat" | "fchmod" => {
            let (abs, mode) = match c.name.as_str() {
                "chmod" => (plain(0), raw(1)),
                "fchmodat" => (at(0, 1), raw(2)),
                _ => (
                    raw(0)
                        .parse::<i64>()
                        .ok()
                        .and_then(|fd| p.fds.get(&fd))
                        .map(|f| f.path.clone()),
                    raw(1),
                ),
            };
            if let (Some(path), Some(mode)) = (abs.as_deref().and_then(rel), parse_mode(mode)) {
                push(p, Op::Chmod { path, mode });
            }
        }
        "setxattr" | "lsetxattr" | "fsetxattr" => {
            if text(1).as_deref() != Some("system.posix_acl_access") {
                return Ok(());
            }
            let abs = if c.name == "fsetxattr" {
                raw(0)
                    .parse::<i64>()
                    .ok()
                    .and_then(|fd| p.fds.get(&fd))
                    .map(|f| f.path.clone())
            } else {
                plain(0)
            };
            let mode = arg(2).and_then(|a| a.string.as_deref()).and_then(acl_mode);
            if let (Some(path), Some(mode)) = (abs.as_deref().and_then(rel), mode) {
                push(p, Op::Chmod { path, mode });
            }
        }
        "getdents" | "getdents64" => {
            let Ok(fd) = raw(0).parse::<i64>() else {
                return Ok(());
            };
            // Only the first read of a directory stands for listing it.
            let first = !matches!(
                p.ops.last(),
                Some(RecordedOp {
                    op: Op::Readdir { .. },
                    ..
                })
            );
            if let Some(path) = p.fds.get(&fd).and_then(|f| rel(&f.path)) {
                if first {
                    push(p, Op::Readdir { path });
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn fd_num(fd: i64) -> std::result::Result<Fd, String> {
    Fd::try_from(fd).map_err(|_| format!("descriptor {fd} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode() {
        let (b, next) = decode_string(r#""a\"b\\c\n\303\251\x41"..."#, 0).unwrap();
        assert_eq!(b, b"a\"b\\c\n\xc3\xa9A");
        assert_eq!(next, r#""a\"b\\c\n\303\251\x41"..."#.len());
    }

    #[test]
    fn acl_decodes_to_a_mode() {
        let v = b"\x02\0\0\0\x01\0\x07\0\xff\xff\xff\xff\x04\0\x05\0\xff\xff\xff\xff\x20\0\x05\0\xff\xff\xff\xff";
        assert_eq!(acl_mode(v), Some(0o755));
    }
}
