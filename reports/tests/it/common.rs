//! A store holding sample traces with their manifest labels.

use std::path::PathBuf;

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::manifest::read_manifest;
use collector::model::Build;
use collector::store::{SourceInfo, Store};

pub fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-traces")
}

/// The sample builds whose file starts with `prefix`, labelled, in manifest order.
pub fn builds(prefix: &str) -> Vec<Build> {
    let mut out = Vec::new();
    for e in read_manifest(&samples().join("manifest.tsv")).unwrap() {
        if !e.file.starts_with(prefix) {
            continue;
        }
        let f = std::fs::File::open(samples().join(&e.file)).unwrap();
        for mut b in read_builds(&e.file, f, None, &AssembleOptions::default())
            .unwrap()
            .builds
        {
            b.labels.extend(e.labels.iter().cloned());
            out.push(b);
        }
    }
    out
}

/// An in-memory store holding `builds`.
pub fn store_of(builds: &[Build]) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    for b in builds {
        store
            .insert_build(b, &SourceInfo::now(b.source.clone(), 0))
            .unwrap();
    }
    store
}
