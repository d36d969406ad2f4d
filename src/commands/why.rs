//! `buildprof why BUILD [STEP]`: why each step of a build that ran did not hit the cache.

use std::path::Path;
use std::process::ExitCode;

use analyzer::why::why_build;
use anyhow::Result;
use reports::render::terminal::why::render_why;

use super::{open_store, output};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each step that ran gets a cause, found by comparing the build with the most \
                  recent earlier build of its branch (its `branch` label; any build without one) \
                  in which that step hit: instruction_changed, base_image_changed, \
                  build_arg_changed, source_files_changed (with the files), upstream_changed, \
                  cache_unavailable (cold_builder, import_failed, lazy_miss, evicted) or unknown \
                  (naming the evidence missing). File, arg and Dockerfile evidence needs the \
                  build's inputs: `record` stores them, `ingest --context DIR` too."
)]
pub struct WhyArgs {
    /// A build id or unique prefix.
    pub build: String,
    /// Only this step: `#SEQ`, its name, or (part of) its instruction.
    pub step: Option<String>,
    /// Print JSON (see docs/json.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: WhyArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    let id = store.resolve_id(&args.build)?;
    let why = why_build(store.connection(), &id, args.step.as_deref())?;
    output(args.json, &why, render_why)
}
