//! A scenario's whole payload against [`MAX_SCENARIO_SIZE`] and
//! [`MAX_SCENARIO_ENTRIES`]: each package is within its own limits when it
//! is loaded, and the loader charges it here before loading the next, so a
//! scenario of many packages each just under the per-package limit is
//! refused at the first one that crosses the total.

use super::{Package, PayloadKind};
use crate::error::{Error, Result};
use crate::limits::{MAX_SCENARIO_ENTRIES, MAX_SCENARIO_SIZE};

/// The bytes and entries of the packages loaded so far.
#[derive(Debug)]
pub(crate) struct ScenarioBudget {
    bytes: u64,
    entries: usize,
    max_bytes: u64,
    max_entries: usize,
}

impl Default for ScenarioBudget {
    fn default() -> Self {
        ScenarioBudget::with_limits(MAX_SCENARIO_SIZE, MAX_SCENARIO_ENTRIES)
    }
}

impl ScenarioBudget {
    /// A budget with other limits than the crate's (for tests).
    fn with_limits(max_bytes: u64, max_entries: usize) -> Self {
        ScenarioBudget {
            bytes: 0,
            entries: 0,
            max_bytes,
            max_entries,
        }
    }

    /// Adds `pkg`, declared at `line` of `file`; an error names the package
    /// when the scenario's total crosses a limit.
    pub fn charge(&mut self, pkg: &Package, file: &str, line: usize) -> Result<()> {
        let bytes: u64 = pkg
            .payload
            .iter()
            .map(|e| match &e.kind {
                PayloadKind::File(blob) => blob.len(),
                PayloadKind::Dir | PayloadKind::Symlink(_) => 0,
            })
            .sum();
        self.bytes = self.bytes.saturating_add(bytes);
        self.entries = self.entries.saturating_add(pkg.payload.len());
        let over = if self.bytes > self.max_bytes {
            format!(
                "the scenario's payloads exceed the limit of {} bytes in all",
                self.max_bytes
            )
        } else if self.entries > self.max_entries {
            format!(
                "the scenario's payloads exceed the limit of {} entries in all",
                self.max_entries
            )
        } else {
            return Ok(());
        };
        Err(Error::input(
            file,
            line,
            "package",
            format!("package {:?}: {over}", pkg.name),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn packages() -> Vec<Package> {
        Scenario::builder("b")
            .package("a")
            .file("a/one.py", "12345")
            .file("a/two.py", "123")
            .package("b")
            .dir("b")
            .file("b/three.py", "1234")
            .build()
            .unwrap()
            .packages
    }

    #[test]
    fn the_package_that_crosses_the_byte_total_is_named() {
        let [a, b] = <[Package; 2]>::try_from(packages()).unwrap();
        let mut budget = ScenarioBudget::with_limits(10, 100);
        budget.charge(&a, "s.toml", 3).unwrap();
        let err = budget.charge(&b, "s.toml", 9).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.toml:9: package: package \"b\": the scenario's payloads exceed the limit of 10 bytes in all"
        );
        let mut exact = ScenarioBudget::with_limits(12, 100);
        exact.charge(&a, "s.toml", 3).unwrap();
        exact.charge(&b, "s.toml", 9).unwrap();
    }

    #[test]
    fn so_is_the_one_that_crosses_the_entry_total() {
        let [a, b] = <[Package; 2]>::try_from(packages()).unwrap();
        let mut budget = ScenarioBudget::with_limits(1 << 20, 3);
        budget.charge(&a, "s.toml", 3).unwrap();
        let err = budget.charge(&b, "s.toml", 9).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("exceed the limit of 3 entries in all"),
            "{err}"
        );
    }
}
