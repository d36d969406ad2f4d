//! `buildprof busts`: where the cache busted in one build, or which instructions bust it most.

use std::path::Path;
use std::process::ExitCode;

use analyzer::bust_report::{build_busts, bust_summary};
use anyhow::{bail, Result};

use super::{open_store, print};
use crate::cli_analysis::BustsArgs;

pub fn run(db: &Path, args: BustsArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    match &args.build {
        Some(prefix) => {
            if !args.scope.labels.is_empty()
                || args.scope.since.is_some()
                || args.scope.until.is_some()
            {
                bail!("give either a BUILD or --label/--since/--until, not both");
            }
            let id = store.resolve_id(prefix)?;
            let result = build_busts(store.connection(), &id)?;
            if args.json {
                print(&(serde_json::to_string_pretty(&result)? + "\n"))?;
            } else {
                print(&reports::analysis::busts::render_build(&result))?;
            }
        }
        None => {
            let scope = args.scope.scope()?;
            let result = bust_summary(
                store.connection(),
                &scope,
                (args.limit > 0).then_some(args.limit),
            )?;
            if args.json {
                print(&(serde_json::to_string_pretty(&result)? + "\n"))?;
            } else {
                print(&reports::analysis::busts::render_summary(&result))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
