//! buildprof collector: decodes BuildKit progress streams, assembles builds and stores them.
//!
//! Data flow: bytes -> [`decode`] (one streaming decoder per format) -> [`event::Event`]s ->
//! [`assemble`] -> [`model::Build`] -> [`store`] (SQLite).

pub mod assemble;
pub mod classify;
pub mod decode;
pub mod error;
pub mod event;
pub mod ingest;
pub mod inputs;
pub mod manifest;
pub mod model;
pub mod outfile;
pub mod redact;
pub mod store;
pub mod time;

pub use error::{DecodeError, Position};
pub use event::Event;
pub use model::{Build, BuildStatus, Format, Outcome, Step, StepKind};
