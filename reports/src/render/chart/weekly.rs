//! Weekly trend charts: median and p90 wall time per week, and cache hit ratio per week with the
//! number of builds. Weeks without builds stay empty rather than being joined over.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{column, Columns};
use super::theme::{Theme, ACCENT, ACCENT_2};
use super::{nice_max, seconds_label, Drawn, Swatch};
use crate::weekly::model::Week;

const X_DESC: &str = "week starting (UTC)";

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

/// The labels under the weeks: every other week when they crowd, the latest week always.
fn week_labels(weeks: &[Week]) -> impl Fn(u32) -> String {
    let labels: Vec<String> = weeks.iter().map(|w| week_label(&w.week_start)).collect();
    let n = weeks.len().max(1);
    let every = if n > 8 { 2 } else { 1 };
    move |i| {
        if (n - 1 - i as usize).is_multiple_of(every) {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

pub fn draw_wall<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    weeks: &[Week],
    theme: &Theme,
) -> Drawn<DB> {
    let max_ms = weeks
        .iter()
        .filter_map(|w| w.p90_wall_ms.or(w.median_wall_ms))
        .max()
        .unwrap_or(0);
    let top_s = nice_max(max_ms as f64 / 1000.0);
    let frame = Columns {
        legend: &[
            (Swatch::Square(ACCENT), "median"),
            (Swatch::Dot(ACCENT_2), "p90"),
        ],
        columns: weeks.len(),
        y_top: top_s,
        x_desc: X_DESC,
        y_desc: "wall time (s)",
        x_label: &week_labels(weeks),
        y_label: &|v| seconds_label(*v, top_s),
    };
    frame.draw(root, theme, |chart| {
        let medians = weeks.iter().enumerate().filter_map(|(i, w)| {
            let med = w.median_wall_ms? as f64 / 1000.0;
            Some(column(i, med, ACCENT.mix(0.85).filled(), 8))
        });
        chart.draw_series(medians)?;
        let p90s = weeks.iter().enumerate().filter_map(|(i, w)| {
            let p = w.p90_wall_ms? as f64 / 1000.0;
            Some((SegmentValue::CenterOf(i as u32), p))
        });
        chart.draw_series(p90s.map(|c| Circle::new(c, 5, ACCENT_2.filled())))?;
        Ok(())
    })
}

pub fn draw_hits<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    weeks: &[Week],
    theme: &Theme,
) -> Drawn<DB> {
    let frame = Columns {
        legend: &[
            (Swatch::Square(ACCENT), "steps that were cache hits"),
            (Swatch::None, "n = builds that week"),
        ],
        columns: weeks.len(),
        y_top: 110.0,
        x_desc: X_DESC,
        y_desc: "cache hit ratio (%)",
        x_label: &week_labels(weeks),
        y_label: &|v| {
            if *v <= 100.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        },
    };
    frame.draw(root, theme, |chart| {
        let bars = weeks.iter().enumerate().filter_map(|(i, w)| {
            let pct = w.hit_ratio? * 100.0;
            Some(column(i, pct, ACCENT.mix(0.85).filled(), 8))
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
    })
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
