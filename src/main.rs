//! buildprof: the command-line entry point. Parses arguments, runs one command, and maps the
//! outcome to an exit code (0 ok, 1 error, 2 usage); a closed pipe exits quietly.

mod capture_view;
mod cli;
mod cli_analysis;
mod cli_live;
mod cli_reports;
mod cli_team;
mod commands;
mod engine_build;
mod experiment;
mod labels;
mod when;

use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: decoding and assembly allocate many small strings, and
/// polars many buffers (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
