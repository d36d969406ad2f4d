//! Terminal output of the commands: plain text tables built from [`super::table::Table`] and
//! [`super::fmt`], one file per command (or pair of commands that show the same thing).

pub mod builds;
pub mod busts;
pub mod compare;
pub mod error_line;
pub mod experiment;
pub mod merge;
pub mod metrics;
pub mod progress;
pub mod steps;
pub mod stored;
pub mod trends;
pub mod why;

pub use builds::{builds_table, show_build};
