//! `buildprof metrics` for the terminal: one row per build, or one build in detail.

use analyzer::metrics::BuildMetrics;

use crate::render::fmt::{duration_ms, opt_duration_ms, opt_percent};
use crate::render::fmt::{ellipsize, printable};
use crate::render::table::{Align, Table};

pub fn render_table(rows: &[BuildMetrics]) -> String {
    if rows.is_empty() {
        return "no builds in the selection\n".into();
    }
    let mut t = Table::new(&[
        ("ID", Align::Left),
        ("STATUS", Align::Left),
        ("WALL", Align::Right),
        ("HITS", Align::Right),
        ("BY TIME", Align::Right),
        ("SAVED", Align::Right),
        ("NO HIST", Align::Right),
        ("PULL", Align::Right),
        ("CACHE I/O", Align::Right),
        ("BUSTS", Align::Right),
        ("CRIT PATH", Align::Right),
        ("OF WALL", Align::Right),
        ("PARALLEL", Align::Right),
        ("SOURCE", Align::Left),
    ]);
    for m in rows {
        t.push(vec![
            m.id.chars().take(12).collect(),
            m.status.clone(),
            opt_duration_ms(m.wall_ms),
            format!("{}/{}", m.hits, m.instruction_steps),
            opt_percent(m.hit_ratio_time),
            duration_ms(m.saved_ms),
            m.hits_without_history.to_string(),
            duration_ms(m.pull_ms),
            duration_ms(m.cache_import_ms + m.cache_export_ms),
            if m.busts > 0 {
                format!("{} ({})", m.busts, duration_ms(m.bust_ms))
            } else {
                "0".into()
            },
            opt_duration_ms(m.critical_path_ms),
            opt_percent(m.critical_path_share),
            m.parallelism.map_or("-".into(), |p| format!("{p:.1}x")),
            ellipsize(m.source.rsplit('/').next().unwrap_or(&m.source), 36),
        ]);
    }
    let mut out = t.to_text();
    out.push_str("\nHITS: cached + pulled of Dockerfile instructions (FROM not counted); BY TIME: saved / (saved + time run); NO HIST: hits never seen running.\n");
    out
}

pub fn render_build(m: &BuildMetrics) -> String {
    let mut out = format!(
        "{} {} in {}  ({})\n\n",
        m.id.chars().take(12).collect::<String>(),
        m.status,
        opt_duration_ms(m.wall_ms),
        printable(&m.source)
    );
    let line = |k: &str, v: String| format!("  {k:<22} {v}\n");
    out.push_str(&line(
        "hit ratio (count)",
        format!(
            "{} ({} of {} instructions: {} cached, {} pulled)",
            opt_percent(m.hit_ratio),
            m.hits,
            m.instruction_steps,
            m.cached,
            m.pulled
        ),
    ));
    out.push_str(&line("hit ratio (time)", opt_percent(m.hit_ratio_time)));
    out.push_str(&line(
        "saved by the cache",
        format!(
            "{}{}",
            duration_ms(m.saved_ms),
            if m.hits_without_history > 0 {
                format!(
                    " ({} hit(s) without executed history not counted)",
                    m.hits_without_history
                )
            } else {
                String::new()
            }
        ),
    ));
    out.push_str(&line("spent running", duration_ms(m.executed_ms)));
    out.push_str(&line("lost to pulls", duration_ms(m.pull_ms)));
    out.push_str(&line(
        "cache import / export",
        format!(
            "{} / {}",
            duration_ms(m.cache_import_ms),
            duration_ms(m.cache_export_ms)
        ),
    ));
    out.push_str(&line(
        "lost to busts",
        format!("{} ({} bust(s))", duration_ms(m.bust_ms), m.busts),
    ));
    out.push_str(&line(
        "critical path",
        format!(
            "{} ({} of the wall time)",
            opt_duration_ms(m.critical_path_ms),
            opt_percent(m.critical_path_share)
        ),
    ));
    out.push_str(&line(
        "parallelism",
        m.parallelism
            .map_or("-".into(), |p| format!("{p:.2} (step time / wall time)")),
    ));
    out.push_str(&critical_path_table(m));
    out
}

/// The steps of the critical path, as a table under a heading (nothing when it is empty).
fn critical_path_table(m: &BuildMetrics) -> String {
    let mut out = String::new();
    if !m.critical_path.is_empty() {
        out.push_str("\ncritical path:\n");
        let mut t = Table::new(&[
            ("#", Align::Right),
            ("DURATION", Align::Right),
            ("STEP", Align::Left),
        ]);
        for s in &m.critical_path {
            t.push(vec![
                s.seq.to_string(),
                duration_ms(s.duration_ms),
                ellipsize(&s.name, 80),
            ]);
        }
        out.push_str(&t.to_text());
    }
    out
}
