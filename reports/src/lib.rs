//! buildprof reports: what people and programs read (terminal tables, the JSON contract,
//! Markdown, HTML, charts). Renderers never see a DataFrame, only plain result structs.

pub mod analysis;
pub mod chart;
pub mod columnar;
pub mod compose;
pub mod contract;
pub mod doc;
pub mod escape;
pub mod export;
pub mod fmt;
pub mod otlp;
pub mod report;
pub mod sections;
pub mod summary;
pub mod table;
pub mod terminal;
pub mod timeline;
