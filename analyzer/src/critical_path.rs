//! The critical path of a build: the chain of steps through the digest DAG (each step waits for
//! the steps its inputs name) whose summed durations are longest.
//!
//! Computed for all loaded builds at once by relaxation in polars: every step starts with its
//! own duration as `finish_ns`, then repeatedly takes its duration plus the largest `finish_ns`
//! among its inputs, until nothing changes (at most the depth of the deepest DAG). Steps that
//! name no inputs (image and cache exports in most streams) start their own chain. Builds whose
//! trace records no inputs at all (plain logs) have no critical path.

use polars::prelude::*;
use serde::Serialize;

use crate::expr::{inner_join, left_join};
use crate::load::Loaded;

/// One step on a critical path.
#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    pub seq: u32,
    pub name: String,
    pub duration_ms: f64,
}

/// Per step `finish_ns` (i64): the longest chain of durations ending with the step.
/// `nodes` holds `build`, `seq`, `digest`, `dur_ns` (every kind of step); `edges` holds
/// `build`, `seq`, `input` (digest ids, see [`crate::load::load_edges`]).
/// Returns the finish frame and the resolved parent edges (`build`, `seq`, `pseq`).
pub(crate) fn finish_times(
    nodes: &DataFrame,
    edges: &DataFrame,
) -> crate::Result<(DataFrame, DataFrame)> {
    let nodes_lf =
        nodes
            .clone()
            .lazy()
            .select([col("build"), col("seq"), col("digest"), col("dur_ns")]);
    let by_digest = nodes_lf
        .clone()
        .filter(col("digest").is_not_null())
        .select([
            col("build"),
            col("digest").alias("input"),
            col("seq").alias("pseq"),
        ])
        .unique(Some(cols(["build", "input"])), UniqueKeepStrategy::First);
    let parents = inner_join(edges.clone().lazy(), by_digest, &["build", "input"])
        .filter(col("seq").neq(col("pseq")))
        .select([col("build"), col("seq"), col("pseq")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    let base = nodes_lf.select([col("build"), col("seq"), col("dur_ns")]);
    let mut finish = base
        .clone()
        .with_column(col("dur_ns").alias("finish_ns"))
        .collect()?;
    let mut total = sum_i64(&finish, "finish_ns")?;
    // A DAG is relaxed after as many rounds as its longest chain has steps.
    let max_rounds = nodes.height() + 1;
    for _ in 0..max_rounds {
        let best = inner_join(
            parents.clone().lazy(),
            finish.clone().lazy().select([
                col("build"),
                col("seq").alias("pseq"),
                col("finish_ns").alias("parent_finish_ns"),
            ]),
            &["build", "pseq"],
        )
        .group_by([col("build"), col("seq")])
        .agg([col("parent_finish_ns").max().alias("longest_input_ns")]);
        let next = left_join(base.clone(), best, &["build", "seq"])
            .with_column(
                (col("dur_ns") + col("longest_input_ns").fill_null(lit(0i64))).alias("finish_ns"),
            )
            .select([col("build"), col("seq"), col("dur_ns"), col("finish_ns")])
            .collect()?;
        let next_total = sum_i64(&next, "finish_ns")?;
        finish = next;
        // Finish times only grow, so an unchanged sum means nothing changed.
        if next_total == total {
            break;
        }
        total = next_total;
    }
    Ok((finish, parents))
}

fn sum_i64(df: &DataFrame, name: &str) -> crate::Result<i128> {
    Ok(df
        .column(name)?
        .i64()?
        .iter()
        .flatten()
        .map(i128::from)
        .sum())
}

/// Per build `critical_path_ns`: the largest `finish_ns`, for builds whose trace recorded
/// step inputs (plain logs do not: without a DAG there is no critical path to tell).
pub(crate) fn per_build(finish: &DataFrame, parents: &DataFrame) -> LazyFrame {
    let with_dag = parents
        .clone()
        .lazy()
        .select([col("build")])
        .unique(None, UniqueKeepStrategy::Any);
    inner_join(finish.clone().lazy(), with_dag, &["build"])
        .group_by([col("build")])
        .agg([col("finish_ns").max().alias("critical_path_ns")])
}

/// The steps on the critical path of one build, first to last: start at the step that
/// finishes last, then follow the input that finishes last.
pub fn path_of(
    build: u32,
    finish: &DataFrame,
    parents: &DataFrame,
    names: &dyn Fn(u32) -> String,
) -> crate::Result<Vec<PathStep>> {
    let one = |df: &DataFrame| -> crate::Result<DataFrame> {
        Ok(df
            .clone()
            .lazy()
            .filter(col("build").eq(lit(build)))
            .collect()?)
    };
    let f = one(finish)?;
    let p = one(parents)?;
    let seqs: Vec<u32> = f.column("seq")?.u32()?.iter().flatten().collect();
    let fin: Vec<i64> = f.column("finish_ns")?.i64()?.iter().flatten().collect();
    let dur: Vec<i64> = f.column("dur_ns")?.i64()?.iter().flatten().collect();
    let edges: Vec<(u32, u32)> = p
        .column("seq")?
        .u32()?
        .iter()
        .zip(p.column("pseq")?.u32()?.iter())
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect();
    let at = |s: u32| seqs.iter().position(|&x| x == s);
    let Some(mut cur) = (0..seqs.len()).max_by_key(|&i| (fin[i], std::cmp::Reverse(seqs[i])))
    else {
        return Ok(Vec::new());
    };
    let mut path = Vec::new();
    for _ in 0..seqs.len() {
        path.push(PathStep {
            seq: seqs[cur],
            name: names(seqs[cur]),
            duration_ms: crate::units::ms(dur[cur] as f64),
        });
        let next = edges
            .iter()
            .filter(|(s, _)| *s == seqs[cur])
            .filter_map(|(_, ps)| at(*ps))
            .max_by_key(|&i| (fin[i], std::cmp::Reverse(seqs[i])));
        match next {
            Some(n) => cur = n,
            None => break,
        }
    }
    path.reverse();
    Ok(path)
}

/// Critical path frame for `loaded` (which must hold every step kind with identity columns).
pub(crate) fn compute(
    conn: &rusqlite::Connection,
    scope: &crate::Scope,
    loaded: &mut Loaded,
) -> crate::Result<(DataFrame, DataFrame)> {
    let edges = crate::load::load_edges(conn, scope, loaded)?;
    finish_times(&loaded.steps, &edges)
}
