//! `buildprof export`: stored tables as Parquet/CSV/JSON Lines files, or builds as OpenTelemetry
//! traces sent to an OTLP/HTTP endpoint.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use collector::store::{BuildFilter, Store};
use reports::columnar::{export_table, ColumnarFormat, TABLES};
use reports::otlp::{build_trace, Endpoint, ExportTraceServiceRequest, Sender};

use super::{open_store, print, progress_bar};
use crate::cli_team::{ExportArgs, ExportFormat};
use crate::when::build_filter;

/// Spans per OTLP request (collectors commonly accept a few MB per request).
const SPANS_PER_REQUEST: usize = 2_000;

pub fn run(db: &Path, args: ExportArgs) -> Result<ExitCode> {
    let filter = build_filter(
        &args.labels,
        args.since.as_deref(),
        args.until.as_deref(),
        None,
    )?;
    if !db.exists() {
        bail!("database {} does not exist", db.display());
    }
    let store = open_store(db)?;
    match (&args.otlp, args.format, &args.out) {
        (Some(url), _, _) => otlp(&store, &filter, url, &args),
        (None, Some(format), Some(out)) => columnar(&store, &filter, format, out, &args),
        _ => bail!("give --format and --out, or --otlp URL"),
    }
}

fn columnar(
    store: &Store,
    filter: &BuildFilter,
    format: ExportFormat,
    out: &Path,
    args: &ExportArgs,
) -> Result<ExitCode> {
    let tables = table_list(&args.tables)?;
    let to_stdout = out.as_os_str() == "-";
    if to_stdout && (tables.len() > 1 || format == ExportFormat::Parquet) {
        bail!("--out - writes one csv or jsonl table to stdout; give a file or folder");
    }
    let kind = match format {
        ExportFormat::Parquet => ColumnarFormat::Parquet,
        ExportFormat::Csv => ColumnarFormat::Csv,
        ExportFormat::Jsonl => ColumnarFormat::Jsonl,
    };
    let conn = store.connection();
    if to_stdout {
        let mut stdout = BufWriter::new(std::io::stdout().lock());
        export_table(conn, tables[0], filter, kind, &mut stdout, &mut |_| {})?;
        stdout.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let targets: Vec<(&str, PathBuf)> = if tables.len() == 1 && !out.is_dir() {
        vec![(tables[0], out.to_path_buf())]
    } else {
        std::fs::create_dir_all(out)
            .with_context(|| format!("cannot create folder {}", out.display()))?;
        tables
            .iter()
            .map(|t| (*t, out.join(format!("{t}.{}", format.extension()))))
            .collect()
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal())
        .then(|| progress_bar("{spinner} exporting {msg}: {pos} rows {per_sec}", None));
    let mut lines = Vec::new();
    for (table, path) in targets {
        if let Some(b) = &bar {
            b.set_message(table.to_string());
        }
        let rows = write_atomically(&path, |w| {
            let stats = export_table(conn, table, filter, kind, w, &mut |n| {
                if let Some(b) = &bar {
                    b.set_position(n);
                }
            })?;
            Ok(stats.rows)
        })
        .with_context(|| format!("cannot export {table} to {}", path.display()))?;
        lines.push(format!(
            "wrote {rows} rows of {table} to {}\n",
            path.display()
        ));
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    print(&lines.concat())?;
    Ok(ExitCode::SUCCESS)
}

/// Writes through a temporary file beside `path` and renames it into place, so a failed export
/// never leaves a truncated file under the final name.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<u64>,
) -> Result<u64> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        let rows = write(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(rows)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn table_list(names: &[String]) -> Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for n in names {
        let n = n.trim();
        if n == "all" {
            out.extend(TABLES.iter().copied());
            continue;
        }
        match TABLES.iter().find(|t| **t == n) {
            Some(t) => out.push(t),
            None => bail!("unknown table {n:?}: use {}, or all", TABLES.join(", ")),
        }
    }
    out.dedup();
    Ok(out)
}

fn otlp(store: &Store, filter: &BuildFilter, url: &str, args: &ExportArgs) -> Result<ExitCode> {
    let endpoint = Endpoint::parse(url)?;
    let shown = endpoint.url();
    let sender = Sender::new(endpoint, &args.otlp_headers)?;
    let ids: Vec<String> = store
        .list_builds(filter)?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let bar = (!args.quiet && std::io::stderr().is_terminal() && ids.len() > 1).then(|| {
        progress_bar(
            "{spinner} exporting [{bar:30}] {pos}/{len} builds {eta}",
            Some(ids.len() as u64),
        )
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (mut exported, mut spans, mut skipped, mut rejected) = (0u64, 0u64, 0u64, 0i64);
    let mut pending = ExportTraceServiceRequest::default();
    let mut pending_spans = 0usize;
    let mut pending_builds = 0u64;
    let mut messages: Vec<String> = Vec::new();
    let mut flush = |request: &mut ExportTraceServiceRequest| -> Result<()> {
        if request.resource_spans.is_empty() {
            return Ok(());
        }
        let accepted = runtime.block_on(sender.send(request))?;
        rejected += accepted.rejected_spans;
        if !accepted.message.is_empty() {
            messages.push(accepted.message);
        }
        request.resource_spans.clear();
        Ok(())
    };
    for id in &ids {
        let build = store.load_build(id)?;
        match build_trace(&build, &args.service_name) {
            Some(trace) => {
                let n: usize = trace.scope_spans.iter().map(|s| s.spans.len()).sum();
                pending_spans += n;
                pending_builds += 1;
                spans += n as u64;
                pending.resource_spans.push(trace);
            }
            None => skipped += 1,
        }
        if pending_spans >= SPANS_PER_REQUEST {
            flush(&mut pending)?;
            exported += pending_builds;
            pending_spans = 0;
            pending_builds = 0;
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    flush(&mut pending)?;
    exported += pending_builds;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut text = format!("exported {exported} builds ({spans} spans) to {shown}\n");
    if skipped > 0 {
        text.push_str(&format!(
            "skipped {skipped} builds without wall-clock times (plain logs without CI timestamps)\n"
        ));
    }
    if rejected > 0 {
        text.push_str(&format!(
            "the collector rejected {rejected} spans: {}\n",
            reports::fmt::printable(&messages.join("; "))
        ));
    }
    print(&text)?;
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
