//! `RawJsonDecoder`: `docker buildx build --progress=rawjson` (one `SolveStatus` JSON object per
//! update; compact lines from buildx 0.15, indented multi-line objects in 0.12–0.14).
//!
//! Framing does not assume one object per line: a line that does not hold a whole object is
//! joined with the following ones until the top-level object closes. Non-JSON lines are
//! buildx's own text; `ERROR: ...` among them is the build's failure verdict.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::BufRead;

use base64::Engine as _;
use serde::Deserialize;

use super::EventResult;
use crate::error::{DecodeError, Position};
use crate::event::{Event, LogEvent, StatusEvent, Verdict, VertexEvent, WarningEvent};
use crate::time::parse_rfc3339;

const FORMAT: &str = "rawjson";
/// The largest single JSON object accepted (BuildKit splits messages above ~1 MiB of logs).
pub const MAX_OBJECT_BYTES: usize = 256 << 20;

#[derive(Deserialize)]
struct SolveStatus<'a> {
    #[serde(default, borrow)]
    vertexes: Vec<JVertex<'a>>,
    #[serde(default, borrow)]
    statuses: Vec<JStatus<'a>>,
    #[serde(default, borrow)]
    logs: Vec<JLog<'a>>,
    #[serde(default, borrow)]
    warnings: Vec<JWarning<'a>>,
}

#[derive(Deserialize)]
struct JVertex<'a> {
    #[serde(borrow)]
    digest: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "texts")]
    inputs: Vec<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    started: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    completed: Option<Cow<'a, str>>,
    #[serde(default)]
    cached: bool,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    error: Option<Cow<'a, str>>,
    #[serde(default, rename = "progressGroup", borrow)]
    progress_group: Option<JGroup<'a>>,
}

#[derive(Deserialize)]
struct JGroup<'a> {
    #[serde(default, borrow, deserialize_with = "opt_text")]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct JStatus<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    vertex: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    total: i64,
    #[serde(default)]
    current: i64,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    started: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    completed: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct JLog<'a> {
    #[serde(default, borrow, deserialize_with = "opt_text")]
    vertex: Option<Cow<'a, str>>,
    #[serde(default)]
    stream: i64,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    data: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    timestamp: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct JWarning<'a> {
    #[serde(default, borrow, deserialize_with = "opt_text")]
    vertex: Option<Cow<'a, str>>,
    #[serde(default)]
    level: i64,
    #[serde(default, borrow, deserialize_with = "opt_text")]
    short: Option<Cow<'a, str>>,
}

/// A JSON string, borrowed from the input unless it holds escapes. (serde's own impls for
/// `Option<Cow<str>>` and `Vec<Cow<str>>` always copy; only a bare `Cow<str>` field borrows.)
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(Visit).map(Text)
    }
}

fn opt_text<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| t.0))
}

fn texts<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Cow<'a, str>>, D::Error> {
    Ok(Vec::<Text<'a>>::deserialize(d)?
        .into_iter()
        .map(|t| t.0)
        .collect())
}

/// Streaming decoder for rawjson progress.
pub struct RawJsonDecoder<R> {
    reader: R,
    line: Vec<u8>,
    object: Vec<u8>,
    scan: Scan,
    object_pos: Position,
    pending: VecDeque<Event>,
    line_no: u64,
    offset: u64,
    objects: u64,
    done: bool,
}

/// Incremental JSON structure scanner: tracks nesting depth outside strings.
#[derive(Default, Clone, Copy)]
struct Scan {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Scan {
    /// Feeds bytes; returns the index just past the byte that closed the top-level value.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                // Most bytes of a log-heavy trace are inside strings (base64 log data): jump to
                // the next quote or backslash instead of looking at each byte.
                let j = i + memchr::memchr2(b'"', b'\\', &bytes[i..])?;
                if bytes[j] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                }
                i = j + 1;
                continue;
            }
            let b = bytes[i];
            i += 1;
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

impl<R: BufRead> RawJsonDecoder<R> {
    pub fn new(reader: R) -> Self {
        RawJsonDecoder {
            reader,
            line: Vec::with_capacity(4096),
            object: Vec::new(),
            scan: Scan::default(),
            object_pos: Position::default(),
            pending: VecDeque::new(),
            line_no: 0,
            offset: 0,
            objects: 0,
            done: false,
        }
    }

    fn pos(&self) -> Position {
        Position {
            line: Some(self.line_no),
            offset: self.offset,
        }
    }

    /// Reads the next line and turns it into pending events. `Ok(false)` at end of input.
    fn step(&mut self) -> Result<bool, DecodeError> {
        self.line.clear();
        let line_start = self.offset;
        let n =
            read_line_capped(&mut self.reader, &mut self.line, MAX_OBJECT_BYTES).map_err(|e| {
                DecodeError::Io {
                    pos: self.pos(),
                    source: e,
                }
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        self.offset += n as u64;
        let line = std::mem::take(&mut self.line);
        let result = self.handle_line(&line, line_start);
        self.line = line;
        result.map(|_| true)
    }

    fn handle_line(&mut self, line: &[u8], line_start: u64) -> Result<(), DecodeError> {
        if !self.object.is_empty() {
            return self.continue_object(line);
        }
        let trimmed = trim_ascii(line);
        if trimmed.is_empty() {
            return Ok(());
        }
        if trimmed[0] == b'{' {
            // Fast path: a whole object on this line.
            self.object_pos = Position {
                line: Some(self.line_no),
                offset: line_start,
            };
            match serde_json::from_slice::<SolveStatus>(trimmed) {
                Ok(ss) => return self.emit(ss, trimmed),
                Err(e) if e.is_eof() => {}
                Err(e) if e.is_data() => {
                    return Err(DecodeError::malformed(
                        FORMAT,
                        self.object_pos,
                        format!("JSON object is not a BuildKit SolveStatus: {e}"),
                    ))
                }
                Err(_) => {}
            }
            // Multi-line (indented) or several objects on one line: scan for boundaries.
            self.scan = Scan::default();
            return self.continue_object(line);
        }
        let text = String::from_utf8_lossy(trimmed);
        if let Some(msg) = text.strip_prefix("ERROR: ") {
            self.pending
                .push_back(Event::BuildEnd(Verdict::failure(msg.trim(), None)));
            return Ok(());
        }
        if self.objects == 0 && !looks_like_buildx_text(&text) {
            return Err(DecodeError::malformed(
                FORMAT,
                self.pos(),
                format!("expected a JSON object, found {:?}", preview(&text)),
            ));
        }
        Ok(())
    }

    fn continue_object(&mut self, line: &[u8]) -> Result<(), DecodeError> {
        let mut rest = line;
        loop {
            if self.object.is_empty() {
                let t = trim_ascii_start(rest);
                if t.is_empty() {
                    return Ok(());
                }
                if t[0] != b'{' {
                    return Err(DecodeError::malformed(
                        FORMAT,
                        self.pos(),
                        format!(
                            "unexpected text after a JSON object: {:?}",
                            preview(&String::from_utf8_lossy(t))
                        ),
                    ));
                }
                rest = t;
                self.scan = Scan::default();
            }
            match self.scan.feed(rest) {
                Some(end) => {
                    self.object.extend_from_slice(&rest[..end]);
                    let object = std::mem::take(&mut self.object);
                    let parsed = serde_json::from_slice::<SolveStatus>(&object).map_err(|e| {
                        DecodeError::malformed(
                            FORMAT,
                            self.object_pos,
                            format!("invalid JSON object: {e}"),
                        )
                    })?;
                    self.emit(parsed, &object)?;
                    self.object = object;
                    self.object.clear();
                    rest = &rest[end..];
                }
                None => {
                    if self.object.len() + rest.len() > MAX_OBJECT_BYTES {
                        return Err(DecodeError::malformed(
                            FORMAT,
                            self.object_pos,
                            format!("JSON object larger than {MAX_OBJECT_BYTES} bytes"),
                        ));
                    }
                    self.object.extend_from_slice(rest);
                    return Ok(());
                }
            }
        }
    }

    fn emit(&mut self, ss: SolveStatus<'_>, raw: &[u8]) -> Result<(), DecodeError> {
        if ss.vertexes.is_empty()
            && ss.statuses.is_empty()
            && ss.logs.is_empty()
            && ss.warnings.is_empty()
        {
            let inner = trim_ascii(&raw[1..raw.len().saturating_sub(1)]);
            if !inner.is_empty() {
                return Err(DecodeError::malformed(
                    FORMAT,
                    self.object_pos,
                    "JSON object has none of vertexes/statuses/logs/warnings: not a BuildKit SolveStatus",
                ));
            }
        }
        self.objects += 1;
        let pos = self.object_pos;
        let time = |s: &Option<Cow<'_, str>>| s.as_deref().and_then(parse_rfc3339);
        for v in ss.vertexes {
            self.pending.push_back(Event::Vertex(VertexEvent {
                digest: v.digest.into_owned(),
                name: v.name.map(Cow::into_owned),
                inputs: v.inputs.into_iter().map(Cow::into_owned).collect(),
                started: time(&v.started),
                completed: time(&v.completed),
                cached: v.cached,
                error: v.error.filter(|e| !e.is_empty()).map(Cow::into_owned),
                progress_group: v.progress_group.and_then(|g| g.name).map(Cow::into_owned),
                reported_duration_ns: None,
                canceled: false,
                running: false,
            }));
        }
        for s in ss.statuses {
            self.pending.push_back(Event::Status(StatusEvent {
                vertex: s.vertex.map(Cow::into_owned).unwrap_or_default(),
                id: s.id.into_owned(),
                name: s.name.filter(|n| !n.is_empty()).map(Cow::into_owned),
                current: s.current,
                total: s.total,
                timestamp: time(&s.timestamp),
                started: time(&s.started),
                completed: time(&s.completed),
                reported_duration_ns: None,
            }));
        }
        for l in ss.logs {
            let data = match l.data.as_deref() {
                Some(b64) => base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| {
                        DecodeError::malformed(FORMAT, pos, format!("log data is not base64: {e}"))
                    })?,
                None => Vec::new(),
            };
            self.pending.push_back(Event::Log(LogEvent {
                vertex: l.vertex.map(Cow::into_owned).unwrap_or_default(),
                stream: l.stream,
                data,
                timestamp: time(&l.timestamp),
            }));
        }
        for w in ss.warnings {
            let short = w
                .short
                .as_deref()
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b.as_bytes())
                        .ok()
                })
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            self.pending.push_back(Event::Warning(WarningEvent {
                vertex: w.vertex.map(Cow::into_owned),
                level: w.level,
                short,
            }));
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for RawJsonDecoder<R> {
    type Item = EventResult;

    fn next(&mut self) -> Option<EventResult> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some(Ok(ev));
            }
            if self.done {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    if !self.object.is_empty() {
                        return Some(Err(DecodeError::Truncated {
                            pos: self.object_pos,
                            message: "the last JSON object is cut off".into(),
                        }));
                    }
                    if self.objects == 0 {
                        return Some(Err(if self.offset == 0 {
                            DecodeError::Empty
                        } else {
                            DecodeError::malformed(
                                FORMAT,
                                self.pos(),
                                "no JSON progress object found",
                            )
                        }));
                    }
                }
                Err(e) => {
                    self.done = true;
                    self.pending.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Text buildx prints around rawjson output that is not an error.
fn looks_like_buildx_text(text: &str) -> bool {
    text.starts_with("WARNING")
        || text.starts_with("View build details")
        || text.starts_with("#0 building with")
        || text.starts_with("ERROR")
}

pub(crate) fn preview(text: &str) -> String {
    text.chars().take(60).collect()
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    trim_ascii_end(trim_ascii_start(b))
}

pub(crate) fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn trim_ascii_end(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    &b[..b.len() - n]
}

/// `read_until(b'\n')` that refuses lines longer than `cap` instead of growing without bound.
pub(crate) fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let (done, used) = {
            let available = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match memchr::memchr(b'\n', available) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
        if buf.len() > cap {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line longer than {cap} bytes"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &str) -> Vec<EventResult> {
        RawJsonDecoder::new(input.as_bytes()).collect()
    }

    /// The scanner one byte at a time: what `Scan::feed` must agree with.
    fn feed_bytewise(scan: &mut Scan, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            if scan.in_string {
                if scan.escaped {
                    scan.escaped = false;
                } else if b == b'\\' {
                    scan.escaped = true;
                } else if b == b'"' {
                    scan.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => scan.in_string = true,
                b'{' | b'[' => scan.depth += 1,
                b'}' | b']' => {
                    scan.depth = scan.depth.saturating_sub(1);
                    if scan.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn scan_skips_strings_like_the_bytewise_scan(
            chunks in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"{}[]\\\"a :,".to_vec()), 0..40),
                1..6,
            ),
        ) {
            // Fed in pieces, as lines arrive, with the state carried between them.
            let (mut fast, mut slow) = (Scan::default(), Scan::default());
            for chunk in &chunks {
                let mut rest: &[u8] = chunk;
                loop {
                    let (a, b) = (fast.feed(rest), feed_bytewise(&mut slow, rest));
                    proptest::prop_assert_eq!(a, b);
                    proptest::prop_assert_eq!(
                        (fast.depth, fast.in_string, fast.escaped),
                        (slow.depth, slow.in_string, slow.escaped)
                    );
                    match a {
                        Some(end) => {
                            rest = &rest[end..];
                            fast = Scan::default();
                            slow = Scan::default();
                        }
                        None => break,
                    }
                }
            }
        }
    }

    #[test]
    fn compact_and_indented_objects_give_the_same_events() {
        let compact = r#"{"vertexes":[{"digest":"sha256:a","name":"[a 1/1] RUN x \u0026\u0026 y","started":"2024-01-01T00:00:00.5Z"}]}
{"logs":[{"vertex":"sha256:a","stream":1,"data":"aGkK","timestamp":"2024-01-01T00:00:01Z"}]}
"#;
        let indented = "{\n  \"vertexes\": [\n    {\n      \"digest\": \"sha256:a\",\n      \"name\": \"[a 1/1] RUN x \\u0026\\u0026 y\",\n      \"started\": \"2024-01-01T00:00:00.5Z\"\n    }\n  ]\n}\n{\n  \"logs\": [\n    {\n      \"vertex\": \"sha256:a\",\n      \"stream\": 1,\n      \"data\": \"aGkK\",\n      \"timestamp\": \"2024-01-01T00:00:01Z\"\n    }\n  ]\n}\n";
        let a: Vec<Event> = decode(compact).into_iter().map(Result::unwrap).collect();
        let b: Vec<Event> = decode(indented).into_iter().map(Result::unwrap).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        match &a[0] {
            Event::Vertex(v) => assert_eq!(v.name.as_deref(), Some("[a 1/1] RUN x && y")),
            other => panic!("{other:?}"),
        }
        match &a[1] {
            Event::Log(l) => assert_eq!(l.data, b"hi\n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trailing_error_line_is_a_failure_verdict() {
        let ev = decode("{\"vertexes\":[{\"digest\":\"d\"}]}\nERROR: failed to solve: boom\n");
        match ev.last().unwrap() {
            Ok(Event::BuildEnd(v)) => assert_eq!(v.error.as_deref(), Some("failed to solve: boom")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_object_is_reported_as_truncated() {
        let ev = decode("{\"vertexes\":[{\"digest\":\"d\"}]}\n{\n  \"vertexes\": [\n");
        assert!(matches!(
            ev.last(),
            Some(Err(DecodeError::Truncated { .. }))
        ));
        assert!(matches!(ev[0], Ok(Event::Vertex(_))));
    }

    #[test]
    fn wrong_shape_is_an_error_with_position() {
        let ev = decode("{\"vertexes\":[{\"digest\":\"d\"}]}\n{\"hello\":1}\n");
        match ev.last().unwrap() {
            Err(DecodeError::Malformed { pos, .. }) => assert_eq!(pos.line, Some(2)),
            other => panic!("{other:?}"),
        }
        let ev = decode("{\"vertexes\":\"nope\"}\n");
        assert!(matches!(
            ev.last(),
            Some(Err(DecodeError::Malformed { .. }))
        ));
    }

    #[test]
    fn empty_and_non_json_input() {
        assert!(matches!(decode("").last(), Some(Err(DecodeError::Empty))));
        assert!(matches!(
            decode("hello world\n").last(),
            Some(Err(DecodeError::Malformed { .. }))
        ));
    }

    #[test]
    fn braces_inside_strings_do_not_confuse_framing() {
        let input =
            "{\n \"vertexes\": [{\"digest\": \"d\", \"name\": \"RUN echo '}{' \\\"}\\\"\"}]\n}\n";
        let ev: Vec<Event> = decode(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(ev.len(), 1);
    }
}
