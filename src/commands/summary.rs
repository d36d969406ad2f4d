//! `buildprof summary`: one build as compact Markdown for a CI job page
//! (`buildprof summary --last >> "$GITHUB_STEP_SUMMARY"`), compared with the recent median of a
//! baseline label (`branch=main` unless told otherwise).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use collector::model::parse_label;
use reports::job_summary::{summarize, SummaryRequest};
use reports::render::summary_markdown;

use super::{open_store, print, print_json};

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// Build id or a unique prefix of it; the most recently stored build when not given.
    #[arg(conflicts_with = "last")]
    pub build: Option<String>,
    /// The most recently stored build (the default).
    #[arg(long)]
    pub last: bool,
    /// The builds to compare with: the most recent ones with this label, started before this build.
    #[arg(long, value_name = "KEY=VALUE", default_value = "branch=main")]
    pub baseline_label: String,
    /// How many recent baseline builds make the median.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub baseline_builds: usize,
    /// Print the summary as JSON data instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

pub fn run(db: &Path, args: SummaryArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    let request = SummaryRequest {
        build: args.build,
        baseline_label: parse_label(&args.baseline_label)?,
        baseline_builds: args.baseline_builds,
    };
    let summary = summarize(&store, &request)?;
    match args.json {
        true => print_json(&summary)?,
        false => print(&summary_markdown(&summary)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
