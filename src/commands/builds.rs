//! `buildprof builds`: list stored builds.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use collector::store::BuildFilter;
use reports::contract::BuildJson;

use super::{open_store, print};
use crate::cli::BuildsArgs;
use crate::labels::parse_labels;
use crate::when::{now_ns, parse_when};

pub fn run(db: &Path, args: BuildsArgs) -> Result<ExitCode> {
    let now = now_ns();
    let filter = BuildFilter {
        labels: parse_labels(&args.labels)?,
        since: args
            .since
            .as_deref()
            .map(|s| parse_when(s, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|s| parse_when(s, now))
            .transpose()?,
        limit: args.limit,
    };
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
