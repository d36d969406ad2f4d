//! The period's re-run time by cause: one column per cause (source changes, cold runners, base
//! image updates, ...), its share written above it.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{column, Columns};
use super::theme::{Theme, ACCENT};
use super::{nice_max, seconds_label, Drawn, Swatch};
use crate::weekly::model::CauseTime;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    causes: &[CauseTime],
    theme: &Theme,
) -> Drawn<DB> {
    let max_ms = causes.iter().map(|c| c.rerun_ms).max().unwrap_or(0);
    let top_s = nice_max(max_ms as f64 / 1000.0 * 1.15);
    let frame = Columns {
        legend: &[(
            Swatch::Square(ACCENT),
            "re-run time caused, share of the period's",
        )],
        columns: causes.len(),
        y_top: top_s,
        x_desc: "cause",
        y_desc: "re-run time (s)",
        x_label: &|i| {
            causes
                .get(i as usize)
                .map(|c| c.label.clone())
                .unwrap_or_default()
        },
        y_label: &|v| seconds_label(*v, top_s),
    };
    frame.draw(root, theme, |chart| {
        let bars = causes
            .iter()
            .enumerate()
            .map(|(i, c)| column(i, c.rerun_ms as f64 / 1000.0, ACCENT.mix(0.85).filled(), 12));
        chart.draw_series(bars)?;
        let shares = causes.iter().enumerate().map(|(i, c)| {
            Text::new(
                format!("{:.0}%", c.share * 100.0),
                (SegmentValue::CenterOf(i as u32), c.rerun_ms as f64 / 1000.0),
                theme.font(15.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        });
        chart.draw_series(shares)?;
        Ok(())
    })
}
