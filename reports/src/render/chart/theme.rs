//! `Theme`: the colours and fonts charts are drawn with. SVG charts draw text, axes and grid in a
//! placeholder colour that becomes `currentColor`, so the page's light or dark scheme decides
//! them; PNG charts are drawn dark on white. Fill colours are mid-tones that read on both.

use plotters::style::{
    Color as _, FontDesc, FontFamily, FontStyle, IntoFont, RGBAColor, RGBColor, TextStyle,
};

use crate::timeline::StepClass;

/// The placeholder for "the text colour of the page", replaced by `currentColor` in SVG output.
pub const INK_PLACEHOLDER: RGBColor = RGBColor(0x01, 0x02, 0x03);

/// The family every chart uses; PNG output registers DejaVu Sans under this name.
pub const FAMILY: &str = "sans-serif";

/// Colours and fonts for one output.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Text and axes.
    pub ink: RGBColor,
    /// Page background, painted only where the output has none of its own (PNG).
    pub background: Option<RGBColor>,
}

impl Theme {
    /// For SVG inline in a page: ink follows the page (`currentColor`), no background.
    pub const SVG: Theme = Theme {
        ink: INK_PLACEHOLDER,
        background: None,
    };
    /// For PNG files: dark ink on white.
    pub const PNG: Theme = Theme {
        ink: RGBColor(0x1f, 0x29, 0x37),
        background: Some(RGBColor(0xff, 0xff, 0xff)),
    };

    /// Grid lines: the ink, faint.
    pub fn grid(&self) -> RGBAColor {
        self.ink.mix(0.14)
    }

    /// Secondary text (axis descriptions, notes): the ink, a little lighter.
    pub fn muted(&self) -> RGBAColor {
        self.ink.mix(0.75)
    }

    pub fn font(&self, size: f64) -> TextStyle<'static> {
        font(size).color(&self.ink)
    }

    pub fn font_muted(&self, size: f64) -> TextStyle<'static> {
        font(size).color(&self.muted())
    }
}

fn font(size: f64) -> FontDesc<'static> {
    (FontFamily::Name(FAMILY), size, FontStyle::Normal).into_font()
}

/// The fill colour of a step class.
pub fn class_color(c: StepClass) -> RGBColor {
    match c {
        StepClass::Cached => RGBColor(0x22, 0xa0, 0x5a),
        StepClass::Pulled => RGBColor(0x3b, 0x82, 0xf6),
        StepClass::Executed => RGBColor(0x8b, 0x5c, 0xf6),
        StepClass::LazyMiss => RGBColor(0xf5, 0x9e, 0x0b),
        StepClass::Failed => RGBColor(0xe1, 0x1d, 0x48),
        StepClass::Canceled => RGBColor(0x94, 0xa3, 0xb8),
    }
}

/// The main series colour (median wall time, hit ratio).
pub const ACCENT: RGBColor = RGBColor(0x3b, 0x82, 0xf6);
/// The second series colour (p90).
pub const ACCENT_2: RGBColor = RGBColor(0xf5, 0x9e, 0x0b);

/// The fill colour of a build status.
pub fn status_color(status: &str) -> RGBColor {
    match status {
        "succeeded" => ACCENT,
        "failed" => class_color(StepClass::Failed),
        "canceled" => class_color(StepClass::Canceled),
        _ => class_color(StepClass::LazyMiss),
    }
}
