//! The weekly report (`buildprof report`): the builds of a period against the period before,
//! 12 weeks of trends, cache busts, slowest steps, strategies and the slowest build.
//!
//! [`make_report`] runs the analyses over the store; [`assemble`] puts the [`Report`] together;
//! [`write_report`] renders each requested format (and the charts the Markdown links to) into a
//! folder.

pub mod assemble;
pub mod model;
pub mod strategies;

use std::path::{Path, PathBuf};

use analyzer::busts::{bust_summary_of, BustSummary};
use analyzer::load::Loaded;
use analyzer::metrics::{
    build_metrics, build_metrics_of, BuildMetrics, MetricsOptions, METRICS_NEEDS,
};
use analyzer::steps::{step_stats_of, StepStats, StepsOptions};
use analyzer::trends::{trends, Period, TrendsOptions};
use analyzer::why::{cause_breakdown, CauseBreakdown};
use analyzer::{AnalyzeError, Scope};
use collector::store::{BuildFilter, Store, StoreError};

use crate::render::chart::{Chart, ChartError};
use crate::render::document::Block;
use crate::render::{
    layout, HtmlRenderer, Images, JsonRenderer, MarkdownRenderer, RenderError, Renderer,
    ReportFormat,
};
use assemble::{report, week_start, ReportInputs};
pub use model::Report;

/// Weeks the trend charts cover, the period's week included.
const TREND_WEEKS: i64 = 12;
const WEEK_NS: i64 = 7 * 86_400 * 1_000_000_000;
/// Rows of the cache-bust and slowest-step tables.
const TOP: usize = 10;
/// The most builds whose busts the report explains: every build of the period that ran steps up
/// to this many (a busy team's week), else this many spread evenly over the period. `why` reads
/// each build's history, about 0.4 ms a build at 1M steps, so this keeps the report of a long
/// period within its second.
const CAUSE_BUILDS: usize = 300;

/// What to report on and where to write it.
#[derive(Debug, Clone)]
pub struct ReportPlan {
    /// The period `[since, until)`, Unix ns.
    pub since: i64,
    pub until: i64,
    pub labels: Vec<(String, String)>,
    pub out: PathBuf,
    pub formats: Vec<ReportFormat>,
    pub png: bool,
    /// The strategy tables' baseline group, where it exists (`report --baseline`).
    pub baseline: Option<String>,
}

/// Why a report could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what}: {source}")]
    Analysis {
        what: &'static str,
        #[source]
        source: AnalyzeError,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn analysis(what: &'static str) -> impl FnOnce(AnalyzeError) -> ReportError {
    move |source| ReportError::Analysis { what, source }
}

/// Runs the analyses of `plan` over `store` and puts the report together; `now` is when it
/// was made.
///
/// The work is two halves that share nothing, of about the same cost: [`own_half`] (the
/// period's steps and the previous period's metrics) and [`rest_half`] (the trends, the build
/// list, causes, strategies). On a file database the second runs on a read-only handle in
/// another thread (in turn on this one when the handle cannot be opened).
pub fn make_report(store: &Store, plan: &ReportPlan, now: i64) -> Result<Report, ReportError> {
    let w = Windows::of(plan);
    let path = store.connection().path().filter(|p| !p.is_empty());
    let path = path.map(str::to_string);
    std::thread::scope(|s| {
        // A second handle that cannot be opened is no reason to fail.
        let reader = path.and_then(|path| Store::open_reader(&path).ok());
        let w = &w;
        let other = reader.map(|reader| s.spawn(move || rest_half(&reader, plan, w)));
        let own = own_half(store, w)?;
        let r = match other {
            Some(handle) => handle.join().map_err(|_| {
                analysis("reading the rest of the report")(AnalyzeError::Invalid(
                    "the report's second thread panicked".into(),
                ))
            })??,
            None => rest_half(store, plan, w)?,
        };
        Ok(report(&ReportInputs {
            generated_at: now,
            scope: &plan.labels,
            since: plan.since,
            until: plan.until,
            previous_since: w.previous_since,
            current: &own.current,
            previous: &own.previous,
            rows: &r.rows,
            trends: &r.weekly,
            trend_since: w.trend_since,
            busts: &own.busts,
            causes: &r.causes,
            cause_sample: r.cause_sample,
            steps: &own.steps,
            comparisons: &r.comparisons,
            slowest_build: r.slowest.as_ref(),
        }))
    })
}

/// The builds a report reads: the period, the period of the same length before it, and the
/// weeks of the trend charts.
struct Windows {
    period: Scope,
    before: Scope,
    trend_window: Scope,
    previous_since: i64,
    trend_since: i64,
}

impl Windows {
    fn of(plan: &ReportPlan) -> Windows {
        let scope = |since: i64, until: i64| {
            Scope::of(BuildFilter {
                labels: plan.labels.clone(),
                ..BuildFilter::window(Some(since), Some(until))
            })
        };
        let previous_since = plan.since - (plan.until - plan.since);
        let trend_since = week_start(plan.until - 1 - (TREND_WEEKS - 1) * WEEK_NS);
        Windows {
            period: scope(plan.since, plan.until),
            before: scope(previous_since, plan.since),
            trend_window: scope(trend_since, plan.until),
            previous_since,
            trend_since,
        }
    }
}

/// What [`own_half`] reads.
struct Own {
    current: Vec<BuildMetrics>,
    previous: Vec<BuildMetrics>,
    busts: BustSummary,
    steps: StepStats,
}

/// The period's steps, loaded once for its metrics, busts and step statistics; and the
/// previous period's metrics.
fn own_half(store: &Store, w: &Windows) -> Result<Own, ReportError> {
    let conn = store.connection();
    let metrics = MetricsOptions::default();
    let mut loaded = Loaded::load(conn, &w.period, METRICS_NEEDS.select())
        .map_err(analysis("loading the period's builds"))?;
    let current = build_metrics_of(conn, &w.period, &mut loaded, &metrics)
        .map_err(analysis("computing the period's build metrics"))?;
    let busts = bust_summary_of(&loaded, Some(TOP)).map_err(analysis("finding the cache busts"))?;
    let steps = step_stats_of(
        &loaded,
        &StepsOptions {
            all_kinds: false,
            limit: Some(TOP),
        },
    )
    .map_err(analysis("computing step statistics"))?;
    drop(loaded);
    let previous = build_metrics(conn, &w.before, &metrics)
        .map_err(analysis("computing the previous period's build metrics"))?;
    Ok(Own {
        current,
        previous,
        busts,
        steps,
    })
}

/// The weekly trends, the period's build list, the causes of its busts, the strategy tables
/// and the slowest build.
fn rest_half(store: &Store, plan: &ReportPlan, w: &Windows) -> Result<Rest, ReportError> {
    let conn = store.connection();
    let weekly = trends(
        conn,
        &w.trend_window,
        &TrendsOptions {
            period: Period::Week,
            price_per_minute: 0.0,
        },
    )
    .map_err(analysis("computing the weekly trends"))?;
    let rows = store.list_builds(&w.period.builds)?;
    let (causes, cause_sample) = causes_of(store, &rows)?;
    // A comparison needs a strategy-like label with two values; too few builds is not an error
    // of the report, so the table is left out then. One per experiment when there are several.
    let comparisons = strategies::comparisons(store, &w.period, &rows, plan.baseline.as_deref());
    let slowest = rows
        .iter()
        .filter(|r| r.duration_ns.is_some())
        .max_by_key(|r| (r.duration_ns, std::cmp::Reverse(r.id.clone())))
        .map(|r| store.load_build(&r.id))
        .transpose()?;
    Ok(Rest {
        weekly,
        rows,
        causes,
        cause_sample,
        comparisons,
        slowest,
    })
}

/// What [`make_report`] reads besides the period's steps.
struct Rest {
    weekly: analyzer::trends::Trends,
    rows: Vec<collector::store::BuildRow>,
    causes: CauseBreakdown,
    cause_sample: Option<(usize, usize)>,
    comparisons: Vec<strategies::PartComparison>,
    slowest: Option<collector::model::Build>,
}

/// The causes of the busts of the period's builds (`rows`, oldest first), with how many builds
/// they cover when not all. Causes need `why` per build, which reads each build's history: at
/// most [`CAUSE_BUILDS`] builds that ran steps (a fully cached build has nothing to explain).
fn causes_of(
    store: &Store,
    rows: &[collector::store::BuildRow],
) -> Result<(CauseBreakdown, Option<(usize, usize)>), ReportError> {
    let ran: Vec<&collector::store::BuildRow> = rows
        .iter()
        .filter(|r| r.executed_count + r.failed_count > 0)
        .collect();
    let ids: Vec<String> = spread(ran.len(), CAUSE_BUILDS)
        .map(|i| ran[i].id.clone())
        .collect();
    let causes = cause_breakdown(store.connection(), &ids)
        .map_err(analysis("finding the causes of the busts"))?;
    let sample = (ran.len() > ids.len()).then_some((ids.len(), ran.len()));
    Ok((causes, sample))
}

/// Up to `n` of the positions `0..len`, evenly spaced and ending at the last (the newest build):
/// all of them when `len <= n`.
fn spread(len: usize, n: usize) -> impl Iterator<Item = usize> {
    let take = len.min(n);
    (0..take).map(move |i| len - 1 - i * len / take)
}

/// Renders `report` in the formats of `plan` (each once) into its folder (created if missing);
/// returns the paths written, the main documents first. Each file is a new file renamed over
/// its name ([`collector::outfile`]), so a link planted there is replaced, never followed.
pub fn write_report(report: &Report, plan: &ReportPlan) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(&plan.out).map_err(|source| ReportError::Write {
        path: plan.out.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    let mut write = |name: String, bytes: Vec<u8>| -> Result<(), ReportError> {
        let path = plan.out.join(name);
        collector::outfile::write_bytes(&path, &bytes).map_err(|source| ReportError::Write {
            path: path.display().to_string(),
            source,
        })?;
        written.push(path);
        Ok(())
    };
    let images = if plan.png { Images::Png } else { Images::Svg };
    for (i, f) in plan.formats.iter().enumerate() {
        if plan.formats[..i].contains(f) {
            continue; // a format named twice is written once
        }
        let bytes = match f {
            ReportFormat::Html => HtmlRenderer.render_report(report)?,
            ReportFormat::Markdown => MarkdownRenderer { images }.render_report(report)?,
            ReportFormat::Json => JsonRenderer.render_report(report)?,
        };
        write(format!("report.{}", f.extension()), bytes)?;
    }
    let charts = charts(report);
    if plan.formats.contains(&ReportFormat::Markdown) && !plan.png {
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

/// Makes the report of `plan` and writes its files.
pub fn make_and_write(
    store: &Store,
    plan: &ReportPlan,
    now: i64,
) -> Result<Vec<PathBuf>, ReportError> {
    write_report(&make_report(store, plan, now)?, plan)
}

/// The HTML report of the week up to the latest stored build, in `dir`: anchored on the data
/// rather than on today, so sample builds show the same report on any date.
pub fn latest_week_report(store: &Store, dir: &Path, now: i64) -> Result<PathBuf, ReportError> {
    let latest = store
        .list_builds(&BuildFilter::default())?
        .iter()
        .filter_map(|r| r.started_at)
        .max()
        .unwrap_or(now);
    // Up to the next whole minute after the latest start, so that build is inside the period.
    let minute = 60 * 1_000_000_000;
    let until = (latest / minute + 1) * minute;
    let plan = ReportPlan {
        since: until - WEEK_NS,
        until,
        labels: Vec::new(),
        out: dir.to_path_buf(),
        formats: vec![ReportFormat::Html],
        png: false,
        baseline: None,
    };
    let written = make_and_write(store, &plan, now)?;
    Ok(written
        .into_iter()
        .next()
        .unwrap_or_else(|| dir.join("report.html")))
}

/// The charts of a report, as the Markdown and HTML show them.
fn charts(report: &Report) -> Vec<Chart> {
    layout::report(report)
        .blocks
        .into_iter()
        .filter_map(|b| match b {
            Block::Chart(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn a_sample_of_the_builds_is_spread_over_the_period_and_keeps_the_newest() {
        assert_eq!(spread(5, 300).collect::<Vec<_>>(), [4, 3, 2, 1, 0]);
        let picked: Vec<usize> = spread(12_000, 300).collect();
        assert_eq!(picked.len(), 300);
        assert_eq!(picked[0], 11_999, "the newest build");
        // Evenly spaced (every 40th) back to the start of the period.
        assert!(picked.windows(2).all(|w| w[0] - w[1] == 40), "{picked:?}");
        assert_eq!(*picked.last().unwrap(), 11_999 - 299 * 40);
        let mut unique = picked.clone();
        unique.dedup();
        assert_eq!(unique.len(), 300);
        assert_eq!(spread(0, 300).count(), 0);
        // Uneven lengths still give distinct positions.
        let odd: Vec<usize> = spread(301, 300).collect();
        assert_eq!(odd.len(), 300);
        assert!(odd.windows(2).all(|w| w[0] > w[1]));
    }
}
