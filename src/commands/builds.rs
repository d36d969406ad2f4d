//! `buildprof builds`: list stored builds.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use export::contract::BuildJson;
use reports::render::terminal::builds_table;

use super::{open_store, print, print_json};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
pub struct BuildsArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// At most this many builds (the oldest first).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print a JSON array (see docs/json.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: BuildsArgs) -> Result<ExitCode> {
    let filter = collector::store::BuildFilter {
        limit: args.limit,
        ..args.scope.filter()?
    };
    let store = open_store(db)?;
    let rows = store.list_builds(&filter)?;
    if args.json {
        print_json(&rows.iter().map(BuildJson::from).collect::<Vec<_>>())?;
    } else if rows.is_empty() {
        print("no builds stored yet: `buildprof ingest FILE` adds some\n")?;
    } else {
        print(&builds_table(&rows))?;
    }
    Ok(ExitCode::SUCCESS)
}
