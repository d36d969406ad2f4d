//! The CI job summary's sections: the build against its baseline, its step counts, where it
//! failed, what busted the cache, its slowest steps.

use super::{metric, table, Better, Unit};
use crate::job_summary::model::JobSummary;
use crate::render::document::{Block, Doc, MetricSet, Span};
use crate::render::fmt::duration_ms;
use crate::render::reason::{reason, Piece};
use crate::render::table::Align;
use crate::weekly::model::Change;

/// The CI job summary's sections.
pub fn summary(s: &JobSummary) -> Doc {
    let mut blocks = Vec::new();
    for section in [
        against_baseline,
        counts,
        imports,
        failure,
        why,
        busts,
        slowest_steps,
    ] {
        section(s, &mut blocks);
    }
    Doc {
        title: "buildprof: build summary".into(),
        subtitle: subtitle(s),
        blocks,
    }
}

/// Wall time and hit ratio against the baseline's medians.
fn against_baseline(s: &JobSummary, blocks: &mut Vec<Block>) {
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
}

/// Steps per outcome, lazy misses named.
fn counts(s: &JobSummary, blocks: &mut Vec<Block>) {
    let mut counts = format!(
        "{} steps: {} cached, {} pulled, {} executed",
        s.steps, s.cached, s.pulled, s.executed
    );
    // Every step is counted: a failed cache import is a step too.
    for (n, what) in [(s.failed, "failed"), (s.canceled, "canceled")] {
        if n > 0 {
            counts.push_str(&format!(", {n} {what}"));
        }
    }
    if s.lazy_misses > 0 {
        counts.push_str(&format!(
            " ({} reported cached but ran: lazy miss{})",
            s.lazy_misses,
            if s.lazy_misses == 1 { "" } else { "es" }
        ));
    }
    counts.push('.');
    blocks.push(Block::Para(vec![Span::Text(counts)]));
    if s.baseline.is_none() {
        blocks.push(Block::Para(vec![Span::Text(
            "No baseline builds to compare with.".into(),
        )]));
    }
}

/// Cache imports that failed: the build ran without them (often the reason it was slow).
fn imports(s: &JobSummary, blocks: &mut Vec<Block>) {
    for line in &s.cache_import_failures {
        let mut p = vec![
            Span::Strong("Warning:".into()),
            Span::Text(format!(" {line}")),
        ];
        if s.ran_cold {
            // The emphasis starts after the punctuation, where Markdown can open it.
            p.push(Span::Text("; ".into()));
            p.push(Span::Strong("it ran cold: no step hit the cache".into()));
        }
        p.push(Span::Text(".".into()));
        blocks.push(Block::Para(p));
    }
}

/// The step that failed the build, with its error.
fn failure(s: &JobSummary, blocks: &mut Vec<Block>) {
    if let Some(f) = &s.failed_step {
        let mut p = vec![Span::Strong("Failed at".into()), Span::Text(" ".into())];
        p.push(Span::Code(f.clone()));
        if let Some(e) = &s.error {
            p.push(Span::Text(": ".into()));
            p.push(Span::Code(e.clone()));
        }
        blocks.push(Block::Para(p));
    }
}

/// One line per step that re-ran for a cause of its own, with that cause and its cost.
fn why(s: &JobSummary, blocks: &mut Vec<Block>) {
    let Some(roots) = s.why.as_deref().filter(|w| !w.is_empty()) else {
        return;
    };
    blocks.push(Block::Heading("Why it re-ran".into()));
    let lines = roots
        .iter()
        .map(|b| {
            reason(b)
                .into_iter()
                .map(|p| match p {
                    Piece::Text(t) => Span::Text(t),
                    Piece::Code(c) => Span::Code(c),
                })
                .collect()
        })
        .collect();
    blocks.push(Block::List(lines));
}

/// Where the cache chain broke in this build.
fn busts(s: &JobSummary, blocks: &mut Vec<Block>) {
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
            t.table.push(vec![
                b.instruction.clone(),
                b.stage.clone().unwrap_or_default(),
                b.why.clone(),
                b.steps_rerun.to_string(),
                duration_ms(b.cost_ms),
            ]);
        }
        blocks.push(Block::Table(t));
    }
}

/// The build's longest steps; nothing when no step took measurable time (all cached).
fn slowest_steps(s: &JobSummary, blocks: &mut Vec<Block>) {
    if s.slowest_steps.is_empty() {
        return;
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
            duration_ms(st.duration_ms),
        ]);
    }
    blocks.push(Block::Table(t));
}

/// The build's id, source and status, under the title.
fn subtitle(s: &JobSummary) -> Vec<Span> {
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
        subtitle.push(Span::Text(format!(" in {}", duration_ms(w))));
    }
    subtitle.push(Span::Text(".".into()));
    subtitle
}
