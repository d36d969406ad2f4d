//! Conversion of BuildKit's protobuf `StatusResponse` (control.proto) into progress events.
//!
//! Used by the Engine API stream (`moby.buildkit.trace` aux messages) and by `.dockerbuild`
//! status layers; both carry the same message.

use super::wire::StatusResponse;
use prost::Message;
use prost_types::Timestamp;

use crate::event::{Event, LogEvent, Nanos, StatusEvent, VertexEvent, WarningEvent};

/// Decodes one protobuf `StatusResponse` and appends its events to `out` in BuildKit's order
/// (vertexes, statuses, logs, warnings).
pub fn decode_status_response(
    bytes: &[u8],
    out: &mut Vec<Event>,
) -> Result<(), prost::DecodeError> {
    let sr = StatusResponse::decode(bytes)?;
    push_events(sr, out);
    Ok(())
}

fn nanos(ts: Option<Timestamp>) -> Option<Nanos> {
    let ts = ts?;
    // Go's zero time (0001-01-01) and the Unix epoch both mean "not set" here.
    if ts.seconds <= 0 && ts.nanos <= 0 {
        return None;
    }
    ts.seconds
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(i64::from(ts.nanos)))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Moves the contents of a decoded `StatusResponse` into events.
pub fn push_events(sr: StatusResponse, out: &mut Vec<Event>) {
    for v in sr.vertexes {
        out.push(Event::Vertex(VertexEvent {
            digest: v.digest,
            name: non_empty(v.name),
            inputs: v.inputs,
            started: nanos(v.started),
            completed: nanos(v.completed),
            cached: v.cached,
            error: non_empty(v.error),
            progress_group: v.progress_group.and_then(|g| non_empty(g.name)),
            reported_duration_ns: None,
            canceled: false,
            running: false,
        }));
    }
    for s in sr.statuses {
        out.push(Event::Status(StatusEvent {
            vertex: s.vertex,
            id: s.id,
            name: non_empty(s.name),
            current: s.current,
            total: s.total,
            timestamp: nanos(s.timestamp),
            started: nanos(s.started),
            completed: nanos(s.completed),
            reported_duration_ns: None,
        }));
    }
    for l in sr.logs {
        out.push(Event::Log(LogEvent {
            vertex: l.vertex,
            stream: l.stream,
            data: l.msg,
            timestamp: nanos(l.timestamp),
        }));
    }
    for w in sr.warnings {
        out.push(Event::Warning(WarningEvent {
            vertex: non_empty(w.vertex),
            level: w.level,
            short: String::from_utf8_lossy(&w.short).into_owned(),
        }));
    }
}
