//! `buildprof report`: the weekly report. Runs the analyses over the period, the previous period
//! and the trend window, puts the report together and writes each requested format (and the
//! chart files the Markdown links to) into the output folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analyzer::bust_report::bust_summary;
use analyzer::compare::{compare, CompareOptions};
use analyzer::metrics::{build_metrics, MetricsOptions};
use analyzer::step_stats::{step_stats, StepsOptions};
use analyzer::trends::{trends, Period, TrendsOptions};
use analyzer::Scope;
use anyhow::{bail, Context, Result};
use collector::store::{BuildFilter, Store};
use reports::chart::Chart;
use reports::compose::{self, ReportInputs};
use reports::doc::Block;
use reports::export::{Exporter, Format, HtmlExporter, Images, JsonExporter, MarkdownExporter};
use reports::report::Report;

use super::{open_store, print};
use crate::cli_reports::ReportArgs;
use crate::labels::parse_labels;
use crate::when::{now_ns, parse_when};

/// Weeks the trend charts cover, the period's week included.
const TREND_WEEKS: i64 = 12;
const WEEK_NS: i64 = 7 * 86_400 * 1_000_000_000;
/// Rows of the cache-bust and slowest-step tables.
const TOP: usize = 10;

/// What to report on and where to write it.
pub struct ReportPlan {
    pub since: i64,
    pub until: i64,
    pub labels: Vec<(String, String)>,
    pub out: PathBuf,
    pub formats: Vec<Format>,
    pub png: bool,
}

pub fn run(db: &Path, args: ReportArgs) -> Result<ExitCode> {
    let now = now_ns();
    let until = match &args.until {
        Some(u) => parse_when(u, now)?,
        None => now,
    };
    // A relative --since counts back from --until.
    let since = parse_when(&args.since, until)?;
    if since >= until {
        bail!("--since must be before --until (the period is empty)");
    }
    let mut formats = Vec::new();
    for f in &args.format {
        match Format::parse(f) {
            Some(f) if !formats.contains(&f) => formats.push(f),
            Some(_) => {}
            None => bail!("unknown report format {f:?}: use html, md or json (comma-separated)"),
        }
    }
    let plan = ReportPlan {
        since,
        until,
        labels: parse_labels(&args.labels)?,
        out: args.out,
        formats,
        png: args.png,
    };
    let store = open_store(db)?;
    let written = write_report(&store, &plan, now)?;
    let mut text = String::new();
    for p in written {
        text.push_str(&format!("wrote {}\n", p.display()));
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Makes the report of `plan` from `store` and writes its files; returns their paths, the main
/// documents first.
pub fn write_report(store: &Store, plan: &ReportPlan, now: i64) -> Result<Vec<PathBuf>> {
    let report = make_report(store, plan, now)?;
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("cannot create {}", plan.out.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, bytes: Vec<u8>| -> Result<()> {
        let path = plan.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    let images = if plan.png { Images::Png } else { Images::Svg };
    for f in &plan.formats {
        let bytes = match f {
            Format::Html => HtmlExporter.export(&report)?,
            Format::Markdown => MarkdownExporter { images }.export(&report)?,
            Format::Json => JsonExporter.export(&report)?,
        };
        write(format!("report.{}", f.extension()), bytes)?;
    }
    let charts = charts(&report);
    if plan.formats.contains(&Format::Markdown) && !plan.png {
        for c in &charts {
            write(format!("{}.svg", c.stem), c.svg()?.into_bytes())?;
        }
    }
    if plan.png {
        for c in &charts {
            write(format!("{}.png", c.stem), c.png()?)?;
        }
    }
    Ok(written)
}

/// The demo's report: the HTML report of the week up to the latest sample build, in `dir`.
/// Anchored on the data rather than on today, so it shows the same builds on any date.
pub fn demo_report(store: &Store, dir: &Path) -> Result<PathBuf> {
    let latest = store
        .list_builds(&BuildFilter::default())?
        .iter()
        .filter_map(|r| r.started_at)
        .max()
        .unwrap_or_else(now_ns);
    // Up to the next whole minute after the latest start, so that build is inside the period.
    let minute = 60 * 1_000_000_000;
    let until = (latest / minute + 1) * minute;
    let plan = ReportPlan {
        since: until - WEEK_NS,
        until,
        labels: Vec::new(),
        out: dir.to_path_buf(),
        formats: vec![Format::Html],
        png: false,
    };
    let written = write_report(store, &plan, now_ns())?;
    Ok(written
        .into_iter()
        .next()
        .unwrap_or_else(|| dir.join("report.html")))
}

/// The charts of a report, as the Markdown and HTML show them.
fn charts(report: &Report) -> Vec<Chart> {
    reports::sections::report(report)
        .blocks
        .into_iter()
        .filter_map(|b| match b {
            Block::Chart(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Runs the analyses and puts the report together.
pub fn make_report(store: &Store, plan: &ReportPlan, now: i64) -> Result<Report> {
    let conn = store.connection();
    let len = plan.until - plan.since;
    let scope = |since: i64, until: i64| Scope {
        labels: plan.labels.clone(),
        since: Some(since),
        until: Some(until),
        ..Scope::default()
    };
    let period = scope(plan.since, plan.until);
    let previous_since = plan.since - len;
    let metrics = MetricsOptions::default();
    let current =
        build_metrics(conn, &period, &metrics).context("computing the period's build metrics")?;
    let previous = build_metrics(conn, &scope(previous_since, plan.since), &metrics)
        .context("computing the previous period's build metrics")?;
    let trend_since = compose::week_start(plan.until - 1 - (TREND_WEEKS - 1) * WEEK_NS);
    let weekly = trends(
        conn,
        &scope(trend_since, plan.until),
        &TrendsOptions {
            period: Period::Week,
            price_per_minute: 0.0,
        },
    )
    .context("computing the weekly trends")?;
    let busts = bust_summary(conn, &period, Some(TOP)).context("finding the cache busts")?;
    let steps = step_stats(
        conn,
        &period,
        &StepsOptions {
            all_kinds: false,
            limit: Some(TOP),
        },
    )
    .context("computing step statistics")?;
    let rows = store.list_builds(&BuildFilter {
        labels: plan.labels.clone(),
        since: Some(plan.since),
        until: Some(plan.until),
        limit: None,
    })?;
    // A comparison needs a strategy-like label with two values; too few builds is not an error
    // of the report, so the table is left out then.
    let comparison = compose::strategy_label(&rows)
        .and_then(|by| compare(conn, &period, &CompareOptions::new(by)).ok());
    let slowest = rows
        .iter()
        .filter(|r| r.duration_ns.is_some())
        .max_by_key(|r| (r.duration_ns, std::cmp::Reverse(r.id.clone())))
        .map(|r| store.load_build(&r.id))
        .transpose()?;
    Ok(compose::report(&ReportInputs {
        generated_at: now,
        scope: &plan.labels,
        since: plan.since,
        until: plan.until,
        previous_since,
        current: &current,
        previous: &previous,
        rows: &rows,
        trends: &weekly,
        trend_since,
        busts: &busts,
        steps: &steps,
        comparison: comparison.as_ref(),
        slowest_build: slowest.as_ref(),
    }))
}
