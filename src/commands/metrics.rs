//! `buildprof metrics`: per-build metrics, or one build's metrics with its critical path.

use std::path::Path;
use std::process::ExitCode;

use analyzer::metrics::{build_metrics, MetricsOptions};
use anyhow::Result;

use super::{open_store, print};
use crate::cli_analysis::MetricsArgs;

pub fn run(db: &Path, args: MetricsArgs) -> Result<ExitCode> {
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let build = match &args.build {
        Some(prefix) => Some(store.resolve_id(prefix)?),
        None => None,
    };
    let opts = MetricsOptions {
        critical_path: true,
        build: build.clone(),
    };
    let rows = build_metrics(store.connection(), &scope, &opts)?;
    match (args.json, build.is_some()) {
        (true, true) => print(&(serde_json::to_string_pretty(&rows.first())? + "\n"))?,
        (true, false) => print(&(serde_json::to_string_pretty(&rows)? + "\n"))?,
        (false, true) => match rows.first() {
            Some(m) => print(&reports::analysis::metrics::render_build(m))?,
            None => print("that build is not in the selection (--label/--since)\n")?,
        },
        (false, false) => print(&reports::analysis::metrics::render_table(&rows))?,
    }
    Ok(ExitCode::SUCCESS)
}
