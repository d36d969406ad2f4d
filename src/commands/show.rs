//! `buildprof show`: one build, step by step.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use reports::contract::ShowJson;

use super::{open_store, print};
use crate::cli::ShowArgs;

pub fn run(db: &Path, args: ShowArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    let id = store.resolve_id(&args.build)?;
    let build = store.load_build(&id)?;
    if args.json {
        let row = store.build_row(&id)?;
        print(&(serde_json::to_string_pretty(&ShowJson::new(&row, &build))? + "\n"))?;
    } else {
        print(&reports::terminal::show_build(&build))?;
    }
    Ok(ExitCode::SUCCESS)
}
