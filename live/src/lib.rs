//! buildprof live: recording builds while they run, from a wrapped command's output or from the
//! Docker Engine API, instead of from a finished file; and experiments, which run a matrix of
//! such builds.
//!
//! - [`capture::Capture`]: the decoding side. A thread fed with output chunks as they arrive;
//!   it sniffs the format, stamps plain lines with their arrival time, decodes and assembles.
//! - [`command::RecordedCommand`]: runs a command (no shell), passes its output through
//!   byte for byte and feeds a copy to a capture (POSIX pipes: [`passthrough`], Unix only).
//! - [`record`]: `buildprof record` and `ingest --tee`: a capture stored with its labels.
//! - [`engine::Engine`]: the Docker Engine through bollard: version negotiation, clear
//!   connection errors, builder cache pruning, and `POST /build?version=2` whose raw body goes to
//!   a capture (the existing Engine API decoder reads it). [`build`]: one such build, stored.
//! - [`context::BuildContext`]: the build context as a tar stream, `.dockerignore` applied.
//!   Where the engine cannot read a context uploaded with the request (the containerd image
//!   store), [`session`] opens a BuildKit session on it and [`filesync`] sends the context
//!   through that, as the Docker CLI does.
//! - [`inputs`] and [`manifest`]: a build's inputs (Dockerfile, build args, a hash tree of the
//!   context) gathered while it runs, for `why`.
//! - [`experiment`]: the variants of an experiment and the runner of its matrix.
//! - [`steps::LiveSteps`] and [`view::CaptureView`]: what is running, done and cached so far,
//!   and the terminal line that shows it.
//! - [`interrupt`]: Ctrl-C and SIGTERM handling shared by the live commands (Unix; elsewhere
//!   signals keep their default effect).
//! - [`tee::tee_capture`]: echoes an input as it arrives while capturing it (`ingest --tee`).
//!
//! Everything here feeds the collector's decoders and assembler, as `ingest` does: a build
//! captured live is stored exactly as the same bytes ingested from a file would be, except for
//! its id (see [`capture::live_build_id`]) and the wall-clock times the capture adds where a
//! stream has none.

mod background;
pub mod build;
pub mod capture;
pub mod command;
pub mod context;
mod dockerignore;
pub mod engine;
pub mod experiment;
pub mod filesync;
mod hash_cache;
pub mod inputs;
pub mod interrupt;
pub mod manifest;
#[cfg(unix)]
mod passthrough;
pub mod record;
pub mod session;
pub mod steps;
mod tail;
pub mod tee;
pub mod view;

pub use capture::{Capture, CaptureConfig, CaptureOutcome, CaptureSender};
pub use command::{CommandOutput, CommandRun, RecordedCommand};
pub use engine::{BuildRequest, Engine, EngineError};
pub use steps::LiveSteps;
