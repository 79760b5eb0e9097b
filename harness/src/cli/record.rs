//! `prefixrace record`: not built yet; see the open issue for it.

use clap::Args;

use prefixrace::{Error, Result};

/// Arguments of `record`.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Everything after the subcommand.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Runs `prefixrace record`.
pub fn run(_args: &RecordArgs) -> Result<i32> {
    Err(Error::Usage(
        "`prefixrace record` is not available in this version".into(),
    ))
}
