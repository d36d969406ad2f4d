//! `RecordedCommand`: a build command to run without a shell and record (`buildprof record`,
//! experiment command variants), and what running it gave.
//!
//! Passing the output through while capturing it needs POSIX pipes ([`crate::passthrough`]);
//! on other systems [`RecordedCommand::run`] says so instead of running anything.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use crate::capture::{CaptureConfig, CaptureOutcome, Observer};
use crate::tail::tail_of;

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
    /// When the command exited (its output may still have been draining).
    pub exited: std::time::Instant,
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
    #[cfg(unix)]
    let signal = || {
        use std::os::unix::process::ExitStatusExt;
        status.signal().map(|s| 128 + s)
    };
    #[cfg(not(unix))]
    let signal = || None;
    status.code().or_else(signal).unwrap_or(1)
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

    pub(crate) fn command(&self) -> std::io::Result<Command> {
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
        #[cfg(unix)]
        {
            let passthrough = output == CommandOutput::Passthrough;
            let (status, exited, capture, tail) =
                crate::passthrough::run(self.command()?, passthrough, config, observe)?;
            Ok(CommandRun {
                status,
                exited,
                capture,
                tail: tail_of(&tail),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = (output, config, observe);
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "recording a command needs a Unix-like system (Linux, macOS): its output is \
                 passed through POSIX pipes; run the build with --progress=rawjson or plain, \
                 save its output, and `buildprof ingest` the file instead",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector::assemble::AssembleOptions;

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
