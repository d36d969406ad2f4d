//! Passing a command's output through while capturing it (POSIX only): when buildprof's
//! stdout and stderr are the same file (a terminal, or a CI log with `2>&1`), the child gets one
//! pipe for both, so its interleaving is kept exactly. When they differ, each stream has its
//! own pipe and is copied to the same stream of buildprof: every byte stays on its stream and
//! in order, and the order across the two streams is kept as closely as two pipes allow. Bytes
//! are written before they are decoded, and decoding runs on its own thread, so the command
//! never waits on buildprof unless decoding falls far behind. Like `tee`, the run ends when the
//! output pipes close: a background process the command leaves running with its output open
//! keeps buildprof waiting for it.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use crate::capture::CaptureOutcome;
use crate::capture::{Capture, CaptureConfig, CaptureSender, Observer};
use crate::capture::{MERGED, STDERR, STDOUT};
use crate::interrupt;
use crate::tail::TAIL_BYTES;

/// Runs `cmd` with its output passed through to buildprof's own (when `passthrough`) or
/// discarded, and captured; returns how it ended, the capture, and the last bytes of output.
pub(crate) fn run(
    mut cmd: Command,
    passthrough: bool,
    config: CaptureConfig,
    observe: Option<Observer>,
) -> std::io::Result<(ExitStatus, Instant, CaptureOutcome, Vec<u8>)> {
    let merged = !passthrough || stdout_is_stderr();
    let capture = Capture::start(config, observe);
    let mut pumps = Vec::new();
    let mut child = if merged {
        // std's pipe is close-on-exec on every platform (pipe2 is Linux-only).
        let (read, write) = std::io::pipe()?;
        cmd.stdout(Stdio::from(write.try_clone()?));
        cmd.stderr(Stdio::from(write));
        let child = cmd.spawn();
        // The Command holds the write ends: drop it so the pipe closes when the child exits.
        drop(cmd);
        let child = child?;
        let dst = passthrough.then(|| dup_stdio(1)).transpose()?;
        pumps.push(pump(read, dst, MERGED, capture.sender()));
        child
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        drop(cmd);
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        pumps.push(pump(out, Some(dup_stdio(1)?), STDOUT, capture.sender()));
        pumps.push(pump(err, Some(dup_stdio(2)?), STDERR, capture.sender()));
        child
    };
    interrupt::set_child(child.id() as i32);
    let status = child.wait();
    interrupt::set_child(0);
    let status = status?;
    let exited = Instant::now();
    let mut tail = Vec::new();
    for p in pumps {
        if let Ok(t) = p.join() {
            tail.extend_from_slice(&t);
        }
    }
    Ok((status, exited, capture.finish(), tail))
}

/// Copies one stream to its destination and the capture; returns the last bytes seen.
fn pump(
    mut src: impl Read + Send + 'static,
    mut dst: Option<File>,
    stream: u8,
    capture: CaptureSender,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::Builder::new()
        .name("buildprof-pump".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut tail: Vec<u8> = Vec::new();
            loop {
                let n = match src.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let chunk = &buf[..n];
                if let Some(d) = &mut dst {
                    // A closed terminal or pipe must not stop the build or its recording.
                    if d.write_all(chunk).is_err() {
                        dst = None;
                    }
                }
                capture.send(stream, chunk);
                tail.extend_from_slice(chunk);
                if tail.len() > 2 * TAIL_BYTES {
                    tail.drain(..tail.len() - TAIL_BYTES);
                }
            }
            tail
        })
        .expect("spawning an output thread")
}

/// An unbuffered handle on buildprof's own stdout (1) or stderr (2).
fn dup_stdio(fd: i32) -> std::io::Result<File> {
    let owned = if fd == 1 {
        std::io::stdout().as_fd().try_clone_to_owned()?
    } else {
        std::io::stderr().as_fd().try_clone_to_owned()?
    };
    Ok(File::from(owned))
}

/// Whether buildprof's stdout and stderr are the same open file (terminal, `2>&1`).
fn stdout_is_stderr() -> bool {
    let meta = |fd: i32| dup_stdio(fd).and_then(|f| f.metadata()).ok();
    match (meta(1), meta(2)) {
        (Some(a), Some(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
