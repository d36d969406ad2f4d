//! The builds of the period: one bar per build, its wall time, coloured by status.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{column, Columns};
use super::theme::{status_color, Theme};
use super::{nice_max, seconds_label, Drawn, Swatch};
use crate::weekly::model::BuildPoint;

const STATUSES: [&str; 4] = ["succeeded", "failed", "canceled", "incomplete"];

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    builds: &[BuildPoint],
    theme: &Theme,
) -> Drawn<DB> {
    let present: BTreeSet<&str> = builds.iter().map(|b| b.status.as_str()).collect();
    let legend: Vec<(Swatch, &str)> = STATUSES
        .into_iter()
        .filter(|s| present.contains(s))
        .map(|s| (Swatch::Square(status_color(s)), s))
        .collect();

    let timed: Vec<&BuildPoint> = builds.iter().filter(|b| b.wall_ms.is_some()).collect();
    let n = timed.len().max(1);
    let max_ms = timed.iter().filter_map(|b| b.wall_ms).max().unwrap_or(0);
    let top_s = nice_max(max_ms as f64 / 1000.0);
    let step = n.div_ceil(20).max(1);
    let frame = Columns {
        legend: &legend,
        columns: timed.len(),
        y_top: top_s,
        x_desc: "builds of the period, in start order",
        y_desc: "wall time (s)",
        x_label: &|i| {
            if (i as usize).is_multiple_of(step) {
                format!("{}", i + 1)
            } else {
                String::new()
            }
        },
        y_label: &|v| seconds_label(*v, top_s),
    };
    let gap = if n > 60 { 1 } else { 3 };
    frame.draw(root, theme, |chart| {
        let bars = timed.iter().enumerate().map(|(i, b)| {
            let secs = b.wall_ms.unwrap_or(0) as f64 / 1000.0;
            column(i, secs, status_color(&b.status).filled(), gap)
        });
        chart.draw_series(bars)?;
        Ok(())
    })
}
