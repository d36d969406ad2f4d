//! The progress bar of long commands (ingest, merge, export) on stderr, and printing on stdout
//! that goes above it without tearing it.

use std::io::Read;

/// A progress bar (or, without a length, a spinner) on stderr when drawn, or nothing.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// A bar of `len` steps (a spinner without), drawn with `template` when `show` holds.
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

    /// `reader`, counted on the bar (named `name`) as it is read, when a bar is drawn.
    pub fn wrap_read<'a>(&self, name: &str, reader: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
        match &self.0 {
            Some(b) => {
                b.set_message(name.rsplit('/').next().unwrap_or(name).to_string());
                Box::new(b.wrap_read(reader))
            }
            None => reader,
        }
    }

    /// Prints `text` on stdout.
    pub fn print(&self, text: &str) -> std::io::Result<()> {
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

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
