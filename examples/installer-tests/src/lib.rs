//! The installer under test would live here; its race tests are in
//! `tests/installer.rs`, its scenarios and regressions in `scenarios/`.
