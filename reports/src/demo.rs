//! `buildprof demo`: the main job on the bundled sample traces. Every trace the manifest marks
//! for the demo is ingested into a fresh database under [`DEMO_DIR`], the builds are listed, a
//! `mode=min` build whose "cached" steps ran anyway is shown step by step, and the HTML report
//! of the sample builds' last week is written beside the database.

use std::fs::File;
use std::path::{Path, PathBuf};

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::ingest::ReadError;
use collector::manifest::{read_manifest, ManifestError};
use collector::model::Outcome;
use collector::store::{BuildFilter, SourceInfo, Store, StoreError};

use crate::render::fmt::duration_ns;
use crate::render::terminal::{builds_table, show_build};
use crate::weekly::{latest_week_report, ReportError};

/// Where the demo writes its database and report.
pub const DEMO_DIR: &str = "buildprof-demo";

/// What the demo printed and wrote.
#[derive(Debug)]
pub struct Demo {
    /// The text to print: the builds, the lazy-miss story, where to look next.
    pub text: String,
    /// The HTML report written.
    pub report: PathBuf,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Trace {
        path: String,
        #[source]
        source: ReadError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Runs the demo on the traces of `dir` (a folder with a `manifest.tsv`), writing under
/// [`DEMO_DIR`] in the working directory; `now` stamps the report.
pub fn run_demo(dir: &Path, now: i64) -> Result<Demo, DemoError> {
    let entries: Vec<_> = read_manifest(&dir.join("manifest.tsv"))?
        .into_iter()
        .filter(|e| e.demo)
        .collect();
    let out = Path::new(DEMO_DIR);
    std::fs::create_dir_all(out).map_err(io(out))?;
    let db = out.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    let mut store = Store::open(&db)?;
    for entry in &entries {
        let path = dir.join(&entry.file);
        let f = File::open(&path).map_err(io(&path))?;
        let read =
            read_builds(&entry.file, f, None, &AssembleOptions::default()).map_err(|source| {
                DemoError::Trace {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        let mut builds = read.builds;
        let source = SourceInfo::now(entry.file.clone(), read.bytes);
        for stored in store.insert_labelled(&mut builds, &entry.labels, &source) {
            stored?;
        }
    }
    let rows = store.list_builds(&BuildFilter::default())?;
    let mut text = format!(
        "buildprof demo: {} sample traces from {} -> {} builds in {}\n\n",
        entries.len(),
        dir.display(),
        rows.len(),
        db.display()
    );
    text.push_str(&builds_table(&rows));
    text.push_str(&lazy_miss_story(&store)?);
    text.push_str(&format!(
        "\nExplore: buildprof --db {} builds --label strategy=min\n         buildprof --db {} show <ID>\n",
        db.display(),
        db.display()
    ));
    let report = latest_week_report(&store, out, now)?;
    Ok(Demo { text, report })
}

/// The build that shows why counting `CACHED` lines is not enough.
fn lazy_miss_story(store: &Store) -> Result<String, StoreError> {
    let rows = store.list_builds(&BuildFilter::default().with_label("strategy", "min"))?;
    let Some(row) = rows.iter().find(|r| r.lazy_miss_count > 0) else {
        return Ok(String::new());
    };
    let b = store.load_build(&row.id)?;
    let reported_cached = b
        .steps
        .iter()
        .filter(|s| s.outcome.is_hit() || s.lazy_miss)
        .count();
    let lazy: i64 = b
        .steps
        .iter()
        .filter(|s| s.lazy_miss)
        .map(|s| s.duration_ns)
        .sum();
    let pulled = b
        .steps
        .iter()
        .filter(|s| s.outcome == Outcome::Pulled)
        .count();
    let mut out = format!(
        "\nWhy not count CACHED lines: in {} (registry cache mode=min, cold builder) BuildKit reported {} steps cached,\n\
         but {} of them then ran anyway (lazy misses, {} of real work) and {} were pulled from the remote cache.\n\n",
        b.source,
        reported_cached,
        row.lazy_miss_count,
        duration_ns(lazy),
        pulled
    );
    out.push_str(&show_build(&b));
    Ok(out)
}

/// `sample-traces/` in the working directory, else the one this binary was built from.
pub fn default_sample_dir() -> Option<PathBuf> {
    [
        PathBuf::from("sample-traces"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../sample-traces")),
    ]
    .into_iter()
    .find(|d| d.join("manifest.tsv").exists())
}
