//! Putting a [`JobSummary`] together from one build, its metrics and busts (the analyzer's),
//! and the medians of its baseline. No analysis happens here: only selection, conversion to the
//! summary's units, and names for the step classes.

use analyzer::busts::BuildBusts;
use analyzer::metrics::BuildMetrics;
use analyzer::totals::BaselineMedians;
use analyzer::why::{Cause, Why};
use collector::model::{Build, Step};
use collector::time::{format_rfc3339, ns_to_ms};

use super::model::{Baseline, JobSummary, StageBust, StepTime};
use crate::render::cause::{cause_name, cause_phrase, import_failure};
use crate::timeline::{step_title, StepClass};

/// What [`job_summary`] is made from.
pub struct SummaryInputs<'a> {
    pub build: &'a Build,
    pub metrics: Option<&'a BuildMetrics>,
    pub busts: Option<&'a BuildBusts>,
    pub why: Option<&'a Why>,
    /// `KEY=VALUE` of the baseline, and the metrics of its recent builds (this one excluded).
    pub baseline_label: Option<String>,
    pub baseline: &'a [BuildMetrics],
}

/// Steps a job summary lists.
const SUMMARY_STEPS: usize = 8;

/// The CI job summary of one build.
pub fn job_summary(i: &SummaryInputs<'_>) -> JobSummary {
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
                cause: cause_name(x.cause).into(),
                why: cause_phrase(x, bb),
                steps_rerun: x.reran_steps,
                cost_ms: x.rerun_ms.round() as i64,
            })
            .collect()
    });
    let mut steps: Vec<&Step> = b.steps.iter().filter(|s| s.duration_ns > 0).collect();
    steps.sort_by_key(|s| (std::cmp::Reverse(s.duration_ns), s.seq));
    let slowest_steps = steps
        .into_iter()
        .take(SUMMARY_STEPS)
        .map(|s| StepTime {
            name: step_title(s),
            outcome: class_name(StepClass::of(s)).into(),
            duration_ms: ns_to_ms(s.duration_ns),
        })
        .collect();
    let wall_ms = b.duration_ns.map(ns_to_ms);
    let baseline = i.baseline_label.as_ref().and_then(|label| {
        if i.baseline.is_empty() {
            return None;
        }
        let medians = BaselineMedians::of(i.baseline);
        let median_wall_ms = medians.median_wall_ms.map(|v| v.round() as i64);
        Some(Baseline {
            label: label.clone(),
            n: medians.builds as u32,
            median_wall_ms,
            median_hit_ratio: medians.median_hit_ratio,
            wall_diff_ms: wall_ms.zip(median_wall_ms).map(|(w, m)| w - m),
        })
    });
    JobSummary {
        build_id: b.id.clone(),
        source: b.source.clone(),
        status: b.status.as_str().into(),
        error: b.error.clone(),
        failed_step: b.failed_step().map(|s| s.name.clone()),
        cache_import_failures: b
            .failed_cache_imports()
            .into_iter()
            .map(|(r, e)| import_failure(r, e))
            .collect(),
        started_at: b.started_at.map(format_rfc3339),
        wall_ms,
        labels: b.labels.clone(),
        steps: b.steps.len() as u32,
        cached: c.cached,
        pulled: c.pulled,
        executed: c.executed,
        failed: c.failed,
        canceled: c.canceled,
        lazy_misses: c.lazy_miss,
        hit_ratio,
        busts,
        why: i.why.map(|w| {
            w.busts
                .iter()
                .filter(|x| x.cause != Cause::UpstreamChanged)
                .cloned()
                .collect()
        }),
        import_failures: i.why.map(|w| w.import_failures.clone()).unwrap_or_default(),
        ran_cold: c.cached + c.pulled == 0,
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
