//! `buildprof ingest`: read inputs, assemble builds, store them (each build all-or-nothing,
//! the builds of one input in batches); with `--tee`, echo a pipe as it arrives and store the
//! build it carries.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use collector::ingest::{ingest_input, open_input, Ingested};
use export::contract::BuildJson;
use live::record::{store_inputs, tee_and_store};
use reports::render::terminal::error_line::one_line;
use reports::render::terminal::progress::Progress;
use reports::render::terminal::stored::{ingested_lines, ingested_warnings, recorded_lines};

use super::{open_store, progress_wanted, text};
use crate::args::{CaptureArgs, FormatArg, InputArgs};

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files to read; `-` (or nothing, when stdin is not a terminal) reads stdin.
    pub inputs: Vec<String>,
    /// Input format; `auto` sniffs each input.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Print each stored build as a line of JSON (the `builds --json` object) instead of a
    /// sentence.
    #[arg(long, conflicts_with = "tee")]
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
    let (labels, format) = (args.capture.labels()?, args.format.format());
    let options = args.capture.options()?;
    let inputs = match args.inputs.is_empty() {
        false => args.inputs.clone(),
        true if std::io::stdin().is_terminal() => bail!("nothing to ingest: name trace files, or pipe a build's progress into `buildprof ingest -`"),
        true => vec!["-".to_string()],
    };
    let mut store = open_store(db)?;
    let sizes = inputs.iter().filter_map(|i| std::fs::metadata(i).ok());
    let total: u64 = sizes.filter(|m| m.is_file()).map(|m| m.len()).sum();
    let progress = Progress::new(
        progress_wanted(args.quiet) && (inputs.len() > 1 || total > BAR_BYTES),
        "{spinner} ingesting [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        Some(total),
    );
    let request = args.build_inputs.request(db);
    let recorded = (!request.is_empty()).then(|| request.gather(&options.redactor));
    let mut failures = 0;
    for input in &inputs {
        let one = open_input(input).and_then(|(name, reader)| {
            let reader = progress.wrap_read(&name, reader);
            ingest_input(&mut store, &name, reader, format, &labels, &options)
        });
        let stored = one
            .map_err(anyhow::Error::from)
            .and_then(|mut i: Ingested| match i.failed() {
                Some(e) => bail!("{}", one_line(e)),
                None => {
                    i.store_inputs(&mut store, recorded.as_ref());
                    Ok(i)
                }
            });
        let printed = stored.and_then(|i| match args.json {
            true => {
                let json = BuildJson::lines(&store, &i.stored_ids())?;
                ingested_warnings(&i)
                    .iter()
                    .for_each(|w| progress.eprintln(w));
                Ok(progress.print(&json)?)
            }
            false => Ok(progress.print(&text(ingested_lines(&i)))?),
        });
        if let Err(e) = printed {
            failures += 1;
            progress.eprintln(&format!("error: {input}: {}", one_line(e.as_ref())));
        }
    }
    for note in recorded.iter().flat_map(|i| &i.notes) {
        progress.eprintln(&format!("note: inputs: {note}"));
    }
    progress.finish();
    Ok(ExitCode::from(u8::from(failures > 0)))
}

/// `ingest - --tee`: echo stdin to stdout as it arrives and store the build it carries.
fn tee(db: &Path, args: &IngestArgs) -> Result<ExitCode> {
    if args.inputs.iter().any(|i| i != "-") {
        bail!("--tee reads stdin only: use `buildprof ingest - --tee`");
    }
    if std::io::stdin().is_terminal() {
        bail!("--tee reads a build's output from a pipe: `docker build --progress=plain . 2>&1 | buildprof ingest - --tee`");
    }
    let labels = args.capture.labels()?;
    let mut store = open_store(db)?;
    let options = args.capture.options()?;
    let request = args.build_inputs.request(db);
    // Hashed while the piped build runs.
    let inputs = (!request.is_empty()).then(|| request.start(options.redactor.clone()));
    let (stdin, stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
    let format = args.format.format();
    let mut stored = tee_and_store(&mut store, stdin, stdout, &labels, format, options)?;
    if let Some(job) = inputs {
        store_inputs(&mut store, &mut stored, job.finish());
    }
    // stdout carries the echo: the summary goes to stderr.
    for line in recorded_lines(&stored).iter().filter(|_| !args.quiet) {
        eprintln!("buildprof: {line}");
    }
    Ok(ExitCode::SUCCESS)
}
