//! Subcommand implementations; `run` dispatches the parsed command line.

mod build;
mod builds;
mod busts;
mod compare;
mod demo;
mod experiment;
mod export;
mod ingest;
mod merge;
mod metrics;
mod record;
mod report;
mod show;
mod steps;
mod summary;
mod synth;
mod trends;

use std::process::ExitCode;

use anyhow::{Context, Result};
use collector::store::{Inserted, Store};
use collector::Build;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&cli.db, args),
        Command::Builds(args) => builds::run(&cli.db, args),
        Command::Show(args) => show::run(&cli.db, args),
        Command::Demo(args) => demo::run(args),
        Command::Compare(args) => compare::run(&cli.db, args),
        Command::Steps(args) => steps::run(&cli.db, args),
        Command::Trends(args) => trends::run(&cli.db, args),
        Command::Busts(args) => busts::run(&cli.db, args),
        Command::Metrics(args) => metrics::run(&cli.db, args),
        Command::Synth(args) => synth::run(&cli.db, args),
        Command::Report(args) => report::run(&cli.db, args),
        Command::Summary(args) => summary::run(&cli.db, args),
        Command::Record(args) => record::run(&cli.db, args),
        Command::Build(args) => build::run(&cli.db, args),
        Command::Experiment(args) => experiment::run(&cli.db, args),
        Command::Merge(args) => merge::run(args),
        Command::Export(args) => export::run(&cli.db, args),
    }
}

/// Assembly options (redaction, log cap) from the command line.
pub fn capture_options(
    args: &crate::cli::CaptureArgs,
) -> Result<collector::assemble::AssembleOptions> {
    let redactor = collector::redact::Redactor::new(!args.no_default_redactions, &args.redact)
        .context("invalid --redact pattern")?;
    Ok(collector::assemble::AssembleOptions {
        log_tail_bytes: args.log_tail_bytes,
        redactor: std::sync::Arc::new(redactor),
        ..collector::assemble::AssembleOptions::default()
    })
}

/// Opens the database named on the command line, with the path in any error.
pub fn open_store(path: &std::path::Path) -> Result<Store> {
    Store::open(path).with_context(|| format!("cannot open database {}", path.display()))
}

/// A progress bar (or, without a length, a spinner) drawn on stderr with `template`.
pub fn progress_bar(template: &str, len: Option<u64>) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    let (bar, fallback) = match len {
        Some(n) => (ProgressBar::new(n), ProgressStyle::default_bar()),
        None => (ProgressBar::new_spinner(), ProgressStyle::default_spinner()),
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or(fallback)
            .progress_chars("=> "),
    );
    bar
}

/// Writes to stdout, turning a closed pipe into an error `main` exits quietly on.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `stored 1a2b3c4d5e6f succeeded (rawjson, 20 steps: 5 cached, 1 pulled, 14 executed`: what
/// ingest and record say of a build, left open for what each adds before the `)`.
pub(crate) fn build_line(b: &Build, inserted: Inserted, verb: &str) -> String {
    let c = b.counts();
    let verb = match inserted {
        Inserted::New => verb,
        Inserted::Existing => "already stored",
    };
    format!(
        "{verb} {} {} ({}, {} steps: {} cached, {} pulled, {} executed",
        &b.id[..12.min(b.id.len())],
        b.status.as_str(),
        b.format.as_str(),
        b.steps.len(),
        c.cached,
        c.pulled,
        c.executed,
    )
}
