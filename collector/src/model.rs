//! `Build` and `Step`: the assembled model of one BuildKit build, as stored and analysed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Nanos;

/// The outcome of one step. Exactly one per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Satisfied from the local cache: every interval was reported cached.
    Cached,
    /// A cache hit whose layers were fetched from an imported (remote) cache: reported cached,
    /// then only blob download/extract activity. It did not run, but the build waited for it.
    Pulled,
    /// It ran (including a lazy miss: reported cached first, then ran anyway).
    Executed,
    /// It ran and failed.
    Failed,
    /// It was stopped because another step failed or the build was canceled.
    Canceled,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Cached,
        Outcome::Pulled,
        Outcome::Executed,
        Outcome::Failed,
        Outcome::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Cached => "cached",
            Outcome::Pulled => "pulled",
            Outcome::Executed => "executed",
            Outcome::Failed => "failed",
            Outcome::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Cache hits are `cached` and `pulled`; a lazy miss is `executed`, never a hit.
    pub fn is_hit(self) -> bool {
        matches!(self, Outcome::Cached | Outcome::Pulled)
    }
}

/// What a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Run,
    Copy,
    Add,
    From,
    Workdir,
    Env,
    Arg,
    Label,
    User,
    Expose,
    Volume,
    Entrypoint,
    Cmd,
    Shell,
    Healthcheck,
    Onbuild,
    Stopsignal,
    /// `[internal] ...`, `[auth] ...`, `[context x] ...`, `resolve image config ...`.
    Internal,
    /// `importing cache manifest from ...`.
    CacheImport,
    /// `exporting cache ...`, `exporting to GitHub Actions Cache`, inline cache preparation.
    CacheExport,
    /// `exporting to image`, `exporting to oci image format`, pushes.
    ImageExport,
    /// Anything else (a frontend's custom vertex, `copy /context /`, buildx-made vertices).
    Other,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Run => "RUN",
            StepKind::Copy => "COPY",
            StepKind::Add => "ADD",
            StepKind::From => "FROM",
            StepKind::Workdir => "WORKDIR",
            StepKind::Env => "ENV",
            StepKind::Arg => "ARG",
            StepKind::Label => "LABEL",
            StepKind::User => "USER",
            StepKind::Expose => "EXPOSE",
            StepKind::Volume => "VOLUME",
            StepKind::Entrypoint => "ENTRYPOINT",
            StepKind::Cmd => "CMD",
            StepKind::Shell => "SHELL",
            StepKind::Healthcheck => "HEALTHCHECK",
            StepKind::Onbuild => "ONBUILD",
            StepKind::Stopsignal => "STOPSIGNAL",
            StepKind::Internal => "internal",
            StepKind::CacheImport => "cache_import",
            StepKind::CacheExport => "cache_export",
            StepKind::ImageExport => "image_export",
            StepKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<StepKind> {
        const ALL: [StepKind; 22] = [
            StepKind::Run,
            StepKind::Copy,
            StepKind::Add,
            StepKind::From,
            StepKind::Workdir,
            StepKind::Env,
            StepKind::Arg,
            StepKind::Label,
            StepKind::User,
            StepKind::Expose,
            StepKind::Volume,
            StepKind::Entrypoint,
            StepKind::Cmd,
            StepKind::Shell,
            StepKind::Healthcheck,
            StepKind::Onbuild,
            StepKind::Stopsignal,
            StepKind::Internal,
            StepKind::CacheImport,
            StepKind::CacheExport,
            StepKind::ImageExport,
            StepKind::Other,
        ];
        ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A Dockerfile instruction (as opposed to BuildKit's own bookkeeping vertices).
    pub fn is_instruction(self) -> bool {
        !matches!(
            self,
            StepKind::Internal
                | StepKind::CacheImport
                | StepKind::CacheExport
                | StepKind::ImageExport
                | StepKind::Other
        )
    }
}

/// The status of a whole build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    Succeeded,
    Failed,
    Canceled,
    /// The stream was cut off mid-build: no verdict and unfinished steps, or a truncated record.
    Incomplete,
}

impl BuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Succeeded => "succeeded",
            BuildStatus::Failed => "failed",
            BuildStatus::Canceled => "canceled",
            BuildStatus::Incomplete => "incomplete",
        }
    }

    pub fn parse(s: &str) -> Option<BuildStatus> {
        [
            BuildStatus::Succeeded,
            BuildStatus::Failed,
            BuildStatus::Canceled,
            BuildStatus::Incomplete,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The input formats buildprof reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `--progress=rawjson`.
    Rawjson,
    /// `--progress=plain`, optionally behind CI line prefixes.
    Plain,
    /// The Docker Engine `POST /build?version=2` stream.
    Moby,
    /// `docker buildx history export` (`.dockerbuild`).
    Dockerbuild,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rawjson => "rawjson",
            Format::Plain => "plain",
            Format::Moby => "moby",
            Format::Dockerbuild => "dockerbuild",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        [
            Format::Rawjson,
            Format::Plain,
            Format::Moby,
            Format::Dockerbuild,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// What happened to a layer under a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum LayerOp {
    /// Downloaded (and extracted) from a registry or an imported cache.
    Pull,
    /// Written by a cache export (`writing layer sha256:...`).
    Write,
}

impl LayerOp {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerOp::Pull => "pull",
            LayerOp::Write => "write",
        }
    }

    pub fn parse(s: &str) -> Option<LayerOp> {
        match s {
            "pull" => Some(LayerOp::Pull),
            "write" => Some(LayerOp::Write),
            _ => None,
        }
    }
}

/// A layer blob a step pulled or wrote. Byte counts are known only where the stream gave them
/// (standalone BuildKit pulls); cache exports never report sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct LayerRef {
    pub op: LayerOp,
    pub digest: String,
    pub bytes: Option<i64>,
}

/// One step (a BuildKit vertex) of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Order of first appearance in the stream, from 0.
    pub seq: u32,
    pub digest: String,
    pub name: String,
    pub kind: StepKind,
    /// The instruction text without the `[stage i/n]` prefix (`RUN make`), or the whole name.
    pub instruction: String,
    pub stage: Option<String>,
    pub stage_index: Option<u32>,
    pub stage_total: Option<u32>,
    pub platform: Option<String>,
    pub inputs: Vec<String>,
    pub outcome: Outcome,
    /// Reported cached first, then ran anyway (always with outcome `executed`/`failed`).
    pub lazy_miss: bool,
    pub started_at: Option<Nanos>,
    pub finished_at: Option<Nanos>,
    /// Sum of the merged intervals (what BuildKit prints as `DONE x.xs`).
    pub duration_ns: i64,
    /// The merged intervals, in order.
    pub intervals: Vec<(Nanos, Nanos)>,
    /// Time spent pulling layers from a cache (pulled steps, or the pull part of a lazy miss).
    pub pull_ns: i64,
    pub pulled_bytes: i64,
    pub pulled_layers: u32,
    pub log_lines: u64,
    pub log_bytes: u64,
    /// The last lines of the log (bounded), for failed steps and quick looks.
    pub log_tail: String,
    pub error: Option<String>,
    /// Cache export steps: the number of `writing layer` statuses.
    pub layers_written: u32,
    /// Layers pulled or written under this step, by digest.
    pub layers: Vec<LayerRef>,
    pub progress_group: Option<String>,
    pub warnings: u32,
}

/// One build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    /// Stable fingerprint of the build's input bytes (hex).
    pub id: String,
    pub source: String,
    pub format: Format,
    pub reference: Option<String>,
    pub builder: Option<String>,
    pub started_at: Option<Nanos>,
    pub finished_at: Option<Nanos>,
    pub duration_ns: Option<i64>,
    pub status: BuildStatus,
    pub error: Option<String>,
    pub steps: Vec<Step>,
    pub labels: BTreeMap<String, String>,
    pub reported_total_steps: Option<i64>,
    pub reported_cached_steps: Option<i64>,
    pub reported_completed_steps: Option<i64>,
    pub warnings: Vec<String>,
    /// Cache imports named in the stream (`importing cache manifest from <ref>`).
    pub cache_imports: Vec<String>,
}

/// Counts of steps per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub cached: u32,
    pub pulled: u32,
    pub executed: u32,
    pub failed: u32,
    pub canceled: u32,
    pub lazy_miss: u32,
}

/// How BuildKit names a cache import's vertex: `importing cache manifest from REF`.
const CACHE_IMPORT_PREFIX: &str = "importing cache manifest from ";

/// The cache ref a cache import step names, when `name` is such a step's name.
pub fn cache_import_ref(name: &str) -> Option<&str> {
    name.strip_prefix(CACHE_IMPORT_PREFIX)
}

/// The caches a build imported, as a phrase: `REF, REF2, mode=min, which exports only the final
/// stage's layers` (`mode` is the build's `cache_mode` label, when it has one).
pub fn imported_caches_phrase<S: AsRef<str>>(refs: &[S], mode: Option<&str>) -> String {
    let mut s = refs
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    match mode {
        Some("min") => s.push_str(", mode=min, which exports only the final stage's layers"),
        Some(m) => s.push_str(&format!(", mode={m}")),
        None => {}
    }
    s
}

/// Whether `instruction` is the merge of a `COPY --link` (`LINK COPY ...`, a MergeOp putting the
/// copied layer on its stage) rather than an instruction of the Dockerfile.
pub fn is_link_merge(instruction: &str) -> bool {
    instruction.starts_with("LINK ")
}

impl Build {
    pub fn counts(&self) -> OutcomeCounts {
        let mut c = OutcomeCounts::default();
        for s in &self.steps {
            match s.outcome {
                Outcome::Cached => c.cached += 1,
                Outcome::Pulled => c.pulled += 1,
                Outcome::Executed => c.executed += 1,
                Outcome::Failed => c.failed += 1,
                Outcome::Canceled => c.canceled += 1,
            }
            if s.lazy_miss {
                c.lazy_miss += 1;
            }
        }
        c
    }

    /// The build's failed cache imports: `(ref, the importer's message)`. BuildKit goes on without
    /// such a cache (the import error is not fatal), so the build ran without it.
    pub fn failed_cache_imports(&self) -> Vec<(&str, &str)> {
        self.steps
            .iter()
            .filter(|s| s.kind == StepKind::CacheImport && s.outcome == Outcome::Failed)
            .map(|s| {
                let reference = cache_import_ref(&s.name).unwrap_or(&s.name);
                (reference, s.error.as_deref().unwrap_or("failed"))
            })
            .collect()
    }

    /// The step that failed the build, when it failed: the first failed instruction, else the
    /// first failed step of any kind.
    pub fn failed_step(&self) -> Option<&Step> {
        if self.status != BuildStatus::Failed {
            return None;
        }
        let failed = || self.steps.iter().filter(|s| s.outcome == Outcome::Failed);
        failed()
            .find(|s| s.kind != StepKind::CacheImport)
            .or_else(|| failed().next())
    }
}

/// A label argument that is not `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("label {0:?} is not KEY=VALUE")]
pub struct LabelError(pub String);

/// Parses one `KEY=VALUE` label; the key is trimmed and must not be empty.
pub fn parse_label(arg: &str) -> Result<(String, String), LabelError> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(LabelError(arg.to_string())),
    }
}

/// Parses `KEY=VALUE` labels, in order.
pub fn parse_labels<S: AsRef<str>>(args: &[S]) -> Result<Vec<(String, String)>, LabelError> {
    args.iter().map(|a| parse_label(a.as_ref())).collect()
}
