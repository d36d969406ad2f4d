//! `JobSummary`: what a CI job page shows about one build (`buildprof summary`, written to
//! `$GITHUB_STEP_SUMMARY`): wall time, hit ratio, what busted the cache and its cost, the
//! slowest steps, and the build against the recent median of a baseline.

use std::collections::BTreeMap;

use serde::Serialize;

/// One build, summarised for a job page.
#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    pub build_id: String,
    pub source: String,
    pub status: String,
    pub error: Option<String>,
    pub failed_step: Option<String>,
    /// One sentence per failed cache import ("cache import of REF failed: ...; this build ran
    /// without that cache"); empty when every import worked.
    pub cache_import_failures: Vec<String>,
    pub started_at: Option<String>,
    pub wall_ms: Option<i64>,
    pub labels: BTreeMap<String, String>,
    pub steps: u32,
    pub cached: u32,
    pub pulled: u32,
    pub executed: u32,
    pub failed: u32,
    pub canceled: u32,
    pub lazy_misses: u32,
    /// Hits (cached + pulled) over steps, 0 to 1.
    pub hit_ratio: Option<f64>,
    /// Where the cache broke, per stage, costliest first; null when it could not be worked out.
    pub busts: Option<Vec<StageBust>>,
    /// Why the steps that ran missed the cache: the root causes (not `upstream_changed`),
    /// costliest first; null when it could not be worked out.
    pub why: Option<Vec<analyzer::why::WhyBust>>,
    /// Cache imports that failed, and whether the build then ran cold (no hit at all).
    pub import_failures: Vec<analyzer::why::ImportFailure>,
    pub ran_cold: bool,
    /// The longest steps of this build, slowest first.
    pub slowest_steps: Vec<StepTime>,
    pub baseline: Option<Baseline>,
}

/// The first step of a stage that ran after hits, and what re-ran after it.
#[derive(Debug, Clone, Serialize)]
pub struct StageBust {
    pub stage: Option<String>,
    pub instruction: String,
    /// `changed` (its instruction or inputs changed), `not_in_cache` (unchanged since the
    /// compared build: the cache lacked it) or `lazy_miss` (reported cached, then ran).
    pub cause: String,
    /// The cause in words, naming the imported cache and its mode when known.
    pub why: String,
    pub steps_rerun: u32,
    pub cost_ms: i64,
}

/// One step of the build and its time.
#[derive(Debug, Clone, Serialize)]
pub struct StepTime {
    pub name: String,
    /// `cached`, `pulled`, `executed`, `lazy_miss`, `failed`, `canceled`.
    pub outcome: String,
    pub duration_ms: i64,
}

/// The recent builds of the baseline (e.g. `branch=main`) this build is compared with.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// `KEY=VALUE`.
    pub label: String,
    /// Builds in the baseline sample (the most recent ones, this build excluded).
    pub n: u32,
    pub median_wall_ms: Option<i64>,
    pub median_hit_ratio: Option<f64>,
    /// This build's wall time minus the baseline median.
    pub wall_diff_ms: Option<i64>,
}
