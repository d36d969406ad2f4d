//! `buildprof builds`: list stored builds.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use reports::contract::BuildJson;

use super::{open_store, print};
use crate::cli::BuildsArgs;
use crate::when::build_filter;

pub fn run(db: &Path, args: BuildsArgs) -> Result<ExitCode> {
    let filter = build_filter(
        &args.labels,
        args.since.as_deref(),
        args.until.as_deref(),
        args.limit,
    )?;
    let store = open_store(db)?;
    let rows = store.list_builds(&filter)?;
    if args.json {
        let json: Vec<BuildJson> = rows.iter().map(BuildJson::from).collect();
        print(&(serde_json::to_string_pretty(&json)? + "\n"))?;
    } else if rows.is_empty() {
        print("no builds stored yet: `buildprof ingest FILE` adds some\n")?;
    } else {
        print(&reports::terminal::builds_table(&rows))?;
    }
    Ok(ExitCode::SUCCESS)
}
