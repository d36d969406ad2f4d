//! Putting a [`Report`] and a [`JobSummary`] together from the analyzer's result structs (per-build
//! metrics, trends, busts, step statistics, the strategy comparison) and the collector's model.
//! No analysis happens here: only selection, totals over per-build figures, and layout data.

use std::collections::BTreeMap;

use analyzer::bust_report::{BuildBusts, BustSummary};
use analyzer::compare::Comparison;
use analyzer::metrics::BuildMetrics;
use analyzer::stats::{median_sorted, quantile_sorted};
use analyzer::step_stats::StepStats;
use analyzer::trends::Trends;
use collector::model::Build;
use collector::store::BuildRow;
use collector::time::format_rfc3339;

use crate::report::{
    BuildPoint, CacheBust, Change, Headline, Period, Report, SlowStep, StrategyGroup,
    StrategyTable, Week,
};
use crate::summary::{Baseline, JobSummary, StageBust, StepTime};
use crate::timeline::{StepClass, Timeline};

const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// Labels whose values name a cache strategy or an experiment's variants, most specific first.
pub const STRATEGY_LABELS: [&str; 7] = [
    "strategy",
    "cache_strategy",
    "cache-strategy",
    "cache_mode",
    "cache",
    "variant",
    "experiment",
];

/// The first strategy-like label with at least two values among `rows`.
pub fn strategy_label(rows: &[BuildRow]) -> Option<&'static str> {
    STRATEGY_LABELS.into_iter().find(|k| {
        let mut values = rows.iter().filter_map(|r| r.labels.get(*k));
        let first = values.next();
        first.is_some() && values.any(|v| Some(v) != first)
    })
}

/// The Monday 00:00 UTC that starts the week holding `t` (Unix ns).
pub fn week_start(t: i64) -> i64 {
    // 1970-01-01 was a Thursday: shift by three days so weeks start on Mondays.
    (t + 3 * DAY_NS).div_euclid(7 * DAY_NS) * 7 * DAY_NS - 3 * DAY_NS
}

/// What [`report`] is made from.
pub struct ReportInputs<'a> {
    pub generated_at: i64,
    /// The `--label` filters.
    pub scope: &'a [(String, String)],
    /// The period `[since, until)` and the previous one `[previous_since, since)` (Unix ns).
    pub since: i64,
    pub until: i64,
    pub previous_since: i64,
    /// Metrics of the builds of the period and of the previous period.
    pub current: &'a [BuildMetrics],
    pub previous: &'a [BuildMetrics],
    /// The period's builds with their labels.
    pub rows: &'a [BuildRow],
    /// Weekly trends from the Monday `trend_since` to `until`.
    pub trends: &'a Trends,
    pub trend_since: i64,
    pub busts: &'a BustSummary,
    pub steps: &'a StepStats,
    /// The period's builds compared by [`strategy_label`], when they have one.
    pub comparison: Option<&'a Comparison>,
    /// The period's slowest build, loaded whole.
    pub slowest_build: Option<&'a Build>,
}

fn ms(v: f64) -> i64 {
    v.round() as i64
}

fn sorted(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_by(f64::total_cmp);
    xs
}

/// The headline figures of a set of builds: count, failures, wall-time median and p90 (of
/// succeeded builds, as the trends compute them), pooled hit ratio, savings, bust cost.
struct Totals {
    builds: f64,
    failures: f64,
    median_wall: Option<f64>,
    p90_wall: Option<f64>,
    hit_ratio: Option<f64>,
    saved: Option<f64>,
    bust: Option<f64>,
}

impl Totals {
    fn of(ms: &[BuildMetrics]) -> Totals {
        let walls = sorted(
            ms.iter()
                .filter(|m| m.status == "succeeded")
                .filter_map(|m| m.wall_ms)
                .collect(),
        );
        let steps: u64 = ms.iter().map(|m| m.instruction_steps as u64).sum();
        let hits: u64 = ms.iter().map(|m| m.hits as u64).sum();
        let any = !ms.is_empty();
        Totals {
            builds: ms.len() as f64,
            failures: ms.iter().filter(|m| m.status == "failed").count() as f64,
            median_wall: median_sorted(&walls).map(f64::round),
            p90_wall: quantile_sorted(&walls, 0.9).map(f64::round),
            hit_ratio: (steps > 0).then(|| hits as f64 / steps as f64),
            saved: any.then(|| ms.iter().map(|m| m.saved_ms).sum::<f64>().round()),
            bust: any.then(|| ms.iter().map(|m| m.bust_ms).sum::<f64>().round()),
        }
    }
}

/// The weekly report.
pub fn report(i: &ReportInputs<'_>) -> Report {
    let now = Totals::of(i.current);
    let before = Totals::of(i.previous);
    let headline = Headline {
        builds: Change::new(Some(now.builds), Some(before.builds)),
        failures: Change::new(Some(now.failures), Some(before.failures)),
        median_wall_ms: Change::new(now.median_wall, before.median_wall),
        p90_wall_ms: Change::new(now.p90_wall, before.p90_wall),
        hit_ratio: Change::new(now.hit_ratio, before.hit_ratio),
        time_saved_ms: Change::new(now.saved, before.saved),
        bust_cost_ms: Change::new(now.bust, before.bust),
    };

    let by_start: BTreeMap<&str, &analyzer::trends::TrendRow> = i
        .trends
        .periods
        .iter()
        .map(|p| (p.start.get(..10).unwrap_or(&p.start), p))
        .collect();
    let mut weeks = Vec::new();
    let mut w = week_start(i.trend_since);
    while w < i.until {
        let day: String = format_rfc3339(w).chars().take(10).collect();
        weeks.push(match by_start.get(day.as_str()) {
            Some(p) => Week {
                week_start: day,
                builds: p.builds,
                failures: p.failures,
                median_wall_ms: p.median_wall_ms.map(ms),
                p90_wall_ms: p.p90_wall_ms.map(ms),
                hit_ratio: p.hit_ratio,
                time_saved_ms: Some(ms(p.saved_ms)),
                bust_cost_ms: Some(ms(p.bust_ms)),
            },
            None => Week {
                week_start: day,
                builds: 0,
                failures: 0,
                median_wall_ms: None,
                p90_wall_ms: None,
                hit_ratio: None,
                time_saved_ms: None,
                bust_cost_ms: None,
            },
        });
        w += 7 * DAY_NS;
    }

    let group_key = i.comparison.map(|c| c.by.clone());
    let labels: BTreeMap<&str, &BTreeMap<String, String>> =
        i.rows.iter().map(|r| (r.id.as_str(), &r.labels)).collect();
    let group_of = |id: &str| -> Option<String> {
        let key = group_key.as_deref()?;
        labels.get(id).and_then(|l| l.get(key)).cloned()
    };
    let builds = i
        .current
        .iter()
        .map(|m| BuildPoint {
            id: m.id.clone(),
            started_at: m.started_at.clone(),
            status: m.status.clone(),
            wall_ms: m.wall_ms.map(ms),
            hit_ratio: m.hit_ratio,
            group: group_of(&m.id),
        })
        .collect();

    let cache_busts = i
        .busts
        .instructions
        .iter()
        .map(|b| CacheBust {
            stage: b.stage.clone(),
            instruction: b.instruction.clone(),
            busts: b.busts,
            lazy_misses: b.lazy_misses,
            share_of_builds: b.share_of_builds,
            median_reran_steps: b.median_reran_steps,
            total_rerun_ms: ms(b.total_rerun_ms),
            median_rerun_ms: ms(b.median_rerun_ms),
        })
        .collect();
    let slowest_steps = i
        .steps
        .steps
        .iter()
        .map(|s| SlowStep {
            stage: s.stage.clone(),
            instruction: s.instruction.clone(),
            runs: s.runs,
            executed_runs: s.executed_runs,
            hit_rate: s.hit_rate,
            median_executed_ms: s.median_executed_ms.map(ms),
            p90_executed_ms: s.p90_executed_ms.map(ms),
            total_ms: ms(s.total_ms),
            trend: s.trend,
        })
        .collect();

    let strategies = i.comparison.map(|c| {
        let groups = c
            .groups
            .iter()
            .map(|g| {
                let members: Vec<&BuildMetrics> = i
                    .current
                    .iter()
                    .filter(|m| m.status == "succeeded")
                    .filter(|m| group_of(&m.id).as_deref() == Some(g.value.as_str()))
                    .collect();
                let steps: u64 = members.iter().map(|m| m.instruction_steps as u64).sum();
                let hits: u64 = members.iter().map(|m| m.hits as u64).sum();
                let vs = g.vs_baseline.as_ref();
                StrategyGroup {
                    value: g.value.clone(),
                    n: g.n as u32,
                    median_ms: Some(ms(g.median)),
                    p90_ms: Some(ms(g.p90)),
                    hit_ratio: (steps > 0).then(|| hits as f64 / steps as f64),
                    diff_median_ms: vs.map(|v| ms(v.diff_median)),
                    ci_low_ms: vs.and_then(|v| v.ci_low).map(ms),
                    ci_high_ms: vs.and_then(|v| v.ci_high).map(ms),
                    p_value: vs.and_then(|v| v.p_value),
                    verdict: vs.map(|v| v.verdict.clone()),
                }
            })
            .collect();
        StrategyTable {
            label: c.by.clone(),
            baseline: Some(c.baseline.clone()),
            groups,
        }
    });

    let mut notes = Vec::new();
    let without_history: u32 = i.current.iter().map(|m| m.hits_without_history).sum();
    if without_history > 0 {
        notes.push(format!(
            "Time saved counts each cache hit at the typical run time of the same step in the period; \
             {without_history} hits had no clean run to price them and count as nothing."
        ));
    }
    if i.trends.builds_without_start > 0 {
        notes.push(format!(
            "{} builds without a start time (plain logs without timestamps) cannot be placed in time and are left out.",
            i.trends.builds_without_start
        ));
    }
    if i.current.is_empty() {
        notes.push("No builds started in this period.".into());
    }

    let day = |t: i64| -> String { format_rfc3339(t).chars().take(10).collect() };
    let days = (i.until - i.since) as f64 / DAY_NS as f64;
    let title = if (days - 7.0).abs() < 0.01 {
        format!("Weekly build report, {} to {}", day(i.since), day(i.until))
    } else {
        format!("Build report, {} to {}", day(i.since), day(i.until))
    };
    Report {
        title,
        generated_at: format_rfc3339(i.generated_at),
        scope: i.scope.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        period: Period {
            since: format_rfc3339(i.since),
            until: format_rfc3339(i.until),
        },
        previous_period: Period {
            since: format_rfc3339(i.previous_since),
            until: format_rfc3339(i.since),
        },
        headline,
        weeks,
        builds,
        cache_busts,
        slowest_steps,
        strategies,
        slowest_build: i.slowest_build.map(Timeline::from_build),
        notes,
    }
}

/// What [`summary`] is made from.
pub struct SummaryInputs<'a> {
    pub build: &'a Build,
    pub metrics: Option<&'a BuildMetrics>,
    pub busts: Option<&'a BuildBusts>,
    /// `KEY=VALUE` of the baseline, and the metrics of its recent builds (this one excluded).
    pub baseline_label: Option<String>,
    pub baseline: &'a [BuildMetrics],
}

/// Steps a job summary lists.
const SUMMARY_STEPS: usize = 8;

/// The CI job summary of one build.
pub fn summary(i: &SummaryInputs<'_>) -> JobSummary {
    let b = i.build;
    let c = b.counts();
    let hit_ratio = i.metrics.and_then(|m| m.hit_ratio).or_else(|| {
        (!b.steps.is_empty()).then(|| (c.cached + c.pulled) as f64 / b.steps.len() as f64)
    });
    let busts = i.busts.map(|bb| {
        bb.busts
            .iter()
            .map(|x| StageBust {
                stage: x.stage.clone(),
                instruction: x.instruction.clone(),
                cause: match x.cause {
                    analyzer::busts::BustCause::Changed => "changed".into(),
                    analyzer::busts::BustCause::LazyMiss => "lazy_miss".into(),
                },
                steps_rerun: x.reran_steps,
                cost_ms: ms(x.rerun_ms),
            })
            .collect()
    });
    let mut steps: Vec<&collector::model::Step> =
        b.steps.iter().filter(|s| s.duration_ns > 0).collect();
    steps.sort_by_key(|s| (std::cmp::Reverse(s.duration_ns), s.seq));
    let slowest_steps = steps
        .into_iter()
        .take(SUMMARY_STEPS)
        .map(|s| StepTime {
            name: crate::timeline::step_title(s),
            outcome: class_name(StepClass::of(s)).into(),
            duration_ms: (s.duration_ns + 500_000) / 1_000_000,
        })
        .collect();
    let wall_ms = b.duration_ns.map(|d| (d + 500_000) / 1_000_000);
    let baseline = i.baseline_label.as_ref().and_then(|label| {
        if i.baseline.is_empty() {
            return None;
        }
        let walls = sorted(
            i.baseline
                .iter()
                .filter(|m| m.status == "succeeded")
                .filter_map(|m| m.wall_ms)
                .collect(),
        );
        let ratios = sorted(i.baseline.iter().filter_map(|m| m.hit_ratio).collect());
        let median_wall_ms = median_sorted(&walls).map(ms);
        Some(Baseline {
            label: label.clone(),
            n: i.baseline.len() as u32,
            median_wall_ms,
            median_hit_ratio: median_sorted(&ratios),
            wall_diff_ms: wall_ms.zip(median_wall_ms).map(|(w, m)| w - m),
        })
    });
    JobSummary {
        build_id: b.id.clone(),
        source: b.source.clone(),
        status: b.status.as_str().into(),
        error: b.error.clone(),
        failed_step: b.failed_step().map(|s| s.name.clone()),
        started_at: b.started_at.map(format_rfc3339),
        wall_ms,
        labels: b.labels.clone(),
        steps: b.steps.len() as u32,
        cached: c.cached,
        pulled: c.pulled,
        executed: c.executed,
        lazy_misses: c.lazy_miss,
        hit_ratio,
        busts,
        slowest_steps,
        baseline,
    }
}

fn class_name(c: StepClass) -> &'static str {
    match c {
        StepClass::Cached => "cached",
        StepClass::Pulled => "pulled",
        StepClass::Executed => "executed",
        StepClass::LazyMiss => "lazy_miss",
        StepClass::Failed => "failed",
        StepClass::Canceled => "canceled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-22 is a Sunday; its week started on Monday 2026-11-16.
        let sunday = collector::time::parse_rfc3339("2026-11-22T04:33:00Z").unwrap();
        assert_eq!(
            format_rfc3339(week_start(sunday)).get(..10),
            Some("2026-11-16")
        );
        let monday = collector::time::parse_rfc3339("2026-11-16T00:00:00Z").unwrap();
        assert_eq!(week_start(monday), monday);
    }
}
