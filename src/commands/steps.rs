//! `buildprof steps`: every step identity across the selected builds.

use std::path::Path;
use std::process::ExitCode;

use analyzer::steps::{step_stats, StepsOptions};
use anyhow::Result;

use super::{open_store, output};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
pub struct StepsArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Include FROM, internal, cache import/export and image export steps.
    #[arg(long)]
    pub all: bool,
    /// At most this many step identities, costliest first (0: all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON (see docs/analyzer.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: StepsArgs) -> Result<ExitCode> {
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let opts = StepsOptions {
        all_kinds: args.all,
        limit: (args.limit > 0).then_some(args.limit),
    };
    let result = step_stats(store.connection(), &scope, &opts)?;
    output(args.json, &result, reports::render::terminal::steps::render)
}
