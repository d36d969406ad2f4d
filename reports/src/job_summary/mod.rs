//! The CI job summary of one build (`buildprof summary`, for `$GITHUB_STEP_SUMMARY`): the build,
//! its metrics and busts, against the recent builds of a baseline label.
//!
//! [`summarize`] reads what it needs from the store and runs the analyses; [`assemble`] puts
//! the [`JobSummary`] together; `render::render_summary` turns it into Markdown or HTML.

pub mod assemble;
pub mod model;

use analyzer::busts::build_busts;
use analyzer::metrics::{build_metrics, BuildMetrics, MetricsOptions};
use analyzer::why::why_build;
use analyzer::{AnalyzeError, Scope};
use collector::model::Build;
use collector::store::{Store, StoreError};

use assemble::{job_summary, SummaryInputs};
pub use model::JobSummary;

/// Which build, against what.
#[derive(Debug, Clone)]
pub struct SummaryRequest {
    /// A build id or unique prefix; the most recently stored build when `None`.
    pub build: Option<String>,
    /// The label of the builds to compare with (`branch=main`).
    pub baseline_label: (String, String),
    /// How many of the baseline's most recent builds make its medians.
    pub baseline_builds: usize,
}

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("computing the baseline's build metrics: {0}")]
    Baseline(#[source] AnalyzeError),
    #[error("no builds stored yet: `buildprof ingest FILE` adds some")]
    NoBuilds,
}

/// The summary of the requested build.
pub fn summarize(store: &Store, request: &SummaryRequest) -> Result<JobSummary, SummaryError> {
    let id = match &request.build {
        Some(b) => store.resolve_id(b)?,
        None => store.last_stored_id()?.ok_or(SummaryError::NoBuilds)?,
    };
    let build = store.load_build(&id)?;
    let conn = store.connection();
    // The build's own metrics. Only its hit ratio is shown, which needs no history: the scope
    // is the build alone, so the cost does not grow with the database.
    let metrics = build_metrics(
        conn,
        &Scope {
            ids: vec![id.clone()],
            ..Scope::default()
        },
        &MetricsOptions::default(),
    )
    .ok()
    .and_then(|mut m| m.pop());
    let busts = build_busts(conn, &id).ok();
    let why = why_build(conn, &id, None).ok();
    let baseline = baseline_builds(store, &build, request)?;
    let (key, value) = &request.baseline_label;
    Ok(job_summary(&SummaryInputs {
        build: &build,
        metrics: metrics.as_ref(),
        busts: busts.as_ref(),
        why: why.as_ref(),
        baseline_label: Some(format!("{key}={value}")),
        baseline: &baseline,
    }))
}

/// The metrics of the most recent baseline builds that started before `build` (all of them
/// when `build` has no start time), `build` itself excluded. Only those builds are read (an
/// indexed walk back from the build's start time), whatever the length of the history.
fn baseline_builds(
    store: &Store,
    build: &Build,
    request: &SummaryRequest,
) -> Result<Vec<BuildMetrics>, SummaryError> {
    let (key, value) = &request.baseline_label;
    let mut ids = store.recent_with_label(
        (key, value),
        build.started_at,
        &build.id,
        request.baseline_builds,
    )?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ids.reverse();
    let scope = Scope {
        ids,
        ..Scope::default()
    };
    build_metrics(store.connection(), &scope, &MetricsOptions::default())
        .map_err(SummaryError::Baseline)
}
