//! Cache-bust root causes: where in each stage the cache stopped hitting, and what that cost.
//!
//! BuildKit's cache is a chain: once a step misses, every later step of its stage runs too. The
//! root cause of a bust is the first step of a stage that ran although its predecessor was a
//! hit. Rules (instructions other than `FROM`, ordered by their `[stage i/n]` index):
//!
//! * the predecessor of a step is the previous instruction of its stage; a `COPY --link` is
//!   followed by its merge (`LINK COPY ...`, at the copy's index), which puts the copied layer
//!   on the stage so far: the merge has two predecessors, its copy and the step before the
//!   copy, and is a bust only when both hit; the step after it has the merge as predecessor;
//! * for the first instruction of a stage it is the stage's base: the step its first input
//!   points to when that is an instruction of another stage (`FROM deps AS test`); when the
//!   base is an image (`FROM`), it counts as present when the build hit the cache anywhere
//!   (a builder with a cache whose stage start still missed: that step's own inputs changed);
//!   a build without a single hit is cold, not busted;
//! * a step that copies from another stage (`COPY --from=web`) in which a step ran inherits
//!   that stage's miss: it is not a root cause (the bust is reported in the other stage);
//! * a lazy miss (reported cached, then ran because the imported cache lacked its layers) is a
//!   bust of its own, whatever its predecessor.
//!
//! The steps that re-ran are the instructions of the stage from the bust on that ran; their
//! summed duration, with that of the `COPY --link` merges that ran among them, is the bust's
//! cost. A merge is never a lazy miss of its own (it runs when its copy does, R15).

use polars::prelude::*;
use serde::Serialize;

use crate::codes::{kind, outcome};
use crate::expr::{chain_step, count_if, hit, left_join, ran, sort_asc};
use crate::load::Loaded;

/// Why a step is a bust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BustCause {
    /// It ran although the step before it hit: its instruction or the files it reads changed
    /// (or, with nothing to compare with, nothing says otherwise).
    Changed,
    /// Its definition is the same as in the compared build and it reads no build-context files:
    /// the cache the build used had no record of it (see [`super::compared`]).
    NotInCache,
    /// It was reported cached, then ran anyway: the imported cache lacked its layers.
    LazyMiss,
}

/// One bust: where a stage's cache chain broke in one build.
#[derive(Debug, Clone, Serialize)]
pub struct Bust {
    pub build_id: String,
    pub stage: Option<String>,
    pub instruction: String,
    /// The step's position in the build (`show` lists it under this number).
    pub seq: u32,
    pub stage_index: u32,
    pub cause: BustCause,
    /// Steps of the stage that ran from the bust on (the bust included).
    pub reran_steps: u32,
    pub rerun_ms: f64,
    /// The previous build with the same `branch` label, when there is one in the selection.
    pub previous: Option<PreviousBuild>,
}

/// The same step in the previous build of the same branch.
#[derive(Debug, Clone, Serialize)]
pub struct PreviousBuild {
    pub build_id: String,
    pub branch: String,
    /// The step's outcome there (`cached`, `pulled`, `executed`, ...), None when it had no such step.
    pub outcome: Option<String>,
    /// Whether the step's digest differs there (None when it had no such step, or when either
    /// trace gave no content digests).
    pub digest_changed: Option<bool>,
}

/// Adds the bust detection columns and returns one row per bust:
/// `build`, `stage`, `stage_index`, `seq`, `ident`, `digest`, `lazy`, `reran` (u32), `rerun_ns` (i64).
/// `steps` needs the identity columns (see [`crate::load::StepSelect::identity`]);
/// `copy_from` is [`Loaded::copy_from_stages`].
// Long on purpose: one lazy polars plan whose columns build on one another in order; split
// into functions, each would take and return the same frame.
pub(crate) fn detect(steps: LazyFrame, copy_from: LazyFrame) -> crate::Result<LazyFrame> {
    // Composite keys (build in the high 32 bits) make every lookup a one-column operation.
    let with_build =
        |e: Expr| col("build").cast(DataType::UInt64) * lit(1u64 << 32) + e.cast(DataType::UInt64);
    let instr = steps
        .filter(chain_step().and(col("stage_index").is_not_null()))
        .select([
            col("build"),
            col("seq"),
            // A merge reported cached that ran did so because its copy ran, not for want of
            // layers of its own (R15): never a lazy miss, as `why` has it.
            col("lazy")
                .and(col("kind").neq(lit(kind::LINK_MERGE)))
                .alias("lazy"),
            col("dur_ns"),
            col("ident"),
            col("stage"),
            col("stage_index"),
            col("digest"),
            with_build(col("stage")).alias("group"),
            with_build(col("digest")).alias("digest_key"),
            with_build(col("parent")).alias("parent_key"),
            hit().alias("hit"),
            ran().alias("ran"),
            col("kind").eq(lit(kind::LINK_MERGE)).alias("merge"),
        ])
        .collect()?;
    // Sets for membership tests (`is_in` keeps row order, unlike a join).
    let keys = |cond: Expr, key: &str| -> crate::Result<Series> {
        Ok(instr
            .clone()
            .lazy()
            .filter(cond.and(col(key).is_not_null()))
            .select([col(key)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?
            .column(key)?
            .as_materialized_series()
            .clone())
    };
    let instruction_digests = keys(lit(true), "digest_key")?;
    let hit_digests = keys(col("hit"), "digest_key")?;
    let ran_groups = keys(col("ran"), "group")?;

    // In stage order. Every step below is a vectorised pass over the sorted rows: group
    // boundaries come from shifts, "is there a hit in this build" and "is this row at or after
    // the first candidate of its stage" from running maxima over dense group numbers.
    let new_group = col("group")
        .neq(col("group").shift(lit(1)))
        .fill_null(lit(true));
    let new_build = col("build")
        .neq(col("build").shift(lit(1)))
        .fill_null(lit(true));
    let dense = |starts: Expr| starts.cast(DataType::UInt32).cum_sum(false);
    let base_is_instruction =
        col("parent_key").is_in(lit(instruction_digests).implode(false), false);
    let base_hit = when(base_is_instruction)
        .then(col("parent_key").is_in(lit(hit_digests).implode(false), false))
        .otherwise(lit(NULL).cast(DataType::Boolean));
    let candidates = left_join(instr.lazy(), copy_from, &["ident"])
        .sort(["group", "stage_index", "merge"], sort_asc(3))
        .with_columns([
            dense(new_group.clone()).alias("g"),
            dense(new_build).alias("b"),
            when(new_group.not())
                .then(col("hit").shift(lit(1)))
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias("prev_hit"),
            // A merge's other predecessor: the step before its copy (null at a stage's start).
            when(col("group").eq(col("group").shift(lit(2))))
                .then(col("hit").shift(lit(2)))
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias("before_copy_hit"),
            base_hit.alias("base_hit"),
            with_build(col("from_stage"))
                .is_in(lit(ran_groups).implode(false), false)
                .fill_null(lit(false))
                .alias("from_ran"),
        ])
        .with_column(
            // A hit at or before this row in the same build, or at or after it.
            when(col("hit"))
                .then(col("b"))
                .otherwise(lit(0u32))
                .cum_max(false)
                .eq(col("b"))
                .or(when(col("hit"))
                    .then(col("b"))
                    .otherwise(lit(u32::MAX))
                    .cum_min(true)
                    .eq(col("b")))
                .alias("build_has_hit"),
        )
        .with_column(
            when(col("merge"))
                .then(
                    col("prev_hit").and(
                        col("before_copy_hit")
                            .fill_null(col("base_hit"))
                            .fill_null(col("build_has_hit")),
                    ),
                )
                .otherwise(col("prev_hit"))
                .fill_null(col("base_hit"))
                .fill_null(col("build_has_hit"))
                .alias("pred_hit"),
        )
        .with_column(
            col("ran")
                .and(col("lazy").or(col("pred_hit").and(col("from_ran").not())))
                .alias("candidate"),
        )
        .with_column(
            // The dense number of the latest stage with a candidate so far: equal to this row's
            // own number from its stage's first candidate on.
            when(col("candidate"))
                .then(col("g"))
                .otherwise(lit(0u32))
                .cum_max(false)
                .eq(col("g"))
                .alias("from_bust"),
        );
    // Within a stage the rows keep their order, so the first row from the bust on is the bust.
    Ok(candidates
        .filter(col("from_bust"))
        .with_column(
            when(col("ran"))
                .then(col("dur_ns"))
                .otherwise(lit(0i64))
                .alias("ran_ns"),
        )
        .group_by_stable([col("group")])
        .agg([
            col("build").first(),
            col("stage").first(),
            col("stage_index").first(),
            col("seq").first(),
            col("ident").first(),
            col("digest").first(),
            col("lazy").first(),
            // Steps that re-ran: instructions; a merge's time counts in the cost only.
            count_if(col("ran").and(col("merge").not())).alias("reran"),
            col("ran_ns").sum().cast(DataType::Int64).alias("rerun_ns"),
        ])
        .drop(cols(["group"])))
}

/// Per build: `busts` (u32) and `bust_ns` (i64), for builds with at least one bust.
pub(crate) fn per_build(busts: LazyFrame) -> LazyFrame {
    busts.group_by([col("build")]).agg([
        col("seq").count().cast(DataType::UInt32).alias("busts"),
        col("rerun_ns").sum().alias("bust_ns"),
    ])
}

/// Adds `prev_build`, `branch`, `prev_outcome` and `prev_digest` to bust rows: the same step
/// identity in the compared build (`previous`: `build`, `prev_build`, `branch`).
pub(crate) fn with_previous(busts: LazyFrame, previous: LazyFrame, steps: LazyFrame) -> LazyFrame {
    let prev_steps = steps
        .filter(chain_step())
        .select([
            col("build").alias("prev_build"),
            col("ident"),
            col("outcome").alias("prev_outcome"),
            col("digest").alias("prev_digest"),
        ])
        .unique(
            Some(cols(["prev_build", "ident"])),
            UniqueKeepStrategy::First,
        );
    left_join(
        left_join(busts, previous, &["build"]),
        prev_steps,
        &["prev_build", "ident"],
    )
}

/// Reads bust rows (from [`detect`], optionally [`with_previous`]) into [`Bust`]s, largest
/// cost first.
pub(crate) fn collect_busts(
    frame: LazyFrame,
    loaded: &Loaded,
    with_prev: bool,
) -> crate::Result<Vec<Bust>> {
    let df = frame
        .sort(
            ["rerun_ns", "build", "stage_index"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false, false])
                .with_maintain_order(true),
        )
        .collect()?;
    let build = df.column("build")?.u32()?;
    let stage = df.column("stage_index")?.u32()?;
    let seq = df.column("seq")?.u32()?;
    let ident = df.column("ident")?.u32()?;
    let lazy = df.column("lazy")?.bool()?;
    let reran = df.column("reran")?.u32()?;
    let rerun = df.column("rerun_ns")?.i64()?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let (stage_name, instruction) = loaded.ident_parts(ident.get(i).unwrap_or(0));
        let previous = if with_prev {
            previous_at(&df, i, loaded)?
        } else {
            None
        };
        out.push(Bust {
            build_id: loaded.build_id(build.get(i).unwrap_or(0)).to_string(),
            stage: stage_name,
            instruction,
            seq: seq.get(i).unwrap_or(0),
            stage_index: stage.get(i).unwrap_or(0),
            cause: if lazy.get(i).unwrap_or(false) {
                BustCause::LazyMiss
            } else {
                BustCause::Changed
            },
            reran_steps: reran.get(i).unwrap_or(0),
            rerun_ms: crate::units::ms(rerun.get(i).unwrap_or(0) as f64),
            previous,
        });
    }
    Ok(out)
}

fn previous_at(df: &DataFrame, i: usize, loaded: &Loaded) -> crate::Result<Option<PreviousBuild>> {
    let Some(prev) = df.column("prev_build")?.u32()?.get(i) else {
        return Ok(None);
    };
    let branch = df.column("branch")?.str()?.get(i).unwrap_or("").to_string();
    let prev_outcome = df.column("prev_outcome")?.u32()?.get(i);
    let prev_digest = df.column("prev_digest")?.u32()?.get(i);
    let digest = df.column("digest")?.u32()?.get(i);
    Ok(Some(PreviousBuild {
        build_id: loaded.build_id(prev).to_string(),
        branch,
        outcome: prev_outcome.map(|o| outcome_name(o).to_string()),
        digest_changed: match (prev_digest, digest) {
            (Some(p), Some(d)) => Some(p != d),
            _ => None,
        },
    }))
}

/// The stored name of an outcome code.
pub fn outcome_name(code: u32) -> &'static str {
    match code {
        outcome::CACHED => "cached",
        outcome::PULLED => "pulled",
        outcome::EXECUTED => "executed",
        outcome::FAILED => "failed",
        _ => "canceled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::outcome::{CACHED, EXECUTED, PULLED};

    /// One step row: (build, seq, kind, outcome, lazy, ms, stage_index).
    type Row = (u32, u32, u32, u32, bool, i64, u32);

    /// Bust rows `(build, seq, lazy, reran, rerun_ms)` of steps all in one stage per build,
    /// built on an image (no parent step), each with a digest of its own.
    fn busts(rows: &[Row]) -> Vec<(u32, u32, bool, u32, i64)> {
        let col = |f: fn(&Row) -> u32| rows.iter().map(f).collect::<Vec<u32>>();
        let steps = df!(
            "build" => col(|r| r.0),
            "seq" => col(|r| r.1),
            "kind" => col(|r| r.2),
            "outcome" => col(|r| r.3),
            "lazy" => rows.iter().map(|r| r.4).collect::<Vec<bool>>(),
            "dur_ns" => rows.iter().map(|r| r.5 * 1_000_000).collect::<Vec<i64>>(),
            "ident" => col(|r| r.1),
            "stage" => col(|_| 0),
            "stage_index" => col(|r| r.6),
            "digest" => col(|r| r.0 * 100 + r.1),
            "parent" => rows.iter().map(|_| None::<u32>).collect::<Vec<_>>(),
        )
        .unwrap();
        let copy_from = df!(
            "ident" => Vec::<u32>::new(),
            "from_stage" => Vec::<u32>::new(),
        )
        .unwrap();
        let found = detect(steps.lazy(), copy_from.lazy())
            .unwrap()
            .sort(["build"], Default::default())
            .collect()
            .unwrap();
        let u = |c: &str| found.column(c).unwrap().u32().unwrap().clone();
        let (build, seq, reran) = (u("build"), u("seq"), u("reran"));
        let lazy = found.column("lazy").unwrap().bool().unwrap().clone();
        let ns = found.column("rerun_ns").unwrap().i64().unwrap().clone();
        (0..found.height())
            .map(|i| {
                (
                    build.get(i).unwrap(),
                    seq.get(i).unwrap(),
                    lazy.get(i).unwrap(),
                    reran.get(i).unwrap(),
                    ns.get(i).unwrap() / 1_000_000,
                )
            })
            .collect()
    }

    const I: u32 = kind::INSTRUCTION;
    const M: u32 = kind::LINK_MERGE;

    #[test]
    fn a_merge_that_ran_over_hits_is_the_bust_not_a_lazy_miss_and_not_a_step_counted() {
        // RUN hit, COPY --link pulled, its merge reported cached then ran, the next RUN ran.
        let rows = [
            (0, 1, I, CACHED, false, 1, 1),
            (0, 2, I, PULLED, false, 2, 2),
            (0, 3, M, EXECUTED, true, 30, 2),
            (0, 4, I, EXECUTED, false, 400, 3),
        ];
        assert_eq!(busts(&rows), [(0, 3, false, 1, 430)]);
    }

    #[test]
    fn after_a_step_that_ran_copies_and_merges_in_a_row_are_downstream() {
        // The stage's first RUN ran (its own inputs: the build hit elsewhere), then two
        // `COPY --link` (both pulled) whose merges ran: one bust, at the RUN.
        let rows = [
            (1, 1, I, EXECUTED, false, 100, 1),
            (1, 2, I, PULLED, false, 1, 2),
            (1, 3, M, EXECUTED, true, 10, 2),
            (1, 4, I, PULLED, false, 1, 3),
            (1, 5, M, EXECUTED, false, 20, 3),
            (1, 6, I, EXECUTED, false, 300, 4),
            (1, 7, I, CACHED, false, 0, 5),
        ];
        assert_eq!(busts(&rows), [(1, 1, false, 2, 430)]);
    }
}
