//! Recording: `buildprof record -- CMD...` (a build command run, its output passed through
//! unchanged) and `ingest - --tee` (a pipe echoed as it arrives), each stored with its labels.
//!
//! Telemetry never breaks a build: [`record_command`] gives back the command's own exit code
//! even when the output held no progress or the database could not be written; what went
//! wrong comes back as notes and errors for the caller to say.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use collector::assemble::AssembleOptions;
use collector::inputs::BuildInputs;
use collector::model::Format;
pub use collector::store::Stored;
use collector::store::{SourceInfo, Store, StoreError};

use crate::capture::{CaptureConfig, CaptureOutcome};
use crate::command::{CommandOutput, RecordedCommand};
use crate::inputs::InputsRequest;
use crate::interrupt;
use crate::tee::tee_capture;

/// Stores the builds a capture decoded, labelled, as one input named `source`.
pub fn store_capture(
    store: &mut Store,
    capture: &CaptureOutcome,
    labels: &[(String, String)],
    source: &str,
) -> Result<Stored, StoreError> {
    let mut stored = Stored::default();
    if capture.format.is_none() {
        stored.notes.push(format!(
            "no BuildKit progress in the output ({} bytes); nothing recorded (build with --progress=plain or --progress=rawjson)",
            capture.bytes
        ));
        return Ok(stored);
    }
    if let Some(e) = &capture.error {
        stored.notes.push(format!(
            "warning: decoding stopped: {e}; what came before is stored as incomplete"
        ));
    }
    let mut builds = capture.builds.clone();
    let info = SourceInfo {
        capture_wall_ns: Some(capture.finished_at - capture.started_at),
        ..SourceInfo::now(source, capture.bytes)
    };
    let results = store.insert_labelled(&mut builds, labels, &info);
    for (build, inserted) in builds.into_iter().zip(results) {
        stored.builds.push((build, inserted?));
    }
    Ok(stored)
}

/// What to record: the command and how to keep its build.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// The command and its arguments (run without a shell).
    pub argv: Vec<OsString>,
    pub labels: Vec<(String, String)>,
    /// The progress format it prints, or `None` to sniff it.
    pub format: Option<Format>,
    pub options: AssembleOptions,
    /// The build's inputs to record (completed from the command line when it is a
    /// `docker build`); `None` records none.
    pub inputs: Option<InputsRequest>,
}

/// How a recorded command ended.
#[derive(Debug)]
pub enum Recording {
    /// The command could not be started: nothing ran. `exit_code` is a shell's (127 when the
    /// program does not exist, 126 otherwise).
    NotStarted {
        program: String,
        error: std::io::Error,
        exit_code: u8,
    },
    /// The command ran and ended with `exit_code` (128 + N for a signal N); its build was
    /// stored, or storing it failed.
    Ran {
        exit_code: u8,
        stored: Result<Stored, StoreError>,
        timings: RecordTimings,
    },
}

/// Where `record`'s own time went (`record --timings`). What a job waits for its recording is
/// [`after_exit`](Self::after_exit): from the command's exit to the build and its inputs stored,
/// and, once the caller has closed the database and called [`until_now`](Self::until_now), to
/// that too (closing checkpoints the write-ahead log).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordTimings {
    /// When the command exited.
    pub exited: Instant,
    /// From the start of the recording to the command's exit.
    pub command: Duration,
    /// From the command's exit to everything stored: its last output decoded, the build
    /// stored, the inputs waited for, base images resolved, the inputs stored.
    pub after_exit: Duration,
    pub inputs: InputsTiming,
}

/// The inputs' part of a recording's time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputsTiming {
    /// None were asked for: no context was given or found on the command line.
    NotGathered,
    /// Gathered in `took` on their own thread, beside the command; the recording waited
    /// `waited` for them after the command exited.
    Gathered { took: Duration, waited: Duration },
    /// Their thread failed; the recording waited `waited` for it.
    Failed { waited: Duration },
    /// Not waited for: the build itself could not be stored.
    Dropped,
}

impl RecordTimings {
    /// Counts the time until now as after the exit (call it once the database is closed).
    pub fn until_now(&mut self) {
        self.after_exit = self.exited.elapsed();
    }
}

impl std::fmt::Display for RecordTimings {
    /// `the command ran 19.214 s; buildprof took 0.041 s after it exited (0.000 s of it waiting
    /// for the inputs, gathered in 0.812 s beside the command)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |d: Duration| format!("{:.3} s", d.as_secs_f64());
        write!(
            f,
            "the command ran {}; buildprof took {} after it exited",
            s(self.command),
            s(self.after_exit)
        )?;
        match self.inputs {
            InputsTiming::NotGathered => write!(f, " (no inputs gathered)"),
            InputsTiming::Gathered { took, waited } => write!(
                f,
                " ({} of it waiting for the inputs, gathered in {} beside the command)",
                s(waited),
                s(took)
            ),
            InputsTiming::Failed { waited } => write!(
                f,
                " ({} of it waiting for the inputs, which could not be gathered)",
                s(waited)
            ),
            InputsTiming::Dropped => {
                write!(
                    f,
                    " (the inputs were not waited for: the build was not stored)"
                )
            }
        }
    }
}

/// Runs the command with its output passed through, and stores the build it printed.
pub fn record_command(store: &mut Store, request: RecordRequest) -> std::io::Result<Recording> {
    let began = Instant::now();
    interrupt::install()?;
    let cmd = RecordedCommand {
        argv: request.argv,
        ..RecordedCommand::default()
    };
    // The command line is stored as the build's source: mask secrets in it (`--build-arg`s).
    let source = request
        .options
        .redactor
        .apply(&format!("record: {}", cmd.display()));
    let inputs = request.inputs.and_then(|mut i| {
        i.complete_from(&cmd.argv);
        (!i.is_empty()).then(|| i.start(request.options.redactor.clone()))
    });
    let config = CaptureConfig {
        source: source.clone(),
        format: request.format,
        options: request.options,
    };
    let run = match cmd.run(CommandOutput::Passthrough, config, None) {
        Ok(r) => r,
        Err(error) => {
            let exit_code = if error.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Ok(Recording::NotStarted {
                program: cmd
                    .argv
                    .first()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                error,
                exit_code,
            });
        }
    };
    let mut timings = RecordTimings {
        exited: run.exited,
        command: run.exited.saturating_duration_since(began),
        after_exit: Duration::ZERO,
        inputs: InputsTiming::NotGathered,
    };
    let mut stored = store_capture(store, &run.capture, &request.labels, &source);
    match (&mut stored, inputs) {
        (Ok(stored), Some(job)) => {
            let (mut inputs, took, waited) = job.finish_timed();
            timings.inputs = match took {
                Some(took) => InputsTiming::Gathered { took, waited },
                None => InputsTiming::Failed { waited },
            };
            if let Some(program) = cmd.argv.first() {
                crate::inputs::resolve_base_images(program, &mut inputs);
            }
            store_inputs(store, stored, inputs);
        }
        (Err(_), Some(_)) => timings.inputs = InputsTiming::Dropped,
        (_, None) => {}
    }
    timings.until_now();
    Ok(Recording::Ran {
        exit_code: run.exit_code().clamp(0, 255) as u8,
        stored,
        timings,
    })
}

/// Stores `inputs` with every build of `stored`; what went wrong becomes a note.
pub fn store_inputs(store: &mut Store, stored: &mut Stored, inputs: BuildInputs) {
    for note in &inputs.notes {
        stored.notes.push(format!("inputs: {note}"));
    }
    for (build, _) in &stored.builds {
        if let Err(e) = store.insert_inputs(&build.id, &inputs) {
            stored.notes.push(format!(
                "warning: the inputs of build {} were not stored: {e}",
                build.id
            ));
        }
    }
}

/// `ingest - --tee`: copies `input` to `echo` as it arrives and stores the build it carries.
pub fn tee_and_store(
    store: &mut Store,
    input: impl Read,
    echo: impl Write,
    labels: &[(String, String)],
    format: Option<Format>,
    options: AssembleOptions,
) -> anyhow::Result<Stored> {
    let source = "<stdin>";
    let config = CaptureConfig {
        source: source.to_string(),
        format,
        options,
    };
    let capture = tee_capture(input, echo, config)?;
    Ok(store_capture(store, &capture, labels, source)?)
}
