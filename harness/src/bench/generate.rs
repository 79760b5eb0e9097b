//! Generated scenarios for the scaling benchmarks: many small packages, or
//! several long installs racing.
//!
//! Both are TOML text (what `prefixrace explore` reads; [`write()`] puts one
//! in a file) and load without the repository: the recorded payloads they
//! name are compiled in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::scenario::{parse, FileSource, Scenario};

/// The recorded payloads the generated scenarios name.
const PAYLOADS: &[(&str, &[u8])] = &[
    (
        "payloads/Cython-0.29.21.RECORD",
        include_bytes!("../../../scenarios/payloads/Cython-0.29.21.RECORD"),
    ),
    (
        "payloads/pip-21.1.2.RECORD",
        include_bytes!("../../../scenarios/payloads/pip-21.1.2.RECORD"),
    ),
];

const HEADER: &str = "prefix = \"/sage/local\"\nsite-packages = \"lib/python3.9/site-packages\"\npython-tag = \"cpython-39\"\n";

/// `n` one-file packages `p1` … `pN` (each `pI/__init__.py`), installed
/// concurrently: the cost of scale in jobs, with little racing.
pub fn packages(n: usize) -> String {
    let mut s =
        format!("name = \"packages-{n}\"\ndescription = \"{n} one-file packages\"\n{HEADER}");
    for i in 1..=n {
        let _ = write!(
            s,
            "\n[[package]]\nname = \"p{i}\"\nversion = \"1.0\"\n\n[[package.file]]\npath = \"p{i}/__init__.py\"\ntext = \"x = {i}\\n\"\n"
        );
    }
    s
}

/// What the long jobs of [`long_jobs`] install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongKind {
    /// Every job installs Cython 0.29.21 (two pips of one distribution,
    /// as in SageMath #33060).
    Same,
    /// Jobs alternate between Cython 0.29.21 and pip 21.1.2: different
    /// distributions sharing only the prefix's directories.
    Mixed,
}

/// `k` long installs racing into one prefix that holds Python's
/// site-packages (laid down by a first package they all come after).
pub fn long_jobs(k: usize, kind: LongKind) -> String {
    let mut s = format!(
        "name = \"long-{k}\"\ndescription = \"{k} concurrent long installs\"\n{HEADER}\n[[package]]\nname = \"python3\"\nversion = \"3.9.18\"\ncompile = false\n\n[[package.file]]\npath = \"README.txt\"\ntext = \"site-packages\\n\"\n"
    );
    for i in 1..=k {
        let (dist, version, record) = match (kind, i % 2) {
            (LongKind::Mixed, 0) => ("pip", "21.1.2", "payloads/pip-21.1.2.RECORD"),
            _ => ("Cython", "0.29.21", "payloads/Cython-0.29.21.RECORD"),
        };
        let _ = write!(
            s,
            "\n[[package]]\nname = \"{dist}-{i}\"\nversion = \"{version}\"\nafter = [\"python3\"]\nrecord = \"{record}\"\n"
        );
    }
    s
}

/// Serves the compiled-in payloads.
struct Payloads;

impl FileSource for Payloads {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        PAYLOADS
            .iter()
            .find(|(n, _)| *n == rel)
            .map(|(_, b)| b.to_vec())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, rel.to_string()))
    }
    fn resolve(&self, rel: &str) -> PathBuf {
        PathBuf::from(format!("generated:{rel}"))
    }
}

/// Loads generated TOML text.
pub fn load(name: &str, toml: &str) -> Result<Scenario> {
    let s = parse(&format!("generated:{name}"), toml.as_bytes(), &Payloads)?;
    s.check()?;
    Ok(s)
}

/// Writes generated TOML text to `dir/NAME.toml`, with the payloads it names
/// beside it, so that `prefixrace explore` can read it; the file's path.
pub fn write(dir: &Path, name: &str, toml: &str) -> Result<PathBuf> {
    let io = |p: &Path, e: std::io::Error| Error::io(p.display().to_string(), &e);
    std::fs::create_dir_all(dir.join("payloads")).map_err(|e| io(dir, e))?;
    for (rel, bytes) in PAYLOADS {
        let p = dir.join(rel);
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))?;
    }
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, toml).map_err(|e| io(&p, e))?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_scenarios_load_with_one_job_per_package() {
        assert_eq!(load("p", &packages(10)).unwrap().packages.len(), 10);
        let mixed = load("m", &long_jobs(4, LongKind::Mixed)).unwrap();
        assert_eq!(mixed.packages.len(), 5);
        assert_ne!(mixed.packages[1].version, mixed.packages[2].version);
    }
}
