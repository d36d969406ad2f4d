//! The one-line reason a step ran, as pieces of text and code, so the terminal (backticks),
//! Markdown and HTML (escaped spans) say it the same way: "`COPY src /app` re-ran because
//! `src/app.py` changed (and 2 more files): 41s".

use analyzer::why::{Cause, WhyBust};

use crate::render::fmt::{duration_ms, ellipsize};

/// A piece of a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// A name from the build (instruction, path, image): shown verbatim.
    Code(String),
}

fn t(s: impl Into<String>) -> Piece {
    Piece::Text(s.into())
}

fn c(s: impl Into<String>) -> Piece {
    Piece::Code(s.into())
}

/// Why `b` ran, in one line, ending with the time it cost.
pub fn reason(b: &WhyBust) -> Vec<Piece> {
    let mut out = vec![c(ellipsize(&b.step, 80)), t(" ")];
    let detail = b.detail.as_deref().unwrap_or("");
    match b.cause {
        Cause::SourceFilesChanged => {
            let n = b.changed_files.len() as u32 + b.more_changed_files;
            out.push(t("re-ran because "));
            if let Some(f) = b.changed_files.first() {
                out.push(c(f.path.clone()));
                out.push(t(match f.change.as_str() {
                    "added" => " was added",
                    "removed" => " was removed",
                    _ => " changed",
                }));
            }
            match n.saturating_sub(1) {
                0 => {}
                1 => out.push(t(" (and 1 more file)")),
                m => out.push(t(format!(" (and {m} more files)"))),
            }
        }
        Cause::InstructionChanged => {
            out.push(t("re-ran because its instruction changed (was "));
            out.push(c(ellipsize(b.before.as_deref().unwrap_or(""), 80)));
            out.push(t(")"));
        }
        Cause::BaseImageChanged => {
            out.push(t("re-ran because its base image changed: "));
            out.push(c(b.before.clone().unwrap_or_default()));
            out.push(t(" -> "));
            out.push(c(b.after.clone().unwrap_or_default()));
        }
        Cause::BuildArgChanged => {
            out.push(t(format!(
                "re-ran because build arg {} changed",
                b.args.join(", ")
            )));
            if let (Some(x), Some(y)) = (&b.before, &b.after) {
                if x.contains('=') || y.contains('=') {
                    out.extend([t(": "), c(x.clone()), t(" -> "), c(y.clone())]);
                }
            }
        }
        Cause::UpstreamChanged => out.push(t(match b.caused_by {
            Some(r) => format!("re-ran because a step it builds on ran (#{r})"),
            None => "re-ran because a step it builds on ran".into(),
        })),
        Cause::CacheUnavailable => out.push(t(match detail {
            "cold_builder" => "ran on a cold builder (no cache hit anywhere in the build)".into(),
            "lazy_miss" => {
                "was reported cached, then ran: the imported cache lacked its layers".into()
            }
            // The note says where it hit and which caches lacked it (the imported one too).
            "evicted" => match b.note.as_deref() {
                Some(note) => format!("ran although nothing it depends on changed: {note}"),
                None => "ran although nothing it depends on changed: its cache was evicted".into(),
            },
            "import_failed" => "ran cold: the build's cache import failed".into(),
            _ => format!(
                "ran without its cache: {}",
                b.note.as_deref().unwrap_or(detail)
            ),
        })),
        Cause::Unknown => out.push(t(format!(
            "re-ran for a reason buildprof cannot see: {detail}"
        ))),
    }
    out.push(t(format!(": {}", duration_ms(b.cost_ms as f64))));
    out
}

/// The reason as plain text, code in backticks (`printable` applied by the caller's `code`).
pub fn reason_text(b: &WhyBust, code: &dyn Fn(&str) -> String) -> String {
    pieces_text(reason(b), code)
}

/// [`reason_text`] without the time it cost (where the caller says a time of its own).
pub fn cause_text(b: &WhyBust, code: &dyn Fn(&str) -> String) -> String {
    let mut pieces = reason(b);
    pieces.pop();
    pieces_text(pieces, code)
}

fn pieces_text(pieces: Vec<Piece>, code: &dyn Fn(&str) -> String) -> String {
    pieces
        .into_iter()
        .map(|p| match p {
            Piece::Text(s) => s,
            Piece::Code(s) => code(&s),
        })
        .collect()
}
