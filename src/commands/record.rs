//! `buildprof record -- <command...>` and `buildprof ingest - --tee`: store the build a command
//! prints (or a pipe carries) while passing its output through unchanged.
//!
//! Telemetry never breaks a build: `record` exits with the command's own code even when the
//! output held no progress or the database could not be written (it says so on stderr).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use collector::live::capture::CaptureOutcome;
use collector::live::tee::tee_capture;
use collector::live::{interrupt, CaptureConfig, CommandOutput, RecordedCommand};
use collector::model::Build;
use collector::store::{Inserted, SourceInfo, Store};

use super::ingest::format_of;
use super::{capture_options, open_store};
use crate::cli::IngestArgs;
use crate::cli_live::RecordArgs;
use crate::labels::parse_labels;
use crate::when::now_ns;

pub fn run(db: &Path, args: RecordArgs) -> Result<ExitCode> {
    let labels = parse_labels(&args.labels)?;
    let options = capture_options(&args.capture)?;
    // A bad --db fails before the build runs, not after.
    let mut store = open_store(db)?;
    interrupt::install()?;
    let cmd = RecordedCommand {
        argv: args.command,
        ..RecordedCommand::default()
    };
    // The command line is stored as the build's source: mask secrets in it (`--build-arg`s).
    let source = options
        .redactor
        .apply(&format!("record: {}", cmd.display()));
    let config = CaptureConfig {
        source: source.clone(),
        format: format_of(args.format),
        options,
    };
    let run = match cmd.run(CommandOutput::Passthrough, config, None) {
        Ok(r) => r,
        Err(e) => {
            let program = cmd.argv[0].to_string_lossy();
            eprintln!("buildprof: cannot run {program}: {e}");
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Ok(ExitCode::from(code));
        }
    };
    let lines = match store_capture(&mut store, &run.capture, &labels, &source) {
        Ok(lines) => lines,
        Err(e) => vec![format!("error: the build was not stored: {e:#}")],
    };
    if !args.quiet {
        for l in lines {
            eprintln!("buildprof: {l}");
        }
    }
    Ok(ExitCode::from(run.exit_code().clamp(0, 255) as u8))
}

/// `ingest - --tee`: echo stdin to stdout as it arrives and store the build it carries.
pub fn ingest_tee(db: &Path, args: &IngestArgs) -> Result<ExitCode> {
    if args.inputs.iter().any(|i| i != "-") {
        bail!("--tee reads stdin only: use `buildprof ingest - --tee`");
    }
    if std::io::stdin().is_terminal() {
        bail!("--tee reads a build's output from a pipe: `docker build --progress=plain . 2>&1 | buildprof ingest - --tee`");
    }
    let labels = parse_labels(&args.labels)?;
    let mut store = open_store(db)?;
    let source = "<stdin>".to_string();
    let config = CaptureConfig {
        source: source.clone(),
        format: format_of(args.format),
        options: capture_options(&args.capture)?,
    };
    let out = tee_capture(std::io::stdin().lock(), std::io::stdout().lock(), config)?;
    let lines = store_capture(&mut store, &out, &labels, &source)?;
    // stdout carries the echo: the summary goes to stderr.
    if !args.quiet {
        for l in lines {
            eprintln!("buildprof: {l}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stores what a capture decoded, with labels; returns the lines to print.
pub(crate) fn store_capture(
    store: &mut Store,
    capture: &CaptureOutcome,
    labels: &[(String, String)],
    source: &str,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    if capture.format.is_none() {
        lines.push(format!(
            "no BuildKit progress in the output ({} bytes); nothing recorded (build with --progress=plain or --progress=rawjson)",
            capture.bytes
        ));
        return Ok(lines);
    }
    if let Some(e) = &capture.error {
        lines.push(format!(
            "warning: decoding stopped: {e}; what came before is stored as incomplete"
        ));
    }
    let info = SourceInfo {
        path: source.to_string(),
        bytes: capture.bytes,
        ingested_at: now_ns(),
    };
    for build in &capture.builds {
        let mut build = build.clone();
        build.labels.extend(labels.iter().cloned());
        let inserted = store.insert_build(&build, &info)?;
        lines.push(summary(&build, inserted));
    }
    Ok(lines)
}

/// `recorded 1a2b3c4d5e6f failed (plain, 9 steps: 2 cached, 0 pulled, 6 executed, 1 failed)`.
pub(crate) fn summary(b: &Build, inserted: Inserted) -> String {
    let c = b.counts();
    let mut text = super::build_line(b, inserted, "recorded");
    if c.failed > 0 {
        text.push_str(&format!(", {} failed", c.failed));
    }
    if let Some(d) = b.duration_ns {
        text.push_str(&format!(", {:.1}s", d as f64 / 1e9));
    }
    text.push(')');
    text
}
