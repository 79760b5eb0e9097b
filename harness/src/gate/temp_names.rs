//! Temporary names the gate cannot make repeat, shown as `~N` in traces.
//!
//! The tracees' entropy is seeded (`entropy.rs`), so Python's `tempfile`
//! and pip's names repeat. Two kinds of names still come from the clock:
//! Rust's `tempfile` crate (uv: `.tmpVPgzNO`) seeds its generator with the
//! time read through the vDSO, which no syscall stop sees, and CPython names
//! a `.pyc` temporary file after `id(path)`, a heap address that moves with
//! allocations sized by formatted times. A trace renames each such name to
//! `~N`, numbered by first appearance in the execution, so the same
//! schedule prints the same trace.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// The patterns of clock-dependent names.
fn patterns() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?P<rust>\.tmp[A-Za-z0-9]{6})(?P<rust_end>[/\x22>]|$)|(?P<pyc>\.pyc\.)(?P<id>[0-9]{6,})")
            .expect("a valid pattern")
    })
}

/// Renames clock-dependent temporary names to `~N`, consistently across the
/// lines of one execution.
#[derive(Debug, Default)]
pub struct TempNames {
    seen: HashMap<String, usize>,
}

impl TempNames {
    /// A renamer for one execution.
    pub fn new() -> TempNames {
        TempNames::default()
    }

    fn number(&mut self, name: &str) -> usize {
        let next = self.seen.len() + 1;
        *self.seen.entry(name.to_string()).or_insert(next)
    }

    /// `line` with every clock-dependent name replaced.
    pub fn canonical(&mut self, line: &str) -> String {
        let mut out = String::with_capacity(line.len());
        let mut last = 0;
        for caps in patterns().captures_iter(line) {
            let whole = caps.get(0).expect("group 0");
            out.push_str(&line[last..whole.start()]);
            if let Some(rust) = caps.name("rust") {
                let n = self.number(rust.as_str());
                out.push_str(&format!(".tmp~{n}"));
                out.push_str(caps.name("rust_end").map_or("", |m| m.as_str()));
            } else if let Some(id) = caps.name("id") {
                let n = self.number(id.as_str());
                out.push_str(&format!(".pyc.~{n}"));
            }
            last = whole.end();
        }
        out.push_str(&line[last..]);
        out
    }
}

/// `line` with every clock-dependent name replaced by `~`, without
/// numbering: two executions' calls compare equal under it whatever order
/// the names first appeared in (the gate's DPOR compares a replayed prefix
/// with the calls it recorded this way).
pub fn blurred(line: &str) -> String {
    patterns()
        .replace_all(line, |caps: &regex::Captures<'_>| {
            if caps.name("rust").is_some() {
                format!(".tmp~{}", caps.name("rust_end").map_or("", |m| m.as_str()))
            } else {
                ".pyc.~".to_string()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_dependent_names_are_numbered_by_first_appearance() {
        let mut t = TempNames::new();
        assert_eq!(
            t.canonical(r#"[A] openat(".tmpVPgzNO", O_RDWR|O_CREAT|O_EXCL, 0600) = 11"#),
            r#"[A] openat(".tmp~1", O_RDWR|O_CREAT|O_EXCL, 0600) = 11"#
        );
        assert_eq!(
            t.canonical(r#"[A] renameat2(".tmpVPgzNO", ".lock", 0x1) = 0"#),
            r#"[A] renameat2(".tmp~1", ".lock", 0x1) = 0"#
        );
        assert_eq!(
            t.canonical(r#"[B] openat("M/__pycache__/a.cpython-311.pyc.140234567", O_WRONLY) = 3"#),
            r#"[B] openat("M/__pycache__/a.cpython-311.pyc.~2", O_WRONLY) = 3"#
        );
        assert_eq!(
            t.canonical(r#"[A] linkat("/t/.tmpv4z1Oz/archive-v0/x", "x", 0x0) = 0"#),
            r#"[A] linkat("/t/.tmp~3/archive-v0/x", "x", 0x0) = 0"#
        );
    }

    #[test]
    fn blurred_names_compare_equal_across_executions() {
        assert_eq!(
            blurred(r#"openat("M/__pycache__/a.pyc.140234567", O_WRONLY)"#),
            blurred(r#"openat("M/__pycache__/a.pyc.140299999", O_WRONLY)"#)
        );
        assert_eq!(
            blurred(r#"rename(".tmpVPgzNO", ".lock")"#),
            r#"rename(".tmp~", ".lock")"#
        );
    }

    #[test]
    fn seeded_and_ordinary_names_are_left_alone() {
        let mut t = TempNames::new();
        for line in [
            r#"[A] openat("RECORDmkszztd6.tmp", O_RDWR) = 4"#,
            r#"[A] mkdir("M/__pycache__", 0777) = 0"#,
            r#"[A] openat("M/a.pyc", O_RDONLY) = 3"#,
            r#"[A] openat(".tmpdir/long_name", O_RDONLY) = 3"#,
        ] {
            assert_eq!(t.canonical(line), line);
        }
    }
}
