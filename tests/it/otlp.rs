//! `buildprof export --otlp`: real traces sent to an OTLP/HTTP receiver on loopback that decodes
//! every request with the official protobuf types and checks spans against the database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::{count, ingest, run};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// One HTTP request as the receiver saw it.
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A minimal HTTP/1.1 server: keeps connections alive, reads bodies by Content-Length, answers
/// each request with the status `respond` picks (given the request's number) and an empty
/// `ExportTraceServiceResponse`.
fn receiver(respond: fn(usize) -> u16) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let counter = Arc::new(Mutex::new(0usize));
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || serve(stream, &log, &counter, respond));
        }
    });
    (url, seen)
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Received>>,
    counter: &Mutex<usize>,
    respond: fn(usize) -> u16,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        assert!(
            !headers.contains_key("transfer-encoding"),
            "bodies have a length"
        );
        let len: usize = headers["content-length"].parse().unwrap();
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let n = {
            let mut c = counter.lock().unwrap();
            *c += 1;
            *c
        };
        let status = respond(n);
        if status == 200 {
            log.lock().unwrap().push(Received {
                path,
                headers,
                body,
            });
        }
        let reply = ExportTraceServiceResponse::default().encode_to_vec();
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
            reply.len()
        );
        out.write_all(head.as_bytes()).unwrap();
        out.write_all(&reply).unwrap();
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn attr_str(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key) {
        Some(Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn attr_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key) {
        Some(Value::IntValue(n)) => Some(*n),
        _ => None,
    }
}

fn attr_bool(attrs: &[KeyValue], key: &str) -> Option<bool> {
    match attr(attrs, key) {
        Some(Value::BoolValue(b)) => Some(*b),
        _ => None,
    }
}

/// A stored step, for comparison.
struct StoredStep {
    digest: String,
    outcome: String,
    lazy_miss: bool,
    stage: Option<String>,
    kind: String,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    pulled_bytes: i64,
    inputs: Vec<String>,
}

fn stored_steps(db: &Path, build: &str) -> BTreeMap<i64, StoredStep> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT seq, digest, outcome, lazy_miss, stage, kind, started_at, finished_at, pulled_bytes,
                    (SELECT json_group_array(input) FROM (SELECT input FROM step_inputs i
                      WHERE i.build_id = s.build_id AND i.seq = s.seq ORDER BY pos))
             FROM steps s WHERE build_id = ?1",
        )
        .unwrap();
    let rows = stmt
        .query_map([build], |r| {
            let inputs: String = r.get(9)?;
            Ok((
                r.get::<_, i64>(0)?,
                StoredStep {
                    digest: r.get(1)?,
                    outcome: r.get(2)?,
                    lazy_miss: r.get::<_, i64>(3)? != 0,
                    stage: r.get(4)?,
                    kind: r.get(5)?,
                    started_at: r.get(6)?,
                    finished_at: r.get(7)?,
                    pulled_bytes: r.get(8)?,
                    inputs: serde_json::from_str(&inputs).unwrap(),
                },
            ))
        })
        .unwrap()
        .collect::<Result<BTreeMap<_, _>, _>>()
        .unwrap();
    rows
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn builds_arrive_as_traces_with_real_times_parents_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    ingest(
        &db,
        &["app1-series/010-min-web-iter3.rawjson"],
        &["strategy=min", "branch=main"],
    );
    ingest(
        &db,
        &["app1-series/009-max-web-iter3.rawjson"],
        &["strategy=max", "branch=main"],
    );
    ingest(
        &db,
        &[
            "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt",
            "external/docker-actions-toolkit_fixture_docker_test-docker-action_SNHBPN_3.dockerbuild",
            "engine-20.10/01-cold.ci.log",
        ],
        &["strategy=other"],
    );
    // A plain log without CI timestamps has no wall-clock time: skipped, and said so.
    ingest(
        &db,
        &["app1-series/006-min-src-iter2.plain.log"],
        &["strategy=untimed"],
    );
    let untimed = count(&db, "SELECT count(*) FROM builds WHERE started_at IS NULL");

    // The first request is answered 503: the exporter must retry it, not lose or repeat it.
    let (url, seen) = receiver(|n| if n == 1 { 503 } else { 200 });
    let out = run(
        &db,
        &[
            "export",
            "--otlp",
            &url,
            "--otlp-header",
            "x-scope-orgid=ci-team",
            "--service-name",
            "web-image",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let timed = count(
        &db,
        "SELECT count(*) FROM builds WHERE started_at IS NOT NULL",
    );
    let timed_steps = count(
        &db,
        "SELECT count(*) FROM steps s JOIN builds b ON b.id = s.build_id WHERE b.started_at IS NOT NULL",
    );
    assert!(
        stdout.contains(&format!(
            "exported {timed} builds ({} spans)",
            timed + timed_steps
        )),
        "{stdout}"
    );
    if untimed > 0 {
        assert!(
            stdout.contains(&format!("skipped {untimed} builds")),
            "{stdout}"
        );
    }

    let requests = seen.lock().unwrap();
    assert!(!requests.is_empty());
    let mut traces: HashMap<Vec<u8>, Vec<(Span, Vec<KeyValue>)>> = HashMap::new();
    for r in requests.iter() {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        assert_eq!(r.headers["x-scope-orgid"], "ci-team");
        let req = ExportTraceServiceRequest::decode(r.body.as_slice()).unwrap();
        for rs in req.resource_spans {
            let resource = rs.resource.unwrap().attributes;
            assert_eq!(
                attr_str(&resource, "service.name").as_deref(),
                Some("web-image")
            );
            assert!(attr_str(&resource, "buildprof.label.strategy").is_some());
            for ss in rs.scope_spans {
                assert_eq!(ss.scope.unwrap().name, "buildprof");
                for span in ss.spans {
                    traces
                        .entry(span.trace_id.clone())
                        .or_default()
                        .push((span, resource.clone()));
                }
            }
        }
    }
    assert_eq!(
        traces.len() as i64,
        timed,
        "one trace per timed build, none twice"
    );
    let total: usize = traces.values().map(Vec::len).sum();
    assert_eq!(
        total as i64,
        timed + timed_steps,
        "no span lost or repeated"
    );

    let mut lazy_checked = 0;
    let mut failed_checked = 0;
    let mut links_seen = 0;
    for (trace_id, spans) in &traces {
        let build_id = hex(trace_id);
        let (started, finished, status, strategy): (i64, i64, String, String) = {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.query_row(
                "SELECT started_at, finished_at, status, (SELECT value FROM labels WHERE build_id = id AND key = 'strategy') FROM builds WHERE id = ?1",
                [&build_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
        };
        let roots: Vec<_> = spans
            .iter()
            .filter(|(s, _)| s.parent_span_id.is_empty())
            .collect();
        assert_eq!(roots.len(), 1, "build {build_id}: one root");
        let root = &roots[0].0;
        assert_eq!(root.start_time_unix_nano, started as u64);
        assert_eq!(root.end_time_unix_nano, finished as u64);
        assert_eq!(
            attr_str(&root.attributes, "buildprof.build.id").unwrap(),
            build_id
        );
        assert_eq!(
            attr_str(&root.attributes, "buildprof.build.status").unwrap(),
            status
        );
        assert_eq!(
            attr_str(&root.attributes, "buildprof.label.strategy").unwrap(),
            strategy
        );
        let root_code = root.status.as_ref().unwrap().code;
        assert_eq!(
            root_code == 2,
            status == "failed",
            "ERROR status for failed builds"
        );

        let ids: HashMap<Vec<u8>, &Span> =
            spans.iter().map(|(s, _)| (s.span_id.clone(), s)).collect();
        assert_eq!(ids.len(), spans.len(), "span ids are unique in a trace");
        let stored = stored_steps(&db, &build_id);
        assert_eq!(stored.len() + 1, spans.len());
        let by_seq: HashMap<i64, &Span> = spans
            .iter()
            .filter(|(s, _)| !s.parent_span_id.is_empty())
            .map(|(s, _)| (attr_int(&s.attributes, "buildprof.step.seq").unwrap(), s))
            .collect();
        for (seq, st) in &stored {
            let span = by_seq[seq];
            // Real times, to the nanosecond.
            assert_eq!(
                Some(span.start_time_unix_nano as i64),
                st.started_at.or(Some(started))
            );
            assert_eq!(
                Some(span.end_time_unix_nano as i64),
                st.finished_at.or(st.started_at).or(Some(started))
            );
            assert_eq!(
                attr_str(&span.attributes, "buildprof.outcome").unwrap(),
                st.outcome
            );
            assert_eq!(
                attr_bool(&span.attributes, "buildprof.lazy_miss").unwrap(),
                st.lazy_miss
            );
            assert_eq!(
                attr_str(&span.attributes, "buildprof.step.kind").unwrap(),
                st.kind
            );
            assert_eq!(attr_str(&span.attributes, "buildprof.step.stage"), st.stage);
            assert_eq!(
                attr_int(&span.attributes, "buildprof.cache.pulled_bytes").unwrap(),
                st.pulled_bytes
            );
            assert_eq!(
                attr_str(&span.attributes, "buildprof.step.digest").unwrap(),
                st.digest
            );
            // Parent from the step graph: an input step of this build, else the root.
            let parent = ids
                .get(&span.parent_span_id)
                .unwrap_or_else(|| panic!("build {build_id} step {seq}: parent not in the trace"));
            let input_seqs: HashSet<i64> = stored
                .iter()
                .filter(|(s, o)| *s != seq && st.inputs.contains(&o.digest))
                .map(|(s, _)| *s)
                .collect();
            if input_seqs.is_empty() {
                assert!(
                    parent.parent_span_id.is_empty(),
                    "step {seq} hangs from the root"
                );
            } else {
                let p = attr_int(&parent.attributes, "buildprof.step.seq").unwrap();
                assert!(
                    input_seqs.contains(&p),
                    "step {seq}: parent {p} is one of its inputs"
                );
                // The parent is the input that finished last; the others are links.
                let latest = input_seqs
                    .iter()
                    .map(|s| stored[s].finished_at.unwrap_or(i64::MIN))
                    .max()
                    .unwrap();
                assert_eq!(stored[&p].finished_at.unwrap_or(i64::MIN), latest);
                assert_eq!(span.links.len(), input_seqs.len() - 1);
                links_seen += span.links.len();
            }
            if st.lazy_miss {
                lazy_checked += 1;
                assert!(!span.events.is_empty(), "lazy misses show their intervals");
            }
            if st.outcome == "failed" {
                failed_checked += 1;
                let status = span.status.as_ref().unwrap();
                assert_eq!(status.code, 2);
                assert!(!status.message.is_empty());
            }
        }
    }
    assert!(lazy_checked > 0, "the mode=min trace has lazy misses");
    assert!(failed_checked > 0, "the error trace has a failed step");
    assert!(links_seen > 0, "some step has several inputs (COPY --from)");
}

#[test]
fn unreachable_and_refusing_endpoints_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    ingest(&db, &["app1-series/010-min-web-iter3.rawjson"], &[]);
    let (url, seen) = receiver(|_| 400);
    let out = run(&db, &["export", "--otlp", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the request with HTTP 400"), "{err}");
    assert!(seen.lock().unwrap().is_empty());

    let out = run(&db, &["export", "--otlp", "https://api.example.invalid"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OpenTelemetry Collector"));
}

/// A loopback endpoint that accepts connections and then does what `act` does with each.
fn endpoint(act: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || act(stream));
        }
    });
    url
}

/// Reads one request's head and body (by Content-Length).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut len = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn answer_ok(out: &mut TcpStream) {
    let reply = ExportTraceServiceResponse::default().encode_to_vec();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
        reply.len()
    );
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&reply);
}

/// Runs an export to `url` with `--otlp-timeout timeout`; its exit code, stderr and seconds.
fn export_to(db: &Path, url: &str, timeout: &str) -> (Option<i32>, String, f64) {
    let started = std::time::Instant::now();
    let out = run(db, &["export", "--otlp", url, "--otlp-timeout", timeout]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), err, started.elapsed().as_secs_f64())
}

#[test]
fn silent_slow_and_resetting_endpoints_end_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    ingest(&db, &["app1-series/010-min-web-iter3.rawjson"], &[]);

    // Accepts and never answers: three 1 s attempts at most, then a clear error.
    let silent = endpoint(|s| {
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(s);
    });
    let (code, err, secs) = export_to(&db, &silent, "1s");
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 6.0, "took {secs} s");
    assert!(err.contains(&silent) && err.contains("within 3 s"), "{err}");
    assert!(err.contains("no answer within"), "{err}");

    // Answers after 2 s: too slow for a 1 s timeout, in time for a 5 s one.
    let slow = endpoint(|s| {
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut out = s;
        while read_request(&mut reader).is_some() {
            std::thread::sleep(std::time::Duration::from_secs(2));
            answer_ok(&mut out);
        }
    });
    let (code, err, secs) = export_to(&db, &slow, "1s");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        secs < 6.0 && err.contains("no answer within"),
        "{secs} s: {err}"
    );
    let (code, err, _) = export_to(&db, &slow, "5s");
    assert_eq!(code, Some(0), "{err}");

    // Resets every connection: retried, then the reset is named.
    let reset = endpoint(|s| {
        // Unread request bytes in the socket make the close a reset (RST).
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(s);
    });
    let (code, err, secs) = export_to(&db, &reset, "1s");
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 6.0, "took {secs} s");
    assert!(err.contains(&reset) && err.contains("reset"), "{err}");

    let (code, err, _) = export_to(&db, &silent, "0s");
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn what_was_accepted_before_an_endpoint_went_silent_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    // Enough builds for several requests of SPANS_PER_REQUEST spans.
    let out = run(&db, &["synth", "--steps", "9000", "--days", "30"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Answers the first request, then stays silent.
    let first_only = endpoint(|s| {
        static ANSWERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut out = s;
        if read_request(&mut reader).is_some()
            && !ANSWERED.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            answer_ok(&mut out);
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
    let (code, err, secs) = export_to(&db, &first_only, "1s");
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 10.0, "took {secs} s");
    let accepted =
        regex::Regex::new(r"; (\d+) builds \((\d+) spans\) had been accepted before it").unwrap();
    let caps = accepted.captures(&err).unwrap_or_else(|| panic!("{err}"));
    let spans: u64 = caps[2].parse().unwrap();
    let builds: u64 = caps[1].parse().unwrap();
    assert!(builds > 0 && spans >= 2_000, "{err}");
    assert!(
        builds < count(&db, "SELECT count(*) FROM builds") as u64,
        "{err}"
    );
}
