//! `buildprof trends`: the selected builds per week or day.

use std::path::Path;
use std::process::ExitCode;

use analyzer::trends::{trends, Period, TrendsOptions};
use anyhow::{bail, Result};

use super::{open_store, print, print_json};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
pub struct TrendsArgs {
    /// Period length.
    #[arg(long = "by", value_enum, default_value = "week")]
    pub period: PeriodArg,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Price of one CI runner-minute in USD, for the cost columns.
    #[arg(long, value_name = "USD", default_value_t = analyzer::cost::DEFAULT_PRICE_PER_MINUTE)]
    pub price_per_minute: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
}

pub fn run(db: &Path, args: TrendsArgs) -> Result<ExitCode> {
    if !(args.price_per_minute.is_finite() && args.price_per_minute >= 0.0) {
        bail!("--price-per-minute must be a non-negative number of USD");
    }
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let opts = TrendsOptions {
        period: match args.period {
            PeriodArg::Day => Period::Day,
            PeriodArg::Week => Period::Week,
        },
        price_per_minute: args.price_per_minute,
    };
    let result = trends(store.connection(), &scope, &opts)?;
    if args.json {
        print_json(&result)?;
    } else {
        print(&reports::render::terminal::trends::render(&result))?;
    }
    Ok(ExitCode::SUCCESS)
}
