//! Subcommand implementations; `run` dispatches the parsed command line.

mod builds;
mod demo;
mod ingest;
mod show;

use std::process::ExitCode;

use anyhow::{Context, Result};
use collector::store::Store;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&cli.db, args),
        Command::Builds(args) => builds::run(&cli.db, args),
        Command::Show(args) => show::run(&cli.db, args),
        Command::Demo(args) => demo::run(args),
    }
}

/// Opens the database named on the command line, with the path in any error.
pub fn open_store(path: &std::path::Path) -> Result<Store> {
    Store::open(path).with_context(|| format!("cannot open database {}", path.display()))
}

/// Writes to stdout, turning a closed pipe into an error `main` exits quietly on.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
