//! `buildprof busts`: where the cache busted in one build, or which instructions bust it most.

use std::path::Path;
use std::process::ExitCode;

use analyzer::busts::bust_summary;
use analyzer::why::{busts_json, BustsWhy};
use anyhow::{bail, Result};
use reports::render::terminal::busts::{render_build, render_summary};

use super::{open_store, print, print_json};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
pub struct BustsArgs {
    /// A build id or unique prefix: its busts, compared with the previous build of its branch.
    /// Without it: the instructions that bust the cache most over the selection.
    pub build: Option<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// At most this many instructions (0: all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON (see docs/json.md for one build, docs/analyzer.md for the summary).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: BustsArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    match &args.build {
        Some(_) if args.scope.is_given() => {
            bail!("give either a BUILD or --label/--since/--until, not both")
        }
        Some(prefix) => {
            let id = store.resolve_id(prefix)?;
            let both = BustsWhy::of(store.connection(), &id)?;
            match args.json {
                true => print_json(&busts_json(&both)?)?,
                false => print(&render_build(&both))?,
            }
        }
        None => {
            let scope = args.scope.scope()?;
            let limit = (args.limit > 0).then_some(args.limit);
            let result = bust_summary(store.connection(), &scope, limit)?;
            if args.json {
                print_json(&result)?;
            } else {
                print(&render_summary(&result))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
