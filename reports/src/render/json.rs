//! `JsonRenderer`: the report as data (the same content as the HTML and Markdown, no layout).

use super::{RenderError, Renderer};
use crate::weekly::model::Report;

/// Pretty-printed JSON of [`Report`] (documented in `docs/report.md`).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render_report(&self, report: &Report) -> Result<Vec<u8>, RenderError> {
        let mut out = serde_json::to_vec_pretty(report)?;
        out.push(b'\n');
        Ok(out)
    }
}
