//! The waterfall (Gantt) chart of one build: a row per step in start order, a bar per merged
//! interval, coloured by outcome, against seconds since the build started.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::theme::{class_color, Theme};
use super::{frame, nice_max, seconds_label, Drawn, Swatch};
use crate::render::escape::clean;
use crate::timeline::{StepClass, Timeline};

const ROW: u32 = 26;
const TOP: u32 = 34;
const BOTTOM: u32 = 52;
const WIDTH: u32 = 1120;
const NAME_AREA: u32 = 400;
/// Characters of a step name that fit the name area.
const NAME_CHARS: usize = 50;

pub fn size(t: &Timeline) -> (u32, u32) {
    let rows = t.steps.len().max(1) as u32;
    (WIDTH, TOP + BOTTOM + rows * ROW)
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Timeline,
    theme: &Theme,
) -> Drawn<DB> {
    let (legend, body) = root.split_vertically(TOP);
    let present: BTreeSet<StepClass> = t.steps.iter().map(|s| s.class).collect();
    let items: Vec<(Swatch, &str)> = StepClass::ALL
        .into_iter()
        .filter(|c| present.contains(c))
        .map(|c| (Swatch::Square(class_color(c)), c.label()))
        .collect();
    super::legend(&legend, NAME_AREA as i32, &items, theme)?;

    let n = t.steps.len().max(1) as u32;
    let span_s = nice_max(t.span_ms() / 1000.0);
    let names: Vec<String> = t.steps.iter().map(|s| clean(&s.name, NAME_CHARS)).collect();
    let mut chart = ChartBuilder::on(&body)
        .margin_right(24)
        .margin_bottom(6)
        .x_label_area_size(52)
        .y_label_area_size(NAME_AREA)
        .build_cartesian_2d(0f64..span_s, (0u32..(n - 1).max(1)).into_segmented())?;
    frame::mesh(&mut chart, theme)
        .disable_y_mesh()
        .x_labels(10)
        .y_labels(n as usize)
        .x_desc("time since the build started (s)")
        .x_label_formatter(&|v| seconds_label(*v, span_s))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if (*i as usize) < names.len() => {
                names[names.len() - 1 - *i as usize].clone()
            }
            _ => String::new(),
        })
        .draw()?;

    // Rows top-down in start order: step i sits in segment n-1-i.
    let min_w = span_s / 400.0;
    let mut bars = Vec::new();
    for (i, s) in t.steps.iter().enumerate() {
        let row = n - 1 - i as u32;
        let color = class_color(s.class);
        // A faint line from the first start to the last end ties a step's intervals together.
        if s.intervals.len() > 1 {
            let mut r = Rectangle::new(
                [
                    (s.start_ms / 1000.0, SegmentValue::Exact(row)),
                    (s.end_ms / 1000.0, SegmentValue::Exact(row + 1)),
                ],
                color.mix(0.25).filled(),
            );
            r.set_margin(11, 11, 0, 0);
            bars.push(r);
        }
        for &[a, z] in &s.intervals {
            let (a, z) = (a / 1000.0, z / 1000.0);
            let z = if z - a < min_w { a + min_w } else { z };
            let mut r = Rectangle::new(
                [
                    (a, SegmentValue::Exact(row)),
                    (z, SegmentValue::Exact(row + 1)),
                ],
                color.filled(),
            );
            r.set_margin(5, 5, 0, 0);
            bars.push(r);
        }
    }
    chart.draw_series(bars)?;
    Ok(())
}
