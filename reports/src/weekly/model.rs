//! `Report`: the content of a weekly report (`buildprof report`) as plain data. `--format json`
//! prints it as is (documented in `docs/report.md`); Markdown and HTML lay it out
//! (see [`crate::render::layout`]). Strings that came from builds are stored raw and escaped on output.

use serde::{Serialize, Serializer};

use crate::timeline::Timeline;

/// One weekly report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    /// The `--label K=V` filters the report was made with, as `K=V`.
    pub scope: Vec<String>,
    pub period: ReportPeriod,
    /// The period of the same length just before, which the headline compares against.
    pub previous_period: ReportPeriod,
    pub headline: Headline,
    /// One row per week (Monday to Sunday, UTC) of the trend window, oldest first.
    pub weeks: Vec<Week>,
    /// Every build of the period, oldest first.
    pub builds: Vec<BuildPoint>,
    /// The instructions that busted the cache most in the period, costliest first.
    pub cache_busts: Vec<CacheBust>,
    /// The period's re-run time by cause (`buildprof why` over its builds), costliest first.
    pub rerun_by_cause: Vec<CauseTime>,
    /// The step identities (stage + instruction) that took longest to run, slowest first.
    pub slowest_steps: Vec<SlowStep>,
    /// Builds grouped by a strategy-like label, when the period's builds carry one and come
    /// from one experiment (null when there are several: see `strategy_tables`).
    pub strategies: Option<StrategyTable>,
    /// One strategy table per experiment (or scenario) of the period, or the one table.
    pub strategy_tables: Vec<StrategyTable>,
    /// The slowest build of the period, step by step on a time line.
    pub slowest_build: Option<Timeline>,
    /// Caveats a reader needs (missing data, figures that could not be computed).
    pub notes: Vec<String>,
}

/// A half-open time window `[since, until)`, RFC 3339.
#[derive(Debug, Clone, Serialize)]
pub struct ReportPeriod {
    pub since: String,
    pub until: String,
}

/// The headline numbers of the period, each against the previous period.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    pub builds: Change,
    pub failures: Change,
    pub median_wall_ms: Change,
    pub p90_wall_ms: Change,
    /// Share of steps that were cache hits (cached or pulled), 0 to 1.
    pub hit_ratio: Change,
    /// Time the cache saved: for each hit, what the same step typically takes when it runs.
    pub time_saved_ms: Change,
    /// Time spent re-running steps after a cache bust.
    pub bust_cost_ms: Change,
}

/// A number this period and the previous one. `delta` is current minus previous; `delta_pct`
/// is that change relative to the previous value (null when either is unknown or zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Change {
    #[serde(serialize_with = "number")]
    pub current: Option<f64>,
    #[serde(serialize_with = "number")]
    pub previous: Option<f64>,
    #[serde(serialize_with = "number")]
    pub delta: Option<f64>,
    pub delta_pct: Option<f64>,
}

impl Change {
    pub fn new(current: Option<f64>, previous: Option<f64>) -> Change {
        let delta = current.zip(previous).map(|(c, p)| c - p);
        let delta_pct = delta
            .zip(previous)
            .filter(|(_, p)| *p != 0.0)
            .map(|(d, p)| d / p.abs() * 100.0);
        Change {
            current,
            previous,
            delta,
            delta_pct,
        }
    }
}

/// Whole numbers as JSON integers (`1250`, not `1250.0`); others as they are.
fn number<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => s.serialize_i64(*x as i64),
        Some(x) => s.serialize_f64(*x),
        None => s.serialize_none(),
    }
}

/// One week of the trend.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    /// The Monday that starts the week (`YYYY-MM-DD`, UTC).
    pub week_start: String,
    pub builds: u32,
    pub failures: u32,
    pub median_wall_ms: Option<i64>,
    pub p90_wall_ms: Option<i64>,
    pub hit_ratio: Option<f64>,
    pub time_saved_ms: Option<i64>,
    pub bust_cost_ms: Option<i64>,
}

/// One build of the period.
#[derive(Debug, Clone, Serialize)]
pub struct BuildPoint {
    pub id: String,
    pub started_at: Option<String>,
    pub status: String,
    pub wall_ms: Option<i64>,
    pub hit_ratio: Option<f64>,
    /// The value of the strategy label, when the report groups by one.
    pub group: Option<String>,
}

/// An instruction where the cache broke, over the period.
#[derive(Debug, Clone, Serialize)]
pub struct CacheBust {
    pub stage: Option<String>,
    pub instruction: String,
    /// Times the cache broke here (one per build at most).
    pub busts: u32,
    /// Of them, lazy misses: reported cached, then ran because the imported cache lacked layers.
    pub lazy_misses: u32,
    /// Share of the period's builds busted here, 0 to 1.
    pub share_of_builds: f64,
    /// Steps of the stage that re-ran from the bust on (the bust included), median per bust.
    pub median_reran_steps: f64,
    /// Time the re-run steps took, over all busts.
    pub total_rerun_ms: i64,
    pub median_rerun_ms: i64,
    /// The cause that cost most re-run time here (`source_files_changed`,
    /// `cache_unavailable/cold_builder`, ...), when `why` found this instruction as a root cause.
    pub cause: Option<String>,
}

/// Re-run time of one cause over the period.
#[derive(Debug, Clone, Serialize)]
pub struct CauseTime {
    /// `source_files_changed`, `cache_unavailable/cold_builder`, ...
    pub cause: String,
    /// In words: `source changes`, `cold runners`, ...
    pub label: String,
    pub busts: u32,
    pub rerun_ms: i64,
    /// Of the period's re-run time, 0 to 1.
    pub share: f64,
}

/// A cause key in words, for sentences and charts.
pub fn cause_label(cause: &str) -> &'static str {
    match cause {
        "source_files_changed" => "source changes",
        "instruction_changed" => "Dockerfile edits",
        "base_image_changed" => "base image updates",
        "build_arg_changed" => "build arg changes",
        "cache_unavailable/cold_builder" => "cold runners",
        "cache_unavailable/import_failed" => "failed cache imports",
        "cache_unavailable/lazy_miss" => "lazy misses",
        "cache_unavailable/evicted" => "evictions",
        _ => "unknown causes",
    }
}

/// A step identity (stage + instruction) and what its runs cost.
#[derive(Debug, Clone, Serialize)]
pub struct SlowStep {
    pub stage: Option<String>,
    pub instruction: String,
    /// Times it appeared (one per build).
    pub runs: u32,
    /// Clean runs (executed, lazy misses included).
    pub executed_runs: u32,
    /// Cache hits (cached or pulled) over runs, 0 to 1.
    pub hit_rate: f64,
    pub median_executed_ms: Option<i64>,
    pub p90_executed_ms: Option<i64>,
    /// Time spent in it over the period (running and pulling).
    pub total_ms: i64,
    /// Median clean run in the later half of the period relative to the earlier half, minus 1.
    pub trend: Option<f64>,
}

/// Builds grouped by one label, each group against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyTable {
    /// The label key (`strategy`, `cache_mode`, ...).
    pub label: String,
    /// The builds compared: `experiment e1` (or `scenario s`), null for the whole period.
    pub part: Option<String>,
    pub baseline: Option<String>,
    pub groups: Vec<StrategyGroup>,
}

/// One value of the strategy label.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyGroup {
    pub value: String,
    pub n: u32,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub hit_ratio: Option<f64>,
    /// Median wall time minus the baseline's (null for the baseline).
    pub diff_median_ms: Option<i64>,
    pub ci_low_ms: Option<i64>,
    pub ci_high_ms: Option<i64>,
    pub p_value: Option<f64>,
    /// In plain words, e.g. "7.1s slower than max (95% CI 5.2s–9.0s)".
    pub verdict: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_against_previous() {
        let c = Change::new(Some(150.0), Some(100.0));
        assert_eq!(c.delta, Some(50.0));
        assert_eq!(c.delta_pct, Some(50.0));
        let none = Change::new(Some(3.0), None);
        assert_eq!(none.delta, None);
        assert_eq!(Change::new(Some(3.0), Some(0.0)).delta_pct, None);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"current":150,"previous":100,"delta":50,"delta_pct":50.0}"#
        );
    }
}
