//! `buildprof trends`: the selected builds per week or day.

use std::path::Path;
use std::process::ExitCode;

use analyzer::trends::{trends, Period, TrendsOptions};
use anyhow::Result;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::{open_store, output};
use crate::args::{parse_price, ScopeArgs};

#[derive(Debug, clap::Args)]
pub struct TrendsArgs {
    /// Period length.
    #[arg(long = "by", default_value = "week", value_parser = PossibleValuesParser::new(["day", "week"]).map(|p| if p == "day" { Period::Day } else { Period::Week }))]
    pub period: Period,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Price of one CI runner-minute in USD, for the cost columns.
    #[arg(long, value_name = "USD", default_value_t = analyzer::cost::DEFAULT_PRICE_PER_MINUTE, value_parser = parse_price)]
    pub price_per_minute: f64,
    /// Print JSON (see docs/analyzer.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: TrendsArgs) -> Result<ExitCode> {
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let opts = TrendsOptions {
        period: args.period,
        price_per_minute: args.price_per_minute,
    };
    let result = trends(store.connection(), &scope, &opts)?;
    output(
        args.json,
        &result,
        reports::render::terminal::trends::render,
    )
}
