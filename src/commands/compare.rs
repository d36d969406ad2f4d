//! `buildprof compare`: groups of builds by a label, against a baseline, with statistics.

use std::path::Path;
use std::process::ExitCode;

use analyzer::compare::{compare, CompareOptions};
use analyzer::cost::CostOptions;
use anyhow::{bail, Result};

use super::{open_store, print};
use crate::cli_analysis::CompareArgs;

pub fn run(db: &Path, args: CompareArgs) -> Result<ExitCode> {
    if !(args.price_per_minute.is_finite() && args.price_per_minute >= 0.0) {
        bail!("--price-per-minute must be a non-negative number of USD");
    }
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let opts = CompareOptions {
        baseline: args.baseline.clone(),
        metric: args.metric.into(),
        include_failed: args.include_failed,
        resamples: args.resamples,
        seed: args.seed,
        cost: args.cost.then_some(CostOptions {
            price_per_minute: args.price_per_minute,
            builds_per_week: args.builds_per_week,
        }),
        ..CompareOptions::new(&args.by)
    };
    let result = compare(store.connection(), &scope, &opts)?;
    if args.json {
        print(&(serde_json::to_string_pretty(&result)? + "\n"))?;
    } else {
        print(&reports::analysis::compare::render(&result))?;
    }
    Ok(ExitCode::SUCCESS)
}
