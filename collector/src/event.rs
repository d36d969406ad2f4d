//! `Event`: the progress events every decoder yields, shaped like BuildKit's `SolveStatus`.
//!
//! These types are the contract between the decoders and the assembler: a decoder turns bytes
//! into a stream of `Event`s and knows nothing of builds or storage; the assembler folds the
//! stream into [`crate::model::Build`]s.

use serde::Serialize;

/// A point in time, in nanoseconds since the Unix epoch (UTC).
pub type Nanos = i64;

/// One progress event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Event {
    /// A new build starts in this stream (formats that carry several builds, such as
    /// `.dockerbuild` exports, or metadata known before the first vertex).
    BuildStart(BuildMeta),
    /// A full snapshot of one vertex (BuildKit sends the whole vertex on every update).
    Vertex(VertexEvent),
    /// A full snapshot of one status (progress item) under a vertex.
    Status(StatusEvent),
    /// Log output of a vertex.
    Log(LogEvent),
    /// A warning attached to a vertex (or to the build).
    Warning(WarningEvent),
    /// The stream's own verdict on the build: it ended with this status.
    BuildEnd(BuildVerdict),
}

/// What a stream says about the build before or around its steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BuildMeta {
    /// The builder's own reference for the build (buildx history ref), when known.
    pub reference: Option<String>,
    /// Builder or engine description (e.g. `default instance using docker driver`).
    pub builder: Option<String>,
    pub created_at: Option<Nanos>,
    pub completed_at: Option<Nanos>,
    /// Counters the builder itself reported (`.dockerbuild` records).
    pub reported_total_steps: Option<i64>,
    pub reported_cached_steps: Option<i64>,
    pub reported_completed_steps: Option<i64>,
    /// Free-form attributes from the record (frontend attributes, exporter names...).
    pub attributes: Vec<(String, String)>,
}

/// One vertex snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VertexEvent {
    /// The vertex digest; plain logs without digest lines use `#N`.
    pub digest: String,
    pub name: Option<String>,
    pub inputs: Vec<String>,
    pub started: Option<Nanos>,
    pub completed: Option<Nanos>,
    pub cached: bool,
    pub error: Option<String>,
    pub progress_group: Option<String>,
    /// The builder's own printed duration for the vertex so far (plain `DONE 1.2s`): the sum of
    /// its merged intervals, as progressui computes it. Only plain logs carry it.
    pub reported_duration_ns: Option<i64>,
    /// Plain logs: the vertex was printed as `CANCELED`.
    pub canceled: bool,
    /// The vertex is running even though no start time is known (a plain log header without
    /// CI timestamps: progressui prints only vertices that started).
    pub running: bool,
}

/// One status snapshot (transfer, extraction, export item...).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatusEvent {
    pub vertex: String,
    pub id: String,
    pub name: Option<String>,
    pub current: i64,
    pub total: i64,
    pub timestamp: Option<Nanos>,
    pub started: Option<Nanos>,
    pub completed: Option<Nanos>,
    /// Plain logs: the printed duration of the status (`0.1s`), when shown.
    pub reported_duration_ns: Option<i64>,
}

/// A chunk of log output from a vertex.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogEvent {
    pub vertex: String,
    /// 1 = stdout, 2 = stderr.
    pub stream: i64,
    pub data: Vec<u8>,
    pub timestamp: Option<Nanos>,
}

/// A warning (Dockerfile lint, deprecated syntax...).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WarningEvent {
    pub vertex: Option<String>,
    pub level: i64,
    pub short: String,
}

/// How the stream itself says the build ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildVerdict {
    pub status: VerdictStatus,
    pub error: Option<String>,
    pub at: Option<Nanos>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    Succeeded,
    Failed,
    Canceled,
}

impl BuildVerdict {
    /// A failure verdict; `context canceled` errors become `Canceled`.
    pub fn failure(error: impl Into<String>, at: Option<Nanos>) -> Self {
        let error = error.into();
        let status = if is_cancellation(&error) {
            VerdictStatus::Canceled
        } else {
            VerdictStatus::Failed
        };
        BuildVerdict {
            status,
            error: Some(error),
            at,
        }
    }

    pub fn success(at: Option<Nanos>) -> Self {
        BuildVerdict {
            status: VerdictStatus::Succeeded,
            error: None,
            at,
        }
    }
}

/// Whether an error text is BuildKit's way of saying the work was canceled.
pub fn is_cancellation(error: &str) -> bool {
    let e = error.trim_end();
    e.ends_with("context canceled") || e == "canceled"
}
