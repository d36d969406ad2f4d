//! Groups that pool builds of several experiments or scenarios: a `max` group holding two
//! experiments' builds is bimodal, and its one median describes neither. [`pooled`] finds such
//! groups and summarises each part, so the comparison can say so and show the parts.

use polars::prelude::*;
use serde::Serialize;

use crate::expr::left_join;
use crate::load::Loaded;
use crate::Result;

/// The labels whose values must not be mixed inside a group.
pub const SEPARATE: [&str; 2] = ["experiment", "scenario"];

/// Shown in place of a label value a build does not have.
const NO_VALUE: &str = "(none)";

/// One group that mixes several values of `label`.
#[derive(Debug, Clone, Serialize)]
pub struct PooledGroup {
    pub group: String,
    pub label: String,
    /// Per value of `label`, in name order.
    pub parts: Vec<PooledPart>,
}

/// The builds of one pooled group that share one value of the mixed label.
#[derive(Debug, Clone, Serialize)]
pub struct PooledPart {
    pub value: String,
    pub n: usize,
    /// Median of the compared metric, in the comparison's output units (ms for times).
    pub median: f64,
}

/// The pooled groups of a comparison. `members`: `build` (u32), `value` (the group), `metric`
/// (internal units, turned into output units by `out`); `by` is the grouping label, which is
/// never checked against itself.
pub(crate) fn pooled(
    conn: &rusqlite::Connection,
    loaded: &Loaded,
    by: &str,
    members: &DataFrame,
    out: impl Fn(f64) -> f64,
) -> Result<Vec<PooledGroup>> {
    let mut found = Vec::new();
    for label in SEPARATE.into_iter().filter(|l| *l != by) {
        let parts = loaded
            .label(conn, label)?
            .lazy()
            .select([col("build"), col("value").alias("part")]);
        let summary = left_join(members.clone().lazy(), parts, &["build"])
            .with_column(col("part").fill_null(lit(NO_VALUE)))
            .group_by([col("value"), col("part")])
            .agg([len().alias("n"), col("metric").median().alias("median")])
            .sort(["value", "part"], crate::expr::sort_asc(2))
            .collect()?;
        let (values, part, n, median) = (
            summary.column("value")?.str()?,
            summary.column("part")?.str()?,
            summary.column("n")?.u32()?,
            summary.column("median")?.f64()?,
        );
        let mut groups: Vec<PooledGroup> = Vec::new();
        for i in 0..summary.height() {
            let group = values.get(i).unwrap_or_default();
            if groups.last().is_none_or(|g| g.group != group) {
                groups.push(PooledGroup {
                    group: group.to_string(),
                    label: label.to_string(),
                    parts: Vec::new(),
                });
            }
            if let Some(g) = groups.last_mut() {
                g.parts.push(PooledPart {
                    value: part.get(i).unwrap_or(NO_VALUE).to_string(),
                    n: n.get(i).unwrap_or(0) as usize,
                    median: out(median.get(i).unwrap_or(f64::NAN)),
                });
            }
        }
        found.extend(groups.into_iter().filter(|g| g.parts.len() > 1));
    }
    Ok(found)
}
