//! The weekly report's sections, in the order they appear: headline metrics and notes, weekly
//! trends, the period's builds, cache busts, slowest steps, strategies, the slowest build.

use super::{day, metric, minute, table, Better, Unit};
use crate::render::chart::{Chart, ChartKind, MAX_BUILD_BARS};
use crate::render::document::{Block, Doc, MetricSet, Span};
use crate::render::fmt::{
    duration_ms, opt_duration_ms, opt_percent, signed_duration_ms, signed_percent, UNKNOWN,
};
use crate::render::table::Align;
use crate::timeline::MAX_STEPS;
use crate::weekly::model::cause_label;
use crate::weekly::model::Report;

/// The weekly report's sections.
pub fn report(r: &Report) -> Doc {
    let mut blocks = Vec::new();
    for section in [
        headline,
        notes,
        trends,
        builds,
        busts,
        slowest_steps,
        strategies,
        slowest_build,
    ] {
        section(r, &mut blocks);
    }
    Doc {
        title: r.title.clone(),
        subtitle: subtitle(r),
        blocks,
    }
}

/// The period against the previous one, as metric cards.
fn headline(r: &Report, blocks: &mut Vec<Block>) {
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
}

/// What the reader should know about the figures (hits without a price, builds left out).
fn notes(r: &Report, blocks: &mut Vec<Block>) {
    if !r.notes.is_empty() {
        blocks.push(Block::List(
            r.notes
                .iter()
                .map(|n| vec![Span::Text(n.clone())])
                .collect(),
        ));
    }
}

/// The 12-week trend charts and their table.
fn trends(r: &Report, blocks: &mut Vec<Block>) {
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
                opt_duration_ms(w.median_wall_ms),
                opt_duration_ms(w.p90_wall_ms),
                opt_percent(w.hit_ratio),
                opt_duration_ms(w.time_saved_ms),
                opt_duration_ms(w.bust_cost_ms),
            ]);
        }
        blocks.push(Block::Table(t));
    } else {
        blocks.push(Block::Para(vec![Span::Text(
            "No builds in the trend window.".into(),
        )]));
    }
}

/// Every build of the period on one chart.
fn builds(r: &Report, blocks: &mut Vec<Block>) {
    if r.builds.iter().any(|b| b.wall_ms.is_some()) {
        blocks.push(Block::Heading("Builds this period".into()));
        blocks.push(Block::Chart(Chart {
            stem: "builds",
            title: "Wall time of each build".into(),
            alt: format!(
                "Wall time of the {} builds started between {} and {}, in start order, coloured by status.{}",
                r.builds.len(),
                day(&r.period.since),
                day(&r.period.until),
                // The chart draws the builds with a wall time.
                if r.builds.iter().filter(|b| b.wall_ms.is_some()).count() > MAX_BUILD_BARS {
                    " Each bar is the slowest of a run of consecutive builds (the worst status among them)."
                } else {
                    ""
                }
            ),
            kind: ChartKind::Builds(r.builds.clone()),
        }));
    }
}

/// Where the cache chain broke, and what the re-runs cost.
fn busts(r: &Report, blocks: &mut Vec<Block>) {
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
                ("Cause", Align::Left),
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
                b.cause
                    .as_deref()
                    .map(|c| cause_label(c).to_string())
                    .unwrap_or_else(|| "-".into()),
                b.busts.to_string(),
                b.lazy_misses.to_string(),
                opt_percent(Some(b.share_of_builds)),
                format!("{:.0}", b.median_reran_steps),
                duration_ms(b.total_rerun_ms),
            ]);
        }
        blocks.push(Block::Table(t));
    }
    causes(r, blocks);
}

/// The period's re-run time by cause, in a sentence and a chart.
fn causes(r: &Report, blocks: &mut Vec<Block>) {
    if r.rerun_by_cause.is_empty() {
        return;
    }
    let parts: Vec<String> = r
        .rerun_by_cause
        .iter()
        .map(|c| format!("{:.0}% {}", c.share * 100.0, c.label))
        .collect();
    blocks.push(Block::Para(vec![
        Span::Strong("Re-run time by cause:".into()),
        Span::Text(format!(
            " {}; buildprof why BUILD names each bust's cause.",
            parts.join(", ")
        )),
    ]));
    blocks.push(Block::Chart(Chart {
        stem: "rerun-by-cause",
        title: "Re-run time by cause".into(),
        alt: format!("Re-run time of the period by cause: {}.", parts.join(", ")),
        kind: ChartKind::RerunByCause(r.rerun_by_cause.clone()),
    }));
}

/// The step identities the period spent most time in.
fn slowest_steps(r: &Report, blocks: &mut Vec<Block>) {
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
                opt_percent(Some(s.hit_rate)),
                opt_duration_ms(s.median_executed_ms),
                opt_duration_ms(s.p90_executed_ms),
                duration_ms(s.total_ms),
                s.trend
                    .map(signed_percent)
                    .unwrap_or_else(|| UNKNOWN.into()),
            ]);
        }
        blocks.push(Block::Table(t));
    }
}

/// The strategy comparison, when the builds carry a strategy-like label.
fn strategies(r: &Report, blocks: &mut Vec<Block>) {
    for st in &r.strategy_tables {
        blocks.push(Block::Heading(match &st.part {
            Some(part) => format!("Strategies: {part}"),
            None => "Strategies".into(),
        }));
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
                (Some(lo), Some(hi)) => {
                    format!("{} to {}", signed_duration_ms(lo), signed_duration_ms(hi))
                }
                _ => String::new(),
            };
            t.table.push(vec![
                g.value.clone(),
                g.n.to_string(),
                opt_duration_ms(g.median_ms),
                opt_duration_ms(g.p90_ms),
                opt_percent(g.hit_ratio),
                g.diff_median_ms.map(signed_duration_ms).unwrap_or_default(),
                ci,
                g.p_value.map(|p| format!("{p:.3}")).unwrap_or_default(),
                g.verdict.clone().unwrap_or_default(),
            ]);
        }
        blocks.push(Block::Table(t));
    }
}

/// The slowest build's waterfall.
fn slowest_build(r: &Report, blocks: &mut Vec<Block>) {
    if let Some(tl) = &r.slowest_build {
        blocks.push(Block::Heading("Slowest build".into()));
        let mut p = vec![
            Span::Code(tl.build_id.chars().take(12).collect()),
            Span::Text(" from ".into()),
            Span::Code(tl.source.clone()),
            Span::Text(format!(
                ": {} in {}, {} steps shown",
                tl.status,
                opt_duration_ms(tl.wall_ms),
                tl.steps.len()
            )),
        ];
        if tl.steps_not_shown > 0 {
            p.push(Span::Text(format!(
                " ({} without timing or beyond the longest {} left out)",
                tl.steps_not_shown, MAX_STEPS
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
                    duration_ms(tl.span_ms().round())
                ),
                kind: ChartKind::Waterfall(tl.clone()),
            }));
        }
    }
}

/// The period and the filters, under the title.
fn subtitle(r: &Report) -> Vec<Span> {
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
    subtitle
}
