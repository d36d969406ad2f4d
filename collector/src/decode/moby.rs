//! `MobyDecoder`: the Docker Engine `POST /build?version=2` response stream.
//!
//! NDJSON (`\r\n` line ends) of `jsonstream.Message` objects. BuildKit progress arrives as
//! `{"id":"moby.buildkit.trace","aux":"<base64 protobuf StatusResponse>"}`, decoded with prost;
//! `errorDetail` is the build's failure verdict; `moby.image.id` can arrive before the last
//! trace lines, so it does not end the build.

use std::io::BufRead;

use base64::Engine as _;
use serde::Deserialize;

use super::lines::{preview, read_line_capped, trim_ascii_start};
use super::proto::decode_status_response;
use super::records::{no_progress, Queue, Records};
use super::EventResult;
use crate::error::{DecodeError, Position};
use crate::event::{BuildMeta, BuildVerdict, Event};

const FORMAT: &str = "moby";
const MAX_LINE_BYTES: usize = 256 << 20;

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    aux: Option<serde_json::Value>,
    #[serde(default, rename = "errorDetail")]
    error_detail: Option<ErrorDetail>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
}

/// Streaming decoder for the Engine API build stream.
pub struct MobyDecoder<R> {
    reader: R,
    line: Vec<u8>,
    pending: Queue,
    line_no: u64,
    offset: u64,
    messages: u64,
    traces: u64,
    image_id: Option<String>,
    failed: bool,
}

impl<R: BufRead> MobyDecoder<R> {
    pub fn new(reader: R) -> Self {
        MobyDecoder {
            reader,
            line: Vec::with_capacity(4096),
            pending: Queue::default(),
            line_no: 0,
            offset: 0,
            messages: 0,
            traces: 0,
            image_id: None,
            failed: false,
        }
    }

    fn pos(&self, offset: u64) -> Position {
        Position {
            line: Some(self.line_no),
            offset,
        }
    }

    // Long on purpose: one match over the message kinds of an Engine API build stream (trace
    // aux, stream text, errorDetail, image id), each turned into events where it is read.
    fn handle(&mut self, line: &[u8], start: u64, n: usize) -> Result<(), DecodeError> {
        let t = trim_ascii_start(line);
        if t.is_empty() {
            return Ok(());
        }
        let complete = line.ends_with(b"\n");
        let msg: Message = match serde_json::from_slice(t) {
            Ok(m) => m,
            Err(e) if e.is_eof() && !complete => {
                return Err(DecodeError::Truncated {
                    pos: self.pos(start),
                    message: format!("the last message is cut off after {n} bytes"),
                })
            }
            Err(e) => {
                return Err(DecodeError::malformed(
                    FORMAT,
                    self.pos(start),
                    format!(
                        "not a JSON message ({e}): {:?}",
                        preview(&String::from_utf8_lossy(t))
                    ),
                ))
            }
        };
        self.messages += 1;
        let id = msg.id.as_deref().unwrap_or("");
        if id == "moby.buildkit.trace" {
            let Some(serde_json::Value::String(b64)) = msg.aux else {
                return Err(DecodeError::malformed(
                    FORMAT,
                    self.pos(start),
                    "trace message without a base64 aux string",
                ));
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| {
                    DecodeError::malformed(
                        FORMAT,
                        self.pos(start),
                        format!("trace aux is not base64: {e}"),
                    )
                })?;
            let mut events = Vec::new();
            decode_status_response(&bytes, &mut events).map_err(|e| {
                DecodeError::malformed(
                    FORMAT,
                    self.pos(start),
                    format!("trace aux is not a StatusResponse: {e}"),
                )
            })?;
            if self.traces == 0 {
                self.pending.push_back(Event::BuildStart(BuildMeta {
                    builder: Some("dockerd (Engine API build, BuildKit)".into()),
                    ..BuildMeta::default()
                }));
            }
            self.traces += 1;
            self.pending.extend(events);
        } else if id == "moby.image.id" {
            if let Some(serde_json::Value::Object(o)) = &msg.aux {
                self.image_id = o.get("ID").and_then(|v| v.as_str()).map(str::to_string);
            }
        } else if let Some(detail) = msg.error_detail {
            let text = detail
                .message
                .or(msg.error)
                .unwrap_or_else(|| "build failed".into());
            self.failed = true;
            self.pending
                .push_back(Event::BuildEnd(BuildVerdict::failure(text, None)));
        } else if let Some(text) = msg.error {
            self.failed = true;
            self.pending
                .push_back(Event::BuildEnd(BuildVerdict::failure(text, None)));
        } else {
            let _ = (msg.stream, msg.status);
        }
        Ok(())
    }
}

impl<R: BufRead> Records for MobyDecoder<R> {
    fn queue(&mut self) -> &mut Queue {
        &mut self.pending
    }

    fn next_record(&mut self) -> Result<bool, DecodeError> {
        self.line.clear();
        let start = self.offset;
        let n =
            read_line_capped(&mut self.reader, &mut self.line, MAX_LINE_BYTES).map_err(|e| {
                DecodeError::Io {
                    pos: self.pos(start),
                    source: e,
                }
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        self.offset += n as u64;
        let line = std::mem::take(&mut self.line);
        let r = self.handle(&line, start, n);
        self.line = line;
        r.map(|_| true)
    }

    fn end(&mut self) -> Result<(), DecodeError> {
        if self.messages == 0 {
            return Err(no_progress(
                FORMAT,
                self.pos(self.offset),
                "Engine API message",
            ));
        }
        // The engine reports the image id once the build succeeded.
        if self.image_id.is_some() && !self.failed {
            self.pending
                .push_back(Event::BuildEnd(BuildVerdict::success(None)));
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for MobyDecoder<R> {
    type Item = EventResult;

    fn next(&mut self) -> Option<EventResult> {
        self.next_event()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_detail_is_a_failure_verdict() {
        let input =
            "{\"errorDetail\":{\"message\":\"no such image\"},\"error\":\"no such image\"}\r\n";
        let ev: Vec<_> = MobyDecoder::new(input.as_bytes()).collect();
        match &ev[0] {
            Ok(Event::BuildEnd(v)) => assert_eq!(v.error.as_deref(), Some("no such image")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_base64_names_the_line() {
        let input = "{\"stream\":\"x\"}\r\n{\"id\":\"moby.buildkit.trace\",\"aux\":\"!!!\"}\r\n";
        let ev: Vec<_> = MobyDecoder::new(input.as_bytes()).collect();
        match ev.last().unwrap() {
            Err(DecodeError::Malformed { pos, .. }) => assert_eq!(pos.line, Some(2)),
            other => panic!("{other:?}"),
        }
    }
}
