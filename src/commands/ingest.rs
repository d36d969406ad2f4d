//! `buildprof ingest`: read inputs, assemble builds, store them (each build all-or-nothing,
//! the builds of one input in batches); with `--tee`, echo a pipe as it arrives and store the
//! build it carries.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use collector::assemble::AssembleOptions;
use collector::ingest::ingest_input;
use collector::inputs::BuildInputs;
use collector::model::{parse_labels, Format};
use collector::store::Store;
use indicatif::ProgressBar;
use live::record::{store_inputs, tee_and_store};
use reports::render::terminal::stored::{recorded_lines, stored_line};

use super::{open_store, Progress};
use crate::args::{CaptureArgs, FormatArg, InputArgs};

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files to read; `-` (or nothing, when stdin is not a terminal) reads stdin.
    pub inputs: Vec<String>,
    /// Input format; `auto` sniffs each input.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// A label to attach to every build read (repeatable), e.g. `--label strategy=max`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Print one JSON object per stored build instead of a sentence.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// Echo stdin to stdout unchanged as it arrives while ingesting it, as a live build
    /// (`docker build --progress=plain . 2>&1 | buildprof ingest - --tee`).
    #[arg(long)]
    pub tee: bool,
    /// The build's inputs, recorded with every build read (for `buildprof why`).
    #[command(flatten)]
    pub build_inputs: InputArgs,
}

/// Above this many bytes in total a single input gets a progress bar too.
const BAR_BYTES: u64 = 32 << 20;

pub fn run(db: &Path, args: IngestArgs) -> Result<ExitCode> {
    if args.tee {
        return tee(db, &args);
    }
    let labels = parse_labels(&args.labels)?;
    let format = args.format.format();
    let options = args.capture.options()?;
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
    let show = !args.quiet && std::io::stderr().is_terminal();
    let progress = Progress::new(
        show && (inputs.len() > 1 || total > BAR_BYTES),
        "{spinner} ingesting [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        Some(total),
    );
    let mut failures = 0;
    let request = args.build_inputs.request(db);
    let recorded = (!request.is_empty()).then(|| request.gather(&options.redactor));
    for input in &inputs {
        let one = ingest_one(&mut store, input, format, &labels, &options, progress.bar());
        match one.map(|(lines, ids)| (lines, store_inputs_of(&mut store, &ids, recorded.as_ref())))
        {
            Ok((mut lines, notes)) => {
                lines.extend(notes);
                progress.print(&lines.into_iter().map(|l| l + "\n").collect::<String>())?
            }
            Err(e) => {
                failures += 1;
                progress.eprintln(&format!(
                    "error: {input}: {}",
                    crate::error_line::one_line(e.as_ref())
                ));
            }
        }
    }
    if let Some(i) = &recorded {
        for note in &i.notes {
            progress.eprintln(&format!("note: inputs: {note}"));
        }
    }
    progress.finish();
    Ok(if failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Stores `inputs` (when given) with the builds `ids`; returns warnings to print.
fn store_inputs_of(store: &mut Store, ids: &[String], inputs: Option<&BuildInputs>) -> Vec<String> {
    let Some(inputs) = inputs else {
        return Vec::new();
    };
    ids.iter()
        .filter_map(|id| {
            store
                .insert_inputs(id, inputs)
                .err()
                .map(|e| format!("warning: the inputs of build {id} were not stored: {e}"))
        })
        .collect()
}

/// Reads one input and stores its builds; returns the lines to print and the ids stored.
fn ingest_one(
    store: &mut Store,
    input: &str,
    format: Option<Format>,
    labels: &[(String, String)],
    options: &AssembleOptions,
    bar: Option<&ProgressBar>,
) -> Result<(Vec<String>, Vec<String>)> {
    let (name, reader): (String, Box<dyn Read>) = if input == "-" {
        ("<stdin>".to_string(), Box::new(std::io::stdin().lock()))
    } else {
        let f = File::open(input).map_err(|e| anyhow::anyhow!("cannot open: {e}"))?;
        (input.to_string(), Box::new(f))
    };
    if let Some(b) = bar {
        b.set_message(name.rsplit('/').next().unwrap_or(&name).to_string());
    }
    let reader: Box<dyn Read> = match bar {
        Some(b) => Box::new(b.wrap_read(reader)),
        None => reader,
    };
    let ingested = ingest_input(store, &name, reader, format, labels, options)?;
    let mut lines = Vec::new();
    if let Some(t) = &ingested.truncated {
        lines.push(format!(
            "warning: {name}: {t}; the build is stored as incomplete"
        ));
    }
    let mut ids = Vec::new();
    for (build, inserted) in ingested.builds {
        lines.push(stored_line(&build, inserted?, &name));
        ids.push(build.id);
    }
    Ok((lines, ids))
}

/// `ingest - --tee`: echo stdin to stdout as it arrives and store the build it carries.
fn tee(db: &Path, args: &IngestArgs) -> Result<ExitCode> {
    if args.inputs.iter().any(|i| i != "-") {
        bail!("--tee reads stdin only: use `buildprof ingest - --tee`");
    }
    if std::io::stdin().is_terminal() {
        bail!("--tee reads a build's output from a pipe: `docker build --progress=plain . 2>&1 | buildprof ingest - --tee`");
    }
    let labels = parse_labels(&args.labels)?;
    let mut store = open_store(db)?;
    let options = args.capture.options()?;
    let request = args.build_inputs.request(db);
    // Hashed while the piped build runs.
    let inputs = (!request.is_empty()).then(|| request.start(options.redactor.clone()));
    let mut stored = tee_and_store(
        &mut store,
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        &labels,
        args.format.format(),
        options,
    )?;
    if let Some(job) = inputs {
        store_inputs(&mut store, &mut stored, job.finish());
    }
    // stdout carries the echo: the summary goes to stderr.
    if !args.quiet {
        for line in recorded_lines(&stored) {
            eprintln!("buildprof: {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
