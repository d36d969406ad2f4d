//! buildprof: the command-line entry point. Parses arguments, runs one command, and maps the
//! outcome to an exit code (0 ok, 1 error, 2 usage); a closed pipe exits quietly.

mod args;
mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: decoding and assembly allocate many small strings, and
/// polars many buffers (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match cli::Cli::parse().run() {
        Ok(code) => code,
        Err(err) if commands::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "error: {}",
                reports::render::terminal::error_line::one_line(err.as_ref())
            );
            ExitCode::from(1)
        }
    }
}
