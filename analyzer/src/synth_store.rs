//! Writing a synthetic history into a store (`buildprof synth`): the manifest's real traces are
//! read as templates, replayed by [`Synth`] and stored in batches, with durability traded for
//! speed while writing (a generated history can be made again at will).

use std::fs::File;
use std::path::Path;

use collector::assemble::AssembleOptions;
use collector::ingest::{read_builds, ReadError};
use collector::manifest::{read_manifest, ManifestError};
use collector::model::Build;
use collector::store::{SourceInfo, Store, StoreError, BATCH_STEPS};

use crate::synth::{Synth, SynthOptions};

/// Why a synthetic history could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {source}")]
    Trace {
        path: String,
        #[source]
        source: ReadError,
    },
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no trace in {path} starts with {prefix:?}")]
    NoTemplates { path: String, prefix: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("tuning the database for bulk writes: {0}")]
    Tune(#[source] rusqlite::Error),
}

/// The builds of the manifest's traces whose path starts with `prefix`, with their labels.
pub fn templates(dir: &Path, prefix: &str) -> Result<Vec<Build>, SynthError> {
    let manifest = dir.join("manifest.tsv");
    let mut out = Vec::new();
    for entry in read_manifest(&manifest)? {
        if !entry.file.starts_with(prefix) {
            continue;
        }
        let path = dir.join(&entry.file);
        let f = File::open(&path).map_err(|source| SynthError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let read =
            read_builds(&entry.file, f, None, &AssembleOptions::default()).map_err(|source| {
                SynthError::Trace {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        for mut b in read.builds {
            b.labels.extend(entry.labels.iter().cloned());
            out.push(b);
        }
    }
    if out.is_empty() {
        return Err(SynthError::NoTemplates {
            path: manifest.display().to_string(),
            prefix: prefix.to_string(),
        });
    }
    Ok(out)
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub builds: u64,
    pub steps: u64,
}

/// Generates builds from `templates` until `opts.steps` steps are stored in `store`;
/// `progress` is called every 10,000 builds.
pub fn write_history(
    store: &mut Store,
    templates: &[Build],
    opts: SynthOptions,
    progress: &mut dyn FnMut(Written),
) -> Result<Written, SynthError> {
    let tune = |store: &Store, sql: &str| {
        store
            .connection()
            .execute_batch(sql)
            .map_err(SynthError::Tune)
    };
    tune(store, "PRAGMA synchronous = OFF")?;
    let mut synth = Synth::new(templates, opts);
    let mut builds = 0u64;
    let mut pending: Vec<(Build, SourceInfo)> = Vec::new();
    let mut pending_steps = 0;
    loop {
        let next = synth.next();
        let flush = next
            .as_ref()
            .is_none_or(|b| pending_steps + b.steps.len() > BATCH_STEPS && !pending.is_empty());
        if flush {
            let batch: Vec<_> = pending.iter().map(|(b, s)| (b, s)).collect();
            for inserted in store.insert_builds(&batch) {
                inserted?;
                builds += 1;
                if builds.is_multiple_of(10_000) {
                    progress(Written {
                        builds,
                        steps: synth.steps(),
                    });
                }
            }
            pending.clear();
            pending_steps = 0;
        }
        let Some(b) = next else { break };
        let source = SourceInfo {
            path: b.source.clone(),
            bytes: 0,
            ingested_at: opts.start_ns + opts.span_ns,
            capture_wall_ns: None,
        };
        pending_steps += b.steps.len();
        pending.push((b, source));
    }
    tune(
        store,
        "PRAGMA synchronous = NORMAL; PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;",
    )?;
    Ok(Written {
        builds,
        steps: synth.steps(),
    })
}
