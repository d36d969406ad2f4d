//! `buildprof ingest`: read inputs, assemble builds, store them (each build all-or-nothing,
//! the builds of one input in batches).

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::{Build, Format};
use collector::store::{Inserted, SourceInfo, Store};
use indicatif::ProgressBar;

use super::{open_store, print, progress_bar};
use crate::cli::{FormatArg, IngestArgs};
use crate::labels::parse_labels;
use crate::when::now_ns;

/// Above this many bytes in total a single input gets a progress bar too.
const BAR_BYTES: u64 = 32 << 20;

pub fn run(db: &Path, args: IngestArgs) -> Result<ExitCode> {
    if args.tee {
        return super::record::ingest_tee(db, &args);
    }
    let labels = parse_labels(&args.labels)?;
    let format = format_of(args.format);
    let options = super::capture_options(&args.capture)?;
    let inputs = if args.inputs.is_empty() {
        if std::io::stdin().is_terminal() {
            bail!("nothing to ingest: name trace files, or pipe a build's progress into `buildprof ingest -`");
        }
        vec!["-".to_string()]
    } else {
        args.inputs
    };
    let mut store = open_store(db)?;
    let total: u64 = inputs
        .iter()
        .filter(|i| i.as_str() != "-")
        .filter_map(|i| std::fs::metadata(i).ok())
        .map(|m| m.len())
        .sum();
    let bar =
        (!args.quiet && std::io::stderr().is_terminal() && (inputs.len() > 1 || total > BAR_BYTES))
            .then(|| {
                progress_bar(
                    "{spinner} ingesting [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                    Some(total),
                )
            });
    let mut failures = 0;
    for input in &inputs {
        let result = ingest_one(&mut store, input, format, &labels, &options, bar.as_ref());
        match result {
            Ok(lines) => {
                let text: String = lines.into_iter().map(|l| l + "\n").collect();
                match &bar {
                    Some(b) => b.suspend(|| print(&text)),
                    None => print(&text),
                }?;
            }
            Err(e) => {
                failures += 1;
                let msg = format!("error: {input}: {e:#}");
                match &bar {
                    Some(b) => b.suspend(|| eprintln!("{msg}")),
                    None => eprintln!("{msg}"),
                }
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(if failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn format_of(f: FormatArg) -> Option<Format> {
    match f {
        FormatArg::Auto => None,
        FormatArg::Rawjson => Some(Format::Rawjson),
        FormatArg::Plain => Some(Format::Plain),
        FormatArg::Moby => Some(Format::Moby),
        FormatArg::Dockerbuild => Some(Format::Dockerbuild),
    }
}

/// Reads one input and stores its builds; returns the lines to print.
fn ingest_one(
    store: &mut Store,
    input: &str,
    format: Option<Format>,
    labels: &[(String, String)],
    options: &AssembleOptions,
    bar: Option<&ProgressBar>,
) -> Result<Vec<String>> {
    let (name, reader): (String, Box<dyn Read>) = if input == "-" {
        ("<stdin>".to_string(), Box::new(std::io::stdin().lock()))
    } else {
        let f = File::open(input).map_err(|e| anyhow::anyhow!("cannot open: {e}"))?;
        (input.to_string(), Box::new(f))
    };
    if let Some(b) = bar {
        b.set_message(short(&name));
    }
    let reader: Box<dyn Read> = match bar {
        Some(b) => Box::new(b.wrap_read(reader)),
        None => reader,
    };
    let out = read_builds(&name, reader, format, options)?;
    let mut lines = Vec::new();
    if let Some(t) = &out.truncated {
        lines.push(format!(
            "warning: {name}: {t}; the build is stored as incomplete"
        ));
    }
    let source = SourceInfo {
        path: name.clone(),
        bytes: out.bytes,
        ingested_at: now_ns(),
    };
    let mut builds = out.builds;
    for build in &mut builds {
        build.labels.extend(labels.iter().cloned());
    }
    // The builds of one input are stored in batches (each build still all-or-nothing).
    let batch: Vec<_> = builds.iter().map(|b| (b, &source)).collect();
    for (build, inserted) in builds.iter().zip(store.insert_builds(&batch)) {
        lines.push(describe(build, inserted?, &name));
    }
    Ok(lines)
}

fn describe(b: &Build, inserted: Inserted, name: &str) -> String {
    let lazy = b.counts().lazy_miss;
    let mut text = super::build_line(b, inserted, "stored");
    if lazy > 0 {
        text.push_str(&format!(", {lazy} lazy"));
    }
    format!("{text}) from {}", reports::fmt::printable(name))
}

fn short(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}
