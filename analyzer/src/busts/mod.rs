//! Cache busts: where a stage's cache chain broke, found by [`detect`] over the loaded steps;
//! here the busts of one build ([`build_busts`], compared with the previous build of its
//! experiment variant or branch, see [`compared`]) and the instructions that bust the cache most over a selection
//! ([`bust_summary`]).

use polars::prelude::*;
use rusqlite::OptionalExtension;
use serde::Serialize;

mod compared;
mod detect;

use crate::codes::status_name;
use crate::expr::{count_if, hit, instruction, ran};
use crate::load::{Loaded, StepSelect};
use crate::units::{ms, opt_ms};
use crate::{AnalyzeError, Result, Scope};
pub use compared::reads_context;
pub(crate) use detect::{collect_busts, detect, per_build, with_previous};
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
    /// The build compared with: the latest earlier build of the same experiment variant, else
    /// of the same `branch` label.
    pub previous_build: Option<String>,
    /// What the two have in common (`branch main`, `experiment e1, variant min`); None when the
    /// build has neither label.
    pub compared_by: Option<String>,
    /// The caches the build imported (`importing cache manifest from REF`).
    pub cache_imports: Vec<String>,
    /// The build's `cache_mode` label (`max`, `min`), when set.
    pub cache_mode: Option<String>,
    /// Largest cost first.
    pub busts: Vec<Bust>,
    pub bust_ms: f64,
}

/// The busts of build `id` (a full id), compared with the previous build of its branch.
pub fn build_busts(conn: &rusqlite::Connection, id: &str) -> Result<BuildBusts> {
    let compared = compared::compared_build(conn, id)?;
    let previous = compared.as_ref().map(|(p, _)| p.clone());
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
    let branch_name = branch_of(conn, key)?;
    let steps = loaded.steps.clone().lazy();
    let pairing = df!(
        "build" => [key],
        "prev_build" => [previous.as_deref().and_then(|p| loaded.key_of(p))],
        "branch" => [branch_name.clone().unwrap_or_default()],
    )?;
    let found = with_previous(
        detect(steps.clone(), loaded.copy_from_stages()?.lazy())?,
        pairing.lazy(),
        steps.clone(),
    )
    .filter(col("build").eq(lit(key)));
    let mut list = collect_busts(found, &loaded, true)?;
    if let Some(p) = &previous {
        compared::refine_causes(conn, id, p, &mut list)?;
    }
    let (instruction_steps, hits, ran_steps) = step_counts(steps, key)?;
    let info = loaded
        .builds
        .clone()
        .lazy()
        .filter(col("build").eq(lit(key)))
        .collect()?;
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
        instruction_steps,
        hits,
        ran_steps,
        cold: hits == 0,
        branch: branch_name,
        previous_build: previous,
        compared_by: compared::basis_of(conn, id)?,
        cache_imports: cache_imports(conn, id)?,
        cache_mode: conn
            .query_row(
                "SELECT value FROM labels WHERE build_id = ?1 AND key = 'cache_mode'",
                [id],
                |r| r.get(0),
            )
            .optional()?,
        busts: list,
        bust_ms: (bust_ms * 1e3).round() / 1e3,
    })
}

/// Per busting instruction of `found`: busts, lazy misses, median re-run steps, total and median
/// re-run time; costliest first.
fn per_instruction(found: &DataFrame) -> Result<DataFrame> {
    Ok(found
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
        .collect()?)
}

/// The rows of [`BustSummary::instructions`], at most `limit`, over `builds` builds.
fn instruction_rows(
    by_ident: &DataFrame,
    loaded: &Loaded,
    builds: usize,
    limit: Option<usize>,
) -> Result<Vec<BustingInstruction>> {
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
    Ok(instructions)
}

/// The `branch` label of the build `key`, if it has one.
fn branch_of(conn: &rusqlite::Connection, key: u32) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT value FROM label_rows WHERE build_key = ?1 AND key = 'branch'",
            [key],
            |r| r.get::<_, String>(0),
        )
        .optional()?)
}

/// Instruction steps of the build `key`: (steps, hits, ran).
fn step_counts(steps: LazyFrame, key: u32) -> Result<(u32, u32, u32)> {
    let counts = steps
        .filter(col("build").eq(lit(key)).and(instruction()))
        .select([
            len().cast(DataType::UInt32).alias("steps"),
            count_if(hit()).alias("hits"),
            count_if(ran()).alias("ran"),
        ])
        .collect()?;
    let get = |c: &str| -> Result<u32> { Ok(counts.column(c)?.u32()?.get(0).unwrap_or(0)) };
    Ok((get("steps")?, get("hits")?, get("ran")?))
}

/// The refs of a build's `importing cache manifest from REF` steps, in order.
fn cache_imports(conn: &rusqlite::Connection, id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM steps WHERE build_id = ?1 AND kind = 'cache_import' ORDER BY seq",
    )?;
    let names = stmt
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names
        .iter()
        .filter_map(|n| collector::model::cache_import_ref(n).map(str::to_string))
        .collect())
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
    let loaded = Loaded::load(conn, scope, BUSTS_SELECT)?;
    bust_summary_of(&loaded, limit)
}

/// What [`bust_summary`] reads.
pub const BUSTS_SELECT: StepSelect = StepSelect {
    all_kinds: false,
    identity: true,
};

/// [`bust_summary`] over loaded builds (with at least [`BUSTS_SELECT`]'s columns; steps of
/// other kinds are left out here).
pub fn bust_summary_of(loaded: &Loaded, limit: Option<usize>) -> Result<BustSummary> {
    let narrowed = loaded.narrowed(BUSTS_SELECT)?;
    let loaded = narrowed.as_ref().unwrap_or(loaded);
    let found = detect(
        loaded.steps.clone().lazy(),
        loaded.copy_from_stages()?.lazy(),
    )?
    .collect()?;
    let builds = loaded.builds.height();
    let by_ident = per_instruction(&found)?;
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
    let instructions = instruction_rows(&by_ident, loaded, builds, limit)?;
    let mut costliest = collect_busts(found.clone().lazy().limit(10_000_000), loaded, false)?;
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
