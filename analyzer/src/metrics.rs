//! Per-build metrics (`BuildMetrics`): wall time, hit ratios, avoidance savings, time lost to
//! pulls and cache import/export, busts, critical path and parallelism.
//!
//! What is counted: hit ratios, savings and busts look at Dockerfile instructions other than
//! `FROM` (busts also at the merges of `COPY --link`, where a stage's chain can break; BuildKit
//! reports a base image lookup as `executed` or `cached` almost at random, and internal
//! vertices such as `[internal] load build context` are not cacheable work).
//! Pull time counts the pull part of those instructions (remote hits and lazy misses).
//! Cache import/export time and parallelism look at every step.

use polars::prelude::*;
use serde::Serialize;

use crate::busts;
use crate::codes::{kind, outcome, status, status_name};
use crate::critical_path::{self, PathStep};
use crate::expr::{count_if, hit, instruction, left_join, only, ran};
use crate::load::{Loaded, StepSelect};
use crate::savings::with_typical_cost;
use crate::units::{ms, opt_ms, round6};
use crate::{Result, Scope};

/// What a per-build frame must hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// `saved_ns`, `no_history` (needs identity columns).
    pub savings: bool,
    /// `busts`, `bust_ns` (needs identity columns).
    pub busts: bool,
    /// `import_ns`, `export_ns`, `step_sum_ns` (needs every step kind).
    pub overhead: bool,
}

impl Needs {
    /// The step columns and rows these needs load.
    pub fn select(self) -> StepSelect {
        StepSelect {
            all_kinds: self.overhead,
            identity: self.savings || self.busts,
        }
    }
}

/// One row per loaded build: `build`, `started_at`, `wall_ns`, `status`, `steps`, `hits`,
/// `cached`, `pulled`, `ran_ns`, `pull_ns`, and per [`Needs`]: `saved_ns` (f64), `no_history`,
/// `busts`, `bust_ns`, `import_ns`, `export_ns`, `step_sum_ns`.
pub(crate) fn per_build(loaded: &Loaded, needs: Needs) -> Result<LazyFrame> {
    let raw = loaded.steps.clone().lazy();
    let steps = if needs.savings {
        with_typical_cost(raw.clone())
    } else {
        raw.clone()
    };
    let mut aggs = vec![
        count_if(instruction()).alias("steps"),
        count_if(instruction().and(hit())).alias("hits"),
        count_if(instruction().and(col("outcome").eq(lit(outcome::CACHED)))).alias("cached"),
        count_if(instruction().and(col("outcome").eq(lit(outcome::PULLED)))).alias("pulled"),
        only(instruction().and(ran()), col("dur_ns"))
            .sum()
            .alias("ran_ns"),
        only(instruction(), col("pull_ns")).sum().alias("pull_ns"),
    ];
    if needs.savings {
        aggs.push(
            only(instruction(), col("typical_ns"))
                .sum()
                .alias("saved_ns"),
        );
        aggs.push(
            count_if(instruction().and(hit()).and(col("typical_ns").is_null())).alias("no_history"),
        );
    }
    if needs.overhead {
        aggs.push(
            only(col("kind").eq(lit(kind::CACHE_IMPORT)), col("dur_ns"))
                .sum()
                .alias("import_ns"),
        );
        aggs.push(
            only(col("kind").eq(lit(kind::CACHE_EXPORT)), col("dur_ns"))
                .sum()
                .alias("export_ns"),
        );
        aggs.push(col("dur_ns").sum().alias("step_sum_ns"));
    }
    let per = steps.group_by([col("build")]).agg(aggs);
    let mut out = left_join(loaded.builds.clone().lazy(), per, &["build"]);
    if needs.busts {
        out = left_join(
            out,
            busts::per_build(busts::detect(raw, loaded.copy_from_stages()?.lazy())?),
            &["build"],
        );
    }
    // Builds without steps in the frame get zero counts, not nulls.
    let mut zero = vec![
        col("steps").fill_null(lit(0u32)),
        col("hits").fill_null(lit(0u32)),
        col("cached").fill_null(lit(0u32)),
        col("pulled").fill_null(lit(0u32)),
        col("ran_ns").fill_null(lit(0i64)),
        col("pull_ns").fill_null(lit(0i64)),
    ];
    if needs.savings {
        zero.push(col("saved_ns").fill_null(lit(0.0)));
        zero.push(col("no_history").fill_null(lit(0u32)));
    }
    if needs.busts {
        zero.push(col("busts").fill_null(lit(0u32)));
        zero.push(col("bust_ns").fill_null(lit(0i64)));
    }
    if needs.overhead {
        zero.push(col("import_ns").fill_null(lit(0i64)));
        zero.push(col("export_ns").fill_null(lit(0i64)));
        zero.push(col("step_sum_ns").fill_null(lit(0i64)));
    }
    Ok(out.with_columns(zero))
}

/// Hit ratio by count: hits / instruction steps (null without steps).
pub(crate) fn hit_ratio() -> Expr {
    when(col("steps").gt(lit(0u32)))
        .then(col("hits").cast(DataType::Float64) / col("steps").cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// Hit ratio by time: avoided time / (avoided time + time spent running instructions).
pub(crate) fn hit_ratio_time() -> Expr {
    let total = col("saved_ns") + col("ran_ns").cast(DataType::Float64);
    when(total.clone().gt(lit(0.0)))
        .then(col("saved_ns") / total)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The metrics of one build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildMetrics {
    pub id: String,
    pub source: String,
    pub started_at: Option<String>,
    pub status: String,
    pub wall_ms: Option<f64>,
    /// Dockerfile instructions other than `FROM`.
    pub instruction_steps: u32,
    pub hits: u32,
    pub cached: u32,
    pub pulled: u32,
    /// Hits / instruction steps.
    pub hit_ratio: Option<f64>,
    /// Avoided time / (avoided time + time spent running instructions).
    pub hit_ratio_time: Option<f64>,
    /// Avoidance savings: the typical executed duration of every hit, summed.
    pub saved_ms: f64,
    /// Hits whose step never ran cleanly in the window: no savings counted for them.
    pub hits_without_history: u32,
    /// Time instructions spent running (executed, failed, canceled).
    pub executed_ms: f64,
    /// Time spent pulling layers of remote hits and lazy misses.
    pub pull_ms: f64,
    pub cache_import_ms: f64,
    pub cache_export_ms: f64,
    pub busts: u32,
    /// Time the steps re-run after a bust took.
    pub bust_ms: f64,
    pub critical_path_ms: Option<f64>,
    /// Critical path / wall time.
    pub critical_path_share: Option<f64>,
    /// Sum of every step's duration / wall time.
    pub parallelism: Option<f64>,
    /// The critical path, first step first (only for a single build's report).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub critical_path: Vec<PathStep>,
}

/// Options of [`build_metrics`].
#[derive(Debug, Clone, Default)]
pub struct MetricsOptions {
    /// Compute critical paths (one more pass over the step DAG).
    pub critical_path: bool,
    /// Report only this build (a full id), with its critical path steps; the rest of the scope
    /// still serves as history for savings.
    pub build: Option<String>,
}

/// Metrics of every build in `scope`, oldest first.
pub fn build_metrics(
    conn: &rusqlite::Connection,
    scope: &Scope,
    opts: &MetricsOptions,
) -> Result<Vec<BuildMetrics>> {
    let mut loaded = Loaded::load(conn, scope, METRICS_NEEDS.select())?;
    build_metrics_of(conn, scope, &mut loaded, opts)
}

/// What [`build_metrics`] computes, so what its [`Loaded`] must hold.
pub const METRICS_NEEDS: Needs = Needs {
    savings: true,
    busts: true,
    overhead: true,
};

/// [`build_metrics`] over builds already loaded from `scope` with [`METRICS_NEEDS`]' selection
/// (a report loads a period once for several analyses).
// Long on purpose: the per-build frame is joined with each metric's inputs in one plan, and
// the result read into structs once; the metrics themselves live in their own functions.
pub fn build_metrics_of(
    conn: &rusqlite::Connection,
    scope: &Scope,
    loaded: &mut Loaded,
    opts: &MetricsOptions,
) -> Result<Vec<BuildMetrics>> {
    let needs = METRICS_NEEDS;
    let only = match &opts.build {
        Some(id) => Some(
            loaded
                .key_of(id)
                .ok_or_else(|| crate::AnalyzeError::NoSuchBuild(id.clone()))?,
        ),
        None => None,
    };
    let with_cp = opts.critical_path || only.is_some();
    let mut frame = per_build(loaded, needs)?;
    let mut cp = None;
    if with_cp {
        let (finish, parents) = critical_path::compute(conn, scope, loaded)?;
        frame = left_join(
            frame,
            critical_path::per_build(&finish, &parents),
            &["build"],
        );
        cp = Some((finish, parents));
    } else {
        frame = frame.with_column(lit(NULL).cast(DataType::Int64).alias("critical_path_ns"));
    }
    if let Some(k) = only {
        frame = frame.filter(col("build").eq(lit(k)));
    }
    let df = frame
        .with_columns([
            hit_ratio().alias("hit_ratio"),
            hit_ratio_time().alias("hit_ratio_time"),
        ])
        .sort(["started_at", "build"], crate::expr::sort_asc(2))
        .collect()?;
    let mut out = Vec::with_capacity(df.height());
    let g = |name: &str| df.column(name);
    let (build, started, wall, st) = (
        g("build")?.u32()?,
        g("started_at")?.i64()?,
        g("wall_ns")?.i64()?,
        g("status")?.u32()?,
    );
    let (steps, hits, cached, pulled) = (
        g("steps")?.u32()?,
        g("hits")?.u32()?,
        g("cached")?.u32()?,
        g("pulled")?.u32()?,
    );
    let (hr, hrt, saved, no_hist) = (
        g("hit_ratio")?.f64()?,
        g("hit_ratio_time")?.f64()?,
        g("saved_ns")?.f64()?,
        g("no_history")?.u32()?,
    );
    let (ran_ns, pull, import, export, sum) = (
        g("ran_ns")?.i64()?,
        g("pull_ns")?.i64()?,
        g("import_ns")?.i64()?,
        g("export_ns")?.i64()?,
        g("step_sum_ns")?.i64()?,
    );
    let (busts_n, bust_ns, cp_ns) = (
        g("busts")?.u32()?,
        g("bust_ns")?.i64()?,
        g("critical_path_ns")?.i64()?,
    );
    for i in 0..df.height() {
        let key = build.get(i).unwrap_or(0);
        let wall_ns = wall.get(i).filter(|w| *w > 0);
        let cp_i = cp_ns.get(i);
        let share = |v: Option<i64>| -> Option<f64> { Some(round6(v? as f64 / wall_ns? as f64)) };
        let path = match (&cp, only) {
            (Some((finish, parents)), Some(k)) if k == key => {
                let id = loaded.build_id(key).to_string();
                let names = |seq: u32| step_name(conn, &id, seq);
                critical_path::path_of(key, finish, parents, &names)?
            }
            _ => Vec::new(),
        };
        out.push(BuildMetrics {
            id: loaded.build_id(key).to_string(),
            source: loaded.source_of(key).to_string(),
            started_at: started.get(i).map(collector::time::format_rfc3339),
            status: status_name(st.get(i).unwrap_or(status::INCOMPLETE)).to_string(),
            wall_ms: opt_ms(wall.get(i).map(|w| w as f64)),
            instruction_steps: steps.get(i).unwrap_or(0),
            hits: hits.get(i).unwrap_or(0),
            cached: cached.get(i).unwrap_or(0),
            pulled: pulled.get(i).unwrap_or(0),
            hit_ratio: hr.get(i).map(round6),
            hit_ratio_time: hrt.get(i).map(round6),
            saved_ms: ms(saved.get(i).unwrap_or(0.0)),
            hits_without_history: no_hist.get(i).unwrap_or(0),
            executed_ms: ms(ran_ns.get(i).unwrap_or(0) as f64),
            pull_ms: ms(pull.get(i).unwrap_or(0) as f64),
            cache_import_ms: ms(import.get(i).unwrap_or(0) as f64),
            cache_export_ms: ms(export.get(i).unwrap_or(0) as f64),
            busts: busts_n.get(i).unwrap_or(0),
            bust_ms: ms(bust_ns.get(i).unwrap_or(0) as f64),
            critical_path_ms: opt_ms(cp_i.map(|v| v as f64)),
            critical_path_share: share(cp_i),
            parallelism: share(sum.get(i)),
            critical_path: path,
        });
    }
    Ok(out)
}

/// The stored name of a step (`[deps 2/4] RUN ...`), for the few steps of a critical path.
fn step_name(conn: &rusqlite::Connection, build_id: &str, seq: u32) -> String {
    conn.query_row(
        "SELECT name FROM steps WHERE build_id = ?1 AND seq = ?2",
        rusqlite::params![build_id, seq],
        |r| r.get::<_, String>(0),
    )
    .unwrap_or_else(|_| format!("#{seq}"))
}
