//! `builds` and `show` for the terminal: the builds list, a build's step table and summary line.

use collector::model::{Build, Outcome};
use collector::store::BuildRow;

use crate::render::cause::import_failure;
use crate::render::fmt::{bytes, duration_ns, ellipsize, opt_duration_ns, printable, timestamp};
use crate::render::table::{Align, Table};

/// `buildprof builds`: one row per build.
pub fn builds_table(rows: &[BuildRow]) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Left),
        ("STARTED", Align::Left),
        ("STATUS", Align::Left),
        ("WALL", Align::Right),
        ("STEPS", Align::Right),
        ("CACHED", Align::Right),
        ("PULLED", Align::Right),
        ("EXEC", Align::Right),
        ("LAZY", Align::Right),
        ("FORMAT", Align::Left),
        ("LABELS", Align::Left),
        ("SOURCE", Align::Left),
    ]);
    for r in rows {
        let labels: Vec<String> = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        t.push(vec![
            r.id.chars().take(12).collect(),
            timestamp(r.started_at),
            r.status.as_str().into(),
            opt_duration_ns(r.duration_ns),
            r.step_count.to_string(),
            r.cached_count.to_string(),
            r.pulled_count.to_string(),
            r.executed_count.to_string(),
            r.lazy_miss_count.to_string(),
            r.format.as_str().into(),
            ellipsize(&labels.join(","), 48),
            ellipsize(short_source(&r.source), 40),
        ]);
    }
    t.to_text()
}

fn short_source(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// The one-line summary of a build.
pub fn summary_line(b: &Build) -> String {
    let c = b.counts();
    let mut s = format!(
        "{} {} in {}: {} steps, {} cached, {} pulled, {} executed",
        &b.id.chars().take(12).collect::<String>(),
        b.status.as_str(),
        opt_duration_ns(b.duration_ns),
        b.steps.len(),
        c.cached,
        c.pulled,
        c.executed
    );
    if c.lazy_miss > 0 {
        s.push_str(&format!(
            " ({} lazy miss{})",
            c.lazy_miss,
            if c.lazy_miss == 1 { "" } else { "es" }
        ));
    }
    if c.failed > 0 {
        s.push_str(&format!(", {} failed", c.failed));
    }
    if c.canceled > 0 {
        s.push_str(&format!(", {} canceled", c.canceled));
    }
    if let Some(e) = &b.error {
        s.push_str(&format!(" — {}", ellipsize(&printable(e), 160)));
    }
    s
}

/// `buildprof show`: the summary line, then a table of steps in the order they started.
pub fn show_build(b: &Build) -> String {
    let mut out = summary_line(b);
    out.push('\n');
    out.push_str(&format!(
        "source: {} ({})\n",
        printable(&b.source),
        b.format.as_str()
    ));
    if !b.labels.is_empty() {
        let labels: Vec<String> = b.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!("labels: {}\n", printable(&labels.join(", "))));
    }
    for (reference, error) in b.failed_cache_imports() {
        out.push_str(&format!(
            "{}\n",
            printable(&import_failure(reference, error))
        ));
    }
    out.push('\n');
    let mut t = Table::new(&[
        ("#", Align::Right),
        ("OUTCOME", Align::Left),
        ("DURATION", Align::Right),
        ("STAGE", Align::Left),
        ("KIND", Align::Left),
        ("STEP", Align::Left),
        ("DETAIL", Align::Left),
    ]);
    // In the order they started (the stream's order of first appearance where times are unknown).
    let mut order: Vec<&collector::model::Step> = b.steps.iter().collect();
    order.sort_by_key(|s| (s.started_at.unwrap_or(i64::MAX), s.seq));
    for s in order {
        let outcome = if s.lazy_miss {
            format!("{} (lazy miss)", s.outcome.as_str())
        } else {
            s.outcome.as_str().to_string()
        };
        let stage = match (&s.stage, s.stage_index, s.stage_total) {
            (Some(st), Some(i), Some(n)) => format!("{st} {i}/{n}"),
            (None, Some(i), Some(n)) => format!("{i}/{n}"),
            _ => String::new(),
        };
        let mut detail = Vec::new();
        if s.outcome == Outcome::Pulled || s.pulled_bytes > 0 {
            detail.push(format!(
                "pulled {} in {}",
                bytes(s.pulled_bytes),
                duration_ns(s.pull_ns)
            ));
        }
        if s.layers_written > 0 {
            detail.push(format!("{} layers written", s.layers_written));
        }
        if s.log_lines > 0 {
            detail.push(format!("{} log lines", s.log_lines));
        }
        if let Some(e) = &s.error {
            detail.push(ellipsize(e, 80));
        }
        t.push(vec![
            s.seq.to_string(),
            outcome,
            duration_ns(s.duration_ns),
            stage,
            s.kind.as_str().to_string(),
            ellipsize(&s.instruction, 70),
            detail.join("; "),
        ]);
    }
    out.push_str(&t.to_text());
    out
}
