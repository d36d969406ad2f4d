//! `buildprof demo`: the main job on the bundled sample traces, in a fresh database under
//! `buildprof-demo/`, so it needs nothing set up.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::Outcome;
use collector::store::{BuildFilter, SourceInfo, Store};

use super::print;
use crate::cli::DemoArgs;
use crate::labels::parse_labels;
use crate::when::now_ns;

/// Where the demo writes its database (and, later, its reports).
pub const DEMO_DIR: &str = "buildprof-demo";

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let dir = match args.dir {
        Some(d) => d,
        None => default_dir()?,
    };
    let manifest = dir.join("manifest.tsv");
    let entries = read_manifest(&manifest)?;
    std::fs::create_dir_all(DEMO_DIR).with_context(|| format!("cannot create {DEMO_DIR}/"))?;
    let db = Path::new(DEMO_DIR).join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("cannot remove old {}", p.display()))?;
        }
    }
    let mut store = Store::open(&db)?;
    let mut stored = 0;
    for (file, labels) in &entries {
        let path = dir.join(file);
        let f = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let out = read_builds(file, f, None, &AssembleOptions::default())
            .with_context(|| format!("{}", path.display()))?;
        let source = SourceInfo {
            path: file.clone(),
            bytes: out.bytes,
            ingested_at: now_ns(),
        };
        let mut builds = out.builds;
        for b in &mut builds {
            b.labels.extend(labels.iter().cloned());
        }
        let batch: Vec<_> = builds.iter().map(|b| (b, &source)).collect();
        for inserted in store.insert_builds(&batch) {
            inserted?;
            stored += 1;
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
    debug_assert_eq!(stored, rows.len());
    text.push_str(&reports::terminal::builds_table(&rows));
    text.push_str(&lazy_miss_story(&store)?);
    text.push_str(&format!(
        "\nExplore: buildprof --db {} builds --label strategy=min\n         buildprof --db {} show <ID>\n",
        db.display(),
        db.display()
    ));
    print(&text)?;
    let report = super::report::demo_report(&store, Path::new(DEMO_DIR))?;
    print(&format!(
        "\nReport of the sample builds' last week: {}\n",
        report.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The build that shows why counting `CACHED` lines is not enough.
fn lazy_miss_story(store: &Store) -> Result<String> {
    let rows = store.list_builds(&BuildFilter {
        labels: vec![("strategy".into(), "min".into())],
        ..BuildFilter::default()
    })?;
    let Some(row) = rows.iter().find(|r| r.lazy_miss_count > 0) else {
        return Ok(String::new());
    };
    let b = store.load_build(&row.id)?;
    let reported_cached = b
        .steps
        .iter()
        .filter(|s| s.outcome.is_hit() || s.lazy_miss)
        .count();
    let hits = b.steps.iter().filter(|s| s.outcome.is_hit()).count();
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
        reports::fmt::duration_ns(lazy),
        pulled
    );
    let _ = hits;
    out.push_str(&reports::terminal::show_build(&b));
    Ok(out)
}

fn default_dir() -> Result<PathBuf> {
    let here = PathBuf::from("sample-traces");
    if here.join("manifest.tsv").exists() {
        return Ok(here);
    }
    let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces"));
    if built.join("manifest.tsv").exists() {
        return Ok(built);
    }
    bail!("no sample-traces/ folder here; pass --dir PATH to a folder with a manifest.tsv")
}

/// `file<TAB>demo<TAB>k=v,k=v` lines; rows with demo=no are skipped.
/// Label pairs.
type Labels = Vec<(String, String)>;

fn read_manifest(path: &Path) -> Result<Vec<(String, Labels)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, demo, labels] = cols[..] else {
            bail!(
                "{}:{}: expected 3 tab-separated columns",
                path.display(),
                i + 1
            );
        };
        if demo != "yes" {
            continue;
        }
        let labels: Vec<String> = labels
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        out.push((file.to_string(), parse_labels(&labels)?));
    }
    Ok(out)
}
