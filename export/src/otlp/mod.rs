//! OpenTelemetry export (`buildprof export --otlp URL`): builds as traces, sent over OTLP/HTTP
//! with the official protobuf types (opentelemetry-proto).

mod batch;
mod send;
mod spans;

pub use batch::{export_builds, OtlpExportError, OtlpSummary, OtlpTarget, SPANS_PER_REQUEST};
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use send::{Accepted, Endpoint, Sender, DEFAULT_TIMEOUT, RETRY_BUDGET};
pub use spans::{build_trace, span_id, trace_id};

/// Why an OTLP export failed.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("OTLP endpoint {0:?}: {1}")]
    BadEndpoint(String, String),
    #[error("OTLP endpoint {0:?}: buildprof sends OTLP over plain HTTP; run an OpenTelemetry Collector (or Grafana Alloy) next to it, point --otlp at that, and let it forward over TLS with your credentials")]
    Https(String),
    #[error("OTLP header {0:?} is not NAME=VALUE with a valid header name and value")]
    BadHeader(String),
    #[error("OTLP endpoint {endpoint} refused the request with HTTP {status}: {body}")]
    Refused {
        endpoint: String,
        status: u16,
        body: String,
    },
    #[error("OTLP endpoint {endpoint} did not accept the request within {budget} ({attempts} attempts; last: {last})")]
    GaveUp {
        endpoint: String,
        attempts: u32,
        /// The retry budget spent, as text (`30 s`).
        budget: String,
        /// What the last attempt met: `no answer within 10 s`, `HTTP 503`, `cannot connect (...)`.
        last: String,
    },
}
