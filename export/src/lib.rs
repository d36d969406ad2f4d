//! buildprof exports: what other programs read from buildprof.
//!
//! - [`columnar`]: the stored tables as Parquet, CSV or JSON Lines files (`buildprof export
//!   --format`), read from SQLite in chunks and written with polars' writers; [`tables`] picks
//!   the tables and writes each to its file (or stdout) atomically.
//! - [`otlp`]: builds as OpenTelemetry traces sent to an OTLP/HTTP endpoint (`export --otlp`).
//! - [`contract`]: the `--json` output of `builds`, `show` and `build`, kept apart from the
//!   collector's model so the model can change without breaking users' scripts.
//!
//! Nothing here renders for people; that is the `reports` crate.

pub mod columnar;
pub mod contract;
pub mod otlp;
pub mod tables;
