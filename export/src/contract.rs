//! The `--json` output contract of `builds`, `show`, `build` and `merge` (documented in
//! `docs/json.md`).
//!
//! These types are public: fields may be added, never renamed or removed. They are kept apart
//! from the collector's model so the model can change without breaking users' scripts.

use std::collections::BTreeMap;

use collector::model::{Build, Step};
use collector::store::{BuildRow, MergeStats, StoreError};
use collector::time::{format_rfc3339, ns_to_ms};
use serde::Serialize;

/// One build, as `builds --json` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct BuildJson {
    pub id: String,
    pub source: String,
    pub format: String,
    pub status: String,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub step_count: i64,
    pub cached_count: i64,
    pub pulled_count: i64,
    pub executed_count: i64,
    pub failed_count: i64,
    pub canceled_count: i64,
    pub lazy_miss_count: i64,
    pub failed_step: Option<String>,
    /// The importer's message when a cache import failed (`; `-joined when several did); null
    /// when every import worked.
    pub cache_import_error: Option<String>,
    /// The live capture's wall time (`record`, `build`, `experiment`, `ingest - --tee`): the
    /// wrapped command's run or the Engine API call; null for builds read from files.
    pub capture_wall_ms: Option<i64>,
    pub labels: BTreeMap<String, String>,
}

impl BuildJson {
    /// The stored builds `ids` of `store` as JSON Lines, one `builds --json` object per line
    /// (`ingest --json`).
    pub fn lines(store: &collector::store::Store, ids: &[&str]) -> Result<String, StoreError> {
        let mut out = String::new();
        for id in ids {
            let row = BuildJson::from(&store.build_row(id)?);
            // A struct of strings, numbers and maps always serializes.
            out.push_str(&serde_json::to_string(&row).unwrap_or_default());
            out.push('\n');
        }
        Ok(out)
    }
}

impl From<&BuildRow> for BuildJson {
    fn from(r: &BuildRow) -> Self {
        BuildJson {
            id: r.id.clone(),
            source: r.source.clone(),
            format: r.format.as_str().into(),
            status: r.status.as_str().into(),
            error: r.error.clone(),
            started_at: r.started_at.map(format_rfc3339),
            finished_at: r.finished_at.map(format_rfc3339),
            duration_ms: r.duration_ns.map(ns_to_ms),
            step_count: r.step_count,
            cached_count: r.cached_count,
            pulled_count: r.pulled_count,
            executed_count: r.executed_count,
            failed_count: r.failed_count,
            canceled_count: r.canceled_count,
            lazy_miss_count: r.lazy_miss_count,
            failed_step: r.failed_step.clone(),
            cache_import_error: r.cache_import_error.clone(),
            capture_wall_ms: r.capture_wall_ns.map(ns_to_ms),
            labels: r.labels.clone(),
        }
    }
}

/// One build with its steps, as `show --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ShowJson {
    #[serde(flatten)]
    pub build: BuildJson,
    pub reference: Option<String>,
    pub builder: Option<String>,
    pub reported_total_steps: Option<i64>,
    pub reported_cached_steps: Option<i64>,
    pub reported_completed_steps: Option<i64>,
    pub warnings: Vec<String>,
    pub cache_imports: Vec<String>,
    pub steps: Vec<StepJson>,
}

/// One step in `show --json`.
#[derive(Debug, Clone, Serialize)]
pub struct StepJson {
    pub seq: u32,
    pub digest: String,
    pub name: String,
    pub instruction: String,
    pub stage: Option<String>,
    pub stage_index: Option<u32>,
    pub stage_total: Option<u32>,
    pub platform: Option<String>,
    pub kind: String,
    pub outcome: String,
    pub lazy_miss: bool,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: i64,
    pub pull_ms: i64,
    pub pulled_bytes: i64,
    pub pulled_layers: u32,
    pub log_lines: u64,
    pub log_bytes: u64,
    pub layers_written: u32,
    pub error: Option<String>,
    pub inputs: Vec<String>,
}

impl From<&Step> for StepJson {
    fn from(s: &Step) -> Self {
        StepJson {
            seq: s.seq,
            digest: s.digest.clone(),
            name: s.name.clone(),
            instruction: s.instruction.clone(),
            stage: s.stage.clone(),
            stage_index: s.stage_index,
            stage_total: s.stage_total,
            platform: s.platform.clone(),
            kind: s.kind.as_str().into(),
            outcome: s.outcome.as_str().into(),
            lazy_miss: s.lazy_miss,
            started_at: s.started_at.map(format_rfc3339),
            finished_at: s.finished_at.map(format_rfc3339),
            duration_ms: ns_to_ms(s.duration_ns),
            pull_ms: ns_to_ms(s.pull_ns),
            pulled_bytes: s.pulled_bytes,
            pulled_layers: s.pulled_layers,
            log_lines: s.log_lines,
            log_bytes: s.log_bytes,
            layers_written: s.layers_written,
            error: s.error.clone(),
            inputs: s.inputs.clone(),
        }
    }
}

impl ShowJson {
    pub fn new(row: &BuildRow, build: &Build) -> ShowJson {
        ShowJson {
            build: BuildJson::from(row),
            reference: build.reference.clone(),
            builder: build.builder.clone(),
            reported_total_steps: build.reported_total_steps,
            reported_cached_steps: build.reported_cached_steps,
            reported_completed_steps: build.reported_completed_steps,
            warnings: build.warnings.clone(),
            cache_imports: build.cache_imports.clone(),
            steps: build.steps.iter().map(StepJson::from).collect(),
        }
    }
}

/// `merge --json`: what each job database added, and the totals (docs/json.md).
#[derive(Debug, Clone, Serialize)]
pub struct MergeJson {
    pub into: String,
    pub inputs: Vec<MergeInputJson>,
    pub databases_merged: u64,
    pub databases_failed: u64,
    pub builds_added: u64,
    pub steps_added: u64,
    pub builds_present: u64,
}

/// One job database of [`MergeJson`]; `error` only when it was refused or failed.
#[derive(Debug, Clone, Serialize)]
pub struct MergeInputJson {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub stats: MergeStats,
}

impl MergeJson {
    /// Nothing merged into `into` yet.
    pub fn new(into: String) -> MergeJson {
        MergeJson {
            into,
            inputs: Vec::new(),
            databases_merged: 0,
            databases_failed: 0,
            builds_added: 0,
            steps_added: 0,
            builds_present: 0,
        }
    }

    /// Counts what merging the job database at `path` gave.
    pub fn add(&mut self, path: String, result: Result<&MergeStats, &StoreError>) {
        let (error, stats) = match result {
            Ok(stats) => {
                self.databases_merged += 1;
                self.builds_added += stats.builds_added;
                self.steps_added += stats.steps_added;
                self.builds_present += stats.builds_present;
                (None, stats.clone())
            }
            Err(e) => {
                self.databases_failed += 1;
                (Some(e.to_string()), MergeStats::default())
            }
        };
        self.inputs.push(MergeInputJson { path, error, stats });
    }
}
