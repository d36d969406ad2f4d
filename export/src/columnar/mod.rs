//! Columnar export (`buildprof export --format parquet|csv|jsonl`): stored tables read from
//! SQLite in chunks into polars frames and written with polars' writers.
//!
//! Columns follow the database schema (`docs/schema.md`) with three changes that make the files
//! easier to load elsewhere: `*_at` columns are UTC timestamps (nanoseconds) instead of integers,
//! `lazy_miss` is a boolean, and `builds` gains a `labels` column (a JSON object). Every column
//! is documented in `docs/export.md`.

mod read;
mod write;

pub use read::{table_columns, ColumnKind, ExportColumn, TABLES};
pub use write::{export_table, ColumnarFormat, ExportStats};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ColumnarError {
    #[error("unknown table {0:?}: use one of builds, steps, labels, step_inputs, cache_operations, cache_layers, sources, or all")]
    UnknownTable(String),
    #[error("reading table {table}: {source}")]
    Sqlite {
        table: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("writing {table}: {source}")]
    Polars {
        table: String,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("writing {table}: {source}")]
    Io {
        table: String,
        #[source]
        source: std::io::Error,
    },
}
