//! Upgrading a database of an older schema in place: every row and every output kept, one line
//! on stderr, and a SIGKILL at any moment of the upgrade leaves the old or the new database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use collector::store::schema::{LATEST, TABLES};

use crate::common::{assert_success, bin, count, downgrade, rows, sample, schema_version};

/// The demo database of every bundled sample trace (74 builds), made in `dir`.
fn demo_db(dir: &Path) -> PathBuf {
    let out = bin()
        .current_dir(dir)
        .args(["demo", "--dir", &sample("")])
        .output()
        .unwrap();
    assert_success(&out);
    dir.join("buildprof-demo/demo.db")
}

/// What the commands that read a database print as JSON or CSV: the builds, each build's
/// `show`, `busts`, `why` and `summary`, the strategy comparison, step statistics, and every
/// table exported as CSV.
fn outputs(db: &Path, export_dir: &Path) -> Vec<(String, String)> {
    let run = |args: &[&str]| -> String {
        let out = bin().arg("--db").arg(db).args(args).output().unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let builds = run(&["builds", "--json"]);
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&builds)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 74);
    let mut all = vec![("builds".to_string(), builds)];
    for id in ids.iter().step_by(5) {
        for command in ["show", "busts", "why", "summary"] {
            all.push((format!("{command} {id}"), run(&[command, id, "--json"])));
        }
    }
    for args in [
        &["compare", "--by", "strategy", "--json"][..],
        &["steps", "--json"],
        &["trends", "--json"],
    ] {
        all.push((args.join(" "), run(args)));
    }
    std::fs::create_dir_all(export_dir).unwrap();
    let dir = export_dir.to_str().unwrap();
    run(&["export", "--table", "all", "--format", "csv", "--out", dir]);
    for table in TABLES {
        let csv = std::fs::read_to_string(export_dir.join(format!("{table}.csv"))).unwrap();
        all.push((format!("{table}.csv"), csv));
    }
    all
}

/// What `buildprof builds --limit 1` on `db` says on stderr (it must succeed).
fn first_build_stderr(db: &Path) -> String {
    let out = bin()
        .arg("--db")
        .arg(db)
        .args(["builds", "--limit", "1"])
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn databases_of_schema_1_and_2_upgrade_in_place_with_every_row_and_output_kept() {
    let dir = tempfile::tempdir().unwrap();
    let current = demo_db(dir.path());
    let want = outputs(&current, &dir.path().join("export-current"));
    let want_rows: Vec<_> = TABLES.iter().map(|t| rows(&current, t)).collect();
    for version in [1, 2] {
        let old = dir.path().join(format!("v{version}.db"));
        std::fs::copy(&current, &old).unwrap();
        downgrade(&old, version);
        assert_eq!(schema_version(&old), version);
        let err = first_build_stderr(&old);
        assert!(
            err.contains(&format!(
                "upgrading {} from schema version {version} to {LATEST}",
                old.display()
            )),
            "{err}"
        );
        assert_eq!(schema_version(&old), LATEST);
        for (table, want) in TABLES.iter().zip(&want_rows) {
            assert_eq!(
                &rows(&old, table),
                want,
                "{table} after upgrading v{version}"
            );
        }
        let got = outputs(&old, &dir.path().join(format!("export-v{version}")));
        assert_eq!(got.len(), want.len());
        for ((name, got), (_, want)) in got.iter().zip(&want) {
            assert_eq!(got, want, "{name} after upgrading v{version}");
        }
        // Upgraded once: the next command says nothing about it.
        assert!(!first_build_stderr(&old).contains("upgrading"));
    }
}

/// A version-1 database of `steps` synthetic steps, built once per test in `dir`.
fn synthetic_v1(dir: &Path, steps: u64) -> PathBuf {
    let db = dir.join("synth-v1.db");
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args(["synth", "--steps", &steps.to_string()])
        .output()
        .unwrap();
    assert_success(&out);
    downgrade(&db, 1);
    db
}

/// The schema version and the step and label counts of `db`, after checking its integrity.
fn state(db: &Path) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    drop(conn);
    (
        schema_version(db),
        count(db, "SELECT count(*) FROM steps"),
        count(db, "SELECT count(*) FROM labels"),
    )
}

#[test]
fn sigkill_during_an_upgrade_leaves_the_old_or_the_upgraded_database() {
    let dir = tempfile::tempdir().unwrap();
    let original = synthetic_v1(dir.path(), 20_000);
    let (_, steps, labels) = state(&original);
    assert!(steps >= 20_000);
    let db = dir.path().join("upgrading.db");
    let fresh = |db: &Path| {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        std::fs::copy(&original, db).unwrap();
    };
    // How long an uninterrupted upgrade takes (with the process start), to spread the kills.
    fresh(&db);
    let t = std::time::Instant::now();
    let upgrade = |db: &Path| {
        let mut c = bin();
        c.arg("--db")
            .arg(db)
            .args(["builds", "--limit", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    assert!(upgrade(&db).status().unwrap().success());
    assert_eq!(state(&db), (LATEST, steps, labels));
    let mut window = t.elapsed().as_micros() as u64;
    let mut rng = analyzer::rng::Rng::new(0x01d_5eed);
    let (mut killed_old, mut killed_upgraded) = (0, 0);
    fresh(&db);
    for _ in 0..36 {
        let mut child = upgrade(&db).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next_u64() % window.max(1)));
        let running = child.try_wait().unwrap().is_none();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        match state(&db) {
            (1, s, l) if (s, l) == (steps, labels) => {
                if running {
                    killed_old += 1;
                    window += window / 10;
                }
            }
            (v, s, l) if v == LATEST && (s, l) == (steps, labels) => {
                if running {
                    killed_upgraded += 1;
                }
                window -= window / 4;
                fresh(&db);
            }
            other => panic!("a kill left {other:?}, neither v1 nor v{LATEST} with {steps} steps"),
        }
    }
    assert!(
        killed_old >= 10,
        "only {killed_old} kills landed before the upgrade committed ({killed_upgraded} after)"
    );
    // Opening it again upgrades it.
    assert!(upgrade(&db).status().unwrap().success());
    assert_eq!(state(&db), (LATEST, steps, labels));
}
