//! A stored build as an OpenTelemetry trace: a root span for the build and a span per step with
//! its real start and end, parented by the step graph.
//!
//! A step's parent is the input step that finished last (the one it waited for); its other
//! input steps are span links, and steps without input steps hang from the build's span. Trace
//! and span ids are derived from the build's fingerprint and the step's position, so exporting
//! the same build twice sends the same ids.

use std::collections::HashMap;

use collector::model::{Build, BuildStatus, Outcome, Step};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

/// Longest span name or status message sent (names of RUN steps can be whole scripts).
const MAX_TEXT: usize = 1024;

/// Converts a build; `None` when it has no wall-clock time to place it (plain logs without CI
/// timestamps).
pub fn build_trace(build: &Build, service_name: &str) -> Option<ResourceSpans> {
    let build_start = build
        .started_at
        .or_else(|| build.steps.iter().filter_map(|s| s.started_at).min())?;
    let build_end = build
        .finished_at
        .or_else(|| build.steps.iter().filter_map(|s| s.finished_at).max())
        .unwrap_or(build_start)
        .max(build_start);
    let trace_id = trace_id(&build.id);
    let root_id = span_id(&trace_id, u64::MAX);
    let mut spans = Vec::with_capacity(build.steps.len() + 1);
    spans.push(root_span(
        build,
        &trace_id,
        &root_id,
        build_start,
        build_end,
    ));
    let mut by_digest: HashMap<&str, &Step> = HashMap::with_capacity(build.steps.len());
    for step in &build.steps {
        by_digest.entry(step.digest.as_str()).or_insert(step);
    }
    for step in &build.steps {
        let inputs = input_steps(&by_digest, step);
        spans.push(step_span(step, &inputs, &trace_id, &root_id, build_start));
    }
    let mut resource = vec![kv("service.name", text(service_name))];
    for (k, v) in &build.labels {
        resource.push(kv(&format!("buildprof.label.{k}"), text(v)));
    }
    Some(ResourceSpans {
        resource: Some(Resource {
            attributes: resource,
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: "buildprof".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }),
            spans,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    })
}

fn root_span(build: &Build, trace_id: &[u8], root_id: &[u8], start: i64, end: i64) -> Span {
    let c = build.counts();
    let mut attributes = vec![
        kv("buildprof.build.id", text(&build.id)),
        kv("buildprof.build.status", text(build.status.as_str())),
        kv("buildprof.build.format", text(build.format.as_str())),
        kv("buildprof.build.source", text(&build.source)),
        kv("buildprof.build.steps", int(build.steps.len() as i64)),
        kv("buildprof.build.cached_steps", int(i64::from(c.cached))),
        kv("buildprof.build.pulled_steps", int(i64::from(c.pulled))),
        kv("buildprof.build.executed_steps", int(i64::from(c.executed))),
        kv("buildprof.build.failed_steps", int(i64::from(c.failed))),
        kv("buildprof.build.canceled_steps", int(i64::from(c.canceled))),
        kv("buildprof.build.lazy_misses", int(i64::from(c.lazy_miss))),
    ];
    if let Some(b) = &build.builder {
        attributes.push(kv("buildprof.build.builder", text(b)));
    }
    if let Some(r) = &build.reference {
        attributes.push(kv("buildprof.build.reference", text(r)));
    }
    for (k, v) in &build.labels {
        attributes.push(kv(&format!("buildprof.label.{k}"), text(v)));
    }
    let status = match build.status {
        BuildStatus::Failed => error_status(build.error.as_deref().unwrap_or("build failed")),
        BuildStatus::Succeeded => Status {
            code: StatusCode::Ok as i32,
            message: String::new(),
        },
        BuildStatus::Canceled | BuildStatus::Incomplete => Status::default(),
    };
    Span {
        trace_id: trace_id.to_vec(),
        span_id: root_id.to_vec(),
        name: format!("docker build {}", short_source(&build.source)),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: unix(start),
        end_time_unix_nano: unix(end),
        attributes,
        status: Some(status),
        ..Default::default()
    }
}

fn step_span(
    step: &Step,
    inputs: &[&Step],
    trace_id: &[u8],
    root_id: &[u8],
    fallback: i64,
) -> Span {
    let parent = inputs
        .iter()
        .max_by_key(|s| (s.finished_at.unwrap_or(i64::MIN), s.seq))
        .map(|s| span_id(trace_id, u64::from(s.seq)))
        .unwrap_or_else(|| root_id.to_vec());
    let links = inputs
        .iter()
        .map(|s| span_id(trace_id, u64::from(s.seq)))
        .filter(|id| *id != parent)
        .map(|id| Link {
            trace_id: trace_id.to_vec(),
            span_id: id,
            ..Default::default()
        })
        .collect();
    let known = step.started_at.is_some() && step.finished_at.is_some();
    let start = step.started_at.unwrap_or(fallback);
    let end = step.finished_at.unwrap_or(start).max(start);
    let attributes = step_attributes(step, known);
    let status = match step.outcome {
        Outcome::Failed => error_status(step.error.as_deref().unwrap_or("step failed")),
        _ => Status::default(),
    };
    // Several intervals (a lazy miss: reported cached, then run): one event per interval.
    let events = if step.intervals.len() > 1 {
        step.intervals
            .iter()
            .map(|(s, e)| Event {
                time_unix_nano: unix(*s),
                name: "interval".into(),
                attributes: vec![kv("buildprof.interval.end_unix_nano", int(*e))],
                ..Default::default()
            })
            .collect()
    } else {
        Vec::new()
    };
    Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id(trace_id, u64::from(step.seq)),
        parent_span_id: parent,
        name: clip(&step.name),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: unix(start),
        end_time_unix_nano: unix(end),
        attributes,
        events,
        links,
        status: Some(status),
        ..Default::default()
    }
}

/// A step's span attributes: its identity, outcome, time, cache transfer and log volume.
fn step_attributes(step: &Step, known: bool) -> Vec<KeyValue> {
    let mut attributes = vec![
        kv("buildprof.step.seq", int(i64::from(step.seq))),
        kv("buildprof.step.digest", text(&step.digest)),
        kv("buildprof.step.kind", text(step.kind.as_str())),
        kv("buildprof.step.instruction", text(&clip(&step.instruction))),
        kv("buildprof.outcome", text(step.outcome.as_str())),
        kv("buildprof.cache_hit", bool_value(step.outcome.is_hit())),
        kv("buildprof.lazy_miss", bool_value(step.lazy_miss)),
        kv("buildprof.step.busy_ns", int(step.duration_ns)),
        kv("buildprof.step.intervals", int(step.intervals.len() as i64)),
        kv("buildprof.cache.pulled_bytes", int(step.pulled_bytes)),
        kv(
            "buildprof.cache.pulled_layers",
            int(i64::from(step.pulled_layers)),
        ),
        kv("buildprof.cache.pull_ns", int(step.pull_ns)),
        kv(
            "buildprof.cache.layers_written",
            int(i64::from(step.layers_written)),
        ),
        kv("buildprof.step.log_lines", int(step.log_lines as i64)),
        kv("buildprof.step.log_bytes", int(step.log_bytes as i64)),
    ];
    if let Some(stage) = &step.stage {
        attributes.push(kv("buildprof.step.stage", text(stage)));
    }
    if let Some(p) = &step.platform {
        attributes.push(kv("buildprof.step.platform", text(p)));
    }
    if !known {
        attributes.push(kv("buildprof.step.time_unknown", bool_value(true)));
    }
    attributes
}

/// The steps of the build that `step` takes as inputs (by digest), itself excluded.
fn input_steps<'a>(by_digest: &HashMap<&str, &'a Step>, step: &Step) -> Vec<&'a Step> {
    let mut out: Vec<&Step> = Vec::new();
    for digest in &step.inputs {
        if let Some(s) = by_digest.get(digest.as_str()) {
            if s.seq != step.seq && !out.iter().any(|o| o.seq == s.seq) {
                out.push(s);
            }
        }
    }
    out
}

/// 16 bytes: the fingerprint itself when it is 32 hex digits (it always is for stored builds),
/// else a hash of the id.
pub fn trace_id(build_id: &str) -> Vec<u8> {
    let hex = build_id.as_bytes();
    if hex.len() == 32 && hex.iter().all(u8::is_ascii_hexdigit) {
        let bytes: Vec<u8> = hex
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
            .collect();
        if bytes.iter().any(|b| *b != 0) {
            return bytes;
        }
    }
    let a = hash_bytes(build_id.as_bytes(), 0x6275_696c_6470_726f);
    let b = hash_bytes(build_id.as_bytes(), a);
    [a.to_be_bytes(), b.to_be_bytes()].concat()
}

/// 8 non-zero bytes for the span at `position` (a step's seq; `u64::MAX` for the build).
pub fn span_id(trace_id: &[u8], position: u64) -> Vec<u8> {
    let id = mix(hash_bytes(trace_id, 0) ^ mix(position));
    let id = if id == 0 { 1 } else { id };
    id.to_be_bytes().to_vec()
}

/// splitmix64's finaliser: a fixed, well-spread 64-bit mix (stable across releases, unlike std's
/// hasher).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    bytes
        .chunks(8)
        .fold(mix(seed ^ bytes.len() as u64), |h, c| {
            let mut word = [0u8; 8];
            word[..c.len()].copy_from_slice(c);
            mix(h ^ u64::from_le_bytes(word))
        })
}

fn error_status(message: &str) -> Status {
    Status {
        code: StatusCode::Error as i32,
        message: clip(message),
    }
}

fn short_source(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source)
}

fn clip(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Unix nanoseconds as OTLP's unsigned field (times before 1970 do not occur in builds).
fn unix(ns: i64) -> u64 {
    ns.max(0) as u64
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn text(s: &str) -> any_value::Value {
    any_value::Value::StringValue(s.to_string())
}

fn int(n: i64) -> any_value::Value {
    any_value::Value::IntValue(n)
}

fn bool_value(b: bool) -> any_value::Value {
    any_value::Value::BoolValue(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let t = trace_id("0123456789abcdef0123456789abcdef");
        assert_eq!(t[0], 0x01);
        assert_eq!(t.len(), 16);
        assert_eq!(trace_id("not-hex").len(), 16);
        assert_ne!(trace_id("not-hex"), trace_id("not-hex2"));
        let ids: std::collections::HashSet<Vec<u8>> = (0..10_000).map(|i| span_id(&t, i)).collect();
        assert_eq!(ids.len(), 10_000);
        assert_eq!(span_id(&t, 7), span_id(&t, 7));
    }
}
