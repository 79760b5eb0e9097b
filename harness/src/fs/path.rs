//! Relative path handling: normalization and containment checks.

use thiserror::Error;

use crate::op::Op;

/// Why a path was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PathError {
    /// The path is absolute.
    #[error("absolute path {0:?} is not allowed")]
    Absolute(String),
    /// The path climbs out of its root with `..`.
    #[error("path {0:?} climbs out of the prefix")]
    Escapes(String),
    /// The path contains a NUL byte.
    #[error("path {0:?} contains a NUL byte")]
    Nul(String),
    /// The path is empty.
    #[error("path is empty")]
    Empty,
    /// The path holds a control character: a newline in a path could
    /// forge a line of a report or of a recorded scenario.
    #[error("path {0:?} holds the control character {1:?}")]
    Control(String, char),
    /// A component is longer than the kernel's NAME_MAX (255 bytes).
    #[error("path {0:?} has a component longer than 255 bytes")]
    TooLong(String),
}

/// The index of the last `/` in `path`, scanning eight bytes at a time from
/// the end (the model splits every op's path this way; `rfind` paid for its
/// generality there).
pub(crate) fn last_slash(path: &str) -> Option<usize> {
    const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const SLASHES: u64 = 0x0101_0101_0101_0101 * b'/' as u64;
    let bytes = path.as_bytes();
    let mut end = bytes.len();
    while end >= 8 {
        let word = u64::from_le_bytes(bytes[end - 8..end].try_into().expect("8 bytes"));
        let x = word ^ SLASHES;
        // A byte of `x` is zero exactly where `word` holds a slash; the high
        // bit of each byte of `found` is set exactly for those bytes (adding
        // 0x7f to the low seven bits of a byte carries into its high bit
        // unless they are all zero, and never into the next byte). The last
        // slash is the highest flagged byte.
        let found = !(((x & LOWS) + LOWS) | x | LOWS);
        if found != 0 {
            return Some(end - 1 - (found.leading_zeros() / 8) as usize);
        }
        end -= 8;
    }
    bytes[..end].iter().rposition(|&b| b == b'/')
}

/// Normalizes `path` relative to `base` (both `/`-separated and relative to
/// the prefix root): removes `.` and empty components and applies `..`.
/// Fails when the result would leave the prefix, or when the path is absolute
/// or contains NUL.
pub fn normalize_relative(base: &str, path: &str) -> Result<String, PathError> {
    if path.contains('\0') {
        return Err(PathError::Nul(path.to_string()));
    }
    if let Some(c) = control_character(path) {
        return Err(PathError::Control(path.to_string(), c));
    }
    if path.starts_with('/') {
        return Err(PathError::Absolute(path.to_string()));
    }
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.split('/').any(|c| c.len() > 255) {
        return Err(PathError::TooLong(path.to_string()));
    }
    let mut parts: Vec<&str> = base
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathError::Escapes(path.to_string()));
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(parts.join("/"))
}

/// The first control character of `text` (a path, a name, a symlink
/// target), if it holds one. Every reader of payload paths refuses them:
/// a newline in a path could forge a line of a report.
pub fn control_character(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

/// The first control character in a path or symlink target `op` names,
/// with the name of the field that holds it.
pub fn control_in_op(op: &Op) -> Option<(&'static str, char)> {
    let field = |name: &'static str, text: &str| control_character(text).map(|c| (name, c));
    match op {
        Op::Rename { from, to } | Op::Link { from, to } => {
            field("from", from).or_else(|| field("to", to))
        }
        Op::RenameExchange { a, b } => field("a", a).or_else(|| field("b", b)),
        Op::Symlink { target, path } => field("target", target).or_else(|| field("path", path)),
        other => field("path", other.path()),
    }
}

/// Splits `a/b/c` into (`a/b`, `c`); a single component has parent `""`.
pub fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// The parent of `path`, `""` for the root's children.
pub fn parent_of(path: &str) -> &str {
    split_parent(path).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against `rfind` on every length up to 40 and slashes at every
    /// place, next to bytes that make the word trick raise false flags
    /// (`0` is `/` + 1) and next to non-ASCII bytes.
    #[test]
    fn last_slash_agrees_with_rfind() {
        // `¯` is 0xC2 0xAF: 0xAF is a slash with its high bit set.
        let fillers = ["a", "0", "é", ".", "¯"];
        for len in 0..40 {
            for filler in fillers {
                let base: String = filler.repeat(len);
                assert_eq!(last_slash(&base), base.rfind('/'), "{base:?}");
                for at in 0..base.len() {
                    if !base.is_char_boundary(at) {
                        continue;
                    }
                    let one = format!("{}/{}", &base[..at], &base[at..]);
                    assert_eq!(last_slash(&one), one.rfind('/'), "{one:?}");
                    for second in 0..=one.len() {
                        if one.is_char_boundary(second) {
                            let two = format!("{}/{}", &one[..second], &one[second..]);
                            assert_eq!(last_slash(&two), two.rfind('/'), "{two:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn record_paths_relative_to_site_packages_stay_inside() {
        let sp = "lib/python3.9/site-packages";
        assert_eq!(
            normalize_relative(sp, "../../../bin/cython").unwrap(),
            "bin/cython"
        );
        assert_eq!(
            normalize_relative(sp, "Cython/./x.py").unwrap(),
            "lib/python3.9/site-packages/Cython/x.py"
        );
        assert!(matches!(
            normalize_relative(sp, "../../../../etc/x"),
            Err(PathError::Escapes(_))
        ));
        assert!(matches!(
            normalize_relative("", "../etc/x"),
            Err(PathError::Escapes(_))
        ));
        assert!(matches!(
            normalize_relative("", "/etc/x"),
            Err(PathError::Absolute(_))
        ));
        assert!(matches!(
            normalize_relative("", "a\0b"),
            Err(PathError::Nul(_))
        ));
        assert!(matches!(
            normalize_relative("", "a\nb"),
            Err(PathError::Control(_, '\n'))
        ));
    }

    #[test]
    fn split_parent_handles_top_level_names() {
        assert_eq!(split_parent("a/b/c"), ("a/b", "c"));
        assert_eq!(split_parent("a"), ("", "a"));
    }
}
