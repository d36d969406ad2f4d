//! The builds of the period: one bar per build, its wall time, coloured by status.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::theme::{status_color, Theme};
use super::{nice_max, seconds_label, Drawn, Swatch};
use crate::report::BuildPoint;

const TOP: u32 = 30;
const STATUSES: [&str; 4] = ["succeeded", "failed", "canceled", "incomplete"];

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    builds: &[BuildPoint],
    theme: &Theme,
) -> Drawn<DB> {
    let (legend, body) = root.split_vertically(TOP);
    let present: BTreeSet<&str> = builds.iter().map(|b| b.status.as_str()).collect();
    let items: Vec<(Swatch, &str)> = STATUSES
        .into_iter()
        .filter(|s| present.contains(s))
        .map(|s| (Swatch::Square(status_color(s)), s))
        .collect();
    super::legend(&legend, 70, &items, theme)?;

    let timed: Vec<&BuildPoint> = builds.iter().filter(|b| b.wall_ms.is_some()).collect();
    let n = timed.len().max(1) as u32;
    let max_ms = timed.iter().filter_map(|b| b.wall_ms).max().unwrap_or(0);
    let top_s = nice_max(max_ms as f64 / 1000.0);
    let mut chart = ChartBuilder::on(&body)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0f64..top_s)?;
    let step = (n as usize).div_ceil(20).max(1);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n as usize)
        .y_labels(6)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if (*i as usize) % step == 0 => format!("{}", i + 1),
            _ => String::new(),
        })
        .y_label_formatter(&|v| seconds_label(*v, top_s))
        .x_desc("builds of the period, in start order")
        .y_desc("wall time (s)")
        .axis_style(theme.ink.mix(0.6))
        .bold_line_style(theme.grid())
        .light_line_style(TRANSPARENT)
        .label_style(theme.font(15.0))
        .axis_desc_style(theme.font_muted(15.0))
        .draw()?;
    let gap = if n > 60 { 1 } else { 3 };
    let bars = timed.iter().enumerate().map(|(i, b)| {
        let secs = b.wall_ms.unwrap_or(0) as f64 / 1000.0;
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i as u32), 0.0),
                (SegmentValue::Exact(i as u32 + 1), secs),
            ],
            status_color(&b.status).filled(),
        );
        r.set_margin(0, 0, gap, gap);
        r
    });
    chart.draw_series(bars)?;
    Ok(())
}
