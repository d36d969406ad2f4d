//! `buildprof merge`: copy the builds of job databases into a team database.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use collector::store::MergeStats;
use serde::Serialize;

use super::{open_store, print, progress_bar};
use crate::cli_team::MergeArgs;
use crate::labels::parse_labels;

#[derive(Serialize)]
struct InputJson {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten)]
    stats: MergeStats,
}

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
        let line = match &result {
            Ok(s) => format!(
                "merged {}: {} builds added ({} steps), {} already present{}",
                reports::fmt::printable(&path),
                s.builds_added,
                s.steps_added,
                s.builds_present,
                if s.label_conflicts > 0 {
                    format!(
                        ", {} labels differ (the team database keeps its values)",
                        s.label_conflicts
                    )
                } else {
                    String::new()
                }
            ),
            Err(e) => format!("error: {e}"),
        };
        if !args.json {
            match (&bar, &result) {
                (Some(b), Ok(_)) => {
                    if printed.is_ok() {
                        printed = b.suspend(|| print(&format!("{line}\n")));
                    }
                }
                (Some(b), Err(_)) => b.suspend(|| eprintln!("{line}")),
                (None, Ok(_)) => {
                    if printed.is_ok() {
                        printed = print(&format!("{line}\n"));
                    }
                }
                (None, Err(_)) => eprintln!("{line}"),
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
        match result {
            Ok(stats) => {
                report.databases_merged += 1;
                report.builds_added += stats.builds_added;
                report.steps_added += stats.steps_added;
                report.builds_present += stats.builds_present;
                report.inputs.push(InputJson {
                    path,
                    error: None,
                    stats,
                });
            }
            Err(e) => {
                report.databases_failed += 1;
                report.inputs.push(InputJson {
                    path,
                    error: Some(e.to_string()),
                    stats: MergeStats::default(),
                });
            }
        }
    });
    printed?;
    merged?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if args.json {
        print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        print(&format!(
            "{} databases merged into {}: {} builds added ({} steps), {} already present{}\n",
            report.databases_merged,
            reports::fmt::printable(&report.into),
            report.builds_added,
            report.steps_added,
            report.builds_present,
            if report.databases_failed > 0 {
                format!("; {} failed", report.databases_failed)
            } else {
                String::new()
            }
        ))?;
    }
    Ok(if report.databases_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Files as given; folders become the `*.db` files under them (sorted, the target skipped).
fn expand_inputs(inputs: &[PathBuf], into: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            collect_databases(input, &mut found)
                .with_context(|| format!("cannot read folder {}", input.display()))?;
            found.sort();
            let target = into.canonicalize().ok();
            out.extend(
                found
                    .into_iter()
                    .filter(|f| target.is_none() || f.canonicalize().ok() != target),
            );
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

fn collect_databases(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_databases(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "db") {
            out.push(path);
        }
    }
    Ok(())
}
