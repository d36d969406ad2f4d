//! `buildprof why` for the terminal: the compared build, failed cache imports, and one line per
//! step that ran with its reason ([`crate::render::reason`]), changed files below it.

use analyzer::why::{Cause, Why};

use crate::render::fmt::printable;
use crate::render::reason::reason_text;

/// The whole answer of `buildprof why`.
pub fn render_why(w: &Why) -> String {
    let code = |s: &str| format!("`{}`", printable(s));
    let short: String = w.build_id.chars().take(12).collect();
    let mut out = match &w.compared_with {
        None if w.busts.is_empty() => format!("{short}: no step ran; nothing to explain\n"),
        Some(c) => format!(
            "{short}: {} step{} ran; compared with {} ({})\n",
            w.busts.len(),
            if w.busts.len() == 1 { "" } else { "s" },
            c.build_id.chars().take(12).collect::<String>(),
            c.started_at.as_deref().unwrap_or("time unknown")
        ),
        None => format!(
            "{short}: {} step{} ran; no earlier build to compare with\n",
            w.busts.len(),
            if w.busts.len() == 1 { "" } else { "s" }
        ),
    };
    for f in &w.import_failures {
        out.push_str(&format!(
            "cache import of {} failed: {}\n",
            code(&f.reference),
            printable(&f.error)
        ));
    }
    for b in &w.busts {
        let stage = b
            .stage
            .as_deref()
            .map(|s| format!("[{}] ", printable(s)))
            .unwrap_or_default();
        out.push_str(&format!("#{:<3} {stage}{}\n", b.seq, reason_text(b, &code)));
        if b.cause == Cause::SourceFilesChanged {
            for f in b.changed_files.iter().skip(1) {
                out.push_str(&format!(
                    "       {} {}\n",
                    f.change.as_str(),
                    printable(&f.path)
                ));
            }
            if b.more_changed_files > 0 {
                out.push_str(&format!("       ... and {} more\n", b.more_changed_files));
            }
        }
        if let (Cause::Unknown | Cause::CacheUnavailable, Some(c)) = (b.cause, &b.compared_with) {
            out.push_str(&format!(
                "       compared with {}\n",
                c.chars().take(12).collect::<String>()
            ));
        }
    }
    out
}
