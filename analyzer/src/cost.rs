//! The cost model: CI time turned into money and set against what a cache costs to keep.
//!
//! Per group of a comparison: CI minutes per build (median wall time) and their price at a
//! price per runner-minute; the difference from the baseline per build and per week; the cache
//! exports (time spent exporting, layers written per export from the `write` rows of
//! `cache_layers`) and their size where the same layer digests were pulled somewhere with a
//! byte count (exports never report sizes; an unsized layer is counted as unknown, never
//! estimated). Builds per week are the group's observed rate over the span of its builds (at
//! least one week), unless given.

use polars::prelude::*;
use serde::Serialize;

use crate::codes::status;
use crate::expr::{count_if, inner_join, left_join};
use crate::load::{
    load_capture_walls, load_exports, load_pulled_sizes, load_written_layers, Loaded,
};
use crate::units::{ms, round6};
use crate::{Result, Scope};

/// The default price of a CI runner-minute, in USD (a small hosted Linux runner).
pub const DEFAULT_PRICE_PER_MINUTE: f64 = 0.008;

const WEEK_NS: f64 = 7.0 * 86_400.0 * 1e9;

/// Inputs of the cost model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostOptions {
    /// USD per runner-minute.
    pub price_per_minute: f64,
    /// Builds per week to price a week at; observed per group when None.
    pub builds_per_week: Option<f64>,
}

impl Default for CostOptions {
    fn default() -> Self {
        CostOptions {
            price_per_minute: DEFAULT_PRICE_PER_MINUTE,
            builds_per_week: None,
        }
    }
}

/// The cost model of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub price_per_minute_usd: f64,
    pub builds_per_week_rule: String,
    pub groups: Vec<GroupCost>,
    /// One sentence per non-baseline group: layers written against time saved.
    pub break_even: Vec<String>,
}

/// The cost of one group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCost {
    pub value: String,
    pub n: usize,
    pub median_wall_ms: f64,
    pub ci_minutes_per_build: f64,
    pub usd_per_build: f64,
    pub builds_per_week: f64,
    pub usd_per_week: f64,
    /// CI minutes per build more (+) or fewer (−) than the baseline, at the median.
    pub minutes_vs_baseline_per_build: Option<f64>,
    pub usd_vs_baseline_per_build: Option<f64>,
    pub usd_vs_baseline_per_week: Option<f64>,
    /// Builds that exported a cache.
    pub exports: u32,
    /// Median time an exporting build spent exporting its cache.
    pub export_ms_per_export: Option<f64>,
    /// Mean layers written per exporting build.
    pub layers_per_export: Option<f64>,
    pub layers_written: u32,
    /// Written layers whose size is known from a pull of the same digest.
    pub layers_with_known_size: u32,
    /// Bytes per export when every written layer's size is known; None otherwise.
    pub bytes_per_export: Option<f64>,
    /// Bytes per export of the layers whose size is known (a lower bound when some are not);
    /// None when no size is known.
    pub known_bytes_per_export: Option<f64>,
}

/// Builds the cost report for the groups of a comparison.
pub fn cost_report(
    conn: &rusqlite::Connection,
    scope: &Scope,
    by: &str,
    include_failed: bool,
    baseline: &str,
    c: &CostOptions,
    loaded: &Loaded,
) -> Result<CostReport> {
    let df = per_group(conn, scope, by, include_failed, loaded)?;
    let groups = group_costs(&df, baseline, c)?;
    let break_even = break_even_sentences(by, baseline, &groups, scope);
    Ok(CostReport {
        price_per_minute_usd: c.price_per_minute,
        builds_per_week_rule: match c.builds_per_week {
            Some(b) => format!("{b} builds per week, as given"),
            None => "each group's observed builds per week over the span of its builds (at least one week)".into(),
        },
        groups,
        break_even,
    })
}

/// Per group value: `n`, `median_wall_ns`, `first`/`last` start, `exports`,
/// `export_median_ns`, `layers` written by exports, `sized` (of them with a known size),
/// `known_bytes`.
fn per_group(
    conn: &rusqlite::Connection,
    scope: &Scope,
    by: &str,
    include_failed: bool,
    loaded: &Loaded,
) -> Result<DataFrame> {
    let mut digests = crate::intern::Interner::default();
    let labels = loaded.label(conn, by)?.lazy();
    let exports = load_exports(conn, scope)?
        .lazy()
        .group_by([col("build")])
        .agg([col("export_ns").sum()]);
    let written = load_written_layers(conn, scope, &mut digests)?;
    // The largest size any pull of the digest reported (pulls of one digest agree).
    let sizes = load_pulled_sizes(conn, &digests)?
        .lazy()
        .group_by([col("digest")])
        .agg([col("bytes").max()]);
    let layers = left_join(written.lazy(), sizes, &["digest"])
        .group_by([col("build")])
        .agg([
            len().alias("layers"),
            col("bytes").count().cast(DataType::UInt32).alias("sized"),
            col("bytes").sum().alias("known_bytes"),
        ]);
    // The price is of the whole job step: the wrapped command's wall time where a live capture
    // measured it (it includes the client's start and teardown), else the build's own.
    let walls = load_capture_walls(conn, scope)?.lazy();
    let builds = left_join(loaded.builds.clone().lazy(), walls, &["build"]).with_column(
        col("capture_wall_ns")
            .fill_null(col("wall_ns"))
            .alias("wall_ns"),
    );
    let builds = if include_failed {
        builds
    } else {
        builds.filter(col("status").eq(lit(status::SUCCEEDED)))
    };
    let per_build = left_join(
        left_join(
            inner_join(
                builds.filter(col("wall_ns").is_not_null()),
                labels,
                &["build"],
            ),
            exports,
            &["build"],
        ),
        layers,
        &["build"],
    );
    let exporting = col("export_ns").is_not_null();
    Ok(per_build
        .group_by([col("value")])
        .agg([
            len().alias("n"),
            col("wall_ns").median().alias("median_wall_ns"),
            col("started_at").min().alias("first"),
            col("started_at").max().alias("last"),
            count_if(exporting.clone()).alias("exports"),
            col("export_ns").median().alias("export_median_ns"),
            col("layers")
                .filter(exporting.clone())
                .fill_null(lit(0u32))
                .sum()
                .alias("layers"),
            col("sized").fill_null(lit(0u32)).sum().alias("sized"),
            col("known_bytes").sum().alias("known_bytes"),
        ])
        .sort(["value"], crate::expr::sort_asc(1))
        .collect()?)
}

/// The cost of each group of [`per_group`], priced with `c`, against the baseline's median.
fn group_costs(df: &DataFrame, baseline: &str, c: &CostOptions) -> Result<Vec<GroupCost>> {
    let value = df.column("value")?.str()?;
    let n = df.column("n")?.u32()?;
    let wall = df.column("median_wall_ns")?.f64()?;
    let (first, last) = (df.column("first")?.i64()?, df.column("last")?.i64()?);
    let exports_n = df.column("exports")?.u32()?;
    let export_med = df.column("export_median_ns")?.f64()?;
    let layers_n = df.column("layers")?.u32()?;
    let sized = df.column("sized")?.u32()?;
    let known = df.column("known_bytes")?.i64()?;
    let minutes = |ns: f64| ns / 60e9;
    let base_wall = (0..df.height())
        .find(|&i| value.get(i) == Some(baseline))
        .and_then(|i| wall.get(i));
    let mut groups = Vec::new();
    for i in 0..df.height() {
        let v = value.get(i).unwrap_or("").to_string();
        let n_i = n.get(i).unwrap_or(0) as usize;
        let w = wall.get(i).unwrap_or(0.0);
        let span = match (first.get(i), last.get(i)) {
            (Some(a), Some(b)) => (b - a) as f64 / WEEK_NS,
            _ => 0.0,
        };
        let per_week = c.builds_per_week.unwrap_or(n_i as f64 / span.max(1.0));
        let delta_min = (v != baseline)
            .then(|| base_wall.map(|b| minutes(w - b)))
            .flatten();
        let ex = exports_n.get(i).unwrap_or(0);
        let lw = layers_n.get(i).unwrap_or(0);
        let sz = sized.get(i).unwrap_or(0);
        let kb = known.get(i).unwrap_or(0) as f64;
        groups.push(GroupCost {
            value: v,
            n: n_i,
            median_wall_ms: ms(w),
            ci_minutes_per_build: round6(minutes(w)),
            usd_per_build: round6(minutes(w) * c.price_per_minute),
            builds_per_week: round6(per_week),
            usd_per_week: round6(minutes(w) * c.price_per_minute * per_week),
            minutes_vs_baseline_per_build: delta_min.map(round6),
            usd_vs_baseline_per_build: delta_min.map(|d| round6(d * c.price_per_minute)),
            usd_vs_baseline_per_week: delta_min.map(|d| round6(d * c.price_per_minute * per_week)),
            exports: ex,
            export_ms_per_export: (ex > 0).then(|| export_med.get(i).map(ms)).flatten(),
            layers_per_export: (ex > 0).then(|| round6(lw as f64 / ex as f64)),
            layers_written: lw,
            layers_with_known_size: sz,
            bytes_per_export: (ex > 0 && lw > 0 && sz >= lw).then(|| (kb / ex as f64).round()),
            known_bytes_per_export: (ex > 0 && sz > 0).then(|| (kb / ex as f64).round()),
        });
    }
    Ok(groups)
}

/// "strategy=max writes 12 layers per export vs 5 for min and saves 4.1 s per build ...".
fn break_even_sentences(
    by: &str,
    baseline: &str,
    groups: &[GroupCost],
    scope: &Scope,
) -> Vec<String> {
    let Some(base) = groups.iter().find(|g| g.value == baseline) else {
        return Vec::new();
    };
    let within = if scope.builds.labels.is_empty() {
        String::new()
    } else {
        format!(" (builds with {})", scope.describe())
    };
    groups
        .iter()
        .filter(|g| g.value != baseline)
        .map(|g| {
            let lg = g.layers_per_export.unwrap_or(0.0);
            let lb = base.layers_per_export.unwrap_or(0.0);
            let (more, fewer) = if lg >= lb { (g, base) } else { (base, g) };
            let saves_ms = fewer.median_wall_ms - more.median_wall_ms;
            let usd = saves_ms / 60_000.0 * price_of(more);
            let secs = format!("{:.1} s", saves_ms.abs() / 1000.0);
            let effect = if saves_ms >= 0.0 {
                format!("saves {secs} per build")
            } else {
                format!("is {secs} slower per build")
            };
            let size = match (more.bytes_per_export, more.known_bytes_per_export) {
                (Some(b), _) => format!("{} per export", bytes_text(b)),
                (None, Some(b)) => format!("at least {} per export", bytes_text(b)),
                (None, None) if more.exports > 0 => "size unknown".to_string(),
                (None, None) => "no export".to_string(),
            };
            format!(
                "{by}={} writes {} layers per export ({size}) vs {} for {} and {effect}{within}: {} USD per build, {} USD per week at {:.0} builds per week",
                more.value,
                layers_text(more.layers_per_export),
                layers_text(fewer.layers_per_export),
                fewer.value,
                money(usd),
                money(usd * more.builds_per_week),
                more.builds_per_week
            )
        })
        .collect()
}

fn price_of(g: &GroupCost) -> f64 {
    if g.ci_minutes_per_build > 0.0 {
        g.usd_per_build / g.ci_minutes_per_build
    } else {
        0.0
    }
}

fn layers_text(l: Option<f64>) -> String {
    match l {
        Some(l) if (l - l.round()).abs() < 0.05 => format!("{:.0}", l),
        Some(l) => format!("{l:.1}"),
        None => "0".into(),
    }
}

fn money(usd: f64) -> String {
    let sign = if usd < 0.0 { "−" } else { "" };
    let a = usd.abs();
    if a >= 1.0 {
        format!("{sign}{a:.2}")
    } else {
        format!("{sign}{a:.4}")
    }
}

/// Decimal byte counts (as BuildKit prints them).
fn bytes_text(b: f64) -> String {
    if b < 1e3 {
        format!("{b:.0}B")
    } else if b < 1e6 {
        format!("{:.1}kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.2}MB", b / 1e6)
    } else {
        format!("{:.2}GB", b / 1e9)
    }
}
