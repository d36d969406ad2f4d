//! Cache busts: where a stage's cache chain broke, found by [`detect`] over the loaded steps;
//! here the busts of one build ([`build_busts`], with the previous build of its branch for
//! comparison) and the instructions that bust the cache most over a selection
//! ([`bust_summary`]).

use collector::store::recent_with_label;
use polars::prelude::*;
use rusqlite::OptionalExtension;
use serde::Serialize;

mod detect;

use crate::codes::status_name;
use crate::expr::{count_if, hit, instruction, ran};
use crate::load::{load_label, Loaded, StepSelect};
use crate::units::{ms, opt_ms};
use crate::{AnalyzeError, Result, Scope};
pub(crate) use detect::{collect_busts, detect, per_build, previous_on_branch, with_previous};
pub use detect::{Bust, BustCause};

/// The busts of one build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildBusts {
    pub build_id: String,
    pub status: String,
    pub started_at: Option<String>,
    pub wall_ms: Option<f64>,
    pub instruction_steps: u32,
    pub hits: u32,
    pub ran_steps: u32,
    /// No instruction hit the cache: nothing to bust (a cold builder or an empty cache).
    pub cold: bool,
    pub branch: Option<String>,
    /// The previous build (by start time) with the same `branch` label.
    pub previous_build: Option<String>,
    /// Largest cost first.
    pub busts: Vec<Bust>,
    pub bust_ms: f64,
}

/// The busts of build `id` (a full id), compared with the previous build of its branch.
pub fn build_busts(conn: &rusqlite::Connection, id: &str) -> Result<BuildBusts> {
    let previous = previous_on_branch_of(conn, id)?;
    let scope = Scope {
        ids: std::iter::once(id.to_string())
            .chain(previous.clone())
            .collect(),
        ..Scope::default()
    };
    let loaded = Loaded::load(
        conn,
        &scope,
        StepSelect {
            all_kinds: false,
            identity: true,
        },
    )?;
    let key = loaded
        .key_of(id)
        .ok_or_else(|| AnalyzeError::NoSuchBuild(id.to_string()))?;
    let branch = load_label(conn, &scope, "branch")?;
    let of_build = branch
        .clone()
        .lazy()
        .filter(col("build").eq(lit(key)))
        .collect()?;
    let values = of_build.column("value")?.str()?;
    // A build without a `branch` label has no row here (polars' `get` panics out of bounds).
    let branch_name = if values.is_empty() {
        None
    } else {
        values.get(0).map(str::to_string)
    };
    let steps = loaded.steps.clone().lazy();
    let found = with_previous(
        detect(steps.clone(), loaded.copy_from_stages()?.lazy())?,
        previous_on_branch(loaded.builds.clone().lazy(), branch.lazy()),
        steps.clone(),
    )
    .filter(col("build").eq(lit(key)));
    let list = collect_busts(found, &loaded, true)?;
    let counts = steps
        .filter(col("build").eq(lit(key)).and(instruction()))
        .select([
            len().cast(DataType::UInt32).alias("steps"),
            count_if(hit()).alias("hits"),
            count_if(ran()).alias("ran"),
        ])
        .collect()?;
    let info = loaded
        .builds
        .clone()
        .lazy()
        .filter(col("build").eq(lit(key)))
        .collect()?;
    let hits = counts.column("hits")?.u32()?.get(0).unwrap_or(0);
    let bust_ms = list.iter().map(|b| b.rerun_ms).sum::<f64>();
    Ok(BuildBusts {
        build_id: id.to_string(),
        status: status_name(info.column("status")?.u32()?.get(0).unwrap_or(3)).into(),
        started_at: info
            .column("started_at")?
            .i64()?
            .get(0)
            .map(collector::time::format_rfc3339),
        wall_ms: opt_ms(info.column("wall_ns")?.i64()?.get(0).map(|w| w as f64)),
        instruction_steps: counts.column("steps")?.u32()?.get(0).unwrap_or(0),
        hits,
        ran_steps: counts.column("ran")?.u32()?.get(0).unwrap_or(0),
        cold: hits == 0,
        branch: branch_name,
        previous_build: previous,
        busts: list,
        bust_ms: (bust_ms * 1e3).round() / 1e3,
    })
}

/// The build of the same `branch` label that started last before build `id`, if any (read
/// through an index walk that does not grow with the history: [`recent_with_label`]).
fn previous_on_branch_of(conn: &rusqlite::Connection, id: &str) -> Result<Option<String>> {
    let this: Option<(Option<i64>, String)> = conn
        .query_row(
            "SELECT b.started_at, l.value FROM builds b
             JOIN labels l ON l.build_id = b.id AND l.key = 'branch' WHERE b.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((Some(started), branch)) = this else {
        return Ok(None);
    };
    Ok(
        recent_with_label(conn, ("branch", &branch), Some(started), id, 1)?
            .into_iter()
            .next(),
    )
}

/// The instructions that bust the cache most over a selection.
#[derive(Debug, Clone, Serialize)]
pub struct BustSummary {
    pub builds: usize,
    pub builds_with_busts: usize,
    pub busts: usize,
    pub total_rerun_ms: f64,
    /// Costliest first.
    pub instructions: Vec<BustingInstruction>,
    /// The ten costliest single busts.
    pub costliest: Vec<Bust>,
}

/// One instruction as a bust point over a selection.
#[derive(Debug, Clone, Serialize)]
pub struct BustingInstruction {
    pub stage: Option<String>,
    pub instruction: String,
    pub busts: u32,
    /// Of them, lazy misses (the imported cache lacked the layers).
    pub lazy_misses: u32,
    /// Share of the selection's builds busted here.
    pub share_of_builds: f64,
    pub median_reran_steps: f64,
    pub total_rerun_ms: f64,
    pub median_rerun_ms: f64,
}

/// Busts over the builds in `scope`, grouped by the instruction they happened at.
pub fn bust_summary(
    conn: &rusqlite::Connection,
    scope: &Scope,
    limit: Option<usize>,
) -> Result<BustSummary> {
    let loaded = Loaded::load(
        conn,
        scope,
        StepSelect {
            all_kinds: false,
            identity: true,
        },
    )?;
    let found = detect(
        loaded.steps.clone().lazy(),
        loaded.copy_from_stages()?.lazy(),
    )?
    .collect()?;
    let builds = loaded.builds.height();
    let by_ident = found
        .clone()
        .lazy()
        .group_by([col("ident")])
        .agg([
            len().alias("busts"),
            count_if(col("lazy")).alias("lazy"),
            col("reran").cast(DataType::Float64).median().alias("reran"),
            col("rerun_ns").sum().alias("total_ns"),
            col("rerun_ns")
                .cast(DataType::Float64)
                .median()
                .alias("median_ns"),
        ])
        .sort(
            ["total_ns", "ident"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_maintain_order(true),
        )
        .collect()?;
    let totals = found
        .clone()
        .lazy()
        .select([
            col("build")
                .n_unique()
                .cast(DataType::UInt32)
                .alias("builds"),
            col("rerun_ns").sum().alias("total_ns"),
        ])
        .collect()?;
    let g = |n: &str| by_ident.column(n);
    let (ident, n, lazy, reran, total, median) = (
        g("ident")?.u32()?,
        g("busts")?.u32()?,
        g("lazy")?.u32()?,
        g("reran")?.f64()?,
        g("total_ns")?.i64()?,
        g("median_ns")?.f64()?,
    );
    let take = limit.unwrap_or(by_ident.height()).min(by_ident.height());
    let mut instructions = Vec::with_capacity(take);
    for i in 0..take {
        let (stage, instruction) = loaded.ident_parts(ident.get(i).unwrap_or(0));
        let b = n.get(i).unwrap_or(0);
        instructions.push(BustingInstruction {
            stage,
            instruction,
            busts: b,
            lazy_misses: lazy.get(i).unwrap_or(0),
            share_of_builds: if builds == 0 {
                0.0
            } else {
                crate::units::round6(b as f64 / builds as f64)
            },
            median_reran_steps: reran.get(i).unwrap_or(0.0),
            total_rerun_ms: ms(total.get(i).unwrap_or(0) as f64),
            median_rerun_ms: ms(median.get(i).unwrap_or(0.0)),
        });
    }
    let mut costliest = collect_busts(found.clone().lazy().limit(10_000_000), &loaded, false)?;
    costliest.truncate(10);
    Ok(BustSummary {
        builds,
        builds_with_busts: totals.column("builds")?.u32()?.get(0).unwrap_or(0) as usize,
        busts: found.height(),
        total_rerun_ms: ms(totals.column("total_ns")?.i64()?.get(0).unwrap_or(0) as f64),
        instructions,
        costliest,
    })
}
