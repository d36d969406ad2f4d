//! `Trends`: the builds of a selection per day or week: how many, how many failed, wall time,
//! hit ratio, time the cache saved and time lost to cache busts, with their price.
//!
//! Periods are UTC days or ISO weeks (Monday to Sunday). Builds without a start time cannot be
//! placed and are counted apart. Wall-time quantiles are of succeeded builds; the hit ratio is
//! pooled (all hits / all instruction steps of the period).

use polars::prelude::*;
use serde::Serialize;

use crate::codes::status;
use crate::expr::{count_if, only, p90};
use crate::load::Loaded;
use crate::metrics::{per_build, Needs};
use crate::units::{ms, round6};
use crate::{Result, Scope};

const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// The length of a trend period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
}

impl Period {
    fn ns(self) -> i64 {
        match self {
            Period::Day => DAY_NS,
            Period::Week => 7 * DAY_NS,
        }
    }

    /// Shift that makes periods start on a Monday (1970-01-01 was a Thursday).
    fn offset(self) -> i64 {
        match self {
            Period::Day => 0,
            Period::Week => 3 * DAY_NS,
        }
    }
}

/// Options of [`trends`].
#[derive(Debug, Clone, Copy)]
pub struct TrendsOptions {
    pub period: Period,
    /// USD per runner-minute for the cost columns.
    pub price_per_minute: f64,
}

/// The result of [`trends`].
#[derive(Debug, Clone, Serialize)]
pub struct Trends {
    pub period: Period,
    pub price_per_minute_usd: f64,
    /// Builds left out because they have no start time.
    pub builds_without_start: usize,
    pub periods: Vec<TrendRow>,
}

/// One period.
#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    /// The first day of the period (UTC), `YYYY-MM-DD`.
    pub start: String,
    pub builds: u32,
    pub failures: u32,
    pub median_wall_ms: Option<f64>,
    pub p90_wall_ms: Option<f64>,
    /// All hits / all instruction steps of the period.
    pub hit_ratio: Option<f64>,
    pub saved_ms: f64,
    pub bust_ms: f64,
    /// CI minutes the cache saved, priced.
    pub saved_usd: f64,
    /// CI minutes lost to steps re-run after busts, priced.
    pub bust_usd: f64,
}

/// Per-period figures of the builds in `scope`, oldest period first.
pub fn trends(conn: &rusqlite::Connection, scope: &Scope, opts: &TrendsOptions) -> Result<Trends> {
    let needs = Needs {
        savings: true,
        busts: true,
        overhead: false,
    };
    let loaded = Loaded::load(conn, scope, needs.select())?;
    let (len_ns, offset) = (opts.period.ns(), opts.period.offset());
    let frame = per_build(&loaded, needs)?;
    let placed = frame.filter(col("started_at").is_not_null());
    let ok = col("status").eq(lit(status::SUCCEEDED));
    let df = placed
        .with_column(
            ((col("started_at") + lit(offset)).floor_div(lit(len_ns)) * lit(len_ns) - lit(offset))
                .alias("period"),
        )
        .group_by([col("period")])
        .agg([
            len().alias("builds"),
            count_if(col("status").eq(lit(status::FAILED))).alias("failures"),
            only(ok.clone(), col("wall_ns"))
                .median()
                .alias("median_wall_ns"),
            p90(only(ok, col("wall_ns"))).alias("p90_wall_ns"),
            col("hits").sum().alias("hits"),
            col("steps").sum().alias("steps"),
            col("saved_ns").sum().alias("saved_ns"),
            col("bust_ns").sum().alias("bust_ns"),
        ])
        .sort(["period"], crate::expr::sort_asc(1))
        .collect()?;
    let g = |n: &str| df.column(n);
    let (period, builds, failures) = (
        g("period")?.i64()?,
        g("builds")?.u32()?,
        g("failures")?.u32()?,
    );
    let (med, q90) = (g("median_wall_ns")?.f64()?, g("p90_wall_ns")?.f64()?);
    let (hits, steps, saved, bust) = (
        g("hits")?.u32()?,
        g("steps")?.u32()?,
        g("saved_ns")?.f64()?,
        g("bust_ns")?.i64()?,
    );
    let usd = |ns: f64| round6(ns / 60e9 * opts.price_per_minute);
    let mut periods = Vec::with_capacity(df.height());
    let mut placed_n = 0usize;
    for i in 0..df.height() {
        let b = builds.get(i).unwrap_or(0);
        placed_n += b as usize;
        let st = steps.get(i).unwrap_or(0);
        let saved_ns = saved.get(i).unwrap_or(0.0);
        let bust_ns = bust.get(i).unwrap_or(0) as f64;
        periods.push(TrendRow {
            start: collector::time::format_rfc3339(period.get(i).unwrap_or(0))
                .chars()
                .take(10)
                .collect(),
            builds: b,
            failures: failures.get(i).unwrap_or(0),
            median_wall_ms: med.get(i).map(ms),
            p90_wall_ms: q90.get(i).map(ms),
            hit_ratio: (st > 0).then(|| round6(hits.get(i).unwrap_or(0) as f64 / st as f64)),
            saved_ms: ms(saved_ns),
            bust_ms: ms(bust_ns),
            saved_usd: usd(saved_ns),
            bust_usd: usd(bust_ns),
        });
    }
    Ok(Trends {
        period: opts.period,
        price_per_minute_usd: opts.price_per_minute,
        builds_without_start: loaded.builds.height() - placed_n,
        periods,
    })
}
