//! `buildprof experiment`: a matrix of build variants x repetitions, run interleaved against
//! the engine, every build stored with `experiment`, `variant` and `rep` labels.
//!
//! - [`spec`]: the variants, from a TOML file or `--variant` specs (built-ins included).
//! - [`runner`]: runs the matrix (A B A B ...), applies file changes, prunes, records.
//! - [`medians`]: the per-variant medians printed at the end.

pub mod medians;
pub mod runner;
pub mod spec;
