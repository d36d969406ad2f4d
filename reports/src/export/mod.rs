//! Exporters: one trait, one file per format. An exporter turns a [`Report`] into bytes; the
//! caller decides where they go. Markdown and HTML are [`MarkupExporter`]s: they render the same
//! [`Doc`] (built by [`crate::sections`]) block by block, so they share tables and layout.

mod html;
mod json;
mod markdown;

pub use html::HtmlExporter;
pub use json::JsonExporter;
pub use markdown::{Images, MarkdownExporter};

use crate::chart::{Chart, ChartError};
use crate::doc::{Block, Doc, DocTable, MetricSet, Span};
use crate::report::Report;
use crate::summary::JobSummary;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("serializing the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Turns a report into the bytes of one output format.
pub trait Exporter {
    fn export(&self, report: &Report) -> Result<Vec<u8>, ExportError>;
}

/// A markup format: how each kind of block looks. [`MarkupExporter::render`] walks a document.
pub trait MarkupExporter {
    fn heading(&self, text: &str) -> String;
    fn paragraph(&self, spans: &[Span]) -> String;
    fn metrics(&self, metrics: &MetricSet) -> String;
    fn table(&self, table: &DocTable) -> String;
    fn chart(&self, chart: &Chart) -> Result<String, ExportError>;
    fn list(&self, items: &[Vec<Span>]) -> String;
    /// The whole document around its rendered blocks (title, page head and styles).
    fn document(&self, doc: &Doc, body: &str) -> String;

    fn render(&self, doc: &Doc) -> Result<String, ExportError> {
        let mut body = String::new();
        for block in &doc.blocks {
            body.push_str(&match block {
                Block::Heading(h) => self.heading(h),
                Block::Para(spans) => self.paragraph(spans),
                Block::Metrics(m) => self.metrics(m),
                Block::Table(t) => self.table(t),
                Block::Chart(c) => self.chart(c)?,
                Block::List(items) => self.list(items),
            });
        }
        Ok(self.document(doc, &body))
    }
}

impl<T: MarkupExporter> Exporter for T {
    fn export(&self, report: &Report) -> Result<Vec<u8>, ExportError> {
        Ok(self.render(&crate::sections::report(report))?.into_bytes())
    }
}

/// Renders the CI job summary of one build (Markdown for `$GITHUB_STEP_SUMMARY`, or HTML).
pub fn export_summary(
    exporter: &impl MarkupExporter,
    summary: &JobSummary,
) -> Result<Vec<u8>, ExportError> {
    Ok(exporter
        .render(&crate::sections::summary(summary))?
        .into_bytes())
}

/// The output formats of `buildprof report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Html,
    Markdown,
    Json,
}

impl Format {
    /// `html`, `md` (or `markdown`), `json`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}
