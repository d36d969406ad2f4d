//! Sending the stored builds as traces: each build turned into a trace ([`super::build_trace`]),
//! traces gathered into requests of about [`SPANS_PER_REQUEST`] spans, each request sent with
//! [`super::Sender`]'s retries.

use std::time::Duration;

use collector::store::{BuildFilter, Store, StoreError};

use super::{build_trace, Endpoint, ExportTraceServiceRequest, OtlpError, Sender};

impl OtlpSummary {
    /// What `buildprof export --otlp` says of it, a line each: what was sent, what was skipped,
    /// what the collector rejected (its words, control characters blanked).
    pub fn lines(&self) -> Vec<String> {
        let (builds, spans, endpoint) = (self.builds, self.spans, &self.endpoint);
        let mut lines = vec![format!(
            "exported {builds} builds ({spans} spans) to {endpoint}"
        )];
        if self.skipped > 0 {
            lines.push(format!(
                "skipped {} builds without wall-clock times (plain logs without CI timestamps)",
                self.skipped
            ));
        }
        if self.rejected_spans > 0 {
            let said = self.messages.join("; ");
            let said: String = said
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            lines.push(format!(
                "the collector rejected {} spans: {said}",
                self.rejected_spans
            ));
        }
        lines
    }
}

/// Spans per OTLP request (collectors commonly accept a few MB per request).
pub const SPANS_PER_REQUEST: usize = 2_000;

/// What an OTLP export sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtlpSummary {
    /// The endpoint's URL as requests went to it.
    pub endpoint: String,
    pub builds: u64,
    pub spans: u64,
    /// Builds without wall-clock times (plain logs without CI timestamps), not sent.
    pub skipped: u64,
    /// Spans the collector said it rejected (partial success), and what it said.
    pub rejected_spans: i64,
    pub messages: Vec<String>,
}

/// Why an OTLP export stopped.
#[derive(Debug, thiserror::Error)]
pub enum OtlpExportError {
    #[error(transparent)]
    Otlp(#[from] OtlpError),
    /// A request failed after earlier ones were accepted: what the collector already holds.
    #[error("{source}; {builds} builds ({spans} spans) had been accepted before it")]
    Stopped {
        #[source]
        source: OtlpError,
        builds: u64,
        spans: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Where and how traces are sent.
#[derive(Debug, Clone)]
pub struct OtlpTarget<'a> {
    pub url: &'a str,
    /// `NAME=VALUE` headers sent with every request.
    pub headers: &'a [String],
    pub service_name: &'a str,
    /// Bounds connecting and each attempt; all attempts of a request get
    /// [`super::RETRY_BUDGET`] times it.
    pub timeout: Duration,
}

/// Sends every build `filter` selects to `target` as traces; `progress` is called with the
/// builds done and the builds in all after each build. When a request fails after others were
/// accepted, the error ([`OtlpExportError::Stopped`]) says how many builds and spans were.
pub fn export_builds(
    store: &Store,
    filter: &BuildFilter,
    target: &OtlpTarget,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<OtlpSummary, OtlpExportError> {
    let service_name = target.service_name;
    let endpoint = Endpoint::parse(target.url)?;
    let mut summary = OtlpSummary {
        endpoint: endpoint.url(),
        ..OtlpSummary::default()
    };
    let sender = Sender::new(endpoint, target.headers, target.timeout)?;
    let ids: Vec<String> = store
        .list_builds(filter)?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(OtlpExportError::Runtime)?;
    let mut pending = ExportTraceServiceRequest::default();
    let (mut pending_spans, mut pending_builds) = (0usize, 0u64);
    let flush = |request: &mut ExportTraceServiceRequest,
                 summary: &mut OtlpSummary|
     -> Result<(), OtlpExportError> {
        if request.resource_spans.is_empty() {
            return Ok(());
        }
        let accepted = runtime.block_on(sender.send(request)).map_err(|source| {
            let spans: u64 = request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len() as u64)
                .sum();
            match summary.builds {
                0 => OtlpExportError::Otlp(source),
                builds => OtlpExportError::Stopped {
                    source,
                    builds,
                    spans: summary.spans - spans,
                },
            }
        })?;
        summary.rejected_spans += accepted.rejected_spans;
        if !accepted.message.is_empty() {
            summary.messages.push(accepted.message);
        }
        request.resource_spans.clear();
        Ok(())
    };
    for (done, id) in ids.iter().enumerate() {
        let build = store.load_build(id)?;
        match build_trace(&build, service_name) {
            Some(trace) => {
                let n: usize = trace.scope_spans.iter().map(|s| s.spans.len()).sum();
                pending_spans += n;
                pending_builds += 1;
                summary.spans += n as u64;
                pending.resource_spans.push(trace);
            }
            None => summary.skipped += 1,
        }
        if pending_spans >= SPANS_PER_REQUEST {
            flush(&mut pending, &mut summary)?;
            summary.builds += pending_builds;
            pending_spans = 0;
            pending_builds = 0;
        }
        progress(done as u64 + 1, ids.len() as u64);
    }
    flush(&mut pending, &mut summary)?;
    summary.builds += pending_builds;
    Ok(summary)
}
