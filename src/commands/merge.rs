//! `buildprof merge`: copy the builds of job databases into a team database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use collector::model::parse_labels;
use collector::store::{expand_inputs, Store};
use export::contract::MergeJson;
use reports::render::terminal::error_line::one_line;
use reports::render::terminal::merge::{merged_line, totals_line, MergeTotals};
use reports::render::terminal::progress::Progress;

use super::{print, print_json, progress_wanted};

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The team database to merge into (created if missing).
    #[arg(long, value_name = "TEAM.db")]
    pub into: PathBuf,
    /// Job databases to merge; a folder stands for every `*.db` file under it.
    #[arg(required = true, value_name = "JOB.db")]
    pub inputs: Vec<PathBuf>,
    /// A label set on every merged build that lacks the key (repeatable), e.g. `--label repo=api`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Print one JSON object with what each input added.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: MergeArgs) -> Result<ExitCode> {
    let labels = parse_labels(&args.labels)?;
    let inputs = expand_inputs(&args.inputs, &args.into)?;
    let mut store = Store::open_output(&args.into)
        .with_context(|| format!("cannot open database {}", args.into.display()))?;
    let progress = Progress::new(
        progress_wanted(args.quiet || args.json) && inputs.len() > 1,
        "{spinner} merging [{bar:30}] {pos}/{len} databases {eta}",
        Some(inputs.len() as u64),
    );
    let mut report = MergeJson::new(args.into.display().to_string());
    let mut printed: std::io::Result<()> = Ok(());
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let merged = store.merge_many(&refs, &labels, &mut |input, result| {
        let path = input.display().to_string();
        match &result {
            _ if args.json => {}
            Ok(s) if printed.is_ok() => {
                printed = progress.print(&format!("{}\n", merged_line(&path, s)))
            }
            Ok(_) => {}
            Err(e) => progress.eprintln(&format!("error: {}", one_line(e))),
        }
        if let Some(b) = progress.bar() {
            b.inc(1);
        }
        report.add(path, result.as_ref());
    });
    printed?;
    merged?;
    progress.finish();
    if args.json {
        print_json(&report)?;
    } else {
        let totals = MergeTotals {
            into: &report.into,
            merged: report.databases_merged,
            failed: report.databases_failed,
            builds_added: report.builds_added,
            steps_added: report.steps_added,
            builds_present: report.builds_present,
        };
        print(&format!("{}\n", totals_line(&totals)))?;
    }
    Ok(ExitCode::from(u8::from(report.databases_failed > 0)))
}
