//! `prefixrace run`: not built yet; see the open issue for it.

use clap::Args;

use prefixrace::{Error, Result};

/// Arguments of `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Everything after the subcommand.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Runs `prefixrace run`.
pub fn run(_args: &RunArgs) -> Result<i32> {
    Err(Error::Usage(
        "`prefixrace run` is not available in this version".into(),
    ))
}
