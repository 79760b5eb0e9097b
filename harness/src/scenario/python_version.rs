//! The Python version an install targets: the site-packages directory
//! (`lib/python3.11/site-packages`), the bytecode tag (`cpython-311`) and the
//! interpreter console scripts name in their shebang. `--python X.Y` gives
//! it, or the wheels' tags do: a `cp311` wheel (not `abi3`) runs on CPython
//! 3.11 only; a `py3-none-any` wheel leaves the scenario's default.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, Result};

/// A CPython version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    /// 3.
    pub major: u32,
    /// 11 in 3.11.
    pub minor: u32,
}

impl PythonVersion {
    /// Parses `X.Y` (`3.11`), as `--python` takes it.
    pub fn parse(text: &str) -> std::result::Result<PythonVersion, String> {
        let wrong = || format!("{text:?} is not a Python version like 3.11");
        let (major, minor) = text.split_once('.').ok_or_else(wrong)?;
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        match (number(major), number(minor)) {
            (Some(major @ 2..=3), Some(minor)) => Ok(PythonVersion { major, minor }),
            _ => Err(wrong()),
        }
    }

    /// The version a bytecode tag names: `cpython-311` is 3.11.
    pub fn from_tag(tag: &str) -> Option<PythonVersion> {
        let digits = tag.strip_prefix("cpython-")?;
        from_digits(digits)
    }

    /// The bytecode tag: `cpython-311`.
    pub fn tag(&self) -> String {
        format!("cpython-{}{}", self.major, self.minor)
    }

    /// site-packages relative to the prefix: `lib/python3.11/site-packages`.
    pub fn site_packages(&self) -> String {
        format!("lib/python{}.{}/site-packages", self.major, self.minor)
    }
}

impl std::fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// `311` as 3.11 (the major version is one digit).
fn from_digits(digits: &str) -> Option<PythonVersion> {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(PythonVersion {
        major: digits[..1].parse().ok()?,
        minor: digits[1..].parse().ok()?,
    })
}

/// The CPython versions a wheel's file name pins it to
/// (`NAME-VER[-BUILD]-PY-ABI-PLAT.whl`): its `cpXY` python tags, unless its
/// ABI is `abi3` (then any later version loads it). `None` when
/// it is not a wheel name or pins nothing.
pub fn wheel_versions(path: &Path) -> Option<BTreeSet<PythonVersion>> {
    let name = path.file_name()?.to_str()?.strip_suffix(".whl")?;
    let parts: Vec<&str> = name.split('-').collect();
    if parts.len() < 5 {
        return None;
    }
    let (python, abi) = (parts[parts.len() - 3], parts[parts.len() - 2]);
    if abi.split('.').any(|a| a == "abi3") {
        return None;
    }
    let versions: BTreeSet<PythonVersion> = python
        .split('.')
        .filter_map(|t| t.strip_prefix("cp").and_then(from_digits))
        .collect();
    (!versions.is_empty()).then_some(versions)
}

/// The one version `wheels` (as given to `--package`) all run on, if any
/// pins one: the highest they share. Two that share none are an error
/// naming both.
pub fn version_of_wheels(wheels: &[String]) -> Result<Option<PythonVersion>> {
    let mut shared: Option<(BTreeSet<PythonVersion>, &str)> = None;
    for w in wheels {
        let Some(versions) = wheel_versions(Path::new(w)) else {
            continue;
        };
        shared = Some(match shared {
            None => (versions, w),
            Some((before, first)) => {
                let common: BTreeSet<PythonVersion> =
                    before.intersection(&versions).copied().collect();
                if common.is_empty() {
                    return Err(Error::Usage(format!(
                        "--package {w} is for Python {}, but --package {first} is for Python {}: give wheels of one Python version, or --python X.Y",
                        list(&versions),
                        list(&before)
                    )));
                }
                (common, first)
            }
        });
    }
    Ok(shared.and_then(|(v, _)| v.last().copied()))
}

fn list(versions: &BTreeSet<PythonVersion>) -> String {
    versions
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32) -> PythonVersion {
        PythonVersion { major, minor }
    }

    #[test]
    fn versions_parse_and_name_their_directories() {
        assert_eq!(PythonVersion::parse("3.11"), Ok(v(3, 11)));
        for bad in ["3", "3.", ".9", "3.x", "4.0", "3.11.2", "", "03.1111"] {
            assert!(PythonVersion::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(v(3, 11).tag(), "cpython-311");
        assert_eq!(v(3, 9).site_packages(), "lib/python3.9/site-packages");
        assert_eq!(PythonVersion::from_tag("cpython-39"), Some(v(3, 9)));
        assert_eq!(PythonVersion::from_tag("pypy-39"), None);
    }

    #[test]
    fn cp_tags_pin_and_pure_or_abi3_wheels_do_not() {
        let pins = |n: &str| wheel_versions(Path::new(n));
        assert_eq!(
            pins("markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.whl"),
            Some([v(3, 11)].into())
        );
        assert_eq!(pins("black-26.10.1-py3-none-any.whl"), None);
        assert_eq!(pins("x-1.0-cp37-abi3-manylinux2014_x86_64.whl"), None);
        assert_eq!(pins("x.toml"), None);
        assert_eq!(
            pins("x-1.0-1build-cp310.cp311-cp310.cp311-linux_x86_64.whl"),
            Some([v(3, 10), v(3, 11)].into())
        );
    }

    #[test]
    fn wheels_of_two_versions_are_refused_naming_both() {
        let err = version_of_wheels(&[
            "a-1-cp311-cp311-linux_x86_64.whl".into(),
            "b-1-py3-none-any.whl".into(),
            "c-1-cp310-cp310-linux_x86_64.whl".into(),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("c-1-cp310") && err.contains("a-1-cp311"),
            "{err}"
        );
        assert_eq!(
            version_of_wheels(&["b-1-py3-none-any.whl".into()]).unwrap(),
            None
        );
    }
}
