//! buildprof analyzer: polars analyses over the stored builds, returning plain serde structs.
//!
//! Data flow: SQLite (the collector's store) -> [`load`] (filtered in SQL, read column-wise
//! into polars frames, strings interned) -> the analyses -> result structs that the CLI prints
//! and the reports render. No DataFrame leaves this crate.
//!
//! Analyses: per-build [`metrics`] (hit ratios, [`savings`], pulls, cache I/O, [`busts`],
//! [`critical_path`], parallelism), [`compare`] (groups by a label, with [`stats`] and a
//! [`verdict`], plus the [`cost`] model), [`step_stats`], [`trends`], [`bust_report`].
//! [`synth`] makes synthetic histories for the benchmarks.

pub mod busts;
pub mod codes;
pub mod compare;
pub mod cost;
pub mod critical_path;
pub mod error;
pub mod experiment;
mod expr;
pub mod intern;
pub mod load;
pub mod metrics;
pub mod rng;
pub mod savings;
mod scan;
pub mod scope;
pub mod stats;
pub mod steps;
pub mod synth;
pub mod synth_store;
pub mod totals;
pub mod trends;
pub mod units;
pub mod why;

pub use error::{AnalyzeError, Result};
pub use scope::Scope;
