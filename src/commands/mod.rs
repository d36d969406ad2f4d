//! The commands: one file each, holding its arguments (clap) and its `run`, which parses them,
//! calls one library entry point, and prints. Commands never call each other; what they share
//! is in `args.rs` and the helpers below. `cli.rs` dispatches to them.

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

/// A progress bar (or, without a length, a spinner) on stderr when `show` holds, and printing
/// that goes above it without tearing it.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub fn new(show: bool, template: &str, len: Option<u64>) -> Progress {
        use indicatif::{ProgressBar, ProgressStyle};
        Progress(show.then(|| {
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
        }))
    }

    /// The bar, when one is drawn.
    pub fn bar(&self) -> Option<&indicatif::ProgressBar> {
        self.0.as_ref()
    }

    /// Prints `text` on stdout.
    pub fn print(&self, text: &str) -> Result<()> {
        match &self.0 {
            Some(b) => b.suspend(|| print(text)),
            None => print(text),
        }
    }

    /// Prints `line` on stderr.
    pub fn eprintln(&self, line: &str) {
        match &self.0 {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// Writes to stdout, turning a closed pipe into an error `main` exits quietly on.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
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
