//! The reports crate on real sample traces, as one test binary: the weekly report and the job
//! summary put together from a store, and what the renderers make of them.

mod common;
mod documents;
mod terminal;
