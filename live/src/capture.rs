//! `Capture`: decodes a build's progress while it streams, on a thread of its own.
//!
//! Producers (the threads passing a command's output through, or the Engine API response
//! reader) hand chunks to a [`CaptureSender`] with their arrival time and go on; they wait on
//! decoding only if it falls far behind (the channel is bounded). The capture thread splits the
//! chunks into lines per stream (so a partial stdout line never mixes with stderr), sniffs the
//! format unless it was given, and feeds the usual decoder and assembler.
//!
//! Progress goes to one stream (buildx and the docker CLI print it on stderr). Once decoding
//! starts, lines before the first progress line and lines of the other stream are left out of
//! the decoder's input (they are still passed through): a tool's own stdout chatter cannot
//! break a multi-line rawjson object or pass for a plain error line.
//!
//! Plain progress carries no clock. Each plain line is therefore prefixed with its arrival time
//! in the RFC 3339 form CI logs use, which the plain decoder already reads: a recorded plain
//! build gets real step start and end times, as a GitHub Actions log would give it.

use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use chrono::{DateTime, SecondsFormat, Utc};
use xxhash_rust::xxh3::Xxh3;

use collector::assemble::{AssembleOptions, Assembler};
use collector::decode::ci_prefix::clean_line;
use collector::decode::{decoder, sniff};
use collector::error::DecodeError;
use collector::event::{Event, Nanos};
use collector::model::{Build, Format};

/// Chunks in flight before a producer waits for the decoder (64 KiB each at most).
const CHANNEL_CHUNKS: usize = 4096;

/// Stream numbers for [`CaptureSender::send`]: one merged stream, stdout, stderr.
pub const MERGED: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;

/// What to decode and how to name it.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// Names the builds' source (e.g. `record: docker build .`).
    pub source: String,
    /// The format, or `None` to sniff it from the first lines.
    pub format: Option<Format>,
    pub options: AssembleOptions,
}

/// Sees every event as it is decoded (live progress displays).
pub type Observer = Box<dyn FnMut(&Event) + Send>;

struct Piece {
    stream: u8,
    at: Nanos,
    bytes: Vec<u8>,
}

/// The producer side of a capture; cheap to clone, one per output stream.
#[derive(Clone)]
pub struct CaptureSender {
    tx: SyncSender<Piece>,
}

impl CaptureSender {
    /// Hands a chunk of output to the capture. Never fails: if decoding stopped (bad input),
    /// the output still has to flow, so the chunk is dropped.
    pub fn send(&self, stream: u8, bytes: &[u8]) {
        let _ = self.tx.send(Piece {
            stream,
            at: now_ns(),
            bytes: bytes.to_vec(),
        });
    }
}

/// What a capture produced.
#[derive(Debug)]
pub struct CaptureOutcome {
    /// The format decoded, or `None` when no BuildKit progress was found in the output.
    pub format: Option<Format>,
    /// The builds, with live ids and wall-clock times filled in where the stream had none.
    pub builds: Vec<Build>,
    /// Bytes of output seen.
    pub bytes: u64,
    /// The stream stopped mid-record (an interrupted build): the last build is `incomplete`.
    pub truncated: Option<DecodeError>,
    /// Decoding stopped on malformed input; builds decoded before it are kept (incomplete).
    pub error: Option<DecodeError>,
    pub started_at: Nanos,
    pub finished_at: Nanos,
}

/// A running capture: send chunks through [`Capture::sender`], then [`Capture::finish`].
pub struct Capture {
    tx: Option<SyncSender<Piece>>,
    handle: JoinHandle<Decoded>,
    started_at: Nanos,
}

struct Decoded {
    format: Option<Format>,
    builds: Vec<Build>,
    bytes: u64,
    truncated: Option<DecodeError>,
    error: Option<DecodeError>,
    content: u128,
}

impl Capture {
    /// Starts the capture thread. `observe` sees every decoded event, on that thread.
    pub fn start(config: CaptureConfig, observe: Option<Observer>) -> Capture {
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        let started_at = now_ns();
        let handle = std::thread::Builder::new()
            .name("buildprof-capture".into())
            .spawn(move || decode_stream(rx, config, observe))
            .expect("spawning the capture thread");
        Capture {
            tx: Some(tx),
            handle,
            started_at,
        }
    }

    pub fn sender(&self) -> CaptureSender {
        CaptureSender {
            tx: self.tx.clone().expect("sender taken after finish"),
        }
    }

    /// Waits for every sender to be dropped and the decoder to finish.
    pub fn finish(mut self) -> CaptureOutcome {
        drop(self.tx.take());
        let d = self.handle.join().unwrap_or_else(|_| Decoded {
            format: None,
            builds: Vec::new(),
            bytes: 0,
            truncated: None,
            error: Some(DecodeError::Empty),
            content: 0,
        });
        let finished_at = now_ns();
        let mut builds = d.builds;
        let n = builds.len();
        for (i, b) in builds.iter_mut().enumerate() {
            b.id = live_build_id(d.content, self.started_at, i);
            fill_times(b, self.started_at, finished_at, n == 1);
        }
        CaptureOutcome {
            format: d.format,
            builds,
            bytes: d.bytes,
            truncated: d.truncated,
            error: d.error,
            started_at: self.started_at,
            finished_at,
        }
    }
}

/// The id of a build captured live: each capture is a distinct build even when two runs print
/// the same bytes (two all-cached plain rebuilds can), so the id mixes the content fingerprint
/// with the capture's start time and process.
pub fn live_build_id(content: u128, started_at: Nanos, index: usize) -> String {
    let key = format!(
        "live\0{content:032x}\0{started_at}\0{}\0{index}",
        std::process::id()
    );
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

/// The capture saw the build from start to end: where the stream has no times, its wall clock
/// is the best there is.
fn fill_times(b: &mut Build, started: Nanos, finished: Nanos, only: bool) {
    if !only {
        return;
    }
    if b.started_at.is_none() {
        b.started_at = Some(started);
    }
    if b.finished_at.is_none() {
        b.finished_at = Some(finished);
    }
    if b.duration_ns.is_none() {
        if let (Some(s), Some(f)) = (b.started_at, b.finished_at) {
            b.duration_ns = Some((f - s).max(0));
        }
    }
}

pub(crate) fn now_ns() -> Nanos {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

fn decode_stream(rx: Receiver<Piece>, config: CaptureConfig, observe: Option<Observer>) -> Decoded {
    let mut observe = observe.unwrap_or_else(|| Box::new(|_| {}));
    let mut feed = LineFeed::new(rx);
    let format = match config.format {
        Some(f) => Some(f),
        None => feed.sniff(),
    };
    let Some(format) = format else {
        // Not a build's progress: keep counting what passes, for the summary.
        while feed.next_line().is_some() {}
        return Decoded {
            format: None,
            builds: Vec::new(),
            bytes: feed.bytes,
            truncated: None,
            error: None,
            content: 0,
        };
    };
    feed.stamp = format == Format::Plain;
    feed.filter = true;
    let mut reader = BufReader::with_capacity(256 * 1024, &mut feed);
    let mut asm = Assembler::with_options(config.source.clone(), format, config.options.clone());
    let mut builds = Vec::new();
    let mut truncated = None;
    let mut error = None;
    let mut events = 0u64;
    for item in decoder(format, &mut reader) {
        match item {
            Ok(ev) => {
                events += 1;
                observe(&ev);
                if let Some(b) = asm.push(ev) {
                    builds.push(b);
                }
            }
            Err(e @ DecodeError::Truncated { .. }) if events > 0 => {
                truncated = Some(e);
                break;
            }
            Err(DecodeError::Empty) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // Drain the rest so the fingerprint and byte count cover the whole output.
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
    drop(reader);
    if let Some(b) = asm.finish(truncated.is_some() || error.is_some()) {
        builds.push(b);
    }
    Decoded {
        format: Some(format),
        builds,
        bytes: feed.bytes,
        truncated,
        error,
        content: feed.hasher.digest128(),
    }
}

/// Turns arrival-stamped chunks into the decoder's input: whole lines, in arrival order,
/// prefixed with their arrival time when `stamp` is set.
/// A whole line with its arrival time and stream.
type Line = (Nanos, u8, Vec<u8>);

struct LineFeed {
    rx: Receiver<Piece>,
    partial: [Vec<u8>; 3],
    lines: VecDeque<Line>,
    closed: bool,
    /// Set once decoding starts: keep only the stream progress appears on.
    filter: bool,
    progress_stream: Option<u8>,
    stamp: bool,
    last_stamp: Option<(Nanos, String)>,
    out: Vec<u8>,
    pos: usize,
    bytes: u64,
    hasher: Xxh3,
}

impl LineFeed {
    fn new(rx: Receiver<Piece>) -> Self {
        LineFeed {
            rx,
            partial: Default::default(),
            lines: VecDeque::new(),
            closed: false,
            filter: false,
            progress_stream: None,
            stamp: false,
            last_stamp: None,
            out: Vec::new(),
            pos: 0,
            bytes: 0,
            hasher: Xxh3::new(),
        }
    }

    fn next_line(&mut self) -> Option<Line> {
        loop {
            if let Some(l) = self.lines.pop_front() {
                return Some(l);
            }
            if self.closed {
                return None;
            }
            match self.rx.recv() {
                Ok(p) => self.split(p),
                Err(_) => {
                    self.closed = true;
                    let at = now_ns();
                    for (stream, buf) in self.partial.iter_mut().enumerate() {
                        if !buf.is_empty() {
                            self.lines
                                .push_back((at, stream as u8, std::mem::take(buf)));
                        }
                    }
                }
            }
        }
    }

    fn split(&mut self, p: Piece) {
        self.bytes += p.bytes.len() as u64;
        let stream = p.stream.min(2);
        let buf = &mut self.partial[usize::from(stream)];
        let mut rest = &p.bytes[..];
        while let Some(i) = memchr::memchr(b'\n', rest) {
            buf.extend_from_slice(&rest[..=i]);
            self.lines.push_back((p.at, stream, std::mem::take(buf)));
            rest = &rest[i + 1..];
        }
        buf.extend_from_slice(rest);
    }

    /// Reads lines until one is BuildKit progress and returns its format; that line stays
    /// queued for the decoder. Lines before it are not progress (a tool's own chatter, on
    /// either stream) and are left out, however many there are.
    fn sniff(&mut self) -> Option<Format> {
        while let Some(line) = self.next_line() {
            if let Some(f) = sniff(&line.2) {
                self.lines.push_front(line);
                return Some(f);
            }
        }
        None
    }

    fn emit(&mut self, at: Nanos, stream: u8, line: &[u8]) {
        if self.filter {
            match self.progress_stream {
                None if sniff(line).is_some() => self.progress_stream = Some(stream),
                None => return,
                Some(s) if s != stream => return,
                Some(_) => {}
            }
        }
        let start = self.out.len();
        if self.stamp && !has_timestamp(line) {
            let stamp = match &self.last_stamp {
                Some((t, s)) if *t == at => s,
                _ => {
                    let s = DateTime::<Utc>::from_timestamp_nanos(at)
                        .to_rfc3339_opts(SecondsFormat::Nanos, true);
                    &self.last_stamp.insert((at, s)).1
                }
            };
            self.out.extend_from_slice(stamp.as_bytes());
            self.out.push(b' ');
        }
        self.out.extend_from_slice(line);
        self.hasher.update(&self.out[start..]);
    }
}

/// The line already starts with a CI timestamp (the command runs under a timestamping wrapper).
fn has_timestamp(line: &[u8]) -> bool {
    line.first().is_some_and(u8::is_ascii_digit)
        && clean_line(&String::from_utf8_lossy(line))
            .timestamp
            .is_some()
}

impl Read for LineFeed {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            match self.next_line() {
                Some((at, stream, line)) => {
                    self.emit(at, stream, &line);
                    // Take whatever else is already queued, without waiting.
                    while self.out.len() < dst.len() {
                        match self.lines.pop_front() {
                            Some((at, stream, line)) => self.emit(at, stream, &line),
                            None => break,
                        }
                    }
                }
                None => return Ok(0),
            }
        }
        let n = (self.out.len() - self.pos).min(dst.len());
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture_of(chunks: &[(u8, &[u8])], format: Option<Format>) -> CaptureOutcome {
        let cap = Capture::start(
            CaptureConfig {
                source: "test".into(),
                format,
                options: AssembleOptions::default(),
            },
            None,
        );
        let tx = cap.sender();
        for (s, c) in chunks {
            tx.send(*s, c);
        }
        drop(tx);
        cap.finish()
    }

    const PLAIN: &str = "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n#2 [1/2] FROM local/busybox:1\n#2 CACHED\n\n#3 [2/2] RUN echo hi\n#3 0.101 hi\n#3 DONE 0.2s\n";

    #[test]
    fn plain_split_anywhere_decodes_with_arrival_times() {
        let bytes = PLAIN.as_bytes();
        let chunks: Vec<(u8, &[u8])> = bytes.chunks(7).map(|c| (STDERR, c)).collect();
        let out = capture_of(&chunks, None);
        assert_eq!(out.format, Some(Format::Plain));
        assert_eq!(out.bytes, bytes.len() as u64);
        assert_eq!(out.builds.len(), 1);
        let b = &out.builds[0];
        assert_eq!(b.steps.len(), 3);
        assert_eq!(b.counts().cached, 1);
        assert_eq!(b.counts().executed, 2);
        assert!(b.started_at.is_some() && b.steps[2].started_at.is_some());
        // A plain log without an exporter or verdict line ends `incomplete`; times are real.
        assert!(b.finished_at.is_some() && b.duration_ns.is_some());
    }

    #[test]
    fn stdout_noise_does_not_break_stderr_lines() {
        let (a, b) = PLAIN.as_bytes().split_at(30);
        let out = capture_of(
            &[(STDERR, a), (STDOUT, b"unrelated stdout\n"), (STDERR, b)],
            None,
        );
        assert_eq!(out.builds[0].steps.len(), 3);
    }

    #[test]
    fn same_bytes_twice_are_two_builds() {
        let a = capture_of(&[(MERGED, PLAIN.as_bytes())], None);
        let b = capture_of(&[(MERGED, PLAIN.as_bytes())], None);
        assert_ne!(a.builds[0].id, b.builds[0].id);
    }

    #[test]
    fn much_stdout_before_the_progress_does_not_hide_it() {
        let noise: Vec<u8> = (0..100_000)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let out = capture_of(&[(STDOUT, &noise), (STDERR, PLAIN.as_bytes())], None);
        assert_eq!(out.format, Some(Format::Plain));
        assert_eq!(out.builds[0].steps.len(), 3);
    }

    #[test]
    fn output_without_progress_records_nothing() {
        let out = capture_of(&[(STDOUT, b"hello\nworld\n")], None);
        assert_eq!(out.format, None);
        assert!(out.builds.is_empty());
        assert_eq!(out.bytes, 12);
    }

    #[test]
    fn existing_ci_timestamps_are_kept() {
        let line = b"2024-01-03T02:30:03.5675877Z #1 [internal] load\n";
        assert!(has_timestamp(line));
        assert!(!has_timestamp(b"#1 [internal] load\n"));
    }
}
