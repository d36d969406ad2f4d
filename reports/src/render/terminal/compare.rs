//! `buildprof compare` for the terminal: the groups table, the verdicts, and the cost model.

use analyzer::compare::{Comparison, GroupStats, Metric};
use analyzer::cost::CostReport;

use crate::render::fmt::{bytes, printable};
use crate::render::fmt::{duration_ms, opt_duration_ms, percent, signed_duration_ms, usd};
use crate::render::table::{Align, Table};

/// The whole `compare` output.
pub fn render(c: &Comparison) -> String {
    let mut out = format!(
        "compare {} by {}{}: {} builds{}\n",
        c.metric.as_str(),
        printable(&c.by),
        if c.scope.is_empty() {
            String::new()
        } else {
            format!(" ({})", printable(&c.scope))
        },
        c.groups.iter().map(|g| g.n).sum::<usize>(),
        if c.include_failed {
            ""
        } else {
            ", succeeded only"
        }
    );
    out.push_str(&format!(
        "baseline: {} ({})\n",
        printable(&c.baseline),
        c.baseline_rule
    ));
    if c.builds_without_label > 0 {
        out.push_str(&format!(
            "{} build(s) without the label {} left out\n",
            c.builds_without_label,
            printable(&c.by)
        ));
    }
    out.push('\n');
    out.push_str(&groups_table(c));
    out.push('\n');
    out.push_str(&pooled_text(c));
    for g in &c.groups {
        if let Some(v) = &g.vs_baseline {
            out.push_str(&printable(&v.verdict));
            out.push('\n');
        }
    }
    if let Some(cost) = &c.cost {
        out.push('\n');
        out.push_str(&cost_text(cost));
    }
    out
}

/// A warning per group that mixes experiments or scenarios, with each part's median.
fn pooled_text(c: &Comparison) -> String {
    let mut out = String::new();
    for p in &c.pooled {
        let parts: Vec<String> = p
            .parts
            .iter()
            .map(|x| {
                format!(
                    "{} {} (n={})",
                    printable(&x.value),
                    value_text(c.metric, x.median),
                    x.n
                )
            })
            .collect();
        out.push_str(&format!(
            "warning: group {} pools {} {}s: {}; compare one at a time with --label {}=...\n",
            printable(&p.group),
            p.parts.len(),
            printable(&p.label),
            parts.join(", "),
            printable(&p.label)
        ));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn value_text(m: Metric, v: f64) -> String {
    if m.is_time() {
        duration_ms(v)
    } else {
        percent(v)
    }
}

fn diff_text(m: Metric, v: f64) -> String {
    if m.is_time() {
        signed_duration_ms(v)
    } else {
        let pts = v * 100.0;
        if pts < 0.0 {
            format!("−{:.1}pt", -pts)
        } else {
            format!("+{pts:.1}pt")
        }
    }
}

fn groups_table(c: &Comparison) -> String {
    let m = c.metric;
    let mut t = Table::new(&[
        (c.by.as_str(), Align::Left),
        ("N", Align::Right),
        ("MEDIAN", Align::Right),
        ("P90", Align::Right),
        ("MEAN", Align::Right),
        ("VS BASELINE", Align::Right),
        ("95% CI", Align::Left),
        ("P", Align::Right),
        ("CLIFF'S Δ", Align::Right),
    ]);
    for g in &c.groups {
        t.push(row(m, g));
    }
    t.to_text()
}

fn row(m: Metric, g: &GroupStats) -> Vec<String> {
    let mut r = vec![
        g.value.clone(),
        g.n.to_string(),
        value_text(m, g.median),
        value_text(m, g.p90),
        value_text(m, g.mean),
    ];
    match &g.vs_baseline {
        None => r.extend([
            "baseline".into(),
            String::new(),
            String::new(),
            String::new(),
        ]),
        Some(v) => {
            r.push(diff_text(m, v.diff_median));
            r.push(match (v.ci_low, v.ci_high) {
                (Some(lo), Some(hi)) => format!("{} to {}", diff_text(m, lo), diff_text(m, hi)),
                _ => "-".into(),
            });
            r.push(v.p_value.map_or("-".into(), |p| {
                if p < 0.001 {
                    "<0.001".into()
                } else {
                    format!("{p:.3}")
                }
            }));
            r.push(
                v.effect_size
                    .map_or("-".into(), |d| format!("{d:+.2}").replace('-', "−")),
            );
        }
    }
    r
}

/// The cost model section.
pub fn cost_text(c: &CostReport) -> String {
    let mut out = format!(
        "cost at {} per runner-minute; builds per week: {}\n\n",
        usd(c.price_per_minute_usd),
        c.builds_per_week_rule
    );
    let mut t = Table::new(&[
        ("GROUP", Align::Left),
        ("N", Align::Right),
        ("MIN/BUILD", Align::Right),
        ("COST/BUILD", Align::Right),
        ("BUILDS/WEEK", Align::Right),
        ("COST/WEEK", Align::Right),
        ("VS BASELINE/BUILD", Align::Right),
        ("VS BASELINE/WEEK", Align::Right),
        ("EXPORTS", Align::Right),
        ("EXPORT TIME", Align::Right),
        ("LAYERS/EXPORT", Align::Right),
        ("SIZE/EXPORT", Align::Left),
    ]);
    for g in &c.groups {
        let size = match (g.bytes_per_export, g.known_bytes_per_export) {
            (Some(b), _) => bytes(b as i64),
            (None, Some(b)) => format!(
                "≥{} ({} of {} layers sized)",
                bytes(b as i64),
                g.layers_with_known_size,
                g.layers_written
            ),
            (None, None) if g.exports > 0 => "unknown".into(),
            (None, None) => "-".into(),
        };
        t.push(vec![
            g.value.clone(),
            g.n.to_string(),
            format!("{:.2}", g.ci_minutes_per_build),
            usd(g.usd_per_build),
            format!("{:.1}", g.builds_per_week),
            usd(g.usd_per_week),
            g.usd_vs_baseline_per_build.map_or("baseline".into(), usd),
            g.usd_vs_baseline_per_week.map_or("baseline".into(), usd),
            g.exports.to_string(),
            opt_duration_ms(g.export_ms_per_export),
            g.layers_per_export
                .map_or("-".into(), |l| format!("{l:.1}")),
            size,
        ]);
    }
    out.push_str(&t.to_text());
    if !c.break_even.is_empty() {
        out.push('\n');
        for s in &c.break_even {
            out.push_str(&printable(s));
            out.push('\n');
        }
    }
    out
}
