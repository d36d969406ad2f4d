//! `.dockerbuild` decoder: `docker buildx history export` archives holding one or many build
//! records.
//!
//! The input is a gzip'd OCI image-layout tar (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).
//! `index.json` points at a record manifest, or at an index whose entries (annotated
//! `vnd.buildkit.history.reference`) are record manifests. A record manifest's config is the
//! record JSON (`application/vnd.buildkit.historyrecord.v0`); its progress is the layer
//! `application/vnd.buildkit.status.v0` (frames of `[u32 LE length][StatusResponse protobuf]`) or,
//! when that is absent (older records), `application/vnd.buildkit.solvestatus.v0` (SolveStatus
//! JSON). Each record yields `BuildStart`, its progress events, then `BuildEnd` from the record's
//! `error` / `CompletedAt` (no `BuildEnd` when it has neither).
//!
//! The archive is read into memory on the first `next()`; records are decoded one at a time.
//! Error positions are byte offsets in the decompressed tar stream.

use std::cell::Cell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::DateTime;
use flate2::bufread::GzDecoder;
use prost_types::Timestamp;
use serde::Deserialize;

use super::proto::{decode_status_response, push_events};
use super::wire::{ProgressGroup, StatusResponse, Vertex, VertexLog, VertexStatus, VertexWarning};
use super::EventResult;
use crate::error::{DecodeError, Position};
use crate::event::{BuildMeta, BuildVerdict, Event, Nanos, VerdictStatus};

const FORMAT: &str = "dockerbuild";
const RECORD_MEDIA_TYPE: &str = "application/vnd.buildkit.historyrecord.v0";
const STATUS_MEDIA_TYPE: &str = "application/vnd.buildkit.status.v0";
const SOLVE_STATUS_MEDIA_TYPE: &str = "application/vnd.buildkit.solvestatus.v0";
const REFERENCE_ANNOTATION: &str = "vnd.buildkit.history.reference";
/// Frontend attributes copied into [`BuildMeta::attributes`].
const FRONTEND_ATTRS: [&str; 6] = [
    "target",
    "filename",
    "context",
    "platform",
    "vcs:source",
    "vcs:revision",
];
/// gRPC status code `Canceled`, as found in the record's `error.code`.
const GRPC_CANCELED: i32 = 1;
const MAX_INDEX_DEPTH: usize = 8;
const TAR_BLOCK: u64 = 512;

/// Streams the build records of a `.dockerbuild` export as progress events.
pub struct DockerbuildDecoder<R> {
    input: Option<R>,
    blobs: HashMap<String, Blob>,
    records: VecDeque<RecordRef>,
    current: Option<OpenRecord>,
    queue: VecDeque<Event>,
    done: bool,
}

impl<R: BufRead> DockerbuildDecoder<R> {
    pub fn new(reader: R) -> Self {
        DockerbuildDecoder {
            input: Some(reader),
            blobs: HashMap::new(),
            records: VecDeque::new(),
            current: None,
            queue: VecDeque::new(),
            done: false,
        }
    }

    fn step(&mut self) -> Result<Option<Event>, DecodeError> {
        if let Some(input) = self.input.take() {
            let archive = read_archive(input)?;
            self.records = list_records(&archive)?;
            self.blobs = archive.blobs;
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(Some(event));
            }
            if let Some(open) = &mut self.current {
                if let Some(frames) = &mut open.frames {
                    if frames.decode_next(&self.blobs, &mut self.queue)? {
                        continue;
                    }
                }
                match self.current.take().and_then(|open| open.end) {
                    Some(verdict) => return Ok(Some(Event::BuildEnd(verdict))),
                    None => continue,
                }
            }
            let Some(record) = self.records.pop_front() else {
                return Ok(None);
            };
            let (meta, open) = open_record(&self.blobs, &record, &mut self.queue)?;
            self.current = Some(open);
            return Ok(Some(Event::BuildStart(meta)));
        }
    }
}

impl<R: BufRead> Iterator for DockerbuildDecoder<R> {
    type Item = EventResult;

    fn next(&mut self) -> Option<EventResult> {
        if self.done {
            return None;
        }
        let item = self.step().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

fn at(offset: u64) -> Position {
    Position { line: None, offset }
}

fn malformed(offset: u64, message: impl Into<String>) -> DecodeError {
    DecodeError::malformed(FORMAT, at(offset), message)
}

// ---- the archive ----

/// A file of the archive, with the offset of its data in the decompressed tar stream.
struct Blob {
    data: Vec<u8>,
    offset: u64,
}

impl Blob {
    fn at(&self, pos: usize) -> u64 {
        self.offset.saturating_add(pos as u64)
    }
}

#[derive(Default)]
struct Archive {
    index: Option<Blob>,
    /// Keyed by digest (`sha256:<hex>`).
    blobs: HashMap<String, Blob>,
}

/// How far the tar reader got in the decompressed stream, and whether that stream ended.
#[derive(Default)]
struct Tally {
    bytes: Cell<u64>,
    eof: Cell<bool>,
}

struct Counted<R> {
    inner: R,
    tally: Rc<Tally>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tally
            .bytes
            .set(self.tally.bytes.get().saturating_add(n as u64));
        if n == 0 && !buf.is_empty() {
            self.tally.eof.set(true);
        }
        Ok(n)
    }
}

fn read_archive<R: BufRead>(mut input: R) -> Result<Archive, DecodeError> {
    let head = input
        .fill_buf()
        .map_err(|source| DecodeError::Io { pos: at(0), source })?;
    if head.is_empty() {
        return Err(DecodeError::Empty);
    }
    if head.iter().zip([0x1f, 0x8b]).any(|(a, b)| *a != b) {
        return Err(malformed(
            0,
            "not a gzip stream (a .dockerbuild export is a gzip'd tar)",
        ));
    }

    let tally = Rc::new(Tally::default());
    let mut tar = tar::Archive::new(Counted {
        inner: GzDecoder::new(input),
        tally: Rc::clone(&tally),
    });
    let fail = |e: io::Error, seen_entry: bool| archive_error(e, &tally, seen_entry);
    let mut archive = Archive::default();
    let mut seen_entry = false;
    let mut last_end = 0u64;
    for entry in tar.entries().map_err(|e| fail(e, false))? {
        let mut entry = entry.map_err(|e| fail(e, seen_entry))?;
        seen_entry = true;
        let offset = entry.raw_file_position();
        let size = entry.size();
        last_end = offset.saturating_add(size.div_ceil(TAR_BLOCK).saturating_mul(TAR_BLOCK));
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(member) = member(&path) else {
            continue;
        };
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| fail(e, true))?;
        if (data.len() as u64) < size {
            return Err(DecodeError::Truncated {
                pos: at(tally.bytes.get()),
                message: format!(
                    "tar entry {path} ends after {} of its {size} bytes",
                    data.len()
                ),
            });
        }
        let blob = Blob { data, offset };
        match member {
            Member::Index => archive.index = Some(blob),
            Member::Blob(digest) => {
                archive.blobs.insert(digest, blob);
            }
        }
    }
    // The tar reader stops at the first zero block; without one, the stream was cut at an entry
    // boundary.
    if seen_entry && tally.bytes.get() <= last_end {
        return Err(DecodeError::Truncated {
            pos: at(tally.bytes.get()),
            message: "tar stream ends without an end-of-archive marker".into(),
        });
    }
    // Read the rest so that a cut or corrupt gzip trailer is noticed.
    io::copy(&mut tar.into_inner(), &mut io::sink()).map_err(|e| fail(e, true))?;
    Ok(archive)
}

/// The archive members the decoder keeps.
enum Member {
    Index,
    /// A blob, by digest.
    Blob(String),
}

fn member(path: &str) -> Option<Member> {
    let path = path.strip_prefix("./").unwrap_or(path);
    if path == "index.json" {
        return Some(Member::Index);
    }
    let (alg, hex) = path.strip_prefix("blobs/")?.split_once('/')?;
    (!alg.is_empty() && !hex.is_empty() && !hex.contains('/'))
        .then(|| Member::Blob(format!("{alg}:{hex}")))
}

fn archive_error(e: io::Error, tally: &Tally, seen_entry: bool) -> DecodeError {
    let pos = at(tally.bytes.get());
    match e.kind() {
        io::ErrorKind::UnexpectedEof => DecodeError::Truncated {
            pos,
            message: format!("gzip stream ends early: {e}"),
        },
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            DecodeError::malformed(FORMAT, pos, format!("corrupt archive stream: {e}"))
        }
        io::ErrorKind::Other if !seen_entry => {
            DecodeError::malformed(FORMAT, pos, format!("not a tar archive: {e}"))
        }
        io::ErrorKind::Other if tally.eof.get() => DecodeError::Truncated {
            pos,
            message: format!("tar stream ends early: {e}"),
        },
        io::ErrorKind::Other => DecodeError::malformed(FORMAT, pos, format!("bad tar entry: {e}")),
        _ => DecodeError::Io { pos, source: e },
    }
}

// ---- OCI index and manifests ----

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", alias = "media_type", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: Option<HashMap<String, String>>,
}

/// An OCI index (`manifests`) or manifest (`config`, `layers`).
#[derive(Deserialize)]
struct OciDocument {
    manifests: Option<Vec<Descriptor>>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// A build record found in the index.
struct RecordRef {
    manifest: String,
    annotation: Option<String>,
    config: String,
    layers: Vec<Descriptor>,
}

fn blob<'a>(
    blobs: &'a HashMap<String, Blob>,
    what: &str,
    digest: &str,
    referrer: &str,
    referrer_at: u64,
) -> Result<&'a Blob, DecodeError> {
    blobs.get(digest).ok_or_else(|| {
        malformed(
            referrer_at,
            format!("{what} {digest} referenced by {referrer} is missing"),
        )
    })
}

fn parse_json<'a, T: Deserialize<'a>>(blob: &'a Blob, what: &str) -> Result<T, DecodeError> {
    serde_json::from_slice(&blob.data).map_err(|e| malformed(blob.at(0), format!("{what}: {e}")))
}

fn list_records(archive: &Archive) -> Result<VecDeque<RecordRef>, DecodeError> {
    let index = archive
        .index
        .as_ref()
        .ok_or_else(|| malformed(0, "index.json is missing (not a buildx history export)"))?;
    let mut records = VecDeque::new();
    let mut seen = HashSet::new();
    walk_index(
        &archive.blobs,
        index,
        "index.json",
        None,
        0,
        &mut seen,
        &mut records,
    )?;
    if records.is_empty() {
        return Err(malformed(
            index.at(0),
            format!("index.json leads to no manifest with a {RECORD_MEDIA_TYPE} config"),
        ));
    }
    Ok(records)
}

/// Walks an index down to its record manifests. Each blob is visited once (`seen` holds the
/// digests reached so far): an export lists each record once, and a blob referenced again (an
/// index listing the same child many times, at every level) would otherwise multiply the walk
/// and the records exponentially with the nesting depth.
fn walk_index(
    blobs: &HashMap<String, Blob>,
    node: &Blob,
    name: &str,
    annotation: Option<String>,
    depth: usize,
    seen: &mut HashSet<String>,
    out: &mut VecDeque<RecordRef>,
) -> Result<(), DecodeError> {
    let doc: OciDocument = parse_json(node, name)?;
    if let Some(manifests) = doc.manifests {
        if depth >= MAX_INDEX_DEPTH {
            return Err(malformed(
                node.at(0),
                format!("{name}: indexes nested deeper than {MAX_INDEX_DEPTH}"),
            ));
        }
        for mut d in manifests {
            let child = blob(blobs, "blob", &d.digest, name, node.at(0))?;
            if !seen.insert(d.digest.clone()) {
                continue;
            }
            let annotation = d
                .annotations
                .as_mut()
                .and_then(|a| a.remove(REFERENCE_ANNOTATION));
            walk_index(blobs, child, &d.digest, annotation, depth + 1, seen, out)?;
        }
    } else if let Some(config) = doc.config.filter(|c| c.media_type == RECORD_MEDIA_TYPE) {
        out.push_back(RecordRef {
            manifest: name.to_owned(),
            annotation,
            config: config.digest,
            layers: doc.layers,
        });
    }
    Ok(())
}

// ---- build records ----

/// The parts of buildkit's `BuildHistoryRecord` JSON that we use.
#[derive(Deserialize)]
struct RecordJson {
    #[serde(rename = "Ref", default)]
    reference: String,
    #[serde(rename = "Frontend", default)]
    frontend: String,
    #[serde(rename = "FrontendAttrs", default)]
    frontend_attrs: Option<HashMap<String, String>>,
    #[serde(rename = "Exporters", default)]
    exporters: Option<Vec<Exporter>>,
    #[serde(default)]
    error: Option<RpcStatus>,
    #[serde(rename = "CreatedAt", default)]
    created_at: Option<RecordTime>,
    #[serde(rename = "CompletedAt", default)]
    completed_at: Option<RecordTime>,
    #[serde(default)]
    logs: Option<Descriptor>,
    #[serde(rename = "numTotalSteps")]
    total_steps: Option<i64>,
    #[serde(rename = "numCachedSteps")]
    cached_steps: Option<i64>,
    #[serde(rename = "numCompletedSteps")]
    completed_steps: Option<i64>,
}

#[derive(Deserialize)]
struct Exporter {
    #[serde(rename = "Type", default)]
    kind: String,
}

/// `google.rpc.Status`.
#[derive(Deserialize)]
struct RpcStatus {
    #[serde(default)]
    code: i32,
    #[serde(default)]
    message: String,
}

/// Go `time.Time` (RFC 3339 text, gogo-era records) or `timestamppb.Timestamp` through
/// `encoding/json` (`{"seconds":…,"nanos":…}`, both omitted when zero).
#[derive(Deserialize)]
#[serde(untagged)]
enum RecordTime {
    Text(String),
    Proto {
        #[serde(default)]
        seconds: i64,
        #[serde(default)]
        nanos: i64,
    },
}

impl RecordTime {
    /// Unix nanoseconds; `None` for the zero time.
    fn nanos(&self) -> Result<Option<Nanos>, String> {
        let ns = match self {
            RecordTime::Text(s) => {
                let t = parse_time(s)?;
                t.seconds
                    .checked_mul(1_000_000_000)
                    .and_then(|s| s.checked_add(t.nanos.into()))
            }
            RecordTime::Proto { seconds, nanos } => seconds
                .checked_mul(1_000_000_000)
                .and_then(|s| s.checked_add(*nanos)),
        };
        Ok(ns.filter(|ns| *ns > 0))
    }
}

/// Parses RFC 3339 text into a protobuf timestamp.
fn parse_time(s: &str) -> Result<Timestamp, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
    let nanos =
        i32::try_from(t.timestamp_subsec_nanos()).map_err(|_| format!("{s:?}: bad fraction"))?;
    Ok(Timestamp {
        seconds: t.timestamp(),
        nanos,
    })
}

/// A record being streamed: the rest of its status frames, then its verdict.
struct OpenRecord {
    frames: Option<Frames>,
    end: Option<BuildVerdict>,
}

// Long on purpose: one record's blobs are looked up, checked and turned into its opening
// events in the order the format nests them; each error names the blob it concerns.
fn open_record(
    blobs: &HashMap<String, Blob>,
    record: &RecordRef,
    queue: &mut VecDeque<Event>,
) -> Result<(BuildMeta, OpenRecord), DecodeError> {
    let manifest = format!("manifest {}", record.manifest);
    let manifest_at = blobs.get(&record.manifest).map_or(0, |b| b.at(0));
    let config = blob(
        blobs,
        "record config",
        &record.config,
        &manifest,
        manifest_at,
    )?;
    let what = format!("record JSON {}", record.config);
    let json: RecordJson = parse_json(config, &what)?;
    let time = |t: &Option<RecordTime>, key: &str| match t {
        Some(t) => t
            .nanos()
            .map_err(|e| malformed(config.at(0), format!("{what}: {key}: {e}"))),
        None => Ok(None),
    };
    let created_at = time(&json.created_at, "CreatedAt")?;
    let completed_at = time(&json.completed_at, "CompletedAt")?;

    // Zero counters are omitted from the JSON: if the record has any, the missing ones are 0.
    let counted =
        json.total_steps.is_some() || json.cached_steps.is_some() || json.completed_steps.is_some();
    let counter = |n: Option<i64>| if counted { Some(n.unwrap_or(0)) } else { None };

    let mut attributes = Vec::new();
    if !json.frontend.is_empty() {
        attributes.push(("frontend".to_owned(), json.frontend.clone()));
    }
    if let Some(attrs) = &json.frontend_attrs {
        for key in FRONTEND_ATTRS {
            if let Some(value) = attrs.get(key).filter(|v| !v.is_empty()) {
                attributes.push((key.to_owned(), value.clone()));
            }
        }
    }
    for exporter in json
        .exporters
        .iter()
        .flatten()
        .filter(|e| !e.kind.is_empty())
    {
        attributes.push(("exporter".to_owned(), exporter.kind.clone()));
    }

    let meta = BuildMeta {
        reference: Some(json.reference.clone())
            .filter(|r| !r.is_empty())
            .or_else(|| record.annotation.clone()),
        builder: None,
        created_at,
        completed_at,
        reported_total_steps: counter(json.total_steps),
        reported_cached_steps: counter(json.cached_steps),
        reported_completed_steps: counter(json.completed_steps),
        attributes,
    };

    let end = match json.error.filter(|e| e.code != 0 || !e.message.is_empty()) {
        Some(e) => {
            let message = if e.message.is_empty() {
                format!("gRPC status code {}", e.code)
            } else {
                e.message
            };
            Some(if e.code == GRPC_CANCELED {
                BuildVerdict {
                    status: VerdictStatus::Canceled,
                    error: Some(message),
                    at: completed_at,
                }
            } else {
                BuildVerdict::failure(message, completed_at)
            })
        }
        None => completed_at.map(|at| BuildVerdict::success(Some(at))),
    };

    // The manifest's layers; the record's own `logs` descriptor only when they have no progress.
    let layer = |media_type: &str| record.layers.iter().find(|d| d.media_type == media_type);
    let progress = layer(STATUS_MEDIA_TYPE)
        .or_else(|| layer(SOLVE_STATUS_MEDIA_TYPE))
        .or(json.logs.as_ref());
    let mut frames = None;
    if let Some(d) = progress {
        if d.media_type == STATUS_MEDIA_TYPE {
            blob(blobs, "status.v0 blob", &d.digest, &manifest, manifest_at)?;
            frames = Some(Frames {
                digest: d.digest.clone(),
                pos: 0,
                index: 0,
            });
        } else if d.media_type == SOLVE_STATUS_MEDIA_TYPE {
            let status = blob(
                blobs,
                "solvestatus.v0 blob",
                &d.digest,
                &manifest,
                manifest_at,
            )?;
            decode_solve_status(status, &d.digest, queue)?;
        }
    }
    Ok((meta, OpenRecord { frames, end }))
}

// ---- status.v0: length-prefixed StatusResponse protobufs ----

/// A cursor over the frames of a status.v0 blob.
struct Frames {
    digest: String,
    pos: usize,
    /// Frames decoded so far.
    index: usize,
}

impl Frames {
    /// Decodes the next frame into `out`; `false` once the blob is exhausted.
    fn decode_next(
        &mut self,
        blobs: &HashMap<String, Blob>,
        out: &mut VecDeque<Event>,
    ) -> Result<bool, DecodeError> {
        let Some(blob) = blobs.get(&self.digest) else {
            return Ok(false);
        };
        let rest = blob.data.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Ok(false);
        }
        self.index += 1;
        let fail = |message: String| {
            malformed(
                blob.at(self.pos),
                format!(
                    "status.v0 blob {} message {} at byte {}: {message}",
                    self.digest, self.index, self.pos
                ),
            )
        };
        let Some((prefix, body)) = rest.split_first_chunk::<4>() else {
            return Err(fail(format!(
                "length prefix cut short ({} bytes left)",
                rest.len()
            )));
        };
        let len = u32::from_le_bytes(*prefix) as usize;
        let Some(message) = body.get(..len) else {
            return Err(fail(format!(
                "length prefix {len} exceeds the {} bytes left",
                body.len()
            )));
        };
        let mut events = Vec::new();
        decode_status_response(message, &mut events)
            .map_err(|e| fail(format!("bad StatusResponse protobuf: {e}")))?;
        out.extend(events);
        self.pos += 4 + len;
        Ok(true)
    }
}

// ---- solvestatus.v0: SolveStatus JSON (older records) ----

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonSolveStatus {
    vertexes: Vec<JsonVertex>,
    statuses: Vec<JsonVertexStatus>,
    logs: Vec<JsonLog>,
    warnings: Vec<JsonWarning>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct JsonVertex {
    digest: String,
    inputs: Vec<String>,
    name: String,
    started: Option<String>,
    completed: Option<String>,
    cached: bool,
    error: String,
    progress_group: Option<JsonProgressGroup>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonProgressGroup {
    id: String,
    name: String,
    weak: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonVertexStatus {
    id: String,
    vertex: String,
    name: String,
    total: i64,
    current: i64,
    timestamp: Option<String>,
    started: Option<String>,
    completed: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonLog {
    vertex: String,
    stream: i64,
    data: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonWarning {
    vertex: String,
    level: i64,
    short: Option<String>,
    detail: Option<Vec<String>>,
    url: String,
}

fn json_time(t: Option<&str>) -> Result<Option<Timestamp>, String> {
    t.map(parse_time).transpose()
}

fn json_bytes(b: Option<&str>) -> Result<Vec<u8>, String> {
    b.map_or(Ok(Vec::new()), |b| {
        BASE64.decode(b).map_err(|e| format!("bad base64: {e}"))
    })
}

impl JsonSolveStatus {
    /// The same message in its protobuf form, so both layers become events the same way.
    fn into_proto(self) -> Result<StatusResponse, String> {
        let vertexes = self
            .vertexes
            .into_iter()
            .map(|v| {
                Ok(Vertex {
                    started: json_time(v.started.as_deref())?,
                    completed: json_time(v.completed.as_deref())?,
                    digest: v.digest,
                    inputs: v.inputs,
                    name: v.name,
                    cached: v.cached,
                    error: v.error,
                    progress_group: v.progress_group.map(|g| ProgressGroup {
                        id: g.id,
                        name: g.name,
                        weak: g.weak,
                    }),
                })
            })
            .collect::<Result<_, String>>()?;
        let statuses = self
            .statuses
            .into_iter()
            .map(|s| {
                Ok(VertexStatus {
                    timestamp: json_time(s.timestamp.as_deref())?,
                    started: json_time(s.started.as_deref())?,
                    completed: json_time(s.completed.as_deref())?,
                    id: s.id,
                    vertex: s.vertex,
                    name: s.name,
                    current: s.current,
                    total: s.total,
                })
            })
            .collect::<Result<_, String>>()?;
        let logs = self
            .logs
            .into_iter()
            .map(|l| {
                Ok(VertexLog {
                    timestamp: json_time(l.timestamp.as_deref())?,
                    msg: json_bytes(l.data.as_deref())?,
                    vertex: l.vertex,
                    stream: l.stream,
                })
            })
            .collect::<Result<_, String>>()?;
        let warnings = self
            .warnings
            .into_iter()
            .map(|w| {
                Ok(VertexWarning {
                    short: json_bytes(w.short.as_deref())?,
                    detail: w
                        .detail
                        .iter()
                        .flatten()
                        .map(|d| json_bytes(Some(d)))
                        .collect::<Result<_, _>>()?,
                    vertex: w.vertex,
                    level: w.level,
                    url: w.url,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(StatusResponse {
            vertexes,
            statuses,
            logs,
            warnings,
        })
    }
}

/// Decodes a solvestatus.v0 blob (one or more SolveStatus JSON objects) into `out`.
fn decode_solve_status(
    blob: &Blob,
    digest: &str,
    out: &mut VecDeque<Event>,
) -> Result<(), DecodeError> {
    let mut stream =
        serde_json::Deserializer::from_slice(&blob.data).into_iter::<JsonSolveStatus>();
    let mut events = Vec::new();
    loop {
        let pos = stream.byte_offset();
        let Some(item) = stream.next() else { break };
        let fail = |message: String| {
            malformed(
                blob.at(pos),
                format!("solvestatus.v0 blob {digest} at byte {pos}: {message}"),
            )
        };
        let status = item.map_err(|e| fail(e.to_string()))?;
        push_events(status.into_proto().map_err(fail)?, &mut events);
    }
    out.extend(events);
    Ok(())
}
