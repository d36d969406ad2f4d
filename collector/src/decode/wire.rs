//! The protobuf messages of BuildKit's progress (`moby.buildkit.v1.StatusResponse` in
//! `api/services/control/control.proto`), declared with prost for the fields buildprof reads.
//!
//! Declared here rather than taken from a generated gRPC crate so the collector does not pull
//! a gRPC stack (tonic, hyper, axum) into every crate that reads a trace. Field numbers follow
//! control.proto; fields not declared (a warning's source info and ranges) are skipped by
//! prost as unknown fields.

use prost_types::Timestamp;

/// One progress update: vertex snapshots, statuses, logs and warnings.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusResponse {
    #[prost(message, repeated, tag = "1")]
    pub vertexes: Vec<Vertex>,
    #[prost(message, repeated, tag = "2")]
    pub statuses: Vec<VertexStatus>,
    #[prost(message, repeated, tag = "3")]
    pub logs: Vec<VertexLog>,
    #[prost(message, repeated, tag = "4")]
    pub warnings: Vec<VertexWarning>,
}

/// A full snapshot of one vertex.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Vertex {
    #[prost(string, tag = "1")]
    pub digest: String,
    #[prost(string, repeated, tag = "2")]
    pub inputs: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "4")]
    pub cached: bool,
    #[prost(message, optional, tag = "5")]
    pub started: Option<Timestamp>,
    #[prost(message, optional, tag = "6")]
    pub completed: Option<Timestamp>,
    #[prost(string, tag = "7")]
    pub error: String,
    #[prost(message, optional, tag = "8")]
    pub progress_group: Option<ProgressGroup>,
}

/// `pb.ProgressGroup`: vertices shown together under one name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProgressGroup {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(bool, tag = "3")]
    pub weak: bool,
}

/// A status of a vertex (a layer download, an export step). Note the order: `current` is 4 and
/// `total` 5, unlike the JSON form.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VertexStatus {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub vertex: String,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(int64, tag = "4")]
    pub current: i64,
    #[prost(int64, tag = "5")]
    pub total: i64,
    #[prost(message, optional, tag = "6")]
    pub timestamp: Option<Timestamp>,
    #[prost(message, optional, tag = "7")]
    pub started: Option<Timestamp>,
    #[prost(message, optional, tag = "8")]
    pub completed: Option<Timestamp>,
}

/// Output of a vertex (`msg` is the JSON form's `data`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct VertexLog {
    #[prost(string, tag = "1")]
    pub vertex: String,
    #[prost(message, optional, tag = "2")]
    pub timestamp: Option<Timestamp>,
    #[prost(int64, tag = "3")]
    pub stream: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub msg: Vec<u8>,
}

/// A build warning (source info and ranges, tags 6 and 7, are not read).
#[derive(Clone, PartialEq, prost::Message)]
pub struct VertexWarning {
    #[prost(string, tag = "1")]
    pub vertex: String,
    #[prost(int64, tag = "2")]
    pub level: i64,
    #[prost(bytes = "vec", tag = "3")]
    pub short: Vec<u8>,
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub detail: Vec<Vec<u8>>,
    #[prost(string, tag = "5")]
    pub url: String,
}
