//! `JsonExporter`: the report as data (the same content as the HTML and Markdown, no layout).

use super::{ExportError, Exporter};
use crate::report::Report;

/// Pretty-printed JSON of [`Report`] (documented in `docs/report.md`).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn export(&self, report: &Report) -> Result<Vec<u8>, ExportError> {
        let mut out = serde_json::to_vec_pretty(report)?;
        out.push(b'\n');
        Ok(out)
    }
}
