//! `buildprof export`: stored tables as Parquet/CSV/JSON Lines files, or builds as OpenTelemetry
//! traces sent to an OTLP/HTTP endpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use collector::store::{BuildFilter, Store};
use collector::time::parse_duration;
use export::columnar::ColumnarFormat;
use export::otlp::{export_builds, OtlpTarget};
use export::tables::{export_tables, table_list};
use reports::render::terminal::progress::Progress;

use super::{open_store, print, progress_wanted, text};
use crate::args::ScopeArgs;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["format", "otlp"])))]
pub struct ExportArgs {
    /// Columnar file format (with --out).
    #[arg(long, requires = "out", conflicts_with = "otlp", value_parser = PossibleValuesParser::new(ColumnarFormat::NAMES).try_map(|n| ColumnarFormat::from_name(&n).ok_or("unknown format")))]
    pub format: Option<ColumnarFormat>,
    /// Tables to export, comma-separated: builds, steps, labels, step_inputs, cache_operations,
    /// cache_layers, sources, or all (columns in docs/export.md).
    #[arg(long = "table", value_delimiter = ',', default_value = "builds")]
    pub tables: Vec<String>,
    /// Output file, or a folder when more than one table is exported (one file per table);
    /// `-` writes one csv or jsonl table to stdout.
    #[arg(long, requires = "format")]
    pub out: Option<PathBuf>,
    /// Send builds as OpenTelemetry traces to this OTLP/HTTP endpoint, e.g. http://HOST:4318
    /// (`/v1/traces` is appended unless the URL ends with it).
    #[arg(long, value_name = "URL", conflicts_with_all = ["format", "out"])]
    pub otlp: Option<String>,
    /// An HTTP header sent with every OTLP request (repeatable), e.g. `--otlp-header x-api-key=...`.
    #[arg(long = "otlp-header", value_name = "NAME=VALUE", requires = "otlp")]
    pub otlp_headers: Vec<String>,
    /// How long to wait for the OTLP endpoint to connect and to answer one request, e.g. `10s`,
    /// `2.5s`, `500ms`; retries of a request end after three times this.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, requires = "otlp")]
    pub otlp_timeout: std::time::Duration,
    /// `service.name` of the exported traces.
    #[arg(long, default_value = "docker-build", requires = "otlp")]
    pub service_name: String,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Never show a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(db: &Path, args: ExportArgs) -> Result<ExitCode> {
    let filter = args.scope.filter()?;
    if !db.exists() {
        bail!("database {} does not exist", db.display());
    }
    let store = open_store(db)?;
    match (&args.otlp, args.format, &args.out) {
        (Some(url), _, _) => otlp(&store, &filter, url, &args),
        (None, Some(format), Some(out)) => files(&store, &filter, format, out, &args),
        _ => bail!("give --format and --out, or --otlp URL"),
    }
}

fn files(
    store: &Store,
    filter: &BuildFilter,
    format: ColumnarFormat,
    out: &Path,
    args: &ExportArgs,
) -> Result<ExitCode> {
    let tables = table_list(&args.tables)?;
    let to_stdout = out.as_os_str() == "-";
    let progress = Progress::new(
        progress_wanted(args.quiet || to_stdout),
        "{spinner} exporting {msg}: {pos} rows {per_sec}",
        None,
    );
    let written = export_tables(store, filter, &tables, format, out, &mut |table, rows| {
        if let Some(b) = progress.bar() {
            b.set_message(table.to_string());
            b.set_position(rows);
        }
    })?;
    progress.finish();
    if !to_stdout {
        print(&text(written.iter().map(|w| w.line())))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn otlp(store: &Store, filter: &BuildFilter, url: &str, args: &ExportArgs) -> Result<ExitCode> {
    let progress = Progress::new(
        progress_wanted(args.quiet),
        "{spinner} exporting [{bar:30}] {pos}/{len} builds {eta}",
        Some(0),
    );
    let target = OtlpTarget {
        url,
        headers: &args.otlp_headers,
        service_name: &args.service_name,
        timeout: args.otlp_timeout,
    };
    let summary = export_builds(store, filter, &target, &mut |done, total| {
        if let Some(b) = progress.bar() {
            b.set_length(total);
            b.set_position(done);
        }
    })?;
    progress.finish();
    print(&text(summary.lines()))?;
    Ok(ExitCode::from(u8::from(summary.rejected_spans > 0)))
}
