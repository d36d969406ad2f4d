//! Test support: real sample traces ingested into an in-memory store with the labels from
//! `sample-traces/manifest.tsv`, and the same builds kept as `Build`s for independent checks.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::{Build, Outcome, Step, StepKind};
use collector::store::{SourceInfo, Store};

pub fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-traces")
}

/// `file -> labels` from the manifest.
pub fn manifest() -> BTreeMap<String, BTreeMap<String, String>> {
    collector::manifest::read_manifest(&samples().join("manifest.tsv"))
        .expect("manifest")
        .into_iter()
        .map(|e| (e.file, e.labels.into_iter().collect()))
        .collect()
}

/// The builds of one sample file, with its manifest labels.
pub fn read(file: &str) -> Vec<Build> {
    let labels = manifest().remove(file).unwrap_or_default();
    let path = samples().join(file);
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut builds = read_builds(file, f, None, &AssembleOptions::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .builds;
    for b in &mut builds {
        b.labels.extend(labels.clone());
    }
    builds
}

/// Files of the manifest under `prefix`.
pub fn files(prefix: &str) -> Vec<String> {
    manifest()
        .into_keys()
        .filter(|f| f.starts_with(prefix))
        .collect()
}

/// A store holding the builds of `files`; returns it with the builds, in file order.
pub fn store_of(files: &[String]) -> (Store, Vec<Build>) {
    let mut store = Store::open_in_memory().expect("store");
    let mut all = Vec::new();
    for file in files {
        for b in read(file) {
            let src = SourceInfo {
                path: file.clone(),
                bytes: 0,
                ingested_at: 0,
                capture_wall_ns: None,
            };
            store.insert_build(&b, &src).expect("insert");
            all.push(b);
        }
    }
    (store, all)
}

/// The app1 strategy series (24 builds: max, min, inline, local x 6).
pub fn app1_series() -> (Store, Vec<Build>) {
    store_of(&files("app1-series/"))
}

/// What the analyzer counts: Dockerfile instructions other than FROM.
pub fn counted(s: &Step) -> bool {
    s.kind.is_instruction() && s.kind != StepKind::From
}

pub fn is_hit(s: &Step) -> bool {
    matches!(s.outcome, Outcome::Cached | Outcome::Pulled)
}

/// Median with linear interpolation, written out here so tests do not use the analyzer's.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    assert!(n > 0);
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn label<'a>(b: &'a Build, k: &str) -> Option<&'a str> {
    b.labels.get(k).map(String::as_str)
}
