//! Writing one table as Parquet (zstd), CSV (with a header) or JSON Lines, chunk by chunk, so
//! memory stays bounded by one chunk however large the history is.

use std::io::Write;

use collector::store::BuildFilter;
use polars::prelude::*;
use polars_io::csv::write::CsvWriter;
use polars_io::parquet::write::{ParquetCompression, ParquetWriter};
use polars_io::SerWriter;
use rusqlite::Connection;

use super::read::{read_chunks, table_columns, Times};
use super::ColumnarError;

/// Rows per chunk read from SQLite (and per Parquet row group).
const CHUNK_ROWS: usize = 50_000;

/// The file formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnarFormat {
    Parquet,
    Csv,
    Jsonl,
}

impl ColumnarFormat {
    /// The names `export --format` takes.
    pub const NAMES: [&'static str; 3] = ["parquet", "csv", "jsonl"];

    /// The format named by one of [`Self::NAMES`].
    pub fn from_name(name: &str) -> Option<ColumnarFormat> {
        match name {
            "parquet" => Some(ColumnarFormat::Parquet),
            "csv" => Some(ColumnarFormat::Csv),
            "jsonl" => Some(ColumnarFormat::Jsonl),
            _ => None,
        }
    }

    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            ColumnarFormat::Parquet => "parquet",
            ColumnarFormat::Csv => "csv",
            ColumnarFormat::Jsonl => "jsonl",
        }
    }
}

/// What one table export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportStats {
    pub table: String,
    pub rows: u64,
}

/// A writer for one format, fed frame by frame.
enum Sink<W: Write> {
    Parquet(Box<polars_io::parquet::write::BatchedWriter<W>>),
    Csv(polars_io::csv::write::BatchedWriter<W>),
    Jsonl(polars_io::json::BatchedWriter<W>),
}

/// Writes the rows of `table` belonging to builds matching `filter` to `out`; `progress` is
/// called with the number of rows written so far after each chunk.
pub fn export_table<W: Write>(
    conn: &Connection,
    table: &str,
    filter: &BuildFilter,
    format: ColumnarFormat,
    out: W,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportStats, ColumnarError> {
    let columns = table_columns(conn, table)?;
    let pe = |source| ColumnarError::Polars {
        table: table.to_string(),
        source,
    };
    let mut sink: Option<Sink<W>> = None;
    let mut out = Some(out);
    let mut written = 0u64;
    let times = match format {
        ColumnarFormat::Parquet => Times::Typed,
        ColumnarFormat::Csv | ColumnarFormat::Jsonl => Times::Rfc3339,
    };
    let rows = read_chunks(
        conn,
        table,
        &columns,
        filter,
        times,
        CHUNK_ROWS,
        &mut |df| {
            if sink.is_none() {
                let w = out.take().expect("the output is taken once");
                sink = Some(open_sink(format, w, df.schema()).map_err(pe)?);
            }
            let s = sink.as_mut().expect("opened above");
            match s {
                Sink::Parquet(p) => p.write_batch(&df),
                Sink::Csv(c) => c.write_batch(&df),
                Sink::Jsonl(j) => j.write_batch(&df),
            }
            .map_err(pe)?;
            written += df.height() as u64;
            progress(written);
            Ok(())
        },
    )?;
    match sink {
        Some(Sink::Parquet(p)) => {
            p.finish().map_err(pe)?;
        }
        Some(Sink::Csv(mut c)) => c.finish().map_err(pe)?,
        Some(Sink::Jsonl(_)) | None => {}
    }
    Ok(ExportStats {
        table: table.to_string(),
        rows,
    })
}

fn open_sink<W: Write>(format: ColumnarFormat, out: W, schema: &Schema) -> PolarsResult<Sink<W>> {
    Ok(match format {
        ColumnarFormat::Parquet => Sink::Parquet(Box::new(
            ParquetWriter::new(out)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(schema)?,
        )),
        ColumnarFormat::Csv => Sink::Csv(CsvWriter::new(out).include_header(true).batched(schema)?),
        ColumnarFormat::Jsonl => Sink::Jsonl(polars_io::json::BatchedWriter::new(out)),
    })
}
