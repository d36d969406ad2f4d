//! `buildprof merge`: copy the builds of job databases into a team database.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use collector::model::parse_labels;
use collector::store::{expand_inputs, MergeStats, StoreError};
use reports::render::fmt::printable;
use serde::Serialize;

use super::{open_store, print, print_json, progress_bar};

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

/// `merge --json` (docs/json.md).
#[derive(Serialize)]
struct MergeJson {
    into: String,
    inputs: Vec<InputJson>,
    databases_merged: u64,
    databases_failed: u64,
    builds_added: u64,
    steps_added: u64,
    builds_present: u64,
}

#[derive(Serialize)]
struct InputJson {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten)]
    stats: MergeStats,
}

impl MergeJson {
    fn add(&mut self, path: String, result: Result<MergeStats, &StoreError>) {
        match result {
            Ok(stats) => {
                self.databases_merged += 1;
                self.builds_added += stats.builds_added;
                self.steps_added += stats.steps_added;
                self.builds_present += stats.builds_present;
                self.inputs.push(InputJson {
                    path,
                    error: None,
                    stats,
                });
            }
            Err(e) => {
                self.databases_failed += 1;
                self.inputs.push(InputJson {
                    path,
                    error: Some(e.to_string()),
                    stats: MergeStats::default(),
                });
            }
        }
    }
}

/// `merged JOB.db: 3 builds added (60 steps), 0 already present`.
fn merged_line(path: &str, s: &MergeStats) -> String {
    let conflicts = if s.label_conflicts > 0 {
        format!(
            ", {} labels differ (the team database keeps its values)",
            s.label_conflicts
        )
    } else {
        String::new()
    };
    format!(
        "merged {}: {} builds added ({} steps), {} already present{conflicts}",
        printable(path),
        s.builds_added,
        s.steps_added,
        s.builds_present,
    )
}

pub fn run(args: MergeArgs) -> Result<ExitCode> {
    let labels = parse_labels(&args.labels)?;
    let inputs = expand_inputs(&args.inputs, &args.into)?;
    let mut store = open_store(&args.into)?;
    let bar = (!args.quiet && !args.json && std::io::stderr().is_terminal() && inputs.len() > 1)
        .then(|| {
            progress_bar(
                "{spinner} merging [{bar:30}] {pos}/{len} databases {eta}",
                Some(inputs.len() as u64),
            )
        });
    let mut report = MergeJson {
        into: args.into.display().to_string(),
        inputs: Vec::new(),
        databases_merged: 0,
        databases_failed: 0,
        builds_added: 0,
        steps_added: 0,
        builds_present: 0,
    };
    let mut printed: Result<()> = Ok(());
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let merged = store.merge_many(&refs, &labels, &mut |input, result| {
        let path = input.display().to_string();
        if !args.json {
            let suspend = |f: &mut dyn FnMut()| match &bar {
                Some(b) => b.suspend(f),
                None => f(),
            };
            match &result {
                Ok(s) if printed.is_ok() => {
                    suspend(&mut || printed = print(&format!("{}\n", merged_line(&path, s))))
                }
                Ok(_) => {}
                Err(e) => suspend(&mut || eprintln!("error: {e}")),
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
        report.add(path, result.as_ref().map(Clone::clone));
    });
    printed?;
    merged?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if args.json {
        print_json(&report)?;
    } else {
        let failed = if report.databases_failed > 0 {
            format!("; {} failed", report.databases_failed)
        } else {
            String::new()
        };
        print(&format!(
            "{} databases merged into {}: {} builds added ({} steps), {} already present{failed}\n",
            report.databases_merged,
            printable(&report.into),
            report.builds_added,
            report.steps_added,
            report.builds_present,
        ))?;
    }
    Ok(if report.databases_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
