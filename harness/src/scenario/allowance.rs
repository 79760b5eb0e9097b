//! What one package may still add: the smaller of the per-package limit
//! and what the scenario's budget has left. The loaders (RECORD, wheel,
//! payload manifest, `[[package.file]]`) check their declared sizes and
//! entry counts against it *before* they make, read or inflate a byte, so
//! a package that would cross the scenario's total is refused before it is
//! in memory (issue 16), with one line naming the package.

use crate::limits::{MAX_PACKAGE_SIZE, MAX_SCENARIO_ENTRIES};

/// The bytes and entries one package may hold.
#[derive(Debug, Clone)]
pub(crate) struct PackageAllowance {
    /// Bytes the package may hold.
    pub bytes: u64,
    /// Entries the package may hold.
    pub entries: usize,
    /// Set when the scenario's budget, not the package limit, binds: the
    /// package's name and the scenario's limits, for the error.
    scenario: Option<(String, u64, usize)>,
}

impl PackageAllowance {
    /// A package loaded alone (`--package`, `record`): the package limit.
    pub fn standalone() -> Self {
        PackageAllowance {
            bytes: MAX_PACKAGE_SIZE,
            entries: MAX_SCENARIO_ENTRIES,
            scenario: None,
        }
    }

    /// Package `name` of a scenario whose budget of `max_bytes` and
    /// `max_entries` has `left_bytes` and `left_entries` left.
    pub fn within_scenario(
        name: &str,
        (left_bytes, left_entries): (u64, usize),
        (max_bytes, max_entries): (u64, usize),
    ) -> Self {
        PackageAllowance {
            bytes: left_bytes.min(MAX_PACKAGE_SIZE),
            entries: left_entries.min(MAX_SCENARIO_ENTRIES),
            scenario: (left_bytes < MAX_PACKAGE_SIZE || left_entries < MAX_SCENARIO_ENTRIES)
                .then(|| (name.to_string(), max_bytes, max_entries)),
        }
    }

    /// Why `bytes` in all is too many, or `None` when it fits.
    pub fn over_bytes(&self, bytes: u64) -> Option<String> {
        if bytes <= self.bytes {
            return None;
        }
        Some(match &self.scenario {
            Some((name, max, _)) if self.bytes < MAX_PACKAGE_SIZE => format!(
                "package {name:?}: the scenario's payloads exceed the limit of {max} bytes in all"
            ),
            _ => format!("payload exceeds the limit of {MAX_PACKAGE_SIZE} bytes"),
        })
    }

    /// Why `entries` in all is too many, or `None` when it fits.
    pub fn over_entries(&self, entries: usize) -> Option<String> {
        if entries <= self.entries {
            return None;
        }
        Some(match &self.scenario {
            Some((name, _, max)) => format!(
                "package {name:?}: the scenario's payloads exceed the limit of {max} entries in all"
            ),
            None => format!("payload exceeds the limit of {MAX_SCENARIO_ENTRIES} entries"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_binds_only_when_it_has_less_left_than_a_package_may_hold() {
        let roomy = PackageAllowance::within_scenario("a", (u64::MAX, usize::MAX), (0, 0));
        assert_eq!(roomy.bytes, MAX_PACKAGE_SIZE);
        assert!(roomy.scenario.is_none());
        let tight = PackageAllowance::within_scenario("b", (10, 3), (100, 50));
        assert_eq!(tight.over_bytes(10), None);
        assert_eq!(
            tight.over_bytes(11).unwrap(),
            "package \"b\": the scenario's payloads exceed the limit of 100 bytes in all"
        );
        assert_eq!(
            tight.over_entries(4).unwrap(),
            "package \"b\": the scenario's payloads exceed the limit of 50 entries in all"
        );
    }
}
