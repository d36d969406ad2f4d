//! `Store::insert_builds`: the builds of one input stored in batches keep the guarantees of one
//! transaction per build (same rows, idempotent, a failing build rolled back alone).

use std::path::Path;

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::Build;
use collector::store::{Inserted, SourceInfo, Store};

/// The real app1 traces, each one build.
pub(crate) fn sample_builds() -> Vec<Build> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces/app1-series");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| {
            let f = std::fs::File::open(p).unwrap();
            read_builds(
                &p.display().to_string(),
                f,
                None,
                &AssembleOptions::default(),
            )
            .unwrap()
            .builds
        })
        .collect()
}

/// Where the test builds say they came from (also for `store_reads`).
pub(crate) fn source() -> SourceInfo {
    SourceInfo {
        path: "input".into(),
        bytes: 1,
        ingested_at: 7,
        capture_wall_ns: None,
    }
}

/// Every row of the per-build tables, in a fixed order.
fn dump(store: &Store) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, order) in [
        ("builds", "id"),
        ("steps", "build_id, seq"),
        ("step_inputs", "build_id, seq, pos"),
        ("labels", "build_id, key"),
        ("cache_operations", "build_id, seq, op"),
        ("cache_layers", "build_id, seq, op, digest"),
        ("sources", "build_id, path"),
    ] {
        let conn = store.connection();
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .unwrap();
        let n = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let cols: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", cols.join(" | ")));
        }
    }
    rows
}

fn assert_no_dangling_rows(store: &Store) {
    let n: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM pragma_foreign_key_check()", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 0, "foreign keys hold");
}

#[test]
fn a_batch_stores_the_same_rows_as_one_transaction_per_build_and_only_once() {
    let mut builds = sample_builds();
    assert!(builds.len() >= 20);
    for (i, b) in builds.iter_mut().enumerate() {
        b.labels.insert("rep".into(), i.to_string());
    }
    let src = source();
    let batch: Vec<_> = builds.iter().map(|b| (b, &src)).collect();

    let mut one_by_one = Store::open_in_memory().unwrap();
    for b in &builds {
        assert_eq!(one_by_one.insert_build(b, &src).unwrap(), Inserted::New);
    }
    let mut batched = Store::open_in_memory().unwrap();
    let results = batched.insert_builds(&batch);
    assert_eq!(results.len(), builds.len());
    assert!(results.iter().all(|r| matches!(r, Ok(Inserted::New))));
    assert_eq!(dump(&batched), dump(&one_by_one));
    assert_no_dangling_rows(&batched);

    // Again: nothing new, and the same input order in the results.
    let again = batched.insert_builds(&batch);
    assert!(again.iter().all(|r| matches!(r, Ok(Inserted::Existing))));
    assert_eq!(dump(&batched), dump(&one_by_one));
}

#[test]
fn batches_are_split_by_steps_and_a_big_build_goes_alone() {
    let mut builds = sample_builds();
    // A build bigger than a whole batch, in the middle of small ones.
    let big = {
        let mut b = builds[0].clone();
        let template = b.steps.clone();
        while b.steps.len() <= collector::store::BATCH_STEPS {
            for s in &template {
                let mut s = s.clone();
                s.seq = b.steps.len() as u32;
                s.digest = format!("{}-{}", s.digest, s.seq);
                b.steps.push(s);
            }
        }
        b.id = "b".repeat(32);
        b
    };
    builds.insert(3, big);
    let src = source();
    let batch: Vec<_> = builds.iter().map(|b| (b, &src)).collect();
    let mut store = Store::open_in_memory().unwrap();
    let results = store.insert_builds(&batch);
    assert!(results.iter().all(|r| matches!(r, Ok(Inserted::New))));
    let steps: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM steps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        steps as usize,
        builds.iter().map(|b| b.steps.len()).sum::<usize>()
    );
    assert_no_dangling_rows(&store);
}

#[test]
fn a_build_that_cannot_be_stored_is_rolled_back_alone() {
    let mut builds = sample_builds();
    builds.truncate(6);
    // Two steps with the same seq: the steps insert of that build fails half-way.
    let broken = 2;
    let dup = builds[broken].steps[0].clone();
    let at = builds[broken].steps.len() / 2;
    builds[broken].steps.insert(at, dup);
    let src = source();
    let batch: Vec<_> = builds.iter().map(|b| (b, &src)).collect();
    let mut store = Store::open_in_memory().unwrap();
    let results = store.insert_builds(&batch);
    for (i, r) in results.iter().enumerate() {
        if i == broken {
            assert!(r.is_err(), "the broken build fails");
        } else {
            assert!(matches!(r, Ok(Inserted::New)), "build {i}: {r:?}");
        }
    }
    let dumped = dump(&store);
    let id = &builds[broken].id;
    assert!(
        !dumped.iter().any(|row| row.contains(id.as_str())),
        "no row of the failed build"
    );
    let stored: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM builds", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 5);
    assert_no_dangling_rows(&store);
}
