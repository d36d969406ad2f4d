//! `buildprof trends`: the selected builds per week or day.

use std::path::Path;
use std::process::ExitCode;

use analyzer::trends::{trends, Period, TrendsOptions};
use anyhow::{bail, Result};

use super::{open_store, print};
use crate::cli_analysis::{PeriodArg, TrendsArgs};

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
        print(&(serde_json::to_string_pretty(&result)? + "\n"))?;
    } else {
        print(&reports::analysis::trends::render(&result))?;
    }
    Ok(ExitCode::SUCCESS)
}
