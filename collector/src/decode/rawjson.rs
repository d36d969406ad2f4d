//! `RawJsonDecoder`: `docker buildx build --progress=rawjson` (one `SolveStatus` JSON object per
//! update; compact lines from buildx 0.15, indented multi-line objects in 0.12–0.14).
//!
//! Objects are parsed in place in a read buffer, one after another, whatever their layout:
//! several on a line or one over many lines. Non-JSON lines are buildx's own text;
//! `ERROR: ...` among them is the build's failure verdict.

use std::borrow::Cow;

use std::io::Read;

use base64::Engine as _;
use serde::Deserialize;

use super::lines::{preview, trim_ascii};
use super::object_end::ObjectEnd;
use super::records::{no_progress, Queue, Records};
use super::window::Window;
use super::EventResult;
use crate::error::DecodeError;
use crate::event::{BuildVerdict, Event, LogEvent, StatusEvent, VertexEvent, WarningEvent};
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
///
/// Objects are parsed where they lie in the read buffer (no per-line or per-object copies); for
/// an object the buffer cuts off, a bracket scanner finds its end as more input is read, and
/// it is parsed once more then.
pub struct RawJsonDecoder<R> {
    input: Window<R>,
    out: Emitter,
    /// The last thing decoded was an object and no newline followed it yet.
    after_object: bool,
}

/// Turns parsed objects into events.
#[derive(Default)]
struct Emitter {
    pending: Queue,
    objects: u64,
}

impl<R: Read> RawJsonDecoder<R> {
    pub fn new(reader: R) -> Self {
        RawJsonDecoder {
            input: Window::new(reader),
            out: Emitter::default(),
            after_object: false,
        }
    }

    fn io_error(&self, e: std::io::Error) -> DecodeError {
        DecodeError::Io {
            pos: self.input.position(self.input.bytes().len()),
            source: e,
        }
    }

    /// Parses the object that starts at the first unconsumed byte.
    fn object(&mut self) -> Result<(), DecodeError> {
        // Most objects are whole in the window: parse at once. When that fails, the object may
        // have been cut by a read (even a type error can come from a number cut short), so
        // find where it ends with `ObjectEnd`, which looks at each byte once however the input
        // arrives, and parse again only once the end is in the window; an input that ends
        // first is truncated. Results do not depend on where reads end, and an object is
        // parsed at most twice.
        let mut scan = ObjectEnd::default();
        let mut scanned = 0;
        let mut end = None;
        let mut first = true;
        loop {
            let bytes = self.input.bytes();
            if first || end.is_some() {
                first = false;
                let mut stream =
                    serde_json::Deserializer::from_slice(bytes).into_iter::<SolveStatus>();
                match stream.next() {
                    Some(Ok(ss)) => {
                        let len = stream.byte_offset();
                        if len > MAX_OBJECT_BYTES {
                            return Err(self.too_large());
                        }
                        let emitted = self.out.emit(ss, &bytes[..len]);
                        if let Err(message) = emitted {
                            return Err(DecodeError::malformed(
                                FORMAT,
                                self.input.position(0),
                                message,
                            ));
                        }
                        self.input.consume(len);
                        self.after_object = true;
                        return Ok(());
                    }
                    // The whole object is in the window: the error is the object's.
                    Some(Err(e)) if end.is_some() => {
                        let what = if e.is_data() {
                            "JSON object is not a BuildKit SolveStatus"
                        } else {
                            "invalid JSON object"
                        };
                        return Err(DecodeError::malformed(
                            FORMAT,
                            self.input.position(0),
                            format!("{what}: {e}"),
                        ));
                    }
                    Some(Err(_)) => {}
                    None => unreachable!("the window starts with '{{'"),
                }
            }
            let limit = bytes.len().min(MAX_OBJECT_BYTES);
            if let Some(i) = scan.feed(&bytes[scanned..limit]) {
                end = Some(scanned + i);
                continue;
            }
            scanned = limit;
            if scanned == MAX_OBJECT_BYTES {
                return Err(self.too_large());
            }
            if !self.input.fill().map_err(|e| self.io_error(e))? {
                return Err(DecodeError::Truncated {
                    pos: self.input.position(0),
                    message: "the last JSON object is cut off".into(),
                });
            }
        }
    }

    fn too_large(&self) -> DecodeError {
        DecodeError::malformed(
            FORMAT,
            self.input.position(0),
            format!("JSON object larger than {MAX_OBJECT_BYTES} bytes"),
        )
    }

    /// Handles the text line that starts at the first unconsumed byte: buildx's own output.
    fn text_line(&mut self) -> Result<(), DecodeError> {
        // Bytes already searched for the newline: a long line is searched once, not per read.
        // The search stops at the size limit, so where reads end cannot decide the error.
        let mut searched = 0;
        loop {
            let bytes = self.input.bytes();
            let limit = bytes.len().min(MAX_OBJECT_BYTES + 1);
            let (line, len) = match memchr::memchr(b'\n', &bytes[searched..limit]) {
                Some(i) => (&bytes[..searched + i], searched + i + 1),
                None if self.input.at_eof() && bytes.len() <= MAX_OBJECT_BYTES => {
                    (bytes, bytes.len())
                }
                None => {
                    searched = limit;
                    if bytes.len() > MAX_OBJECT_BYTES {
                        return Err(DecodeError::malformed(
                            FORMAT,
                            self.input.position(0),
                            format!("line longer than {MAX_OBJECT_BYTES} bytes"),
                        ));
                    }
                    self.input.fill().map_err(|e| self.io_error(e))?;
                    continue;
                }
            };
            let text = String::from_utf8_lossy(trim_ascii(line));
            if self.after_object {
                return Err(DecodeError::malformed(
                    FORMAT,
                    self.input.position(0),
                    format!("unexpected text after a JSON object: {:?}", preview(&text)),
                ));
            }
            if let Some(msg) = text.strip_prefix("ERROR: ") {
                self.out
                    .pending
                    .push_back(Event::BuildEnd(BuildVerdict::failure(msg.trim(), None)));
            } else if self.out.objects == 0 && !looks_like_buildx_text(&text) {
                return Err(DecodeError::malformed(
                    FORMAT,
                    self.input.position(0),
                    format!("expected a JSON object, found {:?}", preview(&text)),
                ));
            }
            self.input.consume(len);
            return Ok(());
        }
    }
}

impl Emitter {
    /// Queues the events of one parsed object; `Err` holds what is wrong with it.
    fn emit(&mut self, ss: SolveStatus<'_>, raw: &[u8]) -> Result<(), String> {
        if ss.vertexes.is_empty()
            && ss.statuses.is_empty()
            && ss.logs.is_empty()
            && ss.warnings.is_empty()
        {
            let inner = trim_ascii(&raw[1..raw.len().saturating_sub(1)]);
            if !inner.is_empty() {
                return Err("JSON object has none of vertexes/statuses/logs/warnings: not a BuildKit SolveStatus".into());
            }
        }
        self.objects += 1;
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
                    .map_err(|e| format!("log data is not base64: {e}"))?,
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

impl<R: Read> Records for RawJsonDecoder<R> {
    fn queue(&mut self) -> &mut Queue {
        &mut self.out.pending
    }

    /// Decodes the next object or text line into pending events. `Ok(false)` at end of input.
    fn next_record(&mut self) -> Result<bool, DecodeError> {
        loop {
            let bytes = self.input.bytes();
            let mut skip = 0;
            while skip < bytes.len() && bytes[skip].is_ascii_whitespace() {
                if bytes[skip] == b'\n' {
                    self.after_object = false;
                }
                skip += 1;
            }
            let next = bytes.get(skip).copied();
            self.input.consume(skip);
            match next {
                Some(b'{') => return self.object().map(|()| true),
                Some(_) => return self.text_line().map(|()| true),
                None => {
                    if !self.input.fill().map_err(|e| self.io_error(e))? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    fn end(&mut self) -> Result<(), DecodeError> {
        if self.out.objects > 0 {
            return Ok(());
        }
        Err(no_progress(
            FORMAT,
            self.input.position(0),
            "JSON progress object",
        ))
    }
}

impl<R: Read> Iterator for RawJsonDecoder<R> {
    type Item = EventResult;

    fn next(&mut self) -> Option<EventResult> {
        self.next_event()
    }
}

/// Text buildx prints around rawjson output that is not an error.
fn looks_like_buildx_text(text: &str) -> bool {
    text.starts_with("WARNING")
        || text.starts_with("View build details")
        || text.starts_with("#0 building with")
        || text.starts_with("ERROR")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::window::tests::Trickle;

    fn decode(input: &str) -> Vec<EventResult> {
        RawJsonDecoder::new(input.as_bytes()).collect()
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

    fn events(input: &[u8], chunk: usize) -> Vec<String> {
        RawJsonDecoder::new(Trickle { data: input, chunk })
            .map(|r| format!("{r:?}"))
            .collect()
    }

    #[test]
    fn small_reads_give_the_same_events_as_one_read() {
        let trace = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../sample-traces/app1-series/001-max-src-iter1.rawjson"
        ))
        .unwrap();
        let whole = events(&trace, usize::MAX);
        assert!(whole.len() > 100, "{}", whole.len());
        assert!(whole.iter().all(|e| e.starts_with("Ok(")));
        for chunk in [1, 7, 4096] {
            assert_eq!(events(&trace, chunk), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn an_object_bigger_than_the_read_buffer_is_decoded() {
        let data = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 3 << 20]);
        let input = format!(
            "{{\"vertexes\":[{{\"digest\":\"d\"}}]}}\n{{\"logs\":[{{\"vertex\":\"d\",\"data\":\"{data}\"}}]}}\n"
        );
        for chunk in [usize::MAX, 65536] {
            let ev: Vec<Event> = RawJsonDecoder::new(Trickle {
                data: input.as_bytes(),
                chunk,
            })
            .map(Result::unwrap)
            .collect();
            match &ev[..] {
                [Event::Vertex(_), Event::Log(l)] => assert_eq!(l.data.len(), 3 << 20),
                other => panic!("{}", other.len()),
            }
        }
    }

    #[test]
    fn errors_name_the_line_and_byte_of_the_object() {
        let input = "{\n  \"vertexes\": [{\"digest\": \"d\"}]\n}\n\n{\n  \"vertexes\": [{\"digest\": 5}]\n}\n";
        for chunk in [usize::MAX, 3] {
            let ev = RawJsonDecoder::new(Trickle {
                data: input.as_bytes(),
                chunk,
            })
            .collect::<Vec<_>>();
            match ev.last().unwrap() {
                Err(DecodeError::Malformed { pos, message, .. }) => {
                    assert_eq!((pos.line, pos.offset), (Some(5), 37), "{message}");
                    assert!(message.contains("not a BuildKit SolveStatus"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn text_on_the_line_of_an_object_is_an_error() {
        let ev = decode("{\"vertexes\":[{\"digest\":\"d\"}]} trailing\n");
        match ev.last().unwrap() {
            Err(DecodeError::Malformed { message, .. }) => {
                assert!(message.contains("unexpected text"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        // Two objects on one line are fine.
        let ev = decode("{\"vertexes\":[{\"digest\":\"d\"}]}{\"vertexes\":[{\"digest\":\"e\"}]}\n");
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, Ok(Event::Vertex(_))))
                .count(),
            2
        );
    }

    #[test]
    fn errors_do_not_depend_on_where_reads_end() {
        // A read ending inside `88888` leaves a shorter number, still the wrong type.
        for input in [
            "{\"vertexes\":[{\"digest\":\"d\"}]}\n{\"vertexes\":[88888]}\n",
            "{\"statuses\":[{\"id\":\"s\",\"current\":1e999999}]}\n",
            "{\"vertexes\":[{\"digest\":\"d\",\"cached\":12.5}]}\n",
        ] {
            let whole = events(input.as_bytes(), usize::MAX);
            assert!(
                whole.last().unwrap().starts_with("Err(Malformed"),
                "{whole:?}"
            );
            for chunk in 1..24 {
                assert_eq!(events(input.as_bytes(), chunk), whole, "chunk {chunk}");
            }
        }
    }

    #[test]
    fn long_text_lines_arriving_in_pieces() {
        let input = format!(
            "WARNING: {}\n{{\"vertexes\":[{{\"digest\":\"d\"}}]}}\nERROR: {}\n",
            "w".repeat(5000),
            "e".repeat(3000)
        );
        let whole = events(input.as_bytes(), usize::MAX);
        assert_eq!(whole.len(), 2, "{whole:?}");
        assert!(whole[1].contains("BuildEnd"), "{}", whole[1]);
        for chunk in [1, 7, 4096] {
            assert_eq!(events(input.as_bytes(), chunk), whole, "chunk {chunk}");
        }
    }

    /// Hands out `chunk` bytes per read, then fails, as a pipe whose writer died.
    struct ThenFail<'a>(Trickle<'a>);

    impl Read for ThenFail<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(out)? {
                0 => Err(std::io::Error::other("broken pipe")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_big_object_is_decoded_as_soon_as_it_is_whole() {
        let data = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 1_500_000]);
        let input = format!(
            "{{\"vertexes\":[{{\"digest\":\"d\"}}],\"logs\":[{{\"vertex\":\"d\",\"data\":\"{data}\"}}]}}\n"
        );
        let items: Vec<String> = RawJsonDecoder::new(ThenFail(Trickle {
            data: input.as_bytes(),
            chunk: 65536,
        }))
        .map(|r| format!("{r:?}"))
        .map(|s| s.chars().take(40).collect())
        .collect();
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[0].starts_with("Ok(Vertex"), "{items:?}");
        assert!(items[1].starts_with("Ok(Log"), "{items:?}");
        assert!(items[2].starts_with("Err(Io"), "{items:?}");
    }

    #[test]
    fn an_object_cut_inside_a_number_is_truncated() {
        for input in [
            "{\"x\":-",
            "{\"x\":1.",
            "{\"x\":1e",
            "{\"statuses\":[{\"id\":\"s\",\"current\":12",
        ] {
            for chunk in [usize::MAX, 1, 3] {
                let items = events(input.as_bytes(), chunk);
                assert_eq!(items.len(), 1, "{input} {items:?}");
                assert!(items[0].starts_with("Err(Truncated"), "{input} {items:?}");
            }
        }
    }
}
