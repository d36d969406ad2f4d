//! `StepStats`: every step identity (stage + instruction text) across the builds in a
//! selection: how often it ran, how often the cache spared it, what it costs, and whether it is
//! getting slower.
//!
//! The trend compares the median clean run of the later half of the window with the earlier
//! half (split at the midpoint between the first and the last build's start), like with like:
//! plain logs print durations at 0.1 s resolution (`DONE 0.0s`), the other formats in
//! nanoseconds, so the trend uses the fine runs when both halves have some, else the coarse
//! ones (a duration that is a whole multiple of 0.1 s is coarse).

use polars::prelude::*;
use serde::Serialize;

use crate::codes::{kind, outcome};
use crate::expr::{count_if, executed, hit, inner_join, instruction, only, p90, ran};
use crate::load::{Loaded, StepSelect};
use crate::units::{ms, opt_ms, round6};
use crate::{Result, Scope};

/// Options of [`step_stats`].
#[derive(Debug, Clone, Default)]
pub struct StepsOptions {
    /// Include `FROM`, internal, cache import/export and image export steps.
    pub all_kinds: bool,
    /// At most this many identities (the costliest first).
    pub limit: Option<usize>,
}

/// The result of [`step_stats`].
#[derive(Debug, Clone, Serialize)]
pub struct StepStats {
    pub builds: usize,
    /// Identities in the selection (before the limit).
    pub identities: usize,
    pub steps: Vec<StepStat>,
}

/// One step identity across builds.
#[derive(Debug, Clone, Serialize)]
pub struct StepStat {
    pub stage: Option<String>,
    pub instruction: String,
    /// `instruction`, `from`, `cache_import`, `cache_export`, `image_export` or `other`.
    pub class: String,
    /// Times the step appeared (one per build it is in).
    pub runs: u32,
    pub builds: u32,
    /// Cached or pulled / runs.
    pub hit_rate: f64,
    /// Pulled / runs.
    pub pulled_share: f64,
    /// Clean runs (executed, lazy misses included).
    pub executed_runs: u32,
    pub median_executed_ms: Option<f64>,
    pub p90_executed_ms: Option<f64>,
    /// Time spent in the step over all runs (running and pulling).
    pub total_ms: f64,
    /// Time spent in runs that did not hit (executed, failed, canceled).
    pub ran_ms: f64,
    /// Median clean run of the later half of the window / of the earlier half − 1.
    pub trend: Option<f64>,
}

/// Per step identity statistics over the builds in `scope`, costliest (total time) first.
pub fn step_stats(
    conn: &rusqlite::Connection,
    scope: &Scope,
    opts: &StepsOptions,
) -> Result<StepStats> {
    let loaded = Loaded::load(
        conn,
        scope,
        StepSelect {
            all_kinds: opts.all_kinds,
            identity: true,
        },
    )?;
    step_stats_of(&loaded, opts)
}

/// [`step_stats`] over loaded builds (with identity columns; steps of kinds `opts` leaves out
/// are left out here).
pub fn step_stats_of(loaded: &Loaded, opts: &StepsOptions) -> Result<StepStats> {
    let narrowed = loaded.narrowed(StepSelect {
        all_kinds: opts.all_kinds,
        identity: true,
    })?;
    let loaded = narrowed.as_ref().unwrap_or(loaded);
    let df = per_identity(loaded, window_middle(loaded)?, opts.all_kinds)?;
    let identities = df.height();
    let take = opts.limit.unwrap_or(identities).min(identities);
    Ok(StepStats {
        builds: loaded.builds.height(),
        identities,
        steps: rows(&df, loaded, take)?,
    })
}

/// The middle of the builds' time window, which splits runs into early and late for the trend.
fn window_middle(loaded: &Loaded) -> Result<i64> {
    let times = loaded
        .builds
        .clone()
        .lazy()
        .select([
            col("started_at").min().alias("a"),
            col("started_at").max().alias("b"),
        ])
        .collect()?;
    Ok(
        match (
            times.column("a")?.i64()?.get(0),
            times.column("b")?.i64()?.get(0),
        ) {
            (Some(a), Some(b)) => a + (b - a) / 2,
            _ => i64::MIN,
        },
    )
}

/// One row per step identity: runs, hits, clean-run quantiles, totals, early and late medians.
fn per_identity(loaded: &Loaded, mid: i64, all_kinds: bool) -> Result<DataFrame> {
    let clean = executed();
    let started = col("started_at");
    let steps = inner_join(
        loaded.steps.clone().lazy(),
        loaded
            .builds
            .clone()
            .lazy()
            .select([col("build"), col("started_at")]),
        &["build"],
    );
    let steps = if all_kinds {
        steps
    } else {
        steps.filter(instruction())
    };
    Ok(steps
        .group_by([col("ident")])
        .agg([
            len().alias("runs"),
            col("build")
                .n_unique()
                .cast(DataType::UInt32)
                .alias("builds"),
            count_if(hit()).alias("hits"),
            count_if(col("outcome").eq(lit(outcome::PULLED))).alias("pulled"),
            count_if(clean.clone()).alias("executed_runs"),
            only(clean.clone(), col("dur_ns"))
                .median()
                .alias("median_ns"),
            p90(only(clean.clone(), col("dur_ns"))).alias("p90_ns"),
            col("dur_ns").sum().alias("total_ns"),
            only(ran(), col("dur_ns")).sum().alias("ran_ns"),
            half_median(clean.clone(), started.clone().lt(lit(mid)), false).alias("early_ns"),
            half_median(clean.clone(), started.clone().gt_eq(lit(mid)), false).alias("late_ns"),
            half_median(clean.clone(), started.clone().lt(lit(mid)), true).alias("early_coarse_ns"),
            half_median(clean, started.gt_eq(lit(mid)), true).alias("late_coarse_ns"),
            col("kind").first().alias("kind"),
        ])
        .sort(
            ["total_ns", "ident"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_maintain_order(true),
        )
        .collect()?)
}

/// Printed at 0.1 s resolution (plain logs): a whole multiple of 100 ms.
fn coarse() -> Expr {
    (col("dur_ns") % lit(100_000_000i64)).eq(lit(0i64))
}

/// The median clean duration of one half of the window, over coarse or fine runs only.
fn half_median(clean: Expr, half: Expr, coarse_runs: bool) -> Expr {
    let resolution = if coarse_runs {
        coarse()
    } else {
        coarse().not()
    };
    only(clean.and(half).and(resolution), col("dur_ns")).median()
}

/// The first `take` rows of [`per_identity`] as results.
fn rows(df: &DataFrame, loaded: &Loaded, take: usize) -> Result<Vec<StepStat>> {
    let g = |n: &str| df.column(n);
    let (ident, runs, builds, hits, pulled, exec) = (
        g("ident")?.u32()?,
        g("runs")?.u32()?,
        g("builds")?.u32()?,
        g("hits")?.u32()?,
        g("pulled")?.u32()?,
        g("executed_runs")?.u32()?,
    );
    let (med, q90, early, late) = (
        g("median_ns")?.f64()?,
        g("p90_ns")?.f64()?,
        g("early_ns")?.f64()?,
        g("late_ns")?.f64()?,
    );
    let (early_coarse, late_coarse) = (g("early_coarse_ns")?.f64()?, g("late_coarse_ns")?.f64()?);
    let (total, ran_ns, kinds) = (
        g("total_ns")?.i64()?,
        g("ran_ns")?.i64()?,
        g("kind")?.u32()?,
    );
    let mut out = Vec::with_capacity(take);
    for i in 0..take {
        let (stage, instruction) = loaded.ident_parts(ident.get(i).unwrap_or(0));
        let r = runs.get(i).unwrap_or(0);
        let share = |x: u32| {
            if r == 0 {
                0.0
            } else {
                round6(x as f64 / r as f64)
            }
        };
        // Like with like: fine runs in both halves, else coarse runs in both halves.
        let pair = match (early.get(i), late.get(i)) {
            (Some(e), Some(l)) => Some((e, l)),
            _ => early_coarse.get(i).zip(late_coarse.get(i)),
        };
        let trend = match pair {
            Some((e, l)) if e > 0.0 => Some(round6(l / e - 1.0)),
            _ => None,
        };
        out.push(StepStat {
            stage,
            instruction,
            class: class_name(kinds.get(i).unwrap_or(kind::OTHER)).into(),
            runs: r,
            builds: builds.get(i).unwrap_or(0),
            hit_rate: share(hits.get(i).unwrap_or(0)),
            pulled_share: share(pulled.get(i).unwrap_or(0)),
            executed_runs: exec.get(i).unwrap_or(0),
            median_executed_ms: opt_ms(med.get(i)),
            p90_executed_ms: opt_ms(q90.get(i)),
            total_ms: ms(total.get(i).unwrap_or(0) as f64),
            ran_ms: ms(ran_ns.get(i).unwrap_or(0) as f64),
            trend,
        });
    }
    Ok(out)
}

fn class_name(k: u32) -> &'static str {
    match k {
        kind::INSTRUCTION => "instruction",
        kind::FROM => "from",
        kind::CACHE_IMPORT => "cache_import",
        kind::CACHE_EXPORT => "cache_export",
        kind::IMAGE_EXPORT => "image_export",
        _ => "other",
    }
}
