//! PNG output: the bundled DejaVu Sans registered for plotters' `ab_glyph` text, and RGB buffers
//! encoded as PNG. Bundling the font means PNG charts need no system fonts (see
//! `reports/assets/DejaVuSans-LICENSE.txt`: the Bitstream Vera licence allows redistribution).

use std::sync::Once;

use plotters::style::FontStyle;

use super::theme::FAMILY;

/// DejaVu Sans 2.37 from Debian's `fonts-dejavu-core`.
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

/// Registers the bundled font under [`FAMILY`] (once per process). SVG output needs it too:
/// plotters measures text with it to lay out label areas.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let registered = plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS);
        debug_assert!(
            registered.is_ok(),
            "the bundled DejaVu Sans is a valid font"
        );
    });
}

/// Encodes 8-bit RGB pixels as a PNG.
pub fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
    }
    Ok(out)
}
