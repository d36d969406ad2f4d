//! Rendering: everything people read. One [`Renderer`] trait with a file per report format
//! (HTML, Markdown, JSON); Markdown and HTML are [`MarkupRenderer`]s that walk the same [`Doc`]
//! (laid out by [`layout`]) block by block, so they share tables and layout. Beside them: the
//! [`chart`]s (plotters, SVG and PNG), the [`terminal`] tables of the other commands, and the
//! helpers every output uses ([`fmt`] for numbers, [`escape`] for untrusted text, [`table`]).
//!
//! Renderers turn result structs into bytes or text; they never see a DataFrame or a database,
//! and the caller decides where the bytes go.

pub mod cause;
pub mod chart;
pub mod document;
pub mod escape;
pub mod fmt;
mod html;
mod json;
pub mod layout;
mod markdown;
pub mod reason;
pub mod table;
pub mod terminal;

pub use html::HtmlRenderer;
pub use json::JsonRenderer;
pub use markdown::{Images, MarkdownRenderer};

use crate::job_summary::model::JobSummary;
use crate::weekly::model::Report;
use chart::{Chart, ChartError};
use document::{Block, Doc, DocTable, MetricSet, Span};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("serializing the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Turns a report into the bytes of one output format.
pub trait Renderer {
    fn render_report(&self, report: &Report) -> Result<Vec<u8>, RenderError>;
}

/// A markup format: how each kind of block looks. [`MarkupRenderer::render`] walks a document.
pub trait MarkupRenderer {
    fn heading(&self, text: &str) -> String;
    fn paragraph(&self, spans: &[Span]) -> String;
    fn metrics(&self, metrics: &MetricSet) -> String;
    fn table(&self, table: &DocTable) -> String;
    fn chart(&self, chart: &Chart) -> Result<String, RenderError>;
    fn list(&self, items: &[Vec<Span>]) -> String;
    /// The whole document around its rendered blocks (title, page head and styles).
    fn document(&self, doc: &Doc, body: &str) -> String;

    fn render(&self, doc: &Doc) -> Result<String, RenderError> {
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

impl<T: MarkupRenderer> Renderer for T {
    fn render_report(&self, report: &Report) -> Result<Vec<u8>, RenderError> {
        Ok(self.render(&layout::report(report))?.into_bytes())
    }
}

/// Renders the CI job summary of one build (Markdown for `$GITHUB_STEP_SUMMARY`, or HTML).
pub fn render_summary(
    renderer: &impl MarkupRenderer,
    summary: &JobSummary,
) -> Result<Vec<u8>, RenderError> {
    Ok(renderer.render(&layout::summary(summary))?.into_bytes())
}

/// The CI job summary of one build as Markdown for `$GITHUB_STEP_SUMMARY` (no images), ended by
/// a newline: what `buildprof summary` prints.
pub fn summary_markdown(summary: &JobSummary) -> Result<String, RenderError> {
    let renderer = MarkdownRenderer {
        images: Images::None,
    };
    Ok(renderer.render(&layout::summary(summary))? + "\n")
}

/// The output formats of `buildprof report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportFormat {
    Html,
    Markdown,
    Json,
}

impl ReportFormat {
    /// `html`, `md` (or `markdown`), `json`.
    pub fn parse(s: &str) -> Option<ReportFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Some(ReportFormat::Html),
            "md" | "markdown" => Some(ReportFormat::Markdown),
            "json" => Some(ReportFormat::Json),
            _ => None,
        }
    }

    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Markdown => "md",
            ReportFormat::Json => "json",
        }
    }
}
