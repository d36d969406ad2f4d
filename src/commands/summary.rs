//! `buildprof summary`: one build as compact Markdown for a CI job page
//! (`buildprof summary --last >> "$GITHUB_STEP_SUMMARY"`), compared with the recent median of a
//! baseline label (`branch=main` unless told otherwise).

use std::path::Path;
use std::process::ExitCode;

use analyzer::bust_report::build_busts;
use analyzer::metrics::{build_metrics, BuildMetrics, MetricsOptions};
use analyzer::Scope;
use anyhow::{bail, Context, Result};
use collector::store::Store;
use reports::compose::{self, SummaryInputs};
use reports::export::{export_summary, Images, MarkdownExporter};

use super::{open_store, print};
use crate::cli_reports::SummaryArgs;
use crate::labels::parse_labels;

pub fn run(db: &Path, args: SummaryArgs) -> Result<ExitCode> {
    let store = open_store(db)?;
    let id = match &args.build {
        Some(b) => store.resolve_id(b)?,
        None => last_build(&store)?,
    };
    let build = store.load_build(&id)?;
    let baseline_label = parse_labels(std::slice::from_ref(&args.baseline_label))?
        .pop()
        .expect("one label parsed");
    let conn = store.connection();
    // Metrics of the build itself, with the builds before it as history for its savings.
    let metrics = build_metrics(
        conn,
        &Scope {
            until: build.started_at.map(|s| s + 1),
            ..Scope::default()
        },
        &MetricsOptions {
            build: Some(id.clone()),
            ..MetricsOptions::default()
        },
    )
    .ok()
    .and_then(|mut m| m.pop());
    let busts = build_busts(conn, &id).ok();
    let baseline = baseline_builds(&store, &build, &baseline_label, args.baseline_builds)?;
    let summary = compose::summary(&SummaryInputs {
        build: &build,
        metrics: metrics.as_ref(),
        busts: busts.as_ref(),
        baseline_label: Some(format!("{}={}", baseline_label.0, baseline_label.1)),
        baseline: &baseline,
    });
    if args.json {
        print(&(serde_json::to_string_pretty(&summary)? + "\n"))?;
    } else {
        let md = export_summary(
            &MarkdownExporter {
                images: Images::None,
            },
            &summary,
        )?;
        print(&(String::from_utf8(md)? + "\n"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The most recently stored build (the one a CI step just ingested).
fn last_build(store: &Store) -> Result<String> {
    // The outer SELECT always returns one row: NULL when the store is empty.
    let id: Option<String> = store
        .connection()
        .query_row(
            "SELECT (SELECT id FROM builds ORDER BY ingested_at DESC, started_at DESC, id LIMIT 1)",
            [],
            |r| r.get(0),
        )
        .context("finding the last stored build")?;
    match id {
        Some(id) => Ok(id),
        None => bail!("no builds stored yet: `buildprof ingest FILE` adds some"),
    }
}

/// The metrics of the `n` most recent builds with the baseline label that started before
/// `build` (all of them when `build` has no start time), `build` itself excluded.
fn baseline_builds(
    store: &Store,
    build: &collector::model::Build,
    label: &(String, String),
    n: usize,
) -> Result<Vec<BuildMetrics>> {
    let scope = Scope {
        labels: vec![label.clone()],
        until: build.started_at,
        ..Scope::default()
    };
    let mut all = build_metrics(store.connection(), &scope, &MetricsOptions::default())
        .context("computing the baseline's build metrics")?;
    all.retain(|m| m.id != build.id && m.started_at.is_some());
    let skip = all.len().saturating_sub(n);
    Ok(all.split_off(skip))
}
