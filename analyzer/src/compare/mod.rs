//! `Comparison`: builds grouped by the value of one label (strategy, builder, branch, runner,
//! ...), each group summarised, and every group set against a baseline group with a bootstrap
//! interval for the difference of medians, a Mann–Whitney U test and Cliff's delta.
//!
//! Only succeeded builds are compared unless asked otherwise (a failed build's wall time says
//! when it failed, not what the strategy costs). Builds without the label are left out and
//! counted. Without `--baseline`, the baseline is the group with the most builds (ties: the
//! first value in name order).

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

mod metric;
mod pooled;
mod verdict;

pub use metric::Metric;
pub use pooled::{PooledGroup, PooledPart};
use verdict::Verdict;

use crate::codes::status;
use crate::cost::{self, CostOptions, CostReport};
use crate::expr::{inner_join, p90};
use crate::load::Loaded;
use crate::metrics::per_build;
use crate::stats::{bootstrap_median_diff, cliffs_delta, mann_whitney, median_sorted, PMethod};
use crate::units::round6;
use crate::{AnalyzeError, Result, Scope};

/// Options of [`compare`].
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The label whose values form the groups.
    pub by: String,
    pub baseline: Option<String>,
    pub metric: Metric,
    /// Compare failed, canceled and incomplete builds too.
    pub include_failed: bool,
    /// Bootstrap resamples for the interval.
    pub resamples: usize,
    pub seed: u64,
    /// Add the cost model.
    pub cost: Option<CostOptions>,
}

impl CompareOptions {
    pub fn new(by: &str) -> CompareOptions {
        CompareOptions {
            by: by.to_string(),
            baseline: None,
            metric: Metric::Wall,
            include_failed: false,
            resamples: 5000,
            seed: 0x5eed_b11d_0001,
            cost: None,
        }
    }
}

/// The result of [`compare`] (the `compare --json` object).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub by: String,
    pub metric: Metric,
    pub baseline: String,
    /// How the baseline was chosen.
    pub baseline_rule: String,
    /// The label filters of the selection, `k=v, ...`.
    pub scope: String,
    /// Builds in the selection left out because they lack the label.
    pub builds_without_label: usize,
    /// Whether failed builds were included.
    pub include_failed: bool,
    pub resamples: usize,
    pub groups: Vec<GroupStats>,
    /// Groups that mix builds of several experiments or scenarios (labels `experiment`,
    /// `scenario`), each with its parts: their one median may describe none of them.
    pub pooled: Vec<PooledGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostReport>,
}

/// One group of a comparison. Serialized with `_ms` keys for time metrics (see the issue's
/// JSON contract): `value`, `n`, `median_ms`, `p90_ms`, `mean_ms`, and for non-baseline groups
/// `diff_median_ms`, `ci_low_ms`, `ci_high_ms`, `p_value`, `verdict`, plus `is_baseline`,
/// `effect_size` (Cliff's delta), `p_method`.
#[derive(Debug, Clone)]
pub struct GroupStats {
    pub value: String,
    pub n: usize,
    pub is_baseline: bool,
    /// In output units: ms for times, the ratio otherwise.
    pub median: f64,
    pub p90: f64,
    pub mean: f64,
    pub vs_baseline: Option<VsBaseline>,
    time: bool,
}

/// A group against the baseline.
#[derive(Debug, Clone)]
pub struct VsBaseline {
    /// median(group) − median(baseline), output units.
    pub diff_median: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_value: Option<f64>,
    pub p_method: Option<PMethod>,
    /// Cliff's delta of group vs baseline: P(group > baseline) − P(group < baseline).
    pub effect_size: Option<f64>,
    pub verdict: String,
}

impl Serialize for GroupStats {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let sfx = if self.time { "_ms" } else { "" };
        let k = |name: &str| format!("{name}{sfx}");
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("value", &self.value)?;
        m.serialize_entry("n", &self.n)?;
        m.serialize_entry("is_baseline", &self.is_baseline)?;
        m.serialize_entry(&k("median"), &self.median)?;
        m.serialize_entry(&k("p90"), &self.p90)?;
        m.serialize_entry(&k("mean"), &self.mean)?;
        if let Some(v) = &self.vs_baseline {
            m.serialize_entry(&k("diff_median"), &v.diff_median)?;
            m.serialize_entry(&k("ci_low"), &v.ci_low)?;
            m.serialize_entry(&k("ci_high"), &v.ci_high)?;
            m.serialize_entry("p_value", &v.p_value)?;
            m.serialize_entry("p_method", &v.p_method)?;
            m.serialize_entry("effect_size", &v.effect_size)?;
            m.serialize_entry("verdict", &v.verdict)?;
        }
        m.end()
    }
}

/// Groups the builds in `scope` by label `opts.by` and compares each group with the baseline.
pub fn compare(
    conn: &rusqlite::Connection,
    scope: &Scope,
    opts: &CompareOptions,
) -> Result<Comparison> {
    let mut loaded = Loaded::load_builds(conn, scope)?;
    let labels = loaded.label(conn, &opts.by)?;
    if labels.height() == 0 {
        return Err(AnalyzeError::NoLabel {
            key: opts.by.clone(),
        });
    }
    let frame = match opts.metric.needs() {
        None => loaded.builds.clone().lazy(),
        Some(needs) => {
            loaded.load_steps(conn, scope, needs.select(), crate::load::Split::Auto)?;
            per_build(&loaded, needs)?
        }
    };
    let grouped = Grouped::of(frame, labels, opts)?;
    let (baseline, rule) = choose_baseline(&grouped.samples, opts)?;
    let groups = group_stats(&grouped, &baseline, opts)?;
    let pooled = pooled::pooled(conn, &loaded, &opts.by, &grouped.members, |v| {
        opts.metric.out(v)
    })?;
    let cost = match &opts.cost {
        Some(c) => Some(cost::cost_report(
            conn,
            scope,
            &opts.by,
            opts.include_failed,
            &baseline,
            c,
            &loaded,
        )?),
        None => None,
    };
    Ok(Comparison {
        by: opts.by.clone(),
        metric: opts.metric,
        baseline,
        baseline_rule: rule,
        scope: scope.describe(),
        builds_without_label: grouped.without_label,
        include_failed: opts.include_failed,
        resamples: opts.resamples,
        groups,
        pooled,
        cost,
    })
}

/// The metric's values per group, and their summary per group.
struct Grouped {
    /// Sorted values per group value.
    samples: BTreeMap<String, Vec<f64>>,
    /// `value`, `n`, `median`, `p90`, `mean` per group, sorted by value.
    summary: DataFrame,
    /// Eligible builds (succeeded unless asked otherwise) without the label.
    without_label: usize,
    /// `build`, `value`, `metric` of every grouped build.
    members: DataFrame,
}

impl Grouped {
    fn of(frame: LazyFrame, labels: DataFrame, opts: &CompareOptions) -> Result<Grouped> {
        let eligible = if opts.include_failed {
            frame
        } else {
            frame.filter(col("status").eq(lit(status::SUCCEEDED)))
        };
        // Evaluated once: the frames below all derive from it.
        let eligible = eligible
            .select([
                col("build"),
                col("started_at"),
                opts.metric.expr().alias("metric"),
            ])
            .collect()?;
        let eligible_n = eligible.height();
        let grouped = inner_join(
            eligible.lazy().filter(col("metric").is_not_null()),
            labels.lazy(),
            &["build"],
        )
        .collect()?;
        let members = grouped.clone();
        let grouped = grouped.lazy();
        let values = grouped
            .clone()
            .select([col("value"), col("metric")])
            .sort(["value", "metric"], crate::expr::sort_asc(2))
            .collect()?;
        let summary = grouped
            .group_by([col("value")])
            .agg([
                len().alias("n"),
                col("metric").median().alias("median"),
                p90(col("metric")).alias("p90"),
                col("metric").mean().alias("mean"),
            ])
            .sort(["value"], crate::expr::sort_asc(1))
            .collect()?;
        let samples = split_groups(&values)?;
        if samples.is_empty() {
            return Err(AnalyzeError::Invalid(format!(
                "no {} build in the selection has both the label {:?} and a {} value",
                if opts.include_failed { "" } else { "succeeded" },
                opts.by,
                opts.metric.as_str()
            )));
        }
        Ok(Grouped {
            samples,
            summary,
            without_label: eligible_n.saturating_sub(values.height()),
            members,
        })
    }
}

/// The baseline group and how it was chosen: the one given, else the group with the most
/// builds (ties: the first by name).
fn choose_baseline(
    samples: &BTreeMap<String, Vec<f64>>,
    opts: &CompareOptions,
) -> Result<(String, String)> {
    match &opts.baseline {
        Some(b) if samples.contains_key(b) => Ok((b.clone(), "given with --baseline".to_string())),
        Some(b) => Err(AnalyzeError::UnknownBaseline {
            key: opts.by.clone(),
            baseline: b.clone(),
            seen: samples.keys().cloned().collect::<Vec<_>>().join(", "),
        }),
        None => {
            let mut best: Option<(&String, usize)> = None;
            for (v, xs) in samples {
                if best.is_none_or(|(_, n)| xs.len() > n) {
                    best = Some((v, xs.len()));
                }
            }
            Ok((
                best.map(|(v, _)| v.clone()).unwrap_or_default(),
                "the group with the most builds (ties: first by name); choose with --baseline"
                    .to_string(),
            ))
        }
    }
}

/// Every group summarised and, but for the baseline, set against it: the baseline first, then
/// the others by name.
fn group_stats(g: &Grouped, baseline: &str, opts: &CompareOptions) -> Result<Vec<GroupStats>> {
    let base = &g.samples[baseline];
    let m = opts.metric;
    let vals = g.summary.column("value")?.str()?;
    let (med, q90, mean) = (
        g.summary.column("median")?.f64()?,
        g.summary.column("p90")?.f64()?,
        g.summary.column("mean")?.f64()?,
    );
    let mut groups = Vec::with_capacity(g.summary.height());
    for i in 0..g.summary.height() {
        let value = vals.get(i).unwrap_or("").to_string();
        let xs = &g.samples[&value];
        let is_baseline = value == baseline;
        let vs_baseline = (!is_baseline)
            .then(|| against(m, &value, xs, baseline, base, opts.resamples, opts.seed));
        groups.push(GroupStats {
            n: xs.len(),
            is_baseline,
            median: m.out(med.get(i).unwrap_or(f64::NAN)),
            p90: m.out(q90.get(i).unwrap_or(f64::NAN)),
            mean: m.out(mean.get(i).unwrap_or(f64::NAN)),
            vs_baseline,
            time: m.is_time(),
            value,
        });
    }
    groups.sort_by(|a, b| {
        b.is_baseline
            .cmp(&a.is_baseline)
            .then(a.value.cmp(&b.value))
    });
    Ok(groups)
}

/// Sorted values per group, from a frame sorted by `value` then `metric`.
fn split_groups(values: &DataFrame) -> Result<BTreeMap<String, Vec<f64>>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let v = values.column("value")?.str()?;
    let x = values.column("metric")?.f64()?;
    for (v, x) in v.iter().zip(x.iter()) {
        if let (Some(v), Some(x)) = (v, x) {
            out.entry(v.to_string()).or_default().push(x);
        }
    }
    Ok(out)
}

fn against(
    m: Metric,
    group: &str,
    xs: &[f64],
    baseline: &str,
    base: &[f64],
    resamples: usize,
    seed: u64,
) -> VsBaseline {
    let diff = median_sorted(xs).unwrap_or(f64::NAN) - median_sorted(base).unwrap_or(f64::NAN);
    let ci = bootstrap_median_diff(xs, base, resamples, seed ^ fnv1a(group.as_bytes()));
    let mw = mann_whitney(xs, base);
    let verdict = Verdict {
        metric: m,
        group,
        baseline,
        n_group: xs.len(),
        n_baseline: base.len(),
        diff,
        ci,
        p_value: mw.map(|t| t.p_value),
    }
    .sentence();
    VsBaseline {
        diff_median: m.out(diff),
        ci_low: ci.map(|c| m.out(c.0)),
        ci_high: ci.map(|c| m.out(c.1)),
        p_value: mw.map(|t| round6(t.p_value)),
        p_method: mw.map(|t| t.method),
        effect_size: mw.map(|t| round6(cliffs_delta(xs, base, t.u))),
        verdict,
    }
}

/// FNV-1a: a stable hash (std's is randomised per process) to give each group its own seed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
