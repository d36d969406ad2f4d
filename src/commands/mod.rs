//! The commands: one file each, holding its arguments (clap) and its `run`, which parses them,
//! calls one library entry point, and prints. Commands never call each other; what they share
//! is in `args.rs` and the helpers below; the progress bar and the error line are
//! `reports::render::terminal`'s. `cli.rs` dispatches to them.

pub mod build;
pub mod builds;
pub mod busts;
pub mod compare;
pub mod demo;
pub mod experiment;
pub mod export;
pub mod ingest;
pub mod merge;
pub mod metrics;
pub mod record;
pub mod report;
pub mod show;
pub mod steps;
pub mod summary;
pub mod synth;
pub mod trends;
pub mod why;

use std::path::Path;

use anyhow::{Context, Result};
use collector::store::Store;

/// Opens the database named on the command line, with the path in any error.
pub fn open_store(path: &Path) -> Result<Store> {
    Store::open(path).with_context(|| format!("cannot open database {}", path.display()))
}

/// The folder of sample traces: `given`, else `sample-traces/` here or beside the sources.
pub fn sample_dir(given: Option<std::path::PathBuf>) -> Result<std::path::PathBuf> {
    given
        .or_else(reports::demo::default_sample_dir)
        .context("no sample-traces/ folder here; pass --dir PATH to a folder with a manifest.tsv")
}

/// Whether to show progress: not `--quiet`, and stderr is a terminal.
pub fn progress_wanted(quiet: bool) -> bool {
    use std::io::IsTerminal;
    !quiet && std::io::stderr().is_terminal()
}

/// Writes to stdout, turning a closed pipe into an error `main` exits quietly on.
pub fn print(text: &str) -> Result<()> {
    Ok(reports::render::terminal::progress::print(text)?)
}

/// Prints `value` as JSON (`--json`) or as `text` renders it, and succeeds.
pub fn output<T: serde::Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<std::process::ExitCode> {
    match json {
        true => print_json(value)?,
        false => print(&text(value))?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `lines`, each ended by a newline.
pub fn text<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> String {
    lines
        .into_iter()
        .map(|l| format!("{}\n", l.as_ref()))
        .collect()
}

/// Prints `value` as pretty JSON on a line of its own.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    print(&(serde_json::to_string_pretty(value)? + "\n"))
}

/// Whether an error is stdout closing under us (`buildprof builds | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
