//! `Metric`: what a comparison compares per build, how it is computed from the per-build frame,
//! and the unit it is reported in.

use polars::prelude::*;
use serde::Serialize;

use crate::metrics::{hit_ratio, Needs};
use crate::units::{ms, round6};

/// What is compared, per build. With the `clap` feature it is a command-line value too, its
/// variants' docs the help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Wall time.
    Wall,
    /// Cache hits / Dockerfile instructions (FROM not counted).
    #[cfg_attr(feature = "clap", value(name = "hit_ratio", alias = "hit-ratio"))]
    HitRatio,
    /// Time the cache saved (typical run time of every hit).
    Saved,
    /// Time instructions spent running.
    Executed,
    /// Time spent pulling layers of remote hits and lazy misses.
    Pull,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::Wall,
        Metric::HitRatio,
        Metric::Saved,
        Metric::Executed,
        Metric::Pull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Wall => "wall",
            Metric::HitRatio => "hit_ratio",
            Metric::Saved => "saved",
            Metric::Executed => "executed",
            Metric::Pull => "pull",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Times are compared in nanoseconds and reported in milliseconds (`_ms` keys).
    pub fn is_time(self) -> bool {
        self != Metric::HitRatio
    }

    pub(super) fn needs(self) -> Option<Needs> {
        match self {
            Metric::Wall => None,
            Metric::HitRatio | Metric::Executed | Metric::Pull => Some(Needs::default()),
            Metric::Saved => Some(Needs {
                savings: true,
                ..Needs::default()
            }),
        }
    }

    /// The per-build value (ns for times, a ratio otherwise) from a [`per_build`] frame.
    pub(super) fn expr(self) -> Expr {
        match self {
            Metric::Wall => col("wall_ns").cast(DataType::Float64),
            Metric::HitRatio => hit_ratio(),
            Metric::Saved => col("saved_ns"),
            Metric::Executed => col("ran_ns").cast(DataType::Float64),
            Metric::Pull => col("pull_ns").cast(DataType::Float64),
        }
    }

    /// Output value from the internal unit: ms for times.
    pub(super) fn out(self, v: f64) -> f64 {
        if self.is_time() {
            ms(v)
        } else {
            round6(v)
        }
    }
}
