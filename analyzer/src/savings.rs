//! Avoidance savings: what each cache hit would have cost had it run.
//!
//! For every hit (`cached` or `pulled` instruction), the typical cost is the median duration of
//! clean runs (`executed`, lazy misses included, failures not) of the same step in the loaded
//! window: first of the same digest when that digest ran in the window (the most precise
//! identity: same instruction, same inputs), otherwise of the same identity (stage name +
//! instruction text). Hits with neither have no history: they are counted, never guessed.

use polars::prelude::*;

use crate::expr::{executed, hit, instruction, left_join};

/// Adds `typical_ns` (f64, null for misses and for hits without history) to instruction steps.
/// `steps` needs `kind`, `outcome`, `dur_ns`, `ident` and `digest`.
pub(crate) fn with_typical_cost(steps: LazyFrame) -> LazyFrame {
    let runs = steps.clone().filter(instruction().and(executed()));
    let by_digest = runs
        .clone()
        .filter(col("digest").is_not_null())
        .group_by([col("digest")])
        .agg([col("dur_ns").median().alias("digest_median_ns")]);
    let by_ident = runs
        .group_by([col("ident")])
        .agg([col("dur_ns").median().alias("ident_median_ns")]);
    let joined = left_join(steps, by_digest, &["digest"]);
    left_join(joined, by_ident, &["ident"])
        .with_column(
            when(hit())
                .then(
                    col("digest_median_ns")
                        .fill_null(col("ident_median_ns"))
                        .cast(DataType::Float64),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("typical_ns"),
        )
        .drop(cols(["digest_median_ns", "ident_median_ns"]))
}
