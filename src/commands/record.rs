//! `buildprof record -- <command...>`: run a build command, pass its output through unchanged,
//! and store the build it prints. Telemetry never breaks a build: buildprof exits with the
//! command's own code even when nothing could be stored (it says why on stderr).

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use live::record::{record_command, RecordRequest, Recording};
use reports::render::terminal::stored::recorded_lines;

use super::open_store;
use crate::args::{CaptureArgs, FormatArg, InputArgs};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The command runs without a shell, with its output passed through unchanged; \
                  buildprof exits with the command's own exit code (128 + N when a signal N \
                  ended it; 127 when it cannot be started). A failed build is recorded too. \
                  Use --progress=plain or --progress=rawjson so there is progress to record.\n\n\
                  The build's inputs (Dockerfile, build args, a hash of every context file) are \
                  recorded for `buildprof why`, read off a `docker build` / `docker buildx build` \
                  command line or given with --context, --file and --build-arg.\n\n\
                  Example: buildprof record --label branch=main -- docker buildx build --progress=plain ."
)]
pub struct RecordArgs {
    /// Progress format the command prints; `auto` sniffs it.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Say nothing on stderr after the command: no summary, no note (no progress found, inputs
    /// not found) and no error storing the build; the exit code is the command's either way.
    #[arg(long)]
    pub quiet: bool,
    /// Print to stderr how long the command ran and how long buildprof took after it exited
    /// (the time a build waits for its recording), even with --quiet.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The build command and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

pub fn run(db: &Path, args: RecordArgs) -> Result<ExitCode> {
    let request = RecordRequest {
        argv: args.command,
        labels: args.capture.labels()?,
        format: args.format.format(),
        options: args.capture.options()?,
        inputs: Some(args.inputs.request(db)),
    };
    // A bad --db fails before the build runs, not after.
    let mut store = open_store(db)?;
    let recording = record_command(&mut store, request)?;
    drop(store); // closing the database is part of what the job waits for (--timings)
    let (exit_code, said) = match recording {
        Recording::NotStarted {
            program,
            error,
            exit_code,
        } => (exit_code, vec![format!("cannot run {program}: {error}")]),
        Recording::Ran {
            exit_code,
            stored,
            mut timings,
        } => {
            timings.until_now();
            let mut said = match stored {
                _ if args.quiet => Vec::new(),
                Ok(stored) => recorded_lines(&stored),
                Err(e) => vec![format!("error: the build was not stored: {e}")],
            };
            said.extend(args.timings.then(|| format!("timings: {timings}")));
            (exit_code, said)
        }
    };
    for line in said {
        eprintln!("buildprof: {line}");
    }
    Ok(ExitCode::from(exit_code))
}
