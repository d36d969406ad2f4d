//! `AnalyzeError`: why an analysis could not answer (database, polars, or a question it cannot take).

/// Errors from the analyzer.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("reading the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("reading the database: {0}")]
    Value(#[from] rusqlite::types::FromSqlError),
    #[error("analysis failed in polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("no build in the selection has the label {key:?}; see `buildprof builds` for the labels stored")]
    NoLabel { key: String },
    #[error("baseline {baseline:?} is not a value of label {key:?}; values seen: {seen}")]
    UnknownBaseline {
        key: String,
        baseline: String,
        seen: String,
    },
    #[error("no build matches {0:?} (see `buildprof builds`)")]
    NoSuchBuild(String),
    #[error("{0}")]
    Invalid(String),
}

/// Result alias for the analyzer.
pub type Result<T, E = AnalyzeError> = std::result::Result<T, E>;
