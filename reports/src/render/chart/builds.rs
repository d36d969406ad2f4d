//! The builds of the period: one bar per build, its wall time, coloured by status. A long
//! period (more builds than [`MAX_COLUMNS`]) is drawn with one bar per run of consecutive
//! builds: the slowest of them, coloured by the worst status among them, so a chart of a year
//! stays a chart (a bar per pixel at most) and its outliers stay visible.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{column, Columns};
use super::theme::{status_color, Theme};
use super::{nice_max, seconds_label, Drawn, Swatch};
use crate::weekly::model::BuildPoint;

const STATUSES: [&str; 4] = ["succeeded", "failed", "canceled", "incomplete"];
/// At most this many bars (the chart is 1120 px wide: 5 px per bar or more).
pub const MAX_COLUMNS: usize = 200;

/// One bar: the wall time (ms) and status it shows.
struct Bar<'a> {
    wall_ms: i64,
    status: &'a str,
}

/// The bars for `timed` builds: one per build, or one per run of `per` consecutive builds
/// (its slowest wall, its worst status: failed, canceled, incomplete, then succeeded).
fn bars<'a>(timed: &[&'a BuildPoint], per: usize) -> Vec<Bar<'a>> {
    let rank = |s: &str| match s {
        "failed" => 3,
        "canceled" => 2,
        "incomplete" => 1,
        _ => 0,
    };
    timed
        .chunks(per.max(1))
        .map(|run| Bar {
            wall_ms: run.iter().filter_map(|b| b.wall_ms).max().unwrap_or(0),
            status: run
                .iter()
                .map(|b| b.status.as_str())
                .max_by_key(|s| rank(s))
                .unwrap_or("succeeded"),
        })
        .collect()
}

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
    let per = timed.len().div_ceil(MAX_COLUMNS).max(1);
    let bars = bars(&timed, per);
    let n = bars.len().max(1);
    let max_ms = bars.iter().map(|b| b.wall_ms).max().unwrap_or(0);
    let top_s = nice_max(max_ms as f64 / 1000.0);
    let step = n.div_ceil(20).max(1);
    let x_desc = if per == 1 {
        "builds of the period, in start order".to_string()
    } else {
        format!("builds of the period, in start order; each bar the slowest of {per}")
    };
    let frame = Columns {
        legend: &legend,
        columns: bars.len(),
        y_top: top_s,
        x_desc: &x_desc,
        y_desc: "wall time (s)",
        x_label: &|i| {
            if (i as usize).is_multiple_of(step) {
                format!("{}", i as usize * per + 1)
            } else {
                String::new()
            }
        },
        y_label: &|v| seconds_label(*v, top_s),
    };
    let gap = if n > 60 { 1 } else { 3 };
    frame.draw(root, theme, |chart| {
        let columns = bars.iter().enumerate().map(|(i, b)| {
            let secs = b.wall_ms as f64 / 1000.0;
            column(i, secs, status_color(b.status).filled(), gap)
        });
        chart.draw_series(columns)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(i: usize, status: &str, wall_ms: i64) -> BuildPoint {
        BuildPoint {
            id: format!("b{i}"),
            started_at: None,
            status: status.into(),
            wall_ms: Some(wall_ms),
            hit_ratio: None,
            group: None,
        }
    }

    #[test]
    fn a_long_period_is_drawn_as_runs_keeping_the_slowest_and_the_worst_status() {
        let mut builds: Vec<BuildPoint> = (0..1000).map(|i| point(i, "succeeded", 1000)).collect();
        builds[503] = point(503, "failed", 1);
        builds[777].wall_ms = Some(90_000);
        let timed: Vec<&BuildPoint> = builds.iter().collect();
        let per = timed.len().div_ceil(MAX_COLUMNS);
        let bars = bars(&timed, per);
        assert_eq!((per, bars.len()), (5, 200));
        assert_eq!(bars[100].status, "failed");
        assert_eq!(bars[100].wall_ms, 1000);
        assert_eq!(bars[155].wall_ms, 90_000);
        assert_eq!(bars.iter().filter(|b| b.status != "succeeded").count(), 1);
        // A short period keeps a bar per build.
        assert_eq!(super::bars(&timed[..150], 1).len(), 150);
    }
}
