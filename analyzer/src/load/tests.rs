//! Loading: the split (two-thread) scan of a file database reads exactly what the single scan
//! reads, and label/time filters select the builds SQL says they do.

use std::path::PathBuf;

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::manifest::read_manifest;
use collector::model::Build;
use collector::store::{SourceInfo, Store};
use polars::prelude::*;

use super::{copy_from, split_ident, Loaded, Split, StepSelect};
use crate::Scope;

/// The builds of the sample traces under `prefix`, labelled as the manifest says.
fn samples(prefix: &str) -> Vec<(String, Build)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-traces");
    let mut out = Vec::new();
    for e in read_manifest(&dir.join("manifest.tsv")).unwrap() {
        if !e.file.starts_with(prefix) {
            continue;
        }
        let f = std::fs::File::open(dir.join(&e.file)).unwrap();
        for mut b in read_builds(&e.file, f, None, &AssembleOptions::default())
            .unwrap()
            .builds
        {
            b.labels.extend(e.labels.iter().cloned());
            out.push((e.file.clone(), b));
        }
    }
    out
}

/// One step row with ids resolved to text.
type Row = (
    String,
    u32,
    u32,
    u32,
    bool,
    i64,
    String,
    Option<u32>,
    bool,
    bool,
);

/// The text of a stored digest id.
fn digest_text(conn: &rusqlite::Connection, id: u32) -> String {
    conn.query_row("SELECT digest FROM digests WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Rows as comparable tuples with ids resolved to text, sorted.
fn rows(conn: &rusqlite::Connection, l: &Loaded) -> Vec<Row> {
    let s = &l.steps;
    let c = |n: &str| s.column(n).unwrap();
    let (build, seq, kind, outcome) = (
        c("build").u32().unwrap(),
        c("seq").u32().unwrap(),
        c("kind").u32().unwrap(),
        c("outcome").u32().unwrap(),
    );
    let (lazy, dur, ident) = (
        c("lazy").bool().unwrap(),
        c("dur_ns").i64().unwrap(),
        c("ident").u32().unwrap(),
    );
    let (index, digest, parent) = (
        c("stage_index").u32().unwrap(),
        c("digest").u32().unwrap(),
        c("parent").u32().unwrap(),
    );
    let mut out: Vec<_> = (0..s.height())
        .map(|i| {
            let (stage, instr) = split_ident(l.idents.name(ident.get(i).unwrap()));
            (
                l.build_id(build.get(i).unwrap()).to_string(),
                seq.get(i).unwrap(),
                kind.get(i).unwrap(),
                outcome.get(i).unwrap(),
                lazy.get(i).unwrap(),
                dur.get(i).unwrap(),
                format!(
                    "{stage:?} {instr} {}",
                    digest.get(i).map_or("-".into(), |d| digest_text(conn, d))
                ),
                index.get(i),
                digest.get(i).is_some(),
                parent.get(i).is_some(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn split_scan_equals_single_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = Store::open(&path).unwrap();
    let mut n = 0;
    for (file, b) in samples("app1-series/")
        .into_iter()
        .chain(samples("engine-20.10/"))
    {
        store
            .insert_build(
                &b,
                &SourceInfo {
                    path: file,
                    bytes: 0,
                    ingested_at: 0,
                    capture_wall_ns: None,
                },
            )
            .unwrap();
        n += 1;
    }
    let select = StepSelect {
        all_kinds: true,
        identity: true,
    };
    let one =
        Loaded::load_with(store.connection(), &Scope::default(), select, Split::Never).unwrap();
    let two =
        Loaded::load_with(store.connection(), &Scope::default(), select, Split::Always).unwrap();
    assert_eq!(one.builds.height(), n);
    let conn = store.connection();
    let (a, b) = (rows(conn, &one), rows(conn, &two));
    assert!(a.len() > 600);
    assert_eq!(a, b);
    // Parents resolve to the same digests both ways.
    let parents = |l: &Loaded| -> Vec<String> {
        let p = l.steps.column("parent").unwrap().u32().unwrap();
        let mut v: Vec<String> = p.iter().flatten().map(|d| digest_text(conn, d)).collect();
        v.sort();
        v
    };
    assert_eq!(parents(&one), parents(&two));
    // With a label filter only the labelled builds' steps come back.
    let min = Scope::default().with_label("strategy", "min");
    let l = Loaded::load_with(store.connection(), &min, select, Split::Always).unwrap();
    assert_eq!(l.builds.height(), 6);
    let keys: std::collections::HashSet<u32> = l
        .steps
        .column("build")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(keys.len(), 6);
    let _ = l.steps.clone().lazy().collect().unwrap();
}

#[test]
fn copy_from_names_the_stage() {
    assert_eq!(
        copy_from("COPY --from=deps /venv /venv").as_deref(),
        Some("deps")
    );
    assert_eq!(
        copy_from("COPY --chown=1:1 --from=0 /a /b").as_deref(),
        Some("stage-0")
    );
    assert_eq!(copy_from("COPY src /app"), None);
    assert_eq!(copy_from("RUN echo --from=x"), None);
    assert_eq!(split_ident("deps\x1fRUN x"), (Some("deps"), "RUN x"));
    assert_eq!(split_ident("\x1fRUN x"), (None, "RUN x"));
}
