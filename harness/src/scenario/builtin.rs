//! Scenarios compiled into the binary, so the showcase runs from anywhere.

use super::toml_format::parse_embedded;
use super::Scenario;
use crate::error::{Error, Result};

const FILES: &[(&str, &[u8])] = &[
    (
        "payloads/Cython-0.29.21.RECORD",
        include_bytes!("../../../scenarios/payloads/Cython-0.29.21.RECORD"),
    ),
    (
        "payloads/pip-21.1.2.RECORD",
        include_bytes!("../../../scenarios/payloads/pip-21.1.2.RECORD"),
    ),
];

const SCENARIOS: &[(&str, &[u8])] = &[
    (
        "sage-32361",
        include_bytes!("../../../scenarios/sage-32361.toml"),
    ),
    (
        "sage-32361-upgrade",
        include_bytes!("../../../scenarios/sage-32361-upgrade.toml"),
    ),
    (
        "pip-21.1.2",
        include_bytes!("../../../scenarios/pip-21.1.2.toml"),
    ),
];

/// Names of the built-in scenarios.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|(n, _)| *n).collect()
}

/// Loads the built-in scenario `name`.
pub fn load(name: &str) -> Result<Scenario> {
    let (_, bytes) = SCENARIOS.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown built-in scenario {name:?}; built-in: {}",
            names().join(", ")
        ))
    })?;
    parse_embedded(name, bytes, FILES)
}
