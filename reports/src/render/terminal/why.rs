//! `buildprof why` for the terminal, and the one-line reason of a bust that the job summary
//! shows too ("`COPY src /app` re-ran because `src/app.py` changed (and 2 more files): 41s").

use analyzer::why::{Cause, Why, WhyBust};

use crate::render::fmt::{duration_ms, ellipsize, printable};

/// The reason a step ran, in one line; `code` formats a code span (an instruction, a path).
pub fn reason(b: &WhyBust, code: &dyn Fn(&str) -> String) -> String {
    let step = code(&ellipsize(&b.step, 80));
    let detail = b.detail.as_deref().unwrap_or("");
    let why = match b.cause {
        Cause::SourceFilesChanged => {
            let n = b.changed_files.len() as u32 + b.more_changed_files;
            let first = b
                .changed_files
                .first()
                .map(|f| format!("{} {}", code(&f.path), changed_word(f.change.as_str())))
                .unwrap_or_default();
            let more = match n.saturating_sub(1) {
                0 => String::new(),
                1 => " (and 1 more file)".into(),
                m => format!(" (and {m} more files)"),
            };
            format!("re-ran because {first}{more}")
        }
        Cause::InstructionChanged => format!(
            "re-ran because its instruction changed (was {})",
            code(&ellipsize(b.before.as_deref().unwrap_or(""), 80))
        ),
        Cause::BaseImageChanged => format!(
            "re-ran because its base image changed: {} -> {}",
            code(b.before.as_deref().unwrap_or("")),
            code(b.after.as_deref().unwrap_or(""))
        ),
        Cause::BuildArgChanged => {
            let change = match (&b.before, &b.after) {
                (Some(x), Some(y)) if x.contains('=') => format!(": {} -> {}", code(x), code(y)),
                _ => String::new(),
            };
            format!(
                "re-ran because build arg {} changed{change}",
                b.args.join(", ")
            )
        }
        Cause::UpstreamChanged => match b.caused_by {
            Some(r) => format!("re-ran because a step it builds on ran (#{r})"),
            None => "re-ran because a step it builds on ran".into(),
        },
        Cause::CacheUnavailable => match detail {
            "cold_builder" => "ran on a cold builder (no cache hit anywhere in the build)".into(),
            "lazy_miss" => {
                "was reported cached, then ran: the imported cache lacked its layers".into()
            }
            "evicted" => "ran although nothing it depends on changed: its cache was evicted".into(),
            _ => format!(
                "ran without its cache: {}",
                b.note.as_deref().unwrap_or(detail)
            ),
        },
        Cause::Unknown => format!("re-ran for a reason buildprof cannot see: {detail}"),
    };
    format!("{step} {why}: {}", duration_ms(b.cost_ms as f64))
}

fn changed_word(change: &str) -> &'static str {
    match change {
        "added" => "was added",
        "removed" => "was removed",
        _ => "changed",
    }
}

/// The whole answer of `buildprof why`.
pub fn render_why(w: &Why) -> String {
    let code = |s: &str| format!("`{}`", printable(s));
    let short: String = w.build_id.chars().take(12).collect();
    let mut out = match &w.compared_with {
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
        out.push_str(&format!("#{:<3} {stage}{}\n", b.seq, reason(b, &code)));
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
