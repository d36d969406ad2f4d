//! buildprof reports: what people read. Two documents are put together here from the
//! analyzer's results, the weekly report ([`weekly`]) and a build's CI job summary
//! ([`job_summary`]), plus the [`demo`]; everything is drawn by [`render`] (terminal tables,
//! Markdown, HTML, JSON, charts). Renderers never see a DataFrame, only plain result structs.

pub mod demo;
pub mod job_summary;
pub mod render;
pub mod timeline;
pub mod weekly;
