//! A scenario's whole payload against [`MAX_SCENARIO_SIZE`] and
//! [`MAX_SCENARIO_ENTRIES`]: each package is within its own limits when it
//! is loaded, and the loader charges it here before loading the next, so a
//! scenario of many packages each just under the per-package limit is
//! refused at the first one that crosses the total.

use super::allowance::PackageAllowance;
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

    /// What package `name`, loaded next, may hold: loaders check it before
    /// they read or make the package's bytes.
    pub fn allowance(&self, name: &str) -> PackageAllowance {
        PackageAllowance::within_scenario(
            name,
            (
                self.max_bytes.saturating_sub(self.bytes),
                self.max_entries.saturating_sub(self.entries),
            ),
            (self.max_bytes, self.max_entries),
        )
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

    /// A budget of 20 bytes with 8 of them spent by package "a".
    fn tight() -> ScenarioBudget {
        let [a, _] = <[Package; 2]>::try_from(packages()).unwrap();
        let mut budget = ScenarioBudget::with_limits(20, 100);
        budget.charge(&a, "s.toml", 3).unwrap();
        budget
    }

    #[test]
    fn a_record_that_would_cross_what_is_left_is_refused_at_its_line_before_bytes_are_made() {
        let allowance = tight().allowance("big");
        let record = b"big/a.py,,5\nbig/b.py,,10\nbig/c.py,,1\n";
        let err = crate::scenario::record::parse_record_within("R", record, "sp", None, &allowance)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "R:2: size: package \"big\": the scenario's payloads exceed the limit of 20 bytes in all"
        );
        let fits = b"big/a.py,,5\nbig/b.py,,7\n";
        crate::scenario::record::parse_record_within("R", fits, "sp", None, &allowance).unwrap();
    }

    #[test]
    fn a_wheel_is_refused_on_its_record_sizes_before_a_member_is_inflated() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big-1.0-py3-none-any.whl");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        // The member holds 3 bytes but RECORD declares 1000: were it read,
        // the refusal would be its size ("is 3 bytes, RECORD says 1000").
        w.start_file("big/a.py", options).unwrap();
        w.write_all(b"abc").unwrap();
        w.start_file("big-1.0.dist-info/RECORD", options).unwrap();
        w.write_all(b"big/a.py,sha256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0,1000\nbig-1.0.dist-info/RECORD,,\n")
            .unwrap();
        w.finish().unwrap();
        let allowance = tight().allowance("big");
        let err = crate::scenario::wheel::read_wheel_within(
            &path,
            "sp",
            crate::scenario::WheelCheck::Verify,
            &allowance,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.ends_with("RECORD:1: size: package \"big\": the scenario's payloads exceed the limit of 20 bytes in all"),
            "{err}"
        );
    }

    #[test]
    fn inline_files_are_counted_before_they_are_kept() {
        let mut budget = ScenarioBudget::with_limits(9, 100);
        let [a, _] = <[Package; 2]>::try_from(packages()).unwrap();
        budget.charge(&a, "s.toml", 3).unwrap();
        let allowance = budget.allowance("c");
        let src = "[[file]]\npath = \"c/x.py\"\ntext = \"12\"\n";
        #[derive(serde::Deserialize)]
        struct Files {
            file: Vec<crate::scenario::payload::RawFile>,
        }
        let raw: Files = toml::from_str(src).unwrap();
        let lines = crate::scenario::line_index::LineIndex::new(src);
        let err =
            crate::scenario::payload::convert_files("p.toml", &lines, raw.file, "sp", &allowance)
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.toml:2: text: package \"c\": the scenario's payloads exceed the limit of 9 bytes in all"
        );
    }
}
