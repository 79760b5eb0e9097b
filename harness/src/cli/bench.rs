//! `prefixrace bench`: not built yet; see the open issue for it.

use clap::Args;

use prefixrace::{Error, Result};

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Everything after the subcommand.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Runs `prefixrace bench`.
pub fn run(_args: &BenchArgs) -> Result<i32> {
    Err(Error::Usage(
        "`prefixrace bench` is not available in this version".into(),
    ))
}
