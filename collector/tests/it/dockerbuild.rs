//! Tests of the `.dockerbuild` decoder on exports built from real Engine API and rawjson traces.

#[path = "../support/dockerbuild_export.rs"]
mod export;

use std::collections::{BTreeMap, BTreeSet};

use bollard_buildkit_proto::google::protobuf::Timestamp;
use bollard_buildkit_proto::moby::buildkit::v1::StatusResponse;
use chrono::{DateTime, SecondsFormat};
use collector::decode::dockerbuild::DockerbuildDecoder;
use collector::event::{BuildMeta, BuildVerdict, Event, Nanos, VerdictStatus};
use collector::DecodeError;
use export::{engine_error, engine_trace_messages, frame, Record, SOLVE_STATUS, STATUS};
use proptest::prelude::*;
use prost::Message;
use serde_json::{json, Value};

const COLD: &str = "engine-20.10/11-cold.api.jsonl";
const WARM: &str = "engine-20.10/13-warm-src-change.api.jsonl";
const FAILED: &str = "busybox-buildx0.13/local-moby20.10.24_api-build-version2_error.jsonstream";
const RAWJSON: &str = "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_cold.rawjson.txt";

/// What the trace itself says, decoded here independently of the decoder.
#[derive(Debug, Default)]
struct Truth {
    vertex_events: usize,
    status_events: usize,
    log_events: usize,
    digests: BTreeSet<String>,
    started: BTreeSet<String>,
    /// Final snapshot per digest: (cached, completed).
    last: BTreeMap<String, (bool, bool)>,
    first_started: Option<Nanos>,
    last_completed: Option<Nanos>,
}

fn ns(t: &Option<Timestamp>) -> Option<Nanos> {
    t.as_ref()
        .filter(|t| t.seconds > 0)
        .map(|t| t.seconds * 1_000_000_000 + i64::from(t.nanos))
}

impl Truth {
    fn of_protobufs(messages: &[Vec<u8>]) -> Truth {
        let mut t = Truth::default();
        for m in messages {
            let sr = StatusResponse::decode(m.as_slice()).expect("real trace message");
            t.vertex_events += sr.vertexes.len();
            t.status_events += sr.statuses.len();
            t.log_events += sr.logs.len();
            for v in sr.vertexes {
                let (started, completed) = (ns(&v.started), ns(&v.completed));
                t.note(v.digest, started, completed, v.cached);
            }
        }
        t
    }

    fn of_rawjson(text: &str) -> Truth {
        let time = |v: &Value| {
            v.as_str().map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .expect("time")
                    .timestamp_nanos_opt()
                    .expect("in range")
            })
        };
        let mut t = Truth::default();
        for item in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            let Ok(ss) = item else { break }; // buildx's trailing `ERROR:` line, if any
            let list = |key: &str| ss[key].as_array().cloned().unwrap_or_default();
            t.status_events += list("statuses").len();
            t.log_events += list("logs").len();
            for v in list("vertexes") {
                t.vertex_events += 1;
                let digest = v["digest"].as_str().expect("digest").to_owned();
                t.note(
                    digest,
                    time(&v["started"]),
                    time(&v["completed"]),
                    v["cached"] == true,
                );
            }
        }
        t
    }

    fn note(
        &mut self,
        digest: String,
        started: Option<Nanos>,
        completed: Option<Nanos>,
        cached: bool,
    ) {
        if let Some(s) = started {
            self.started.insert(digest.clone());
            self.first_started = Some(self.first_started.map_or(s, |f| f.min(s)));
        }
        if let Some(c) = completed {
            self.last_completed = Some(self.last_completed.map_or(c, |l| l.max(c)));
        }
        self.last
            .insert(digest.clone(), (cached, completed.is_some()));
        self.digests.insert(digest);
    }

    fn cached(&self) -> i64 {
        self.last.values().filter(|(cached, _)| *cached).count() as i64
    }

    fn completed(&self) -> i64 {
        self.last
            .values()
            .filter(|(_, completed)| *completed)
            .count() as i64
    }
}

#[derive(Clone, Copy)]
enum TimeForm {
    /// gogo-era `time.Time`: RFC 3339 text.
    Text,
    /// `timestamppb.Timestamp` through `encoding/json`.
    Proto,
}

fn time_json(ns: Nanos, form: TimeForm) -> Value {
    match form {
        TimeForm::Text => {
            json!(DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Nanos, true))
        }
        TimeForm::Proto => {
            json!({"seconds": ns.div_euclid(1_000_000_000), "nanos": ns.rem_euclid(1_000_000_000)})
        }
    }
}

/// A record JSON as buildkit writes it (zero values left out).
fn record_json(
    reference: &str,
    truth: &Truth,
    form: TimeForm,
    error: Option<(i32, &str)>,
) -> Value {
    let mut r = json!({
        "Ref": reference,
        "Frontend": "dockerfile.v0",
        "FrontendAttrs": {"filename": "Dockerfile", "target": "runtime", "build-arg:X": "1"},
        "Exporters": [{"Type": "moby", "Attrs": {"name": "app1"}}],
        "CreatedAt": time_json(truth.first_started.expect("started") - 1_000_000, form),
        "CompletedAt": time_json(truth.last_completed.expect("completed") + 1_000_000, form),
        "numTotalSteps": truth.started.len(),
        "numCompletedSteps": truth.completed(),
    });
    if truth.cached() > 0 {
        r["numCachedSteps"] = json!(truth.cached());
    }
    if let Some((code, message)) = error {
        r["error"] = json!({"code": code, "message": message, "details": [{"type_url": "x", "value": "eA=="}]});
    }
    r
}

fn engine_record(
    reference: &str,
    trace: &str,
    form: TimeForm,
    error: Option<(i32, &str)>,
) -> (Record, Truth) {
    let messages = engine_trace_messages(trace);
    let truth = Truth::of_protobufs(&messages);
    let json = record_json(reference, &truth, form, error);
    (
        Record {
            reference: reference.to_owned(),
            json,
            layers: vec![(STATUS, frame(&messages))],
        },
        truth,
    )
}

/// One decoded build record.
#[derive(Debug)]
struct Decoded {
    meta: BuildMeta,
    truth: Truth,
    end: Option<BuildVerdict>,
}

/// Decodes `bytes`, checking that every record is `BuildStart`, progress, then at most one
/// `BuildEnd`; returns the records and the error that ended the stream, if any.
fn decode(bytes: &[u8]) -> (Vec<Decoded>, Option<DecodeError>) {
    let mut out: Vec<Decoded> = Vec::new();
    let mut decoder = DockerbuildDecoder::new(bytes);
    let mut error = None;
    for item in decoder.by_ref() {
        let event = match item {
            Ok(event) => event,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        if let Event::BuildStart(meta) = event {
            out.push(Decoded {
                meta,
                truth: Truth::default(),
                end: None,
            });
            continue;
        }
        let current = out.last_mut().expect("an event before BuildStart");
        assert!(current.end.is_none(), "an event after BuildEnd: {event:?}");
        match event {
            Event::Vertex(v) => {
                current.truth.vertex_events += 1;
                current
                    .truth
                    .note(v.digest, v.started, v.completed, v.cached);
            }
            Event::Status(_) => current.truth.status_events += 1,
            Event::Log(_) => current.truth.log_events += 1,
            Event::BuildEnd(verdict) => current.end = Some(verdict),
            Event::Warning(_) | Event::BuildStart(_) => {}
        }
    }
    assert!(
        decoder.next().is_none(),
        "the decoder goes on after it stopped"
    );
    (out, error)
}

fn decode_ok(bytes: &[u8]) -> Vec<Decoded> {
    let (records, error) = decode(bytes);
    assert!(error.is_none(), "unexpected error: {error:?}");
    records
}

fn decode_err(bytes: &[u8]) -> DecodeError {
    decode(bytes).1.expect("an error")
}

fn assert_same_progress(got: &Truth, want: &Truth) {
    assert_eq!(got.vertex_events, want.vertex_events);
    assert_eq!(got.status_events, want.status_events);
    assert_eq!(got.log_events, want.log_events);
    assert_eq!(got.digests, want.digests);
    assert_eq!(got.started, want.started);
}

#[test]
fn multi_record_export_yields_each_build_with_its_verdict() {
    let failure = engine_error(FAILED).expect("the error trace has an errorDetail");
    let inputs = [
        engine_record("k3cold0000000000000000001", COLD, TimeForm::Text, None),
        engine_record("k3warm0000000000000000002", WARM, TimeForm::Proto, None),
        engine_record(
            "k3fail0000000000000000003",
            FAILED,
            TimeForm::Text,
            Some((2, &failure)),
        ),
        engine_record(
            "k3canc0000000000000000004",
            FAILED,
            TimeForm::Proto,
            Some((1, "context canceled")),
        ),
    ];
    let records: Vec<Record> = inputs.iter().map(|(r, _)| r.clone()).collect();
    let decoded = decode_ok(&export::export(&records, true));

    assert_eq!(decoded.len(), 4);
    for (d, (record, truth)) in decoded.iter().zip(&inputs) {
        assert_eq!(d.meta.reference.as_deref(), Some(record.reference.as_str()));
        assert_same_progress(&d.truth, truth);
        // The builder's own count of steps is the number of vertices that started.
        assert_eq!(
            d.meta.reported_total_steps,
            Some(d.truth.started.len() as i64)
        );
        assert_eq!(d.meta.reported_cached_steps, Some(truth.cached()));
        assert_eq!(d.meta.reported_completed_steps, Some(truth.completed()));
        assert_eq!(
            d.meta.created_at,
            truth.first_started.map(|t| t - 1_000_000)
        );
        assert_eq!(
            d.meta.completed_at,
            truth.last_completed.map(|t| t + 1_000_000)
        );
        assert_eq!(d.meta.builder, None);
        let attrs: Vec<(&str, &str)> = d
            .meta
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            attrs,
            [
                ("frontend", "dockerfile.v0"),
                ("target", "runtime"),
                ("filename", "Dockerfile"),
                ("exporter", "moby")
            ]
        );
    }
    let ends: Vec<&BuildVerdict> = decoded
        .iter()
        .map(|d| d.end.as_ref().expect("a BuildEnd"))
        .collect();
    assert_eq!(
        ends[0],
        &BuildVerdict::success(decoded[0].meta.completed_at)
    );
    assert_eq!(
        ends[1],
        &BuildVerdict::success(decoded[1].meta.completed_at)
    );
    assert_eq!(ends[2].status, VerdictStatus::Failed);
    assert_eq!(ends[2].error.as_deref(), Some(failure.as_str()));
    assert_eq!(ends[2].at, decoded[2].meta.completed_at);
    assert_eq!(ends[3].status, VerdictStatus::Canceled);
    assert_eq!(ends[3].at, decoded[3].meta.completed_at);
}

#[test]
fn flat_index_and_reference_fallback_to_the_annotation() {
    let (mut record, truth) =
        engine_record("k3warm0000000000000000009", WARM, TimeForm::Proto, None);
    let flat = decode_ok(&export::export(std::slice::from_ref(&record), false));
    assert_eq!(flat.len(), 1);
    assert_eq!(
        flat[0].meta.reference.as_deref(),
        Some("k3warm0000000000000000009")
    );
    assert_same_progress(&flat[0].truth, &truth);

    record.json.as_object_mut().expect("object").remove("Ref");
    let nested = decode_ok(&export::export(&[record], true));
    assert_eq!(
        nested[0].meta.reference.as_deref(),
        Some("k3warm0000000000000000009")
    );
}

#[test]
fn error_code_and_message_decide_between_failed_and_canceled() {
    let (mut record, _) = engine_record("k3x", FAILED, TimeForm::Text, None);
    let mut verdict = |error: Value| {
        record.json["error"] = error;
        let decoded = decode_ok(&export::export(std::slice::from_ref(&record), true));
        decoded[0].end.clone().expect("a BuildEnd")
    };
    assert_eq!(
        verdict(json!({"code": 1, "message": "some other text"})).status,
        VerdictStatus::Canceled
    );
    assert_eq!(
        verdict(json!({"code": 2, "message": "failed to solve: context canceled"})).status,
        VerdictStatus::Canceled
    );
    let failed = verdict(
        json!({"code": 2, "message": "process \"/bin/sh -c exit 3\" did not complete successfully"}),
    );
    assert_eq!(failed.status, VerdictStatus::Failed);
    assert_eq!(verdict(json!({"code": 13})).status, VerdictStatus::Failed);
}

#[test]
fn a_record_without_completed_at_or_error_has_no_build_end() {
    let (mut record, truth) = engine_record("k3running", COLD, TimeForm::Proto, None);
    record
        .json
        .as_object_mut()
        .expect("object")
        .remove("CompletedAt");
    let decoded = decode_ok(&export::export(&[record], true));
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].meta.completed_at, None);
    assert!(decoded[0].end.is_none());
    assert_same_progress(&decoded[0].truth, &truth);
}

#[test]
fn zero_times_and_missing_counters_are_unset() {
    let (mut record, _) = engine_record("k3zero", WARM, TimeForm::Text, None);
    record.json["CreatedAt"] = json!("0001-01-01T00:00:00Z");
    record.json["CompletedAt"] = json!({});
    for key in ["numTotalSteps", "numCachedSteps", "numCompletedSteps"] {
        record.json.as_object_mut().expect("object").remove(key);
    }
    let decoded = decode_ok(&export::export(&[record], true));
    let meta = &decoded[0].meta;
    assert_eq!((meta.created_at, meta.completed_at), (None, None));
    assert_eq!(meta.reported_total_steps, None);
    assert_eq!(meta.reported_cached_steps, None);
}

#[test]
fn solvestatus_json_is_read_when_there_is_no_status_layer() {
    let text = String::from_utf8(export::read_trace(RAWJSON)).expect("utf-8");
    let truth = Truth::of_rawjson(&text);
    let reference = "k3json";
    let record = Record {
        reference: reference.to_owned(),
        json: record_json(reference, &truth, TimeForm::Text, None),
        layers: vec![(SOLVE_STATUS, text.into_bytes())],
    };
    let decoded = decode_ok(&export::export(&[record], true));
    assert_same_progress(&decoded[0].truth, &truth);
    assert_eq!(
        decoded[0].meta.reported_total_steps,
        Some(decoded[0].truth.started.len() as i64)
    );
}

#[test]
fn status_layer_is_preferred_over_solvestatus() {
    let (mut record, truth) = engine_record("k3both", COLD, TimeForm::Text, None);
    let text = export::read_trace(RAWJSON);
    record.layers.insert(0, (SOLVE_STATUS, text));
    let decoded = decode_ok(&export::export(&[record], true));
    assert_same_progress(&decoded[0].truth, &truth);
}

// ---- bad input ----

fn malformed_message(e: DecodeError) -> String {
    match e {
        DecodeError::Malformed {
            format, message, ..
        } => {
            assert_eq!(format, "dockerbuild");
            message
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn cold_export_files() -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let (record, _) = engine_record("k3cold", COLD, TimeForm::Text, None);
    let status = record.layers[0].1.clone();
    (export::layout(&[record], true), status)
}

#[test]
fn not_gzip_empty_and_gzip_of_garbage_are_rejected() {
    let random: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(malformed_message(decode_err(&random)).contains("gzip"));
    assert!(matches!(decode_err(b""), DecodeError::Empty));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &random).expect("gzip");
    assert!(malformed_message(decode_err(&gz.finish().expect("gzip"))).contains("tar"));
}

#[test]
fn a_cut_export_is_truncated() {
    let (files, _) = cold_export_files();
    let bytes = export::pack(&files);
    let cuts = (1..bytes.len())
        .step_by(97)
        .chain(bytes.len() - 8..bytes.len());
    for cut in cuts {
        match decode(&bytes[..cut]) {
            (records, Some(DecodeError::Truncated { .. })) => assert!(records.is_empty()),
            other => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
        }
    }
}

#[test]
fn a_tar_without_its_end_marker_is_truncated() {
    let (mut files, _) = cold_export_files();
    files.retain(|(path, _)| path != "oci-layout" && path != "index.json");
    let mut tar_bytes = Vec::new();
    let mut builder = tar::Builder::new(&mut tar_bytes);
    for (path, data) in &files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        builder
            .append_data(&mut header, path, data.as_slice())
            .expect("entry");
    }
    builder.into_inner().expect("tar end"); // writes the two zero blocks
    tar_bytes.truncate(tar_bytes.len() - 1024);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar_bytes).expect("gzip");
    assert!(matches!(
        decode_err(&gz.finish().expect("gzip")),
        DecodeError::Truncated { .. }
    ));
}

#[test]
fn missing_index_and_missing_blobs_are_named() {
    let (files, status) = cold_export_files();
    let without = |path: &str| {
        let kept: Vec<_> = files.iter().filter(|(p, _)| p != path).cloned().collect();
        malformed_message(decode_err(&export::pack(&kept)))
    };
    assert!(without("index.json").contains("index.json is missing"));
    let message = without(&export::blob_path(&status));
    assert!(message.contains(&export::digest(&status)), "{message}");
    assert!(message.contains("is missing"), "{message}");
}

/// The export with its status blob replaced by `status`.
fn with_status(status: Vec<u8>) -> Vec<u8> {
    let (mut record, _) = engine_record("k3bad", COLD, TimeForm::Text, None);
    record.layers[0].1 = status;
    export::export(&[record], true)
}

#[test]
fn an_oversized_length_prefix_stops_after_the_good_messages() {
    let messages = engine_trace_messages(COLD);
    let good = frame(&messages[..3]);
    let mut status = good.clone();
    status.extend_from_slice(&u32::MAX.to_le_bytes());
    status.extend_from_slice(&[0; 16]);
    let (records, error) = decode(&with_status(status));
    let message = malformed_message(error.expect("an error"));
    assert!(message.contains("message 4"), "{message}");
    assert!(
        message.contains(&format!("at byte {}", good.len())),
        "{message}"
    );
    assert!(message.contains("length prefix"), "{message}");
    assert_same_progress(&records[0].truth, &Truth::of_protobufs(&messages[..3]));
    assert!(records[0].end.is_none());
}

#[test]
fn bad_protobuf_cut_prefix_and_bad_json_are_malformed() {
    let message = malformed_message(decode_err(&with_status(frame(&[vec![0xff; 12]]))));
    assert!(message.contains("StatusResponse"), "{message}");
    let message = malformed_message(decode_err(&with_status(vec![7, 0])));
    assert!(message.contains("length prefix"), "{message}");

    let (mut record, _) = engine_record("k3json", COLD, TimeForm::Text, None);
    record.json["CreatedAt"] = json!("yesterday");
    let message = malformed_message(decode_err(&export::export(&[record], true)));
    assert!(message.contains("CreatedAt"), "{message}");

    let (mut files, _) = cold_export_files();
    let index = files
        .iter_mut()
        .find(|(p, _)| p == "index.json")
        .expect("index");
    index.1 = b"{\"manifests\": [".to_vec();
    assert!(malformed_message(decode_err(&export::pack(&files))).contains("index.json"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode(&bytes);
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(&bytes);
        let _ = decode(&gz);
    }

    #[test]
    fn corrupted_blobs_never_panic(file in 2usize..8, at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let (mut files, _) = cold_export_files();
        let n = files.len();
        let data = &mut files[file % n].1;
        if !data.is_empty() {
            let i = at.index(data.len());
            data[i] = byte;
            data.truncate(cut.index(data.len()) + 1);
        }
        let _ = decode(&export::pack(&files));
    }
}
