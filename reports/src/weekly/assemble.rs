//! Putting a [`Report`] together from the analyzer's result structs (per-build metrics and
//! their totals, trends, busts, step statistics, the strategy comparison) and the collector's
//! model. No analysis happens here: only selection, conversion to the report's units, and
//! layout data.

use std::collections::{BTreeMap, HashMap};

use analyzer::busts::BustSummary;
use analyzer::metrics::BuildMetrics;
use analyzer::steps::StepStats;
use analyzer::totals::Totals;
use analyzer::trends::{TrendRow, Trends};
use analyzer::why::CauseBreakdown;
use collector::model::Build;
use collector::store::BuildRow;
use collector::time::format_rfc3339;

use super::model::{
    cause_label, BuildPoint, CacheBust, CauseTime, Change, Headline, Report, ReportPeriod,
    SlowStep, StrategyGroup, StrategyTable, Week,
};
use super::strategies::PartComparison;
use crate::timeline::Timeline;

const DAY_NS: i64 = 86_400 * 1_000_000_000;

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
    pub causes: &'a CauseBreakdown,
    /// `(explained, of)` when the causes cover a sample of the builds that ran steps, spread
    /// evenly over the period.
    pub cause_sample: Option<(usize, usize)>,
    pub steps: &'a StepStats,
    /// The period's builds compared by [`super::strategies::strategy_label`], one comparison per experiment (or
    /// scenario) when they come from several; empty when there is no such label.
    pub comparisons: &'a [PartComparison],
    /// The period's slowest build, loaded whole.
    pub slowest_build: Option<&'a Build>,
}

/// The analyzer's milliseconds as the report's whole milliseconds.
fn whole_ms(v: f64) -> i64 {
    v.round() as i64
}

/// The weekly report.
pub fn report(i: &ReportInputs<'_>) -> Report {
    let groups = StrategyGroups::of(i);
    Report {
        title: title(i.since, i.until),
        generated_at: format_rfc3339(i.generated_at),
        scope: i.scope.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        period: ReportPeriod {
            since: format_rfc3339(i.since),
            until: format_rfc3339(i.until),
        },
        previous_period: ReportPeriod {
            since: format_rfc3339(i.previous_since),
            until: format_rfc3339(i.since),
        },
        headline: headline(i.current, i.previous),
        weeks: weeks(i.trends, i.trend_since, i.until),
        builds: builds(i.current, &groups),
        cache_busts: cache_busts(i.busts, i.causes),
        rerun_by_cause: i
            .causes
            .causes
            .iter()
            .map(|c| CauseTime {
                label: cause_label(&c.cause).into(),
                cause: c.cause.clone(),
                busts: c.busts,
                rerun_ms: c.rerun_ms,
                share: c.share,
            })
            .collect(),
        slowest_steps: slowest_steps(i.steps),
        strategies: match i.comparisons {
            [one] => Some(strategies(one, i.current, &groups)),
            _ => None,
        },
        strategy_tables: i
            .comparisons
            .iter()
            .map(|c| strategies(c, i.current, &groups))
            .collect(),
        slowest_build: i.slowest_build.map(Timeline::from_build),
        notes: notes(i),
    }
}

/// `Weekly build report, 2026-11-16 to 2026-11-23` (or `Build report, ...` for other lengths).
fn title(since: i64, until: i64) -> String {
    let day = |t: i64| -> String { format_rfc3339(t).chars().take(10).collect() };
    let days = (until - since) as f64 / DAY_NS as f64;
    if (days - 7.0).abs() < 0.01 {
        format!("Weekly build report, {} to {}", day(since), day(until))
    } else {
        format!("Build report, {} to {}", day(since), day(until))
    }
}

/// The period's totals against the previous period's.
fn headline(current: &[BuildMetrics], previous: &[BuildMetrics]) -> Headline {
    let (now, before) = (Totals::of(current), Totals::of(previous));
    Headline {
        builds: Change::new(Some(now.builds), Some(before.builds)),
        failures: Change::new(Some(now.failures), Some(before.failures)),
        median_wall_ms: Change::new(now.median_wall_ms, before.median_wall_ms),
        p90_wall_ms: Change::new(now.p90_wall_ms, before.p90_wall_ms),
        hit_ratio: Change::new(now.hit_ratio, before.hit_ratio),
        time_saved_ms: Change::new(now.saved_ms, before.saved_ms),
        bust_cost_ms: Change::new(now.bust_ms, before.bust_ms),
    }
}

/// One row per week from the Monday of `trend_since` to `until`, weeks without builds included.
fn weeks(trends: &Trends, trend_since: i64, until: i64) -> Vec<Week> {
    let by_start: BTreeMap<&str, &TrendRow> = trends
        .periods
        .iter()
        .map(|p| (p.start.get(..10).unwrap_or(&p.start), p))
        .collect();
    let mut weeks = Vec::new();
    let mut w = week_start(trend_since);
    while w < until {
        let day: String = format_rfc3339(w).chars().take(10).collect();
        weeks.push(match by_start.get(day.as_str()) {
            Some(p) => Week {
                week_start: day,
                builds: p.builds,
                failures: p.failures,
                median_wall_ms: p.median_wall_ms.map(whole_ms),
                p90_wall_ms: p.p90_wall_ms.map(whole_ms),
                hit_ratio: p.hit_ratio,
                time_saved_ms: Some(whole_ms(p.saved_ms)),
                bust_cost_ms: Some(whole_ms(p.bust_ms)),
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
    weeks
}

/// Which strategy group each build of the period is in (by the comparison's label).
struct StrategyGroups<'a> {
    /// Per comparison: its part (label key and value, or the whole period) and its label.
    keys: Vec<(Option<(String, String)>, String)>,
    labels: HashMap<&'a str, &'a BTreeMap<String, String>>,
}

impl<'a> StrategyGroups<'a> {
    fn of(i: &ReportInputs<'a>) -> StrategyGroups<'a> {
        StrategyGroups {
            keys: i
                .comparisons
                .iter()
                .map(|c| (c.part.clone(), c.comparison.by.clone()))
                .collect(),
            labels: i.rows.iter().map(|r| (r.id.as_str(), &r.labels)).collect(),
        }
    }

    /// The build's group in the comparison of its part.
    fn group_of(&self, id: &str) -> Option<String> {
        let labels = self.labels.get(id)?;
        self.keys.iter().find_map(|(part, key)| {
            let in_part = part.as_ref().is_none_or(|(k, v)| labels.get(k) == Some(v));
            in_part.then(|| labels.get(key).cloned()).flatten()
        })
    }
}

fn builds(current: &[BuildMetrics], groups: &StrategyGroups<'_>) -> Vec<BuildPoint> {
    current
        .iter()
        .map(|m| BuildPoint {
            id: m.id.clone(),
            started_at: m.started_at.clone(),
            status: m.status.clone(),
            wall_ms: m.wall_ms.map(whole_ms),
            hit_ratio: m.hit_ratio,
            group: groups.group_of(&m.id),
        })
        .collect()
}

fn cache_busts(busts: &BustSummary, causes: &CauseBreakdown) -> Vec<CacheBust> {
    let cause_of = |stage: &Option<String>, instruction: &str| {
        causes
            .by_step
            .iter()
            .find(|c| &c.stage == stage && c.instruction == instruction)
            .map(|c| c.cause.clone())
    };
    busts
        .instructions
        .iter()
        .map(|b| CacheBust {
            stage: b.stage.clone(),
            instruction: b.instruction.clone(),
            busts: b.busts,
            lazy_misses: b.lazy_misses,
            share_of_builds: b.share_of_builds,
            median_reran_steps: b.median_reran_steps,
            total_rerun_ms: whole_ms(b.total_rerun_ms),
            median_rerun_ms: whole_ms(b.median_rerun_ms),
            cause: cause_of(&b.stage, &b.instruction),
        })
        .collect()
}

fn slowest_steps(steps: &StepStats) -> Vec<SlowStep> {
    steps
        .steps
        .iter()
        .map(|s| SlowStep {
            stage: s.stage.clone(),
            instruction: s.instruction.clone(),
            runs: s.runs,
            executed_runs: s.executed_runs,
            hit_rate: s.hit_rate,
            median_executed_ms: s.median_executed_ms.map(whole_ms),
            p90_executed_ms: s.p90_executed_ms.map(whole_ms),
            total_ms: whole_ms(s.total_ms),
            trend: s.trend,
        })
        .collect()
}

/// The comparison's groups, each with the pooled hit ratio of its succeeded builds.
fn strategies(
    part: &PartComparison,
    current: &[BuildMetrics],
    groups: &StrategyGroups<'_>,
) -> StrategyTable {
    let c = &part.comparison;
    let in_part = |id: &str| match &part.part {
        Some((k, v)) => groups.labels.get(id).and_then(|l| l.get(k)) == Some(v),
        None => true,
    };
    // Instruction steps and hits of each group's succeeded builds, in one pass.
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for m in current
        .iter()
        .filter(|m| m.status == "succeeded" && in_part(&m.id))
    {
        if let Some(g) = groups.group_of(&m.id) {
            let e = counts.entry(g).or_default();
            e.0 += m.instruction_steps as u64;
            e.1 += m.hits as u64;
        }
    }
    let rows = c
        .groups
        .iter()
        .map(|g| {
            let (steps, hits) = counts.get(&g.value).copied().unwrap_or((0, 0));
            let vs = g.vs_baseline.as_ref();
            StrategyGroup {
                value: g.value.clone(),
                n: g.n as u32,
                median_ms: Some(whole_ms(g.median)),
                p90_ms: Some(whole_ms(g.p90)),
                hit_ratio: (steps > 0).then(|| hits as f64 / steps as f64),
                diff_median_ms: vs.map(|v| whole_ms(v.diff_median)),
                ci_low_ms: vs.and_then(|v| v.ci_low).map(whole_ms),
                ci_high_ms: vs.and_then(|v| v.ci_high).map(whole_ms),
                p_value: vs.and_then(|v| v.p_value),
                verdict: vs.map(|v| v.verdict.clone()),
            }
        })
        .collect();
    StrategyTable {
        label: c.by.clone(),
        part: part.part.as_ref().map(|(k, v)| format!("{k} {v}")),
        baseline: Some(c.baseline.clone()),
        groups: rows,
    }
}

/// What the reader should know about the figures.
fn notes(i: &ReportInputs<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some((n, of)) = i.cause_sample {
        notes.push(format!(
            "The causes of re-run time are worked out for {n} of the period's {of} builds that ran steps, taken evenly across the period (the newest included); their figures are those of the sample."
        ));
    }
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
    notes.extend(import_failures(i.rows));
    notes
}

/// Distinct import errors the notes name at most.
const IMPORT_NOTES: usize = 5;

/// Builds whose cache import failed (they ran without that cache), one note per distinct
/// error with how many builds it hit and the latest of them; the rest counted.
fn import_failures(rows: &[BuildRow]) -> Vec<String> {
    let mut by_error: Vec<(String, usize, &str)> = Vec::new();
    for r in rows.iter().rev() {
        let Some(error) = r.cache_import_error.as_deref() else {
            continue;
        };
        let first = error.lines().next().unwrap_or("").to_string();
        match by_error.iter_mut().find(|(e, _, _)| *e == first) {
            Some(entry) => entry.1 += 1,
            None => by_error.push((first, 1, r.id.as_str())),
        }
    }
    by_error.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut notes: Vec<String> = by_error
        .iter()
        .take(IMPORT_NOTES)
        .map(|(error, n, latest)| {
            let short: String = latest.chars().take(12).collect();
            let (builds, they) = if *n == 1 {
                ("1 build".to_string(), "it")
            } else {
                (format!("{n} builds"), "they")
            };
            format!(
                "{builds} ran without a cache {they} tried to import: {error} (latest: {short})."
            )
        })
        .collect();
    let rest: usize = by_error.iter().skip(IMPORT_NOTES).map(|e| e.1).sum();
    if rest > 0 {
        notes.push(format!(
            "{rest} more builds ran without a cache they tried to import, with other errors."
        ));
    }
    notes
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
