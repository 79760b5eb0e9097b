//! Relative path handling: normalization and containment checks.

use thiserror::Error;

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
    /// A component is longer than the kernel's NAME_MAX (255 bytes).
    #[error("path {0:?} has a component longer than 255 bytes")]
    TooLong(String),
}

/// Normalizes `path` relative to `base` (both `/`-separated and relative to
/// the prefix root): removes `.` and empty components and applies `..`.
/// Fails when the result would leave the prefix, or when the path is absolute
/// or contains NUL.
pub fn normalize_relative(base: &str, path: &str) -> Result<String, PathError> {
    if path.contains('\0') {
        return Err(PathError::Nul(path.to_string()));
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
    }

    #[test]
    fn split_parent_handles_top_level_names() {
        assert_eq!(split_parent("a/b/c"), ("a/b", "c"));
        assert_eq!(split_parent("a"), ("", "a"));
    }
}
