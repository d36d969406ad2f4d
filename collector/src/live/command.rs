//! `RecordedCommand`: runs a build command without a shell, passes its output through byte for
//! byte, and records the build it prints (`buildprof record`, experiment command variants).
//!
//! Output order: when buildprof's stdout and stderr are the same file (a terminal, or a CI log
//! with `2>&1`), the child gets one pipe for both, so its interleaving is kept exactly. When
//! they differ, each stream has its own pipe and is copied to the same stream of buildprof:
//! every byte stays on its stream and in order, and the order across the two streams is kept
//! as closely as two pipes allow. Bytes are written before they are decoded, and decoding runs
//! on its own thread, so the command never waits on buildprof unless decoding falls far behind.
//! Like `tee`, the run ends when the output pipes close: a background process the command
//! leaves running with its output open keeps buildprof waiting for it.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use super::capture::{Capture, CaptureConfig, CaptureOutcome, CaptureSender, Observer};
use super::capture::{MERGED, STDERR, STDOUT};
use super::interrupt;

/// Where the command's output goes besides the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutput {
    /// To buildprof's own stdout and stderr, unchanged.
    Passthrough,
    /// Nowhere (experiments, where a progress bar owns the terminal).
    Discard,
}

/// A command to run: argv (no shell), extra environment, working directory.
#[derive(Debug, Clone, Default)]
pub struct RecordedCommand {
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub cwd: Option<PathBuf>,
}

/// What running a recorded command gave.
#[derive(Debug)]
pub struct CommandRun {
    pub status: ExitStatus,
    pub capture: CaptureOutcome,
    /// The last lines of output (bounded), to explain a failure when output was discarded.
    pub tail: String,
}

impl CommandRun {
    /// The exit code a shell would report: the command's own, or 128 + signal.
    pub fn exit_code(&self) -> i32 {
        exit_code(self.status)
    }
}

/// A shell's exit code for a status: the code, or 128 + the signal that ended the process.
pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

impl RecordedCommand {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        RecordedCommand {
            argv: argv.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The command line as text, for messages and the build's source.
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn command(&self) -> std::io::Result<Command> {
        let (prog, args) = self.argv.split_first().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given")
        })?;
        let mut cmd = Command::new(prog);
        cmd.args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        Ok(cmd)
    }

    /// Runs the command with its output discarded, recording nothing (an experiment's `before`).
    pub fn run_plain(&self) -> std::io::Result<(ExitStatus, String)> {
        let mut cmd = self.command()?;
        cmd.stdin(Stdio::null());
        let out = cmd.output()?;
        let mut all = out.stdout;
        all.extend_from_slice(&out.stderr);
        Ok((out.status, tail_of(&all)))
    }

    /// Runs the command, passes or discards its output, and decodes the build it prints.
    /// Fails only when the command cannot be started.
    pub fn run(
        &self,
        output: CommandOutput,
        config: CaptureConfig,
        observe: Option<Observer>,
    ) -> std::io::Result<CommandRun> {
        let mut cmd = self.command()?;
        let merged = output == CommandOutput::Discard || stdout_is_stderr();
        let capture = Capture::start(config, observe);
        let mut pumps = Vec::new();
        let mut child = if merged {
            let (read, write) = pipe()?;
            cmd.stdout(Stdio::from(write.try_clone()?));
            cmd.stderr(Stdio::from(write));
            let child = cmd.spawn();
            // The Command holds the write ends: drop it so the pipe closes when the child exits.
            drop(cmd);
            let child = child?;
            let dst = (output == CommandOutput::Passthrough)
                .then(|| dup_stdio(1))
                .transpose()?;
            pumps.push(pump(File::from(read), dst, MERGED, capture.sender()));
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
        let mut tail = Vec::new();
        for p in pumps {
            if let Ok(t) = p.join() {
                tail.extend_from_slice(&t);
            }
        }
        Ok(CommandRun {
            status,
            capture: capture.finish(),
            tail: tail_of(&tail),
        })
    }
}

const TAIL_BYTES: usize = 4096;

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

fn tail_of(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
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

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills two descriptors we then own exclusively.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::AssembleOptions;

    fn config() -> CaptureConfig {
        CaptureConfig {
            source: "test".into(),
            format: None,
            options: AssembleOptions::default(),
        }
    }

    #[test]
    fn exit_code_and_tail_come_back() {
        let cmd = RecordedCommand::new(["sh", "-c", "echo '#1 [1/1] RUN x'; echo bye >&2; exit 3"]);
        let run = cmd.run(CommandOutput::Discard, config(), None).unwrap();
        assert_eq!(run.exit_code(), 3);
        assert!(run.tail.ends_with("bye"), "{:?}", run.tail);
        assert_eq!(run.capture.builds.len(), 1);
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let cmd = RecordedCommand::new(["/nonexistent/buildprof-test"]);
        let err = cmd.run(CommandOutput::Discard, config(), None).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
