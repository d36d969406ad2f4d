//! `Doc`: a small document model (headings, paragraphs, metric cards, tables, charts) that the
//! Markdown and HTML exporters both render, so the two formats always carry the same content.
//!
//! Text in a `Doc` is never pre-escaped: every exporter escapes every string it writes. Strings
//! that came from builds go in [`Span::Code`] (and code table columns), which both formats show
//! verbatim and inert.

use crate::render::chart::Chart;
use crate::render::table::Table;

/// A document: a title, a line under it, and blocks in order.
#[derive(Debug, Clone)]
pub struct Doc {
    pub title: String,
    pub subtitle: Vec<Span>,
    pub blocks: Vec<Block>,
}

/// One block of a document.
#[derive(Debug, Clone)]
pub enum Block {
    /// A section heading.
    Heading(String),
    Para(Vec<Span>),
    /// Headline numbers, each with its change.
    Metrics(MetricSet),
    Table(DocTable),
    Chart(Chart),
    /// A bulleted list.
    List(Vec<Vec<Span>>),
}

/// An inline piece of text.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Text(String),
    Strong(String),
    /// Shown verbatim in a monospace font: names and labels from builds.
    Code(String),
    /// A change, coloured by whether it is good news.
    Change(String, Tone),
}

/// Whether a change is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Neutral,
}

impl Tone {
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        }
    }
}

/// Headline numbers and what they are compared with.
#[derive(Debug, Clone)]
pub struct MetricSet {
    /// What the values are (`this period`, `this build`).
    pub current: String,
    /// What the previous values are (`previous 7 days`, `main, median of 10`).
    pub previous: String,
    pub items: Vec<MetricCard>,
}

/// One headline number.
#[derive(Debug, Clone)]
pub struct MetricCard {
    pub label: String,
    pub value: String,
    pub previous: String,
    pub change: String,
    pub tone: Tone,
}

/// A table, with the columns whose cells came from builds (shown as code).
#[derive(Debug, Clone)]
pub struct DocTable {
    pub table: Table,
    pub code_columns: Vec<usize>,
    /// A class for styling (HTML), e.g. `steps`.
    pub class: &'static str,
}

impl DocTable {
    pub fn is_code(&self, column: usize) -> bool {
        self.code_columns.contains(&column)
    }
}
