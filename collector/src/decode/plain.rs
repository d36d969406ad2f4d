//! `PlainDecoder`: `--progress=plain` output (BuildKit ≥ 0.9, and the 0.8 variant with a
//! `#N sha256:<digest>` line under each header), optionally behind CI line prefixes.
//!
//! The printer's grammar: `#N <name>` headers (reprinted when a vertex resumes after another
//! took over), then `#N <elapsed> <log>`, `#N <status>[ <cur>[ / <total>]][ <secs>s][ done]`,
//! `#N CACHED`, `#N DONE <secs>s`, `#N ERROR: <err>`, `#N CANCELED`, `#N ...`. A failure adds a
//! `------` / ` > [step]:` trailer and an `ERROR: failed to solve: ...` line (the 20.10 CLI
//! prints the bare error text instead). Times come from CI timestamps when present.

use std::collections::HashMap;
use std::io::BufRead;

use super::ci_prefix::clean_line;
use super::lines::read_line_capped;
use super::records::{no_progress, Queue, Records};
use super::EventResult;
use crate::error::{DecodeError, Position};
use crate::event::{
    BuildMeta, BuildVerdict, Event, LogEvent, Nanos, StatusEvent, VertexEvent, WarningEvent,
};

const FORMAT: &str = "plain";
const MAX_LINE_BYTES: usize = 64 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Done,
}

struct PlainVertex {
    key: String,
    state: State,
    /// The last printed `DONE` total (the sum of the intervals so far).
    done_total: i64,
    /// The largest log elapsed time in the current interval: a lower bound on its length.
    elapsed: Option<i64>,
    interval_start: Option<Nanos>,
    last_ts: Option<Nanos>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trailer {
    None,
    Open,
    Closed,
}

/// Streaming decoder for plain progress logs.
pub struct PlainDecoder<R> {
    reader: R,
    raw: Vec<u8>,
    pending: Queue,
    vertices: HashMap<u32, PlainVertex>,
    /// A new vertex's header, held until the next line says whether a digest line follows.
    held_header: Option<(u32, String, Option<Nanos>)>,
    current: Option<u32>,
    prev_blank: bool,
    trailer: Trailer,
    /// The vertices the failure trailer names (` > [step]:`), in order.
    failed_names: Vec<String>,
    bare_error: Option<String>,
    verdict_seen: bool,
    in_warnings: bool,
    line_no: u64,
    offset: u64,
    vertex_lines: u64,
}

impl<R: BufRead> PlainDecoder<R> {
    pub fn new(reader: R) -> Self {
        PlainDecoder {
            reader,
            raw: Vec::with_capacity(1024),
            pending: Queue::default(),
            vertices: HashMap::new(),
            held_header: None,
            current: None,
            prev_blank: true,
            trailer: Trailer::None,
            failed_names: Vec::new(),
            bare_error: None,
            verdict_seen: false,
            in_warnings: false,
            line_no: 0,
            offset: 0,
            vertex_lines: 0,
        }
    }

    fn key(&self, n: u32) -> String {
        self.vertices
            .get(&n)
            .map(|v| v.key.clone())
            .unwrap_or_else(|| format!("#{n}"))
    }

    /// Emits a held header, keyed by `digest` when the 0.8 digest line followed it.
    fn release_header(&mut self, digest: Option<&str>) {
        let Some((n, name, ts)) = self.held_header.take() else {
            return;
        };
        let key = digest.map_or_else(|| format!("#{n}"), str::to_string);
        self.vertices.insert(
            n,
            PlainVertex {
                key: key.clone(),
                state: State::Running,
                done_total: 0,
                elapsed: None,
                interval_start: ts,
                last_ts: ts,
            },
        );
        self.pending.push_back(Event::Vertex(VertexEvent {
            digest: key,
            name: Some(name),
            started: ts,
            running: true,
            ..VertexEvent::default()
        }));
    }

    fn line(&mut self, text: &str, ts: Option<Nanos>) {
        if text.trim().is_empty() {
            self.release_header(None);
            self.prev_blank = true;
            return;
        }
        if let Some((n, rest)) = split_vertex_line(text) {
            self.vertex_line(n, rest, ts);
            self.prev_blank = false;
            return;
        }
        self.release_header(None);
        self.prev_blank = false;
        self.other_line(text, ts);
    }

    fn vertex_line(&mut self, n: u32, rest: &str, ts: Option<Nanos>) {
        self.vertex_lines += 1;
        if let Some((held, _, _)) = &self.held_header {
            if *held == n && is_digest(rest) {
                self.release_header(Some(rest));
                return;
            }
            self.release_header(None);
        }
        if n == 0 {
            if let Some(desc) = rest.strip_prefix("building with ") {
                self.pending.push_back(Event::BuildStart(BuildMeta {
                    builder: Some(desc.replace('"', "")),
                    ..BuildMeta::default()
                }));
            }
            return;
        }
        let is_header =
            self.prev_blank || self.current != Some(n) || !self.vertices.contains_key(&n);
        self.current = Some(n);
        if is_header {
            match self.vertices.get_mut(&n) {
                None => {
                    self.held_header = Some((n, rest.to_string(), ts));
                }
                Some(v) if v.state == State::Done => {
                    // Resumed after it finished once: a new interval.
                    let start = match (ts, v.last_ts) {
                        (Some(t), Some(last)) if t <= last => Some(last.saturating_add(1)),
                        (t, _) => t,
                    };
                    v.state = State::Running;
                    v.elapsed = None;
                    v.interval_start = start;
                    v.last_ts = start.or(v.last_ts);
                    let key = v.key.clone();
                    self.pending.push_back(Event::Vertex(VertexEvent {
                        digest: key,
                        started: start,
                        running: true,
                        ..VertexEvent::default()
                    }));
                }
                Some(_) => {} // resumed while running: nothing new
            }
            return;
        }
        self.vertex_content(n, rest, ts);
    }

    // Long on purpose: one match over the kinds of line a vertex block holds (verdicts, layer
    // lines, status lines, output), all updating the same held-header state in print order.
    fn vertex_content(&mut self, n: u32, rest: &str, ts: Option<Nanos>) {
        let key = self.key(n);
        let v = self.vertices.get_mut(&n);
        let (interval_start, v) = match v {
            Some(v) => {
                if ts.is_some() {
                    v.last_ts = ts;
                }
                (v.interval_start, Some(v))
            }
            None => (ts, None),
        };
        // Failed and canceled vertices print no DONE: their time so far is the last DONE total
        // plus the latest log elapsed time of the running interval.
        let so_far = v.as_ref().and_then(|v| {
            (v.elapsed.is_some() || v.done_total > 0)
                .then(|| v.done_total.saturating_add(v.elapsed.unwrap_or(0)))
        });
        let finish = |v: Option<&mut PlainVertex>| {
            if let Some(v) = v {
                v.state = State::Done;
            }
        };
        if rest == "CACHED" {
            finish(v);
            self.pending.push_back(Event::Vertex(VertexEvent {
                digest: key,
                started: ts,
                completed: ts,
                cached: true,
                ..VertexEvent::default()
            }));
        } else if let Some(secs) = rest.strip_prefix("DONE ").and_then(parse_secs) {
            if let Some(v) = v {
                v.done_total = secs;
                v.elapsed = None;
                v.state = State::Done;
            }
            self.pending.push_back(Event::Vertex(VertexEvent {
                digest: key,
                started: interval_start,
                completed: ts,
                reported_duration_ns: Some(secs),
                ..VertexEvent::default()
            }));
        } else if let Some(err) = rest
            .strip_prefix("ERROR: ")
            .or_else(|| rest.strip_prefix("ERROR "))
        {
            finish(v);
            self.pending.push_back(Event::Vertex(VertexEvent {
                digest: key,
                started: interval_start,
                completed: ts,
                error: Some(err.to_string()),
                reported_duration_ns: so_far,
                ..VertexEvent::default()
            }));
        } else if rest == "CANCELED" {
            finish(v);
            self.pending.push_back(Event::Vertex(VertexEvent {
                digest: key,
                started: interval_start,
                completed: ts,
                canceled: true,
                error: Some("context canceled".into()),
                reported_duration_ns: so_far,
                ..VertexEvent::default()
            }));
        } else if is_digest(rest) {
            // Docker 20.10 repeats the digest line under every reprinted header.
        } else if rest == "..." {
            // another vertex takes over
        } else if let Some(short) = rest.strip_prefix("WARN: ") {
            self.pending.push_back(Event::Warning(WarningEvent {
                vertex: Some(key),
                level: 1,
                short: short.to_string(),
            }));
        } else if let Some((elapsed, log)) = log_line(rest) {
            if let Some(v) = v {
                v.elapsed = Some(v.elapsed.map_or(elapsed, |e| e.max(elapsed)));
            }
            let mut data = Vec::with_capacity(log.len() + 1);
            data.extend_from_slice(log.as_bytes());
            data.push(b'\n');
            self.pending.push_back(Event::Log(LogEvent {
                vertex: key,
                stream: 1,
                data,
                timestamp: ts,
            }));
        } else {
            let st = parse_status(rest);
            self.pending.push_back(Event::Status(StatusEvent {
                vertex: key,
                id: st.id,
                current: st.current,
                total: st.total,
                timestamp: ts,
                completed: if st.done { ts } else { None },
                reported_duration_ns: st.secs,
                ..StatusEvent::default()
            }));
        }
    }

    fn other_line(&mut self, text: &str, ts: Option<Nanos>) {
        let t = text.trim_end();
        if t == "------" {
            self.trailer = match self.trailer {
                Trailer::Open => Trailer::Closed,
                _ => Trailer::Open,
            };
            return;
        }
        if let Some(msg) = t.strip_prefix("ERROR: ") {
            self.verdict_seen = true;
            self.pending
                .push_back(Event::BuildEnd(BuildVerdict::failure(msg.trim(), ts)));
            return;
        }
        match self.trailer {
            Trailer::Open => {
                if let Some(name) = t.strip_prefix(" > ") {
                    self.failed_names
                        .push(name.trim_end_matches(':').to_string());
                }
                return;
            }
            Trailer::Closed => {
                let is_source_block = t.starts_with("Dockerfile:")
                    || t.starts_with("----")
                    || t.starts_with(' ')
                    || t.chars().next().is_some_and(|c| c.is_ascii_digit());
                if self.bare_error.is_none() && !is_source_block {
                    self.bare_error = Some(t.to_string());
                }
                return;
            }
            Trailer::None => {}
        }
        if t.contains("warning found") || t.contains("warnings found") {
            self.in_warnings = true;
            return;
        }
        if self.in_warnings {
            if let Some(short) = t.strip_prefix(" - ") {
                self.pending.push_back(Event::Warning(WarningEvent {
                    vertex: None,
                    level: 1,
                    short: short.to_string(),
                }));
            }
        }
    }

    fn finish(&mut self) {
        self.release_header(None);
        if self.verdict_seen {
            return;
        }
        // The printer boxes every vertex that ended with an error, the build's failure or not:
        // a cache import that failed (a `--cache-from` ref that does not exist yet) is boxed
        // too, and BuildKit goes on without that cache. Without buildx's `ERROR:` line, only a
        // box around another vertex (with the 20.10 CLI's bare error after it) is a failure.
        let fatal = self
            .failed_names
            .iter()
            .find(|n| !is_cache_import(n))
            .cloned();
        let Some(name) = fatal else {
            return;
        };
        let error = self
            .bare_error
            .take()
            .unwrap_or_else(|| format!("{name} failed"));
        self.pending
            .push_back(Event::BuildEnd(BuildVerdict::failure(error, None)));
    }
}

/// A cache importer's vertex: its errors never fail the build.
fn is_cache_import(name: &str) -> bool {
    crate::model::cache_import_ref(name).is_some()
}

impl<R: BufRead> Records for PlainDecoder<R> {
    fn queue(&mut self) -> &mut Queue {
        &mut self.pending
    }

    fn next_record(&mut self) -> Result<bool, DecodeError> {
        self.raw.clear();
        let pos = Position {
            line: Some(self.line_no + 1),
            offset: self.offset,
        };
        let n = read_line_capped(&mut self.reader, &mut self.raw, MAX_LINE_BYTES)
            .map_err(|e| DecodeError::Io { pos, source: e })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        self.offset += n as u64;
        if self.raw.contains(&0) {
            return Err(DecodeError::malformed(
                FORMAT,
                pos,
                "binary data (NUL byte) in a text log",
            ));
        }
        let raw = std::mem::take(&mut self.raw);
        let text = String::from_utf8_lossy(&raw);
        let text = text.trim_end_matches(['\n', '\r']);
        let clean = clean_line(text);
        if !clean.decoration {
            self.line(&clean.text, clean.timestamp);
        }
        self.raw = raw;
        Ok(true)
    }

    fn end(&mut self) -> Result<(), DecodeError> {
        if self.vertex_lines == 0 {
            let end = Position {
                line: Some(self.line_no),
                offset: self.offset,
            };
            return Err(no_progress(
                FORMAT,
                end,
                "BuildKit progress line (`#N ...`)",
            ));
        }
        self.finish();
        Ok(())
    }
}

impl<R: BufRead> Iterator for PlainDecoder<R> {
    type Item = EventResult;

    fn next(&mut self) -> Option<EventResult> {
        self.next_event()
    }
}

/// `#12 rest` -> (12, "rest").
fn split_vertex_line(text: &str) -> Option<(u32, &str)> {
    let body = text.strip_prefix('#')?;
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let n = body[..digits].parse().ok()?;
    let rest = &body[digits..];
    if rest.is_empty() {
        return Some((n, ""));
    }
    rest.strip_prefix(' ').map(|r| (n, r))
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `1.2s` -> nanoseconds.
fn parse_secs(s: &str) -> Option<i64> {
    let num = s.trim().strip_suffix('s')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    Some((v * 1e9).round() as i64)
}

/// A log line is `<elapsed> <text>` with the elapsed time in seconds (`0.656`, `90.55`).
fn log_line(rest: &str) -> Option<(i64, &str)> {
    let text = log_text(rest)?;
    let secs: f64 = rest.split(' ').next()?.parse().ok()?;
    Some(((secs * 1e9).round() as i64, text))
}

fn log_text(rest: &str) -> Option<&str> {
    let end = rest.find(' ').unwrap_or(rest.len());
    let num = &rest[..end];
    let (a, b) = num.split_once('.')?;
    if a.is_empty()
        || b.is_empty()
        || !a.bytes().all(|c| c.is_ascii_digit())
        || !b.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some(rest.get(end + 1..).unwrap_or(""))
}

struct ParsedStatus {
    id: String,
    current: i64,
    total: i64,
    secs: Option<i64>,
    done: bool,
}

/// `<id>[ <cur>[ / <total>]][ <secs>s][ done]`, parsed from the right.
fn parse_status(rest: &str) -> ParsedStatus {
    let mut s = rest.trim_end();
    let mut done = false;
    if let Some(x) = s.strip_suffix(" done") {
        done = true;
        s = x;
    } else if s == "done" {
        return ParsedStatus {
            id: String::new(),
            current: 0,
            total: 0,
            secs: None,
            done: true,
        };
    }
    let mut secs = None;
    if let Some((head, last)) = s.rsplit_once(' ') {
        if let Some(v) = parse_secs(last) {
            secs = Some(v);
            s = head;
        }
    }
    let mut current = 0;
    let mut total = 0;
    if let Some((head, tot)) = s.rsplit_once(" / ") {
        if let (Some(t), Some((id, cur))) = (parse_size(tot), head.rsplit_once(' ')) {
            if let Some(c) = parse_size(cur) {
                total = t;
                current = c;
                s = id;
            }
        }
    } else if let Some((head, last)) = s.rsplit_once(' ') {
        if let Some(c) = parse_size(last) {
            current = c;
            s = head;
        }
    }
    ParsedStatus {
        id: s.to_string(),
        current,
        total,
        secs,
        done,
    }
}

/// Decimal sizes as progressui prints them: `2B`, `38.91kB`, `1.98MB`.
fn parse_size(s: &str) -> Option<i64> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return None;
    }
    let mult = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    Some((v * mult).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let s = parse_status("sha256:15d1 8.97MB / 8.97MB 0.1s done");
        assert_eq!(
            (s.id.as_str(), s.current, s.total, s.secs, s.done),
            ("sha256:15d1", 8_970_000, 8_970_000, Some(100_000_000), true)
        );
        let s = parse_status("transferring context: 657B done");
        assert_eq!(
            (s.id.as_str(), s.current, s.done),
            ("transferring context:", 657, true)
        );
        let s = parse_status("extracting sha256:f439 0.7s done");
        assert_eq!(
            (s.id.as_str(), s.secs),
            ("extracting sha256:f439", Some(700_000_000))
        );
        let s = parse_status("writing layer sha256:f439");
        assert_eq!(
            (s.id.as_str(), s.done),
            ("writing layer sha256:f439", false)
        );
    }

    #[test]
    fn log_lines_and_vertex_lines() {
        assert_eq!(
            log_text("0.656 Collecting requests"),
            Some("Collecting requests")
        );
        assert_eq!(log_text("90.55 x"), Some("x"));
        assert_eq!(log_text("transferring context: 2B"), None);
        assert_eq!(split_vertex_line("#12 DONE 0.2s"), Some((12, "DONE 0.2s")));
        assert_eq!(split_vertex_line("#x"), None);
        assert_eq!(split_vertex_line("# comment"), None);
    }
}
