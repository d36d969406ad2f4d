//! `buildprof compare`: groups of builds by a label, against a baseline, with statistics.

use std::path::Path;
use std::process::ExitCode;

use analyzer::compare::{compare, CompareOptions, Metric};
use analyzer::cost::CostOptions;
use anyhow::Result;

use super::{open_store, output};
use crate::args::{parse_price, ScopeArgs};

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The label whose values form the groups: strategy, builder, branch, runner, ...
    #[arg(long, value_name = "LABEL")]
    pub by: String,
    /// The group the others are compared with (default: the group with the most builds).
    #[arg(long, value_name = "VALUE")]
    pub baseline: Option<String>,
    #[arg(long, value_enum, default_value = "wall")]
    pub metric: Metric,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Compare failed, canceled and incomplete builds too (default: succeeded builds only).
    #[arg(long)]
    pub include_failed: bool,
    /// Add the cost model: CI minutes and money per build and per week, cache exports.
    #[arg(long)]
    pub cost: bool,
    /// Price of one CI runner-minute in USD, for --cost.
    #[arg(long, value_name = "USD", default_value_t = analyzer::cost::DEFAULT_PRICE_PER_MINUTE, value_parser = parse_price)]
    pub price_per_minute: f64,
    /// Builds per week to price a week at (default: each group's observed rate).
    #[arg(long, value_name = "N")]
    pub builds_per_week: Option<f64>,
    /// Bootstrap resamples for the 95% interval.
    #[arg(long, default_value_t = 5000)]
    pub resamples: usize,
    /// Seed of the bootstrap (results are reproducible for a given seed).
    #[arg(long, default_value_t = 0x5eed_b11d_0001)]
    pub seed: u64,
    /// Print JSON (keys: by, metric, baseline, groups; see docs/analyzer.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: CompareArgs) -> Result<ExitCode> {
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let opts = CompareOptions {
        baseline: args.baseline.clone(),
        metric: args.metric,
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
    output(
        args.json,
        &result,
        reports::render::terminal::compare::render,
    )
}
