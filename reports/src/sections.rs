//! The layout shared by the Markdown and HTML outputs: which sections a [`Report`] and a
//! [`JobSummary`] have, in what order, as a [`Doc`].

use crate::chart::{Chart, ChartKind};
use crate::doc::{Block, Doc, DocTable, Metric, MetricSet, Span, Tone};
use crate::fmt::duration_ns;
use crate::report::{Change, Report};
use crate::summary::JobSummary;
use crate::table::{Align, Table};

/// Which direction of change is good news.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
    Neither,
}

/// How a number is shown.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    Ms,
    Ratio,
}

fn ms(v: i64) -> String {
    duration_ns(v.saturating_mul(1_000_000))
}

fn opt_ms(v: Option<i64>) -> String {
    v.map_or_else(|| "–".to_string(), ms)
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), |r| format!("{:.0}%", r * 100.0))
}

fn value(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "n/a".into(),
        (Some(v), Unit::Count) => format!("{v:.0}"),
        (Some(v), Unit::Ms) => ms(v.round() as i64),
        (Some(v), Unit::Ratio) => format!("{:.0}%", v * 100.0),
    }
}

fn signed_ms(d: i64) -> String {
    match d.signum() {
        1 => format!("+{}", ms(d)),
        -1 => format!("−{}", ms(-d)),
        _ => "±0".into(),
    }
}

/// `+12%`, `−3%`, `±0%` for a relative change (0.12, -0.03).
fn signed_pct(r: f64) -> String {
    let p = (r * 100.0).round();
    if p == 0.0 {
        "±0%".into()
    } else if p > 0.0 {
        format!("+{p:.0}%")
    } else {
        format!("−{:.0}%", -p)
    }
}

/// `+1.2s (+14%)`, `−3`, `+5 pts`, with its tone.
fn change_text(c: &Change, unit: Unit, better: Better) -> (String, Tone) {
    let Some(d) = c.delta else {
        let why = if c.current.is_none() {
            "not computed"
        } else {
            "no earlier data"
        };
        return (why.into(), Tone::Neutral);
    };
    let tone = match better {
        _ if d == 0.0 => Tone::Neutral,
        Better::Neither => Tone::Neutral,
        Better::Lower if d < 0.0 => Tone::Good,
        Better::Higher if d > 0.0 => Tone::Good,
        _ => Tone::Bad,
    };
    let arrow = if d > 0.0 {
        "▲ "
    } else if d < 0.0 {
        "▼ "
    } else {
        ""
    };
    let main = match unit {
        Unit::Count if d > 0.0 => format!("+{d:.0}"),
        Unit::Count if d < 0.0 => format!("−{:.0}", -d),
        Unit::Count => "±0".into(),
        Unit::Ms => signed_ms(d.round() as i64),
        Unit::Ratio => format!("{:+.1} pts", d * 100.0).replace('-', "−"),
    };
    let rel = match (unit, c.delta_pct) {
        (Unit::Ratio, _) | (_, None) => String::new(),
        (_, Some(p)) if d != 0.0 => format!(" ({}%)", format!("{p:+.0}").replace('-', "−")),
        _ => String::new(),
    };
    (format!("{arrow}{main}{rel}"), tone)
}

fn metric(label: &str, c: &Change, unit: Unit, better: Better) -> Metric {
    let (change, tone) = change_text(c, unit, better);
    Metric {
        label: label.into(),
        value: value(c.current, unit),
        previous: value(c.previous, unit),
        change,
        tone,
    }
}

fn table(headers: &[(&str, Align)], code_columns: &[usize], class: &'static str) -> DocTable {
    DocTable {
        table: Table::new(headers),
        code_columns: code_columns.to_vec(),
        class,
    }
}

/// `2026-11-15T04:33:00.000Z` as `2026-11-15 04:33 UTC`.
fn minute(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => t.to_string(),
    }
}

/// Date part of an RFC 3339 time.
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

/// The weekly report's sections.
pub fn report(r: &Report) -> Doc {
    let mut blocks = Vec::new();
    let h = &r.headline;
    blocks.push(Block::Metrics(MetricSet {
        current: "this period".into(),
        previous: "previous period".into(),
        items: vec![
            metric("Builds", &h.builds, Unit::Count, Better::Neither),
            metric(
                "Median wall time",
                &h.median_wall_ms,
                Unit::Ms,
                Better::Lower,
            ),
            metric("p90 wall time", &h.p90_wall_ms, Unit::Ms, Better::Lower),
            metric("Cache hit ratio", &h.hit_ratio, Unit::Ratio, Better::Higher),
            metric(
                "Time saved by cache",
                &h.time_saved_ms,
                Unit::Ms,
                Better::Higher,
            ),
            metric(
                "Time lost to cache busts",
                &h.bust_cost_ms,
                Unit::Ms,
                Better::Lower,
            ),
            metric("Failures", &h.failures, Unit::Count, Better::Lower),
        ],
    }));
    if !r.notes.is_empty() {
        blocks.push(Block::List(
            r.notes
                .iter()
                .map(|n| vec![Span::Text(n.clone())])
                .collect(),
        ));
    }

    blocks.push(Block::Heading("Trends by week".into()));
    if r.weeks.iter().any(|w| w.builds > 0) {
        let (first, last) = (
            &r.weeks[0].week_start,
            &r.weeks[r.weeks.len() - 1].week_start,
        );
        blocks.push(Block::Chart(Chart {
            stem: "weekly-wall",
            title: "Wall time per week".into(),
            alt: format!("Median and p90 wall time per week, weeks starting {first} to {last}."),
            kind: ChartKind::WeeklyWall(r.weeks.clone()),
        }));
        blocks.push(Block::Chart(Chart {
            stem: "weekly-hits",
            title: "Cache hit ratio per week".into(),
            alt: format!(
                "Share of steps that were cache hits per week, weeks starting {first} to {last}."
            ),
            kind: ChartKind::WeeklyHits(r.weeks.clone()),
        }));
        let mut t = table(
            &[
                ("Week starting", Align::Left),
                ("Builds", Align::Right),
                ("Failures", Align::Right),
                ("Median wall", Align::Right),
                ("p90 wall", Align::Right),
                ("Hit ratio", Align::Right),
                ("Saved", Align::Right),
                ("Lost to busts", Align::Right),
            ],
            &[],
            "weeks",
        );
        for w in r.weeks.iter().filter(|w| w.builds > 0) {
            t.table.push(vec![
                w.week_start.clone(),
                w.builds.to_string(),
                w.failures.to_string(),
                opt_ms(w.median_wall_ms),
                opt_ms(w.p90_wall_ms),
                pct(w.hit_ratio),
                opt_ms(w.time_saved_ms),
                opt_ms(w.bust_cost_ms),
            ]);
        }
        blocks.push(Block::Table(t));
    } else {
        blocks.push(Block::Para(vec![Span::Text(
            "No builds in the trend window.".into(),
        )]));
    }

    if r.builds.iter().any(|b| b.wall_ms.is_some()) {
        blocks.push(Block::Heading("Builds this period".into()));
        blocks.push(Block::Chart(Chart {
            stem: "builds",
            title: "Wall time of each build".into(),
            alt: format!(
                "Wall time of the {} builds started between {} and {}, in start order, coloured by status.",
                r.builds.len(),
                day(&r.period.since),
                day(&r.period.until)
            ),
            kind: ChartKind::Builds(r.builds.clone()),
        }));
    }

    blocks.push(Block::Heading("What busted the cache".into()));
    if r.cache_busts.is_empty() {
        blocks.push(Block::Para(vec![Span::Text(
            "No cache busts in this period: no step ran after a cache hit in its stage.".into(),
        )]));
    } else {
        blocks.push(Block::Para(vec![Span::Text(
            "Where a stage's cache chain broke: the first step that ran although the step before it was a cache hit (or that was reported cached and ran anyway: a lazy miss), and the steps of the stage that re-ran from there."
                .into(),
        )]));
        let mut t = table(
            &[
                ("Busted at", Align::Left),
                ("Stage", Align::Left),
                ("Busts", Align::Right),
                ("Lazy misses", Align::Right),
                ("Builds", Align::Right),
                ("Steps re-run", Align::Right),
                ("Cost", Align::Right),
            ],
            &[0, 1],
            "busts",
        );
        for b in &r.cache_busts {
            t.table.push(vec![
                b.instruction.clone(),
                b.stage.clone().unwrap_or_default(),
                b.busts.to_string(),
                b.lazy_misses.to_string(),
                pct(Some(b.share_of_builds)),
                format!("{:.0}", b.median_reran_steps),
                ms(b.total_rerun_ms),
            ]);
        }
        blocks.push(Block::Table(t));
    }

    blocks.push(Block::Heading("Slowest steps".into()));
    if r.slowest_steps.is_empty() {
        blocks.push(Block::Para(vec![Span::Text(
            "No step ran in this period.".into(),
        )]));
    } else {
        blocks.push(Block::Para(vec![Span::Text(
            "Step identities (stage and instruction) by the time spent in them over the period."
                .into(),
        )]));
        let mut t = table(
            &[
                ("Step", Align::Left),
                ("Stage", Align::Left),
                ("Builds", Align::Right),
                ("Ran", Align::Right),
                ("Hit rate", Align::Right),
                ("Median run", Align::Right),
                ("p90 run", Align::Right),
                ("Total", Align::Right),
                ("Trend", Align::Right),
            ],
            &[0, 1],
            "steps",
        );
        for s in &r.slowest_steps {
            t.table.push(vec![
                s.instruction.clone(),
                s.stage.clone().unwrap_or_default(),
                s.runs.to_string(),
                s.executed_runs.to_string(),
                pct(Some(s.hit_rate)),
                opt_ms(s.median_executed_ms),
                opt_ms(s.p90_executed_ms),
                ms(s.total_ms),
                s.trend.map(signed_pct).unwrap_or_default(),
            ]);
        }
        blocks.push(Block::Table(t));
    }

    if let Some(st) = &r.strategies {
        blocks.push(Block::Heading("Strategies".into()));
        let mut intro = vec![
            Span::Text("Builds of the period grouped by the label ".into()),
            Span::Code(st.label.clone()),
        ];
        if let Some(b) = &st.baseline {
            intro.push(Span::Text(", against the baseline ".into()));
            intro.push(Span::Code(b.clone()));
        }
        intro.push(Span::Text(".".into()));
        blocks.push(Block::Para(intro));
        let mut t = table(
            &[
                ("Value", Align::Left),
                ("Builds", Align::Right),
                ("Median wall", Align::Right),
                ("p90 wall", Align::Right),
                ("Hit ratio", Align::Right),
                ("vs baseline", Align::Right),
                ("95% CI", Align::Right),
                ("p", Align::Right),
                ("Verdict", Align::Left),
            ],
            &[0],
            "strategies",
        );
        for g in &st.groups {
            let ci = match (g.ci_low_ms, g.ci_high_ms) {
                (Some(lo), Some(hi)) => format!("{} to {}", signed_ms(lo), signed_ms(hi)),
                _ => String::new(),
            };
            t.table.push(vec![
                g.value.clone(),
                g.n.to_string(),
                opt_ms(g.median_ms),
                opt_ms(g.p90_ms),
                pct(g.hit_ratio),
                g.diff_median_ms.map(signed_ms).unwrap_or_default(),
                ci,
                g.p_value.map(|p| format!("{p:.3}")).unwrap_or_default(),
                g.verdict.clone().unwrap_or_default(),
            ]);
        }
        blocks.push(Block::Table(t));
    }

    if let Some(tl) = &r.slowest_build {
        blocks.push(Block::Heading("Slowest build".into()));
        let mut p = vec![
            Span::Code(tl.build_id.chars().take(12).collect()),
            Span::Text(" from ".into()),
            Span::Code(tl.source.clone()),
            Span::Text(format!(
                ": {} in {}, {} steps shown",
                tl.status,
                opt_ms(tl.wall_ms),
                tl.steps.len()
            )),
        ];
        if tl.steps_not_shown > 0 {
            p.push(Span::Text(format!(
                " ({} without timing or beyond the longest {} left out)",
                tl.steps_not_shown,
                crate::timeline::MAX_STEPS
            )));
        }
        p.push(Span::Text(".".into()));
        blocks.push(Block::Para(p));
        if !tl.labels.is_empty() {
            let mut l = vec![Span::Text("Labels: ".into())];
            for (i, (k, v)) in tl.labels.iter().enumerate() {
                if i > 0 {
                    l.push(Span::Text(" ".into()));
                }
                l.push(Span::Code(format!("{k}={v}")));
            }
            blocks.push(Block::Para(l));
        }
        if !tl.steps.is_empty() {
            blocks.push(Block::Chart(Chart {
                stem: "waterfall",
                title: "Steps of the slowest build".into(),
                alt: format!(
                    "Waterfall of build {}: {} steps on a time line of {}, coloured by outcome.",
                    tl.build_id.chars().take(12).collect::<String>(),
                    tl.steps.len(),
                    ms(tl.span_ms().round() as i64)
                ),
                kind: ChartKind::Waterfall(tl.clone()),
            }));
        }
    }

    let mut subtitle = vec![Span::Text(format!(
        "Builds started from {} to {}, compared with the period before ({} to {}).",
        minute(&r.period.since),
        minute(&r.period.until),
        minute(&r.previous_period.since),
        minute(&r.previous_period.until)
    ))];
    if !r.scope.is_empty() {
        subtitle.push(Span::Text(" Only builds labelled ".into()));
        for (i, s) in r.scope.iter().enumerate() {
            if i > 0 {
                subtitle.push(Span::Text(" and ".into()));
            }
            subtitle.push(Span::Code(s.clone()));
        }
        subtitle.push(Span::Text(".".into()));
    }
    Doc {
        title: r.title.clone(),
        subtitle,
        blocks,
    }
}

/// The CI job summary's sections.
pub fn summary(s: &JobSummary) -> Doc {
    let mut blocks = Vec::new();
    let base = s.baseline.as_ref();
    let previous = match base {
        Some(b) => format!("{} median of {}", b.label, b.n),
        None => "baseline".into(),
    };
    let wall = Change::new(
        s.wall_ms.map(|v| v as f64),
        base.and_then(|b| b.median_wall_ms).map(|v| v as f64),
    );
    let hits = Change::new(s.hit_ratio, base.and_then(|b| b.median_hit_ratio));
    blocks.push(Block::Metrics(MetricSet {
        current: "this build".into(),
        previous,
        items: vec![
            metric("Wall time", &wall, Unit::Ms, Better::Lower),
            metric("Cache hit ratio", &hits, Unit::Ratio, Better::Higher),
        ],
    }));
    let mut counts = format!(
        "{} steps: {} cached, {} pulled, {} executed",
        s.steps, s.cached, s.pulled, s.executed
    );
    if s.lazy_misses > 0 {
        counts.push_str(&format!(
            " ({} reported cached but ran: lazy miss{})",
            s.lazy_misses,
            if s.lazy_misses == 1 { "" } else { "es" }
        ));
    }
    counts.push('.');
    blocks.push(Block::Para(vec![Span::Text(counts)]));
    if base.is_none() {
        blocks.push(Block::Para(vec![Span::Text(
            "No baseline builds to compare with.".into(),
        )]));
    }
    if let Some(f) = &s.failed_step {
        let mut p = vec![Span::Strong("Failed at".into()), Span::Text(" ".into())];
        p.push(Span::Code(f.clone()));
        if let Some(e) = &s.error {
            p.push(Span::Text(": ".into()));
            p.push(Span::Code(e.clone()));
        }
        blocks.push(Block::Para(p));
    }

    blocks.push(Block::Heading("What busted the cache".into()));
    let busts = s.busts.as_deref().unwrap_or_default();
    if s.busts.is_none() {
        blocks.push(Block::Para(vec![Span::Text(
            "Not worked out for this build.".into(),
        )]));
    } else if busts.is_empty() {
        blocks.push(Block::Para(vec![Span::Text(
            "Nothing: no step ran after a cache hit in its stage.".into(),
        )]));
    } else {
        let mut t = table(
            &[
                ("Busted at", Align::Left),
                ("Stage", Align::Left),
                ("Why", Align::Left),
                ("Steps re-run", Align::Right),
                ("Cost", Align::Right),
            ],
            &[0, 1],
            "busts",
        );
        for b in busts {
            let why = if b.cause == "lazy_miss" {
                "lazy miss: the imported cache lacked its layers"
            } else {
                "changed: its instruction or input files"
            };
            t.table.push(vec![
                b.instruction.clone(),
                b.stage.clone().unwrap_or_default(),
                why.into(),
                b.steps_rerun.to_string(),
                ms(b.cost_ms),
            ]);
        }
        blocks.push(Block::Table(t));
    }

    blocks.push(Block::Heading("Slowest steps".into()));
    let mut t = table(
        &[
            ("Step", Align::Left),
            ("Outcome", Align::Left),
            ("Time", Align::Right),
        ],
        &[0],
        "steps",
    );
    for st in &s.slowest_steps {
        t.table.push(vec![
            st.name.clone(),
            st.outcome.replace('_', " "),
            ms(st.duration_ms),
        ]);
    }
    blocks.push(Block::Table(t));

    let id: String = s.build_id.chars().take(12).collect();
    let mut subtitle = vec![
        Span::Text("Build ".into()),
        Span::Code(id),
        Span::Text(" from ".into()),
        Span::Code(s.source.clone()),
        Span::Text(": ".into()),
        Span::Strong(s.status.clone()),
    ];
    if let Some(w) = s.wall_ms {
        subtitle.push(Span::Text(format!(" in {}", ms(w))));
    }
    subtitle.push(Span::Text(".".into()));
    Doc {
        title: "buildprof: build summary".into(),
        subtitle,
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_good_or_bad_news() {
        let slower = Change::new(Some(12_000.0), Some(10_000.0));
        assert_eq!(
            change_text(&slower, Unit::Ms, Better::Lower),
            ("▲ +2.0s (+20%)".to_string(), Tone::Bad)
        );
        let more_hits = Change::new(Some(0.8), Some(0.75));
        assert_eq!(
            change_text(&more_hits, Unit::Ratio, Better::Higher),
            ("▲ +5.0 pts".to_string(), Tone::Good)
        );
        let fewer = Change::new(Some(3.0), Some(5.0));
        assert_eq!(
            change_text(&fewer, Unit::Count, Better::Lower),
            ("▼ −2 (−40%)".to_string(), Tone::Good)
        );
        let unknown = Change::new(Some(3.0), None);
        assert_eq!(
            change_text(&unknown, Unit::Count, Better::Lower).0,
            "no earlier data"
        );
        let same = Change::new(Some(0.0), Some(0.0));
        assert_eq!(
            change_text(&same, Unit::Count, Better::Lower),
            ("±0".to_string(), Tone::Neutral)
        );
        assert_eq!(signed_pct(-0.004), "±0%");
        assert_eq!(signed_pct(-0.33), "−33%");
    }
}
