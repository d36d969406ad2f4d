//! `buildprof synth`: write a synthetic history (real traces replayed with shifted times and
//! jittered durations, labelled `synthetic=true`) into the database, for benchmarks.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use analyzer::synth::{Synth, SynthOptions};
use anyhow::{bail, Context, Result};
use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::Build;
use collector::store::SourceInfo;

use super::{open_store, print};
use crate::cli_analysis::SynthArgs;
use crate::labels::parse_labels;
use crate::when::now_ns;

pub fn run(db: &Path, args: SynthArgs) -> Result<ExitCode> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => sample_dir()?,
    };
    let templates = templates(&dir, &args.from)?;
    if templates.is_empty() {
        bail!(
            "no trace in {}/manifest.tsv starts with {:?}",
            dir.display(),
            args.from
        );
    }
    let mut store = open_store(db)?;
    // A generated history can be rebuilt at will: trade durability for speed while writing it.
    store
        .connection()
        .execute_batch("PRAGMA synchronous = OFF")
        .context("cannot tune the database for bulk writes")?;
    let span = args.days as i64 * 86_400 * 1_000_000_000;
    let now = now_ns();
    let opts = SynthOptions {
        steps: args.steps,
        start_ns: now - span,
        span_ns: span,
        seed: args.seed,
    };
    let started = Instant::now();
    let mut synth = Synth::new(&templates, opts);
    let mut builds = 0u64;
    let mut pending: Vec<(Build, SourceInfo)> = Vec::new();
    let mut pending_steps = 0;
    loop {
        let next = synth.next();
        let flush = next.as_ref().is_none_or(|b| {
            pending_steps + b.steps.len() > collector::store::BATCH_STEPS && !pending.is_empty()
        });
        if flush {
            let batch: Vec<_> = pending.iter().map(|(b, s)| (b, s)).collect();
            for inserted in store.insert_builds(&batch) {
                inserted?;
                builds += 1;
                if builds % 10_000 == 0 {
                    eprintln!(
                        "synth: {builds} builds, {} steps, {:.0}s",
                        synth.steps(),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            pending.clear();
            pending_steps = 0;
        }
        let Some(b) = next else { break };
        let source = SourceInfo {
            path: b.source.clone(),
            bytes: 0,
            ingested_at: now,
        };
        pending_steps += b.steps.len();
        pending.push((b, source));
    }
    store
        .connection()
        .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .context("cannot finish the database")?;
    print(&format!(
        "synth: wrote {builds} synthetic builds ({} steps) replaying {} traces over {} days into {} in {:.1}s\n",
        synth.steps(),
        templates.len(),
        args.days,
        db.display(),
        started.elapsed().as_secs_f64()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The builds of the manifest's traces under `prefix`, with the manifest's labels.
fn templates(dir: &Path, prefix: &str) -> Result<Vec<Build>> {
    let manifest = dir.join("manifest.tsv");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, _demo, labels] = cols[..] else {
            continue;
        };
        if !file.starts_with(prefix) {
            continue;
        }
        let labels: Vec<String> = labels
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let labels = parse_labels(&labels)?;
        let path = dir.join(file);
        let f = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let read = read_builds(file, f, None, &AssembleOptions::default())
            .with_context(|| path.display().to_string())?;
        for mut b in read.builds {
            b.labels.extend(labels.iter().cloned());
            out.push(b);
        }
    }
    Ok(out)
}

fn sample_dir() -> Result<PathBuf> {
    for d in [
        PathBuf::from("sample-traces"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces")),
    ] {
        if d.join("manifest.tsv").exists() {
            return Ok(d);
        }
    }
    bail!("no sample-traces/ folder here; pass --dir PATH to a folder with a manifest.tsv")
}
