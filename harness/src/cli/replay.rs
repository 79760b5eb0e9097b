//! `prefixrace replay`: run one schedule from its token.

use std::sync::Arc;

use clap::Args;

use super::{load_scenario, Format, ScenarioArgs};
use prefixrace::internals::fs::FsKind;
use prefixrace::internals::report;
use prefixrace::strategy::scenario_strategy;
use prefixrace::{replay, Error, Result, Setup};

/// Arguments of `replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The strategy the token was found under.
    #[arg(long)]
    pub strategy: String,
    /// The schedule token printed by explore.
    #[arg(long)]
    pub token: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The filesystem to replay on: model (in memory) or real (a temp dir).
    #[arg(long, default_value = "model")]
    pub fs: String,
}

/// Runs `prefixrace replay`.
pub fn run(args: &ReplayArgs) -> Result<i32> {
    let scenario = Arc::new(load_scenario(&args.scenario)?);
    let strategy = scenario_strategy(&args.strategy, &scenario)?;
    let setup = Setup::new(scenario.clone(), strategy.as_ref())?;
    let fs: FsKind = args.fs.parse().map_err(Error::Usage)?;
    super::remove_real_roots_on_signal(fs)?;
    let r = replay(&setup, &args.token, fs)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report::replay_json(&scenario, strategy.name(), &r))
                .expect("reports serialize")
        ),
        Format::Text => super::print_text(&report::replay_text(
            &scenario,
            strategy.name(),
            &args.token,
            &r,
        )),
    }
    Ok(i32::from(r.failure.is_some()))
}
