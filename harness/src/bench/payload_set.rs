//! The recorded payloads the parallel-install benchmark writes, and the tree
//! they make once byte-compiled.
//!
//! Cython 0.29.21 and pip 21.1.2 come from the shared recordings; setuptools
//! 68.2.2, six 1.16.0, sympy 1.12 and wheel 0.41.2 are the RECORD files of
//! their PyPI wheels (`scenarios/payloads/bench/`). File bytes are made from
//! each recorded hash and size ([`Blob::synthetic`]), so sizes match the real
//! wheels. All are compiled into the binary.

use std::sync::Arc;

use rayon::prelude::*;

use crate::content::Blob;
use crate::error::{Error, Result};
use crate::scenario::{parse_record, PayloadKind, DEFAULT_PYTHON_TAG, DEFAULT_SITE_PACKAGES};

/// `name-version` of every package of the whole set, in install order.
pub const PACKAGES: &[&str] = &[
    "Cython-0.29.21",
    "pip-21.1.2",
    "setuptools-68.2.2",
    "six-1.16.0",
    "sympy-1.12",
    "wheel-0.41.2",
];

/// Embedded RECORD files: (name, bytes).
const RECORDS: &[(&str, &[u8])] = &[
    (
        "Cython-0.29.21",
        include_bytes!("../../../scenarios/payloads/Cython-0.29.21.RECORD"),
    ),
    (
        "pip-21.1.2",
        include_bytes!("../../../scenarios/payloads/pip-21.1.2.RECORD"),
    ),
    (
        "setuptools-68.2.2",
        include_bytes!("../../../scenarios/payloads/bench/setuptools-68.2.2.RECORD"),
    ),
    (
        "six-1.16.0",
        include_bytes!("../../../scenarios/payloads/bench/six-1.16.0.RECORD"),
    ),
    (
        "sympy-1.12",
        include_bytes!("../../../scenarios/payloads/bench/sympy-1.12.RECORD"),
    ),
    (
        "wheel-0.41.2",
        include_bytes!("../../../scenarios/payloads/bench/wheel-0.41.2.RECORD"),
    ),
];

/// One regular file of a package, relative to the prefix.
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Path relative to the prefix root.
    pub path: Arc<str>,
    /// The bytes.
    pub blob: Arc<Blob>,
    /// Permission bits.
    pub mode: u32,
}

/// One package of the set: its payload and the bytecode an installer adds.
#[derive(Debug, Clone)]
pub struct SetPackage {
    /// `name-version`.
    pub name: String,
    /// The payload, in RECORD order.
    pub files: Vec<TreeFile>,
    /// One stand-in `.pyc` per `.py` under site-packages, as pip's compileall writes.
    pub bytecode: Vec<TreeFile>,
}

impl SetPackage {
    /// Every file the package leaves in the prefix: payload, then bytecode.
    pub fn tree(&self) -> impl Iterator<Item = &TreeFile> {
        self.files.iter().chain(self.bytecode.iter())
    }
}

/// The packages installed together into one fresh prefix.
#[derive(Debug, Clone)]
pub struct PayloadSet {
    /// The packages, in install order.
    pub packages: Vec<SetPackage>,
}

impl PayloadSet {
    /// The packages named in `names` (each one of [`PACKAGES`]), in that order.
    pub fn load(names: &[&str]) -> Result<PayloadSet> {
        let packages = names
            .par_iter()
            .map(|name| {
                let (_, bytes) = RECORDS.iter().find(|(n, _)| n == name).ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown benchmark package {name:?}; known: {}",
                        PACKAGES.join(", ")
                    ))
                })?;
                load_package(name, bytes)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PayloadSet { packages })
    }

    /// Number of files the set leaves in the prefix.
    pub fn file_count(&self) -> u64 {
        self.packages.iter().map(|p| p.tree().count() as u64).sum()
    }

    /// Bytes of those files.
    pub fn byte_count(&self) -> u64 {
        self.packages
            .iter()
            .flat_map(|p| p.tree())
            .map(|f| f.blob.len())
            .sum()
    }

    /// `name-version` of every package.
    pub fn names(&self) -> Vec<String> {
        self.packages.iter().map(|p| p.name.clone()).collect()
    }
}

/// Parses one embedded RECORD and derives its bytecode files.
fn load_package(name: &str, record: &[u8]) -> Result<SetPackage> {
    let entries = parse_record(name, record, DEFAULT_SITE_PACKAGES, None)?;
    let files: Vec<TreeFile> = entries
        .into_iter()
        .filter_map(|e| match e.kind {
            PayloadKind::File(blob) => Some(TreeFile {
                path: e.path,
                blob,
                mode: e.mode,
            }),
            PayloadKind::Dir | PayloadKind::Symlink(_) => None,
        })
        .collect();
    let bytecode = files
        .iter()
        .filter(|f| f.path.starts_with(DEFAULT_SITE_PACKAGES) && f.path.ends_with(".py"))
        .map(|f| TreeFile {
            path: pyc_path(&f.path).into(),
            blob: Blob::bytecode(&f.blob.digest()),
            mode: 0o644,
        })
        .collect();
    Ok(SetPackage {
        name: name.to_string(),
        files,
        bytecode,
    })
}

/// `dir/__pycache__/stem.cpython-39.pyc` for `dir/stem.py`.
fn pyc_path(source: &str) -> String {
    let (dir, file) = crate::fs::split_parent(source);
    let stem = file.trim_end_matches(".py");
    format!("{dir}/__pycache__/{stem}.{DEFAULT_PYTHON_TAG}.pyc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_set_has_bytecode_next_to_its_sources() {
        let set = PayloadSet::load(&["six-1.16.0", "wheel-0.41.2"]).unwrap();
        assert_eq!(set.names(), ["six-1.16.0", "wheel-0.41.2"]);
        let six = &set.packages[0];
        assert!(six
            .bytecode
            .iter()
            .any(|f| &*f.path == "lib/python3.9/site-packages/__pycache__/six.cpython-39.pyc"));
        assert_eq!(
            set.file_count(),
            set.packages
                .iter()
                .map(|p| (p.files.len() + p.bytecode.len()) as u64)
                .sum::<u64>()
        );
    }

    #[test]
    fn every_named_package_is_embedded() {
        assert_eq!(RECORDS.len(), PACKAGES.len());
        assert!(PayloadSet::load(&["nonesuch-1"]).is_err());
    }
}
