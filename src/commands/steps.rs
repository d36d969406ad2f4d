//! `buildprof steps`: every step identity across the selected builds.

use std::path::Path;
use std::process::ExitCode;

use analyzer::step_stats::{step_stats, StepsOptions};
use anyhow::Result;

use super::{open_store, print};
use crate::cli_analysis::StepsArgs;

pub fn run(db: &Path, args: StepsArgs) -> Result<ExitCode> {
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let opts = StepsOptions {
        all_kinds: args.all,
        limit: (args.limit > 0).then_some(args.limit),
    };
    let result = step_stats(store.connection(), &scope, &opts)?;
    if args.json {
        print(&(serde_json::to_string_pretty(&result)? + "\n"))?;
    } else {
        print(&reports::analysis::steps::render(&result))?;
    }
    Ok(ExitCode::SUCCESS)
}
