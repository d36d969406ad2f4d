//! `Chart`: one chart of a report (what it shows and its data), drawn with plotters as inline SVG
//! for HTML or as PNG for places that cannot show SVG. One file per kind of chart; the axes and
//! the column-chart frame they share are in `frame`.

mod builds;
mod causes;
mod frame;
mod png;
pub mod theme;
mod waterfall;
mod weekly;

pub use builds::MAX_COLUMNS as MAX_BUILD_BARS;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::timeline::Timeline;
use crate::weekly::model::{BuildPoint, CauseTime, Week};
use theme::{Theme, INK_PLACEHOLDER};

/// A chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    pub chart: &'static str,
    pub message: String,
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub enum ChartKind {
    /// The steps of one build on a time line, coloured by outcome.
    Waterfall(Timeline),
    /// Median and p90 wall time per week.
    WeeklyWall(Vec<Week>),
    /// Cache hit ratio and build count per week.
    WeeklyHits(Vec<Week>),
    /// Every build of the period, its wall time coloured by status.
    Builds(Vec<BuildPoint>),
    /// The period's re-run time per cause of the busts.
    RerunByCause(Vec<CauseTime>),
}

/// One chart with its file name stem, title and text alternative.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File name without extension when written beside a Markdown report (`waterfall`).
    pub stem: &'static str,
    pub title: String,
    /// What the chart says, for screen readers and where images are not shown.
    pub alt: String,
    pub kind: ChartKind,
}

impl Chart {
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        match &self.kind {
            ChartKind::Waterfall(t) => waterfall::size(t),
            ChartKind::WeeklyWall(_) | ChartKind::WeeklyHits(_) => (560, 300),
            ChartKind::Builds(_) => (1120, 300),
            ChartKind::RerunByCause(c) => (160 + 140 * c.len().max(2) as u32, 300),
        }
    }

    /// The chart as an SVG document; text, axes and grid use `currentColor`.
    pub fn svg(&self) -> Result<String, ChartError> {
        png::register_font();
        let size = self.size();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            self.draw(&root, &Theme::SVG)?;
            root.present().map_err(|e| self.error(e))?;
        }
        let ink = format!(
            "#{:02X}{:02X}{:02X}",
            INK_PLACEHOLDER.0, INK_PLACEHOLDER.1, INK_PLACEHOLDER.2
        );
        Ok(out.replace(&ink, "currentColor"))
    }

    /// The chart as a PNG image, dark on white, text in the bundled DejaVu Sans.
    pub fn png(&self) -> Result<Vec<u8>, ChartError> {
        png::register_font();
        let (w, h) = self.size();
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root, &Theme::PNG)?;
            root.present().map_err(|e| self.error(e))?;
        }
        png::encode(&rgb, w, h).map_err(|e| self.error(e))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        theme: &Theme,
    ) -> Result<(), ChartError> {
        if let Some(bg) = theme.background {
            root.fill(&bg).map_err(|e| self.error(e))?;
        }
        let drawn = match &self.kind {
            ChartKind::Waterfall(t) => waterfall::draw(root, t, theme),
            ChartKind::WeeklyWall(w) => weekly::draw_wall(root, w, theme),
            ChartKind::WeeklyHits(w) => weekly::draw_hits(root, w, theme),
            ChartKind::Builds(b) => builds::draw(root, b, theme),
            ChartKind::RerunByCause(c) => causes::draw(root, c, theme),
        };
        drawn.map_err(|e| self.error(e))
    }

    fn error(&self, e: impl std::fmt::Display) -> ChartError {
        ChartError {
            chart: self.stem,
            message: e.to_string(),
        }
    }
}

/// Result of a drawing function.
type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What a legend entry shows before its words.
#[derive(Clone, Copy)]
enum Swatch {
    Square(RGBColor),
    Dot(RGBColor),
    /// Words only, in the muted ink.
    None,
}

/// A row of legend entries starting at `x`, measured with the chart font.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mut x: i32,
    items: &[(Swatch, &str)],
    theme: &Theme,
) -> Drawn<DB> {
    for (swatch, words) in items {
        let style = match swatch {
            Swatch::None => theme.font_muted(15.0),
            _ => theme.font(15.0),
        };
        match swatch {
            Swatch::Square(c) => {
                area.draw(&Rectangle::new([(x, 10), (x + 14, 24)], c.filled()))?;
                x += 20;
            }
            Swatch::Dot(c) => {
                area.draw(&Circle::new((x + 7, 17), 5, c.filled()))?;
                x += 20;
            }
            Swatch::None => {}
        }
        area.draw(&Text::new(words.to_string(), (x, 10), style.clone()))?;
        let (w, _) = area.estimate_text_size(words, &style)?;
        x += w as i32 + 24;
    }
    Ok(())
}

/// Seconds with as many decimals as the scale needs.
fn seconds_label(v: f64, span_s: f64) -> String {
    if span_s < 2.0 {
        format!("{v:.2}")
    } else if span_s < 20.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A "nice" upper bound for an axis showing values up to `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let exp = 10f64.powf(max.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * exp >= max * 1.02 {
            return m * exp;
        }
    }
    10.0 * exp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{StepClass, TimelineStep};

    fn timeline() -> Timeline {
        let step = |name: &str, class, a: f64, z: f64| TimelineStep {
            name: name.into(),
            stage: None,
            kind: "RUN".into(),
            class,
            start_ms: a,
            end_ms: z,
            intervals: vec![[a, z]],
            duration_ms: z - a,
        };
        Timeline {
            build_id: "b".into(),
            source: "s".into(),
            status: "succeeded".into(),
            started_at: None,
            wall_ms: Some(4000),
            labels: Default::default(),
            steps: vec![
                step("[a 1/2] RUN one", StepClass::Cached, 0.0, 10.0),
                step("[a 2/2] RUN two", StepClass::LazyMiss, 10.0, 4000.0),
            ],
            steps_not_shown: 0,
        }
    }

    #[test]
    fn svg_follows_the_page_colour_and_png_has_text() {
        let chart = Chart {
            stem: "waterfall",
            title: "t".into(),
            alt: "a".into(),
            kind: ChartKind::Waterfall(timeline()),
        };
        let svg = chart.svg().unwrap();
        assert!(svg.contains("currentColor"));
        assert!(!svg.contains("#010203"), "the ink placeholder is replaced");
        assert!(svg.contains("time since the build started (s)"));
        assert!(svg.contains("lazy miss") && svg.contains("[a 2/2] RUN two"));
        // The lazy-miss bar is drawn in its colour.
        assert!(svg.contains("#F59E0B"));

        let png = chart.png().unwrap();
        let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), chart.size());
        // Text is anti-aliased by the bundled font: many shades of grey besides the palette.
        let shades: std::collections::HashSet<&[u8]> = buf.chunks(3).collect();
        assert!(
            shades.len() > 30,
            "only {} colours: no text drawn?",
            shades.len()
        );
    }

    #[test]
    fn nice_bounds() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(14.2), 15.0);
        assert_eq!(nice_max(9.0), 10.0);
        assert_eq!(nice_max(0.37), 0.4);
    }
}
