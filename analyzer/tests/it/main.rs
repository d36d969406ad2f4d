//! The analyzer's integration tests on real sample traces, as one test binary.

mod busts;
mod common;
mod critical_path;
mod savings;
mod stats;
mod strategy;
mod trends;
