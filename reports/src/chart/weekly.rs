//! Weekly trend charts: median and p90 wall time per week, and cache hit ratio per week with the
//! number of builds. Weeks without builds stay empty rather than being joined over.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::theme::{Theme, ACCENT, ACCENT_2};
use super::{nice_max, seconds_label, Drawn, Swatch};
use crate::report::Week;

const TOP: u32 = 30;

/// `2026-11-16` as `Nov 16`.
fn week_label(start: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = start.splitn(3, '-').skip(1);
    match (
        parts.next().and_then(|m| m.parse::<usize>().ok()),
        parts.next(),
    ) {
        (Some(m @ 1..=12), Some(d)) => format!("{} {}", MONTHS[m - 1], d.trim_start_matches('0')),
        _ => start.to_string(),
    }
}

pub fn draw_wall<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    weeks: &[Week],
    theme: &Theme,
) -> Drawn<DB> {
    let (legend, body) = root.split_vertically(TOP);
    super::legend(
        &legend,
        70,
        &[
            (Swatch::Square(ACCENT), "median"),
            (Swatch::Dot(ACCENT_2), "p90"),
        ],
        theme,
    )?;

    let n = weeks.len().max(1) as u32;
    let max_ms = weeks
        .iter()
        .filter_map(|w| w.p90_wall_ms.or(w.median_wall_ms))
        .max()
        .unwrap_or(0);
    let top_s = nice_max(max_ms as f64 / 1000.0);
    let labels: Vec<String> = weeks.iter().map(|w| week_label(&w.week_start)).collect();
    let every = if n > 8 { 2 } else { 1 };
    let mut chart = ChartBuilder::on(&body)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0f64..top_s)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n as usize)
        .y_labels(6)
        .x_label_formatter(&|v| match v {
            // Every other week when they crowd; the latest week always.
            SegmentValue::CenterOf(i) if (n as usize - 1 - *i as usize) % every == 0 => {
                labels.get(*i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .y_label_formatter(&|v| seconds_label(*v, top_s))
        .x_desc("week starting (UTC)")
        .y_desc("wall time (s)")
        .axis_style(theme.ink.mix(0.6))
        .bold_line_style(theme.grid())
        .light_line_style(TRANSPARENT)
        .label_style(theme.font(15.0))
        .axis_desc_style(theme.font_muted(15.0))
        .draw()?;
    let bars = weeks.iter().enumerate().filter_map(|(i, w)| {
        let med = w.median_wall_ms? as f64 / 1000.0;
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i as u32), 0.0),
                (SegmentValue::Exact(i as u32 + 1), med),
            ],
            ACCENT.mix(0.85).filled(),
        );
        r.set_margin(0, 0, 8, 8);
        Some(r)
    });
    chart.draw_series(bars)?;
    let p90s = weeks.iter().enumerate().filter_map(|(i, w)| {
        let p = w.p90_wall_ms? as f64 / 1000.0;
        Some((SegmentValue::CenterOf(i as u32), p))
    });
    chart.draw_series(p90s.map(|c| Circle::new(c, 5, ACCENT_2.filled())))?;
    Ok(())
}

pub fn draw_hits<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    weeks: &[Week],
    theme: &Theme,
) -> Drawn<DB> {
    let (legend, body) = root.split_vertically(TOP);
    super::legend(
        &legend,
        70,
        &[
            (Swatch::Square(ACCENT), "steps that were cache hits"),
            (Swatch::None, "n = builds that week"),
        ],
        theme,
    )?;

    let n = weeks.len().max(1) as u32;
    let labels: Vec<String> = weeks.iter().map(|w| week_label(&w.week_start)).collect();
    let every = if n > 8 { 2 } else { 1 };
    let mut chart = ChartBuilder::on(&body)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d((0u32..(n - 1).max(1)).into_segmented(), 0f64..110.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n as usize)
        .y_labels(6)
        .x_label_formatter(&|v| match v {
            // Every other week when they crowd; the latest week always.
            SegmentValue::CenterOf(i) if (n as usize - 1 - *i as usize) % every == 0 => {
                labels.get(*i as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .y_label_formatter(&|v| {
            if *v <= 100.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .x_desc("week starting (UTC)")
        .y_desc("cache hit ratio (%)")
        .axis_style(theme.ink.mix(0.6))
        .bold_line_style(theme.grid())
        .light_line_style(TRANSPARENT)
        .label_style(theme.font(15.0))
        .axis_desc_style(theme.font_muted(15.0))
        .draw()?;
    let bars = weeks.iter().enumerate().filter_map(|(i, w)| {
        let pct = w.hit_ratio? * 100.0;
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i as u32), 0.0),
                (SegmentValue::Exact(i as u32 + 1), pct),
            ],
            ACCENT.mix(0.85).filled(),
        );
        r.set_margin(0, 0, 8, 8);
        Some(r)
    });
    chart.draw_series(bars)?;
    let counts = weeks
        .iter()
        .enumerate()
        .filter(|(_, w)| w.builds > 0)
        .map(|(i, w)| {
            let y = w.hit_ratio.unwrap_or(0.0) * 100.0 + 2.0;
            Text::new(
                format!("n={}", w.builds),
                (SegmentValue::CenterOf(i as u32), y),
                theme.font(15.0).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            )
        });
    chart.draw_series(counts)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn week_labels() {
        assert_eq!(super::week_label("2026-11-16"), "Nov 16");
        assert_eq!(super::week_label("2026-01-05"), "Jan 5");
        assert_eq!(super::week_label("junk"), "junk");
    }
}
