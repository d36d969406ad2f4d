//! buildprof reports: what people and programs read (terminal tables, the JSON contract,
//! Markdown, HTML, charts). Renderers never see a DataFrame, only plain result structs.

pub mod contract;
pub mod fmt;
pub mod table;
pub mod terminal;
