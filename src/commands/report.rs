//! `buildprof report`: the weekly report of a period, written into a folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use collector::model::parse_labels;
use collector::time::{now_ns, parse_period};
use reports::render::ReportFormat;
use reports::weekly::{make_and_write, ReportPlan};

use super::{open_store, print, text};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
#[command(mut_arg("since", |a| a
    .default_value("7d")
    .help("Start of the period: `7d`, `24h` (before --until), `2024-05-01` or an RFC 3339 time")))]
#[command(mut_arg("until", |a| a.help("End of the period (exclusive); now when not given")))]
pub struct ReportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Folder to write the report into (created if missing).
    #[arg(long, default_value = "buildprof-report")]
    pub out: PathBuf,
    /// Output formats, comma-separated: html, md, json (all three by default).
    #[arg(long, value_delimiter = ',', default_value = "html,md,json", value_parser = PossibleValuesParser::new(["html", "md", "json"]).try_map(|f| ReportFormat::parse(&f).ok_or("unknown format")))]
    pub format: Vec<ReportFormat>,
    /// Also write every chart as a PNG (and link those from the Markdown instead of SVG files).
    #[arg(long)]
    pub png: bool,
    /// The strategy tables' baseline group (e.g. `max`), where it exists; default: the group
    /// with the most builds.
    #[arg(long, value_name = "VALUE")]
    pub baseline: Option<String>,
}

pub fn run(db: &Path, args: ReportArgs) -> Result<ExitCode> {
    let now = now_ns();
    let since = args.scope.since.as_deref().unwrap_or("7d");
    let (since, until) = parse_period(since, args.scope.until.as_deref(), now)?;
    let plan = ReportPlan {
        since,
        until,
        labels: parse_labels(&args.scope.labels)?,
        out: args.out,
        formats: args.format,
        png: args.png,
        baseline: args.baseline,
    };
    let written = make_and_write(&open_store(db)?, &plan, now)?;
    print(&text(
        written.iter().map(|p| format!("wrote {}", p.display())),
    ))?;
    Ok(ExitCode::SUCCESS)
}
