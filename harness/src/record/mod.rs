//! Importers: turn real installs into payloads and scenarios.
//!
//! - [`payload_toml`]: a package (from a wheel, a RECORD or a staging tree)
//!   as a payload manifest;
//! - [`tree`]: a staging tree as it is on disk, in cp's inode order;
//! - [`strace`]: an `strace -f` log as one trace job per process;
//! - [`scenario_toml`]: recorded processes as a scenario of trace activities;
//! - [`op_line`]: the text form of one recorded op.
//!
//! Every writer is deterministic: the same input gives byte-identical output.

pub mod op_line;
pub mod payload_toml;
pub mod scenario_toml;
pub mod strace;
pub mod tree;
