//! `CaptureView`: the live progress line of a build being recorded (indicatif): the steps
//! running now, time elapsed, and how many steps are done and cached so far.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::capture::Observer;
use crate::LiveSteps;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// A spinner fed by a capture's events; hidden when not drawing to a terminal.
#[derive(Clone)]
pub struct CaptureView {
    bar: ProgressBar,
    steps: Arc<Mutex<LiveSteps>>,
}

impl CaptureView {
    /// A view on stderr; `visible` is false for `--quiet` or when stderr is not a terminal.
    pub fn new(visible: bool, prefix: &str) -> CaptureView {
        let bar = if visible {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        Self::with_bar(bar, prefix)
    }

    /// A view drawn as a line of `multi` (experiments: under the matrix bar).
    pub fn in_multi(multi: &MultiProgress, visible: bool, prefix: &str) -> CaptureView {
        let bar = if visible {
            multi.add(ProgressBar::new_spinner())
        } else {
            ProgressBar::hidden()
        };
        Self::with_bar(bar, prefix)
    }

    fn with_bar(bar: ProgressBar, prefix: &str) -> CaptureView {
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(prefix.to_string());
        bar.set_message("starting");
        bar.enable_steady_tick(Duration::from_millis(120));
        CaptureView {
            bar,
            steps: Arc::new(Mutex::new(LiveSteps::default())),
        }
    }

    /// The observer to hand to the capture: each event updates the line.
    pub fn observer(&self) -> Observer {
        let steps = Arc::clone(&self.steps);
        let bar = self.bar.clone();
        Box::new(move |ev| {
            if let Ok(mut s) = steps.lock() {
                s.observe(ev);
                bar.set_message(s.line(100));
            }
        })
    }

    /// Starts over for the next build (experiments reuse one line).
    pub fn reset(&self, prefix: &str) {
        if let Ok(mut s) = self.steps.lock() {
            *s = LiveSteps::default();
        }
        self.bar.set_prefix(prefix.to_string());
        self.bar.set_message("starting");
        self.bar.reset_elapsed();
    }

    pub fn set_message(&self, text: &str) {
        self.bar.set_message(text.to_string());
    }

    /// Removes the line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Prints a line above the progress display without tearing it.
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}
