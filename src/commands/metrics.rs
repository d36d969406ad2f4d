//! `buildprof metrics`: per-build metrics, or one build's metrics with its critical path.

use std::path::Path;
use std::process::ExitCode;

use analyzer::metrics::{build_metrics, MetricsOptions};
use anyhow::Result;
use reports::render::terminal::metrics::{render_build, render_table};

use super::{open_store, print, print_json};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// A build id or unique prefix: its metrics and critical path. Without it: one row per build.
    pub build: Option<String>,
    /// The builds listed, and the history savings are measured against.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Print JSON (see docs/analyzer.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: MetricsArgs) -> Result<ExitCode> {
    let scope = args.scope.scope()?;
    let store = open_store(db)?;
    let resolve = |prefix: &str| store.resolve_id(prefix);
    let build = args.build.as_deref().map(resolve).transpose()?;
    let opts = MetricsOptions {
        critical_path: true,
        build: build.clone(),
    };
    let rows = build_metrics(store.connection(), &scope, &opts)?;
    match (args.json, build.is_some()) {
        (true, true) => print_json(&rows.first())?,
        (true, false) => print_json(&rows)?,
        (false, true) => match rows.first() {
            Some(m) => print(&render_build(m))?,
            None => print("that build is not in the selection (--label/--since)\n")?,
        },
        (false, false) => print(&render_table(&rows))?,
    }
    Ok(ExitCode::SUCCESS)
}
