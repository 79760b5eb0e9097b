//! `prefixrace merge`: one verdict from the JSON reports of a sharded exploration.

use std::path::Path;

use clap::Args;

use super::Format;
use prefixrace::internals::merge::merge;
use prefixrace::{Error, Result};

/// Arguments of `merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The JSON reports of `explore --shard I/N --format json`, one per shard, in any order.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs `prefixrace merge`: exit 0 when the merged run passed, 1 when it found a failure.
pub fn run(args: &MergeArgs) -> Result<i32> {
    let inputs = args
        .reports
        .iter()
        .map(|file| {
            let bytes = prefixrace::internals::limits::read_input(Path::new(file))
                .map_err(|e| Error::io(file.clone(), &e))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::input(file.clone(), 0, "json", "not UTF-8 text"))?;
            Ok((file.clone(), text))
        })
        .collect::<Result<Vec<_>>>()?;
    let merged = merge(&inputs)?;
    match args.format {
        Format::Text => super::print_text(&merged.text()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&merged).expect("reports serialize")
        ),
    }
    Ok(i32::from(merged.failed()))
}
