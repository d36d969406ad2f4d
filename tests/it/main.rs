//! The integration tests of the buildprof binary: each module drives the built binary on real
//! sample traces. One test binary, so the whole stack is linked once.

mod analysis;
mod cli;
mod common;
mod current_engine;
mod current_engine_live;
mod durability;
mod engine;
mod engine_timeouts;
mod experiment;
mod export;
mod links;
mod merge;
mod otlp;
mod record;
mod report;
mod report_browser;
mod report_safety;
mod schema_upgrade;
mod why;
