//! Polars expressions shared by the analyses (what counts as a hit, a run, an instruction), and
//! the small frame builders they share.

use polars::prelude::*;

use crate::codes::{kind, outcome};

/// A cache hit: `cached` or `pulled` (a lazy miss is stored as `executed`, so it is not one).
pub fn hit() -> Expr {
    col("outcome").lt_eq(lit(outcome::PULLED))
}

/// The step ran (executed, failed or canceled part-way): its duration is work the build did.
pub fn ran() -> Expr {
    col("outcome").gt_eq(lit(outcome::EXECUTED))
}

/// A clean run whose duration says what the step costs (executed, not failed or canceled).
pub fn executed() -> Expr {
    col("outcome").eq(lit(outcome::EXECUTED))
}

/// A Dockerfile instruction other than `FROM`.
pub fn instruction() -> Expr {
    col("kind").eq(lit(kind::INSTRUCTION))
}

/// A step of a stage's cache chain: an instruction, or the merge of a `COPY --link`
/// ([`kind::LINK_MERGE`]), which only [`crate::busts`] looks at.
pub fn chain_step() -> Expr {
    instruction().or(col("kind").eq(lit(kind::LINK_MERGE)))
}

/// Sum of a boolean condition as a `u32` count.
pub fn count_if(cond: Expr) -> Expr {
    cond.cast(DataType::UInt32).sum()
}

/// Left join on equal-named key columns.
pub fn left_join(left: LazyFrame, right: LazyFrame, on: &[&str]) -> LazyFrame {
    let keys: Vec<Expr> = on.iter().map(|c| col(*c)).collect();
    left.join(right, keys.clone(), keys, JoinArgs::new(JoinType::Left))
}

/// Inner join on equal-named key columns.
pub fn inner_join(left: LazyFrame, right: LazyFrame, on: &[&str]) -> LazyFrame {
    let keys: Vec<Expr> = on.iter().map(|c| col(*c)).collect();
    left.join(right, keys.clone(), keys, JoinArgs::new(JoinType::Inner))
}

/// The 90th percentile with linear interpolation (numpy's default).
pub fn p90(e: Expr) -> Expr {
    e.quantile(lit(0.9), QuantileMethod::Linear)
}

/// Sort options: ascending, nulls last, stable.
pub fn sort_asc(n: usize) -> SortMultipleOptions {
    SortMultipleOptions::default()
        .with_order_descending_multi(vec![false; n])
        .with_nulls_last(true)
        .with_maintain_order(true)
}

/// `value` where `cond` holds, null elsewhere: aggregations over it skip the other rows.
/// Preferred to `value.filter(cond)` inside a group-by aggregation, which polars evaluates
/// group by group, while this stays a vectorised column.
pub fn only(cond: Expr, value: Expr) -> Expr {
    when(cond).then(value).otherwise(lit(NULL))
}

/// A frame of `columns` (all of one length).
pub(crate) fn frame(columns: Vec<Column>) -> crate::Result<DataFrame> {
    let n = columns.first().map_or(0, |c| c.len());
    Ok(DataFrame::new(n, columns)?)
}
