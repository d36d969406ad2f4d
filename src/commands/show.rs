//! `buildprof show`: one build, step by step.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use export::contract::ShowJson;
use reports::render::terminal::show_build;

use super::{open_store, print, print_json};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Build id or a unique prefix of it (at least 4 characters).
    pub build: String,
    /// Print JSON (see docs/json.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: ShowArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    let id = store.resolve_id(&args.build)?;
    let build = store.load_build(&id)?;
    if args.json {
        print_json(&ShowJson::new(&store.build_row(&id)?, &build))?;
    } else {
        print(&show_build(&build))?;
    }
    Ok(ExitCode::SUCCESS)
}
