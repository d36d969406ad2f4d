//! `buildprof merge`: job databases made from real traces merged into a team database; every row
//! copied exactly once, labels kept, newer schemas and non-databases refused, bad inputs atomic.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{bin, count, ingest, ok, rows};

use collector::store::schema::TABLES;

/// Two CI jobs: job A built with mode=min and mode=max, job B with inline cache; both also
/// ingested the same shared trace (one build, two jobs).
fn two_jobs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = dir.join("job-a.db");
    let b = dir.join("job-b.db");
    ingest(
        &a,
        &[
            "app1-series/010-min-web-iter3.rawjson",
            "app1-series/009-max-web-iter3.rawjson",
        ],
        &["runner=a", "branch=main"],
    );
    ingest(
        &a,
        &["busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt"],
        &["runner=a"],
    );
    ingest(
        &b,
        &[
            "app1-series/011-inline-web-iter3.rawjson",
            "app1-series/006-min-src-iter2.plain.log",
            "external/docker-actions-toolkit_fixture_docker_test-docker-action_SNHBPN_3.dockerbuild",
        ],
        &["runner=b", "branch=feature"],
    );
    // The shared build: in both jobs, with a conflicting branch label in B.
    ingest(
        &b,
        &["app1-series/010-min-web-iter3.rawjson"],
        &["runner=b", "extra=1"],
    );
    (a, b)
}

/// `buildprof merge --into team job`, which must succeed; returns what it printed.
fn merge_ok(team: &Path, job: &Path) -> String {
    ok(
        team,
        &[
            "merge",
            "--into",
            team.to_str().unwrap(),
            job.to_str().unwrap(),
        ],
    )
}

fn set(db: &Path, table: &str) -> BTreeSet<Vec<String>> {
    rows(db, table)
        .into_iter()
        .map(|mut r| {
            // `ingested_at` (the last column of builds) differs between two jobs' copies of the
            // shared build; the team keeps the first.
            if table == "builds" {
                r.pop();
            }
            r
        })
        .collect()
}

#[test]
fn merging_copies_every_row_once_and_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_jobs(dir.path());
    let team = dir.path().join("team.db");
    let out = bin()
        .args(["merge", "--json", "--into"])
        .arg(&team)
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let builds_a = count(&a, "SELECT count(*) FROM builds");
    let builds_b = count(&b, "SELECT count(*) FROM builds");
    assert_eq!(builds_a, 3);
    assert!(
        builds_b >= 4,
        "3 traces, one of them with several records, and the shared one"
    );
    assert_eq!(report["databases_merged"], 2);
    assert_eq!(report["builds_added"], builds_a + builds_b - 1);
    assert_eq!(report["builds_present"], 1);
    assert_eq!(report["inputs"][1]["builds_present"], 1);
    assert_eq!(
        report["inputs"][1]["label_conflicts"], 1,
        "runner=a vs runner=b"
    );
    assert_eq!(
        report["inputs"][1]["labels_added"], 1,
        "extra=1 added to the shared build"
    );
    assert_eq!(
        report["steps_added"],
        count(&team, "SELECT count(*) FROM steps")
    );

    // Every row of every table is the union of the jobs' rows (labels: the team keeps the first
    // value it saw for a key and gains keys it lacked).
    for table in TABLES
        .iter()
        .filter(|t| **t != "labels" && **t != "sources")
    {
        let union: BTreeSet<_> = set(&a, table).union(&set(&b, table)).cloned().collect();
        assert_eq!(set(&team, table), union, "table {table}");
        // The series is ingested without inputs (tests/it/why.rs merges recorded inputs).
        let without = ["cache_layers", "build_inputs", "build_args"];
        assert!(
            !union.is_empty() || without.contains(table),
            "{table} empty"
        );
    }
    let shared = "SELECT value FROM labels l JOIN builds b ON b.id = l.build_id WHERE b.source LIKE '%010-min-web-iter3.rawjson' AND key = ";
    let team_conn = rusqlite::Connection::open(&team).unwrap();
    let label = |k: &str| -> String {
        team_conn
            .query_row(&format!("{shared}'{k}'"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(label("runner"), "a");
    assert_eq!(label("branch"), "main");
    assert_eq!(label("extra"), "1");
    assert_eq!(
        count(&team, "SELECT count(*) FROM labels"),
        count(&a, "SELECT count(*) FROM labels") + count(&b, "SELECT count(*) FROM labels") - 1,
        "the shared build's runner label conflicts and the team keeps its own; extra is added"
    );
    // Both jobs' sources of the shared build are kept.
    assert_eq!(
        count(&team, "SELECT count(*) FROM sources"),
        count(&a, "SELECT count(*) FROM sources") + count(&b, "SELECT count(*) FROM sources") - 1,
        "the shared build has the same source path in both jobs"
    );

    // The same jobs again: nothing added, nothing changed.
    let before: Vec<_> = TABLES.iter().map(|t| set(&team, t)).collect();
    let text = ok(
        &team,
        &[
            "merge",
            "--into",
            team.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
    );
    assert!(text.contains("0 builds added"), "{text}");
    let after: Vec<_> = TABLES.iter().map(|t| set(&team, t)).collect();
    assert_eq!(before, after);

    // The analyses read the merged database like any other.
    let steps = ok(&team, &["builds", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&steps).unwrap();
    assert_eq!(
        list.as_array().unwrap().len() as i64,
        builds_a + builds_b - 1
    );
}

#[test]
fn folders_labels_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("artifacts");
    std::fs::create_dir_all(jobs.join("run-1")).unwrap();
    std::fs::create_dir_all(jobs.join("run-2")).unwrap();
    let j1 = jobs.join("run-1/buildprof.db");
    let j2 = jobs.join("run-2/buildprof.db");
    ingest(
        &j1,
        &["app1-series/001-max-src-iter1.rawjson"],
        &["repo=web"],
    );
    ingest(&j2, &["app1-series/002-min-src-iter1.rawjson"], &[]);
    // A database from a newer buildprof, a text file, and a SQLite file that is not ours.
    let newer = jobs.join("newer.db");
    std::fs::copy(&j1, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(
        &text,
        "not a database at all, just text that is long enough",
    )
    .unwrap();
    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();

    let team = dir.path().join("team.db");
    let out = bin()
        .args(["merge", "--label", "repo=api", "--into"])
        .arg(&team)
        .arg(&jobs)
        .arg(&text)
        .arg(&foreign)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("{}", newer.display()))
            && stderr.contains("schema version 99, newer than this buildprof supports"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{}", text.display())), "{stderr}");
    assert!(
        stderr.contains(&format!("{}", foreign.display()))
            && stderr.contains("is not a buildprof database"),
        "{stderr}"
    );
    assert!(stdout.contains("2 databases merged"), "{stdout}");
    assert!(stdout.contains("3 failed"), "{stdout}");
    assert_eq!(count(&team, "SELECT count(*) FROM builds"), 2);
    // --label fills a missing key and never overrides a job's own label.
    assert_eq!(
        count(
            &team,
            "SELECT count(*) FROM labels WHERE key = 'repo' AND value = 'web'"
        ),
        1
    );
    assert_eq!(
        count(
            &team,
            "SELECT count(*) FROM labels WHERE key = 'repo' AND value = 'api'"
        ),
        1
    );
    // Merging the team database into itself is refused.
    let out = bin()
        .args(["merge", "--into"])
        .arg(&team)
        .arg(&team)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is the database being merged into"));
}

#[test]
fn a_damaged_job_database_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.db");
    ingest(
        &job,
        &[
            "app1-series/001-max-src-iter1.rawjson",
            "app1-series/017-max-src-iter5.rawjson",
        ],
        &[],
    );
    rusqlite::Connection::open(&job)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
        .unwrap();
    let bytes = std::fs::read(&job).unwrap();
    let team = dir.path().join("team.db");
    ingest(&team, &["app1-series/003-inline-src-iter1.rawjson"], &[]);
    let steps_before = count(&team, "SELECT count(*) FROM steps");
    // Cut at several points past the schema pages: each either copies nothing or is refused.
    for cut in [bytes.len() / 2, bytes.len() * 3 / 4, bytes.len() - 4096] {
        let damaged = dir.path().join(format!("cut-{cut}.db"));
        std::fs::write(&damaged, &bytes[..cut]).unwrap();
        let out = bin()
            .args(["merge", "--into"])
            .arg(&team)
            .arg(&damaged)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "cut at {cut}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&damaged.display().to_string()), "{stderr}");
        assert_eq!(
            count(&team, "SELECT count(*) FROM builds"),
            1,
            "cut at {cut}"
        );
        assert_eq!(count(&team, "SELECT count(*) FROM steps"), steps_before);
    }
    let conn = rusqlite::Connection::open(&team).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn parallel_merges_into_one_team_database() {
    let dir = tempfile::tempdir().unwrap();
    let traces = [
        "app1-series/001-max-src-iter1.rawjson",
        "app1-series/002-min-src-iter1.rawjson",
        "app1-series/003-inline-src-iter1.rawjson",
        "app1-series/004-local-src-iter1.rawjson",
    ];
    let jobs: Vec<_> = traces
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let db = dir.path().join(format!("job-{i}.db"));
            ingest(&db, &[t], &[]);
            db
        })
        .collect();
    let team = dir.path().join("team.db");
    let children: Vec<_> = jobs
        .iter()
        .map(|j| {
            bin()
                .args(["merge", "--into"])
                .arg(&team)
                .arg(j)
                .arg(&jobs[0])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(count(&team, "SELECT count(*) FROM builds"), 4);
    let expected: i64 = jobs
        .iter()
        .map(|j| count(j, "SELECT count(*) FROM steps"))
        .sum();
    assert_eq!(count(&team, "SELECT count(*) FROM steps"), expected);
}

#[test]
fn finished_artifacts_are_left_untouched_and_live_databases_are_read_with_their_log() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.db");
    ingest(
        &job,
        &["app1-series/001-max-src-iter1.rawjson"],
        &["branch=main"],
    );
    let before = std::fs::read(&job).unwrap();
    let team = dir.path().join("team.db");
    merge_ok(&team, &job);
    assert_eq!(
        std::fs::read(&job).unwrap(),
        before,
        "the artifact is not modified"
    );
    let beside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("job.db-"))
        .collect();
    assert!(
        beside.is_empty(),
        "no -wal/-shm files left beside it: {beside:?}"
    );

    // A job still writing: its newest rows are only in the write-ahead log.
    let live = rusqlite::Connection::open(&job).unwrap();
    live.execute_batch(
        "PRAGMA wal_autocheckpoint = 0;
         INSERT INTO labels (build_id, key, value) SELECT id, 'late', 'yes' FROM builds;",
    )
    .unwrap();
    assert!(dir.path().join("job.db-wal").exists());
    merge_ok(&team, &job);
    assert_eq!(
        count(
            &team,
            "SELECT count(*) FROM labels WHERE key = 'late' AND value = 'yes'"
        ),
        1,
        "the label written to the live job's log is merged"
    );
    drop(live);
}

#[test]
fn a_job_failing_part_way_adds_nothing_while_its_batch_mates_land() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a-good.db");
    let odd = dir.path().join("b-odd.db");
    let late = dir.path().join("c-good.db");
    ingest(&good, &["app1-series/001-max-src-iter1.rawjson"], &[]);
    ingest(&odd, &["app1-series/002-min-src-iter1.rawjson"], &[]);
    ingest(&late, &["app1-series/003-inline-src-iter1.rawjson"], &[]);
    // Same schema, but one step's outcome breaks the team database's CHECK (written with the
    // checks off): the builds row copies, the steps do not, and the whole job must be undone.
    rusqlite::Connection::open(&odd)
        .unwrap()
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON; UPDATE step_rows SET outcome = 'bogus' WHERE seq = 3;",
        )
        .unwrap();
    let team = dir.path().join("team.db");
    let out = bin()
        .args(["merge", "--into"])
        .arg(&team)
        .args([&good, &odd, &late])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("b-odd.db"), "{stderr}");
    assert_eq!(count(&team, "SELECT count(*) FROM builds"), 2);
    assert_eq!(
        count(
            &team,
            "SELECT count(*) FROM builds WHERE source LIKE '%002-min-src-iter1%'"
        ),
        0,
        "nothing of the failed job"
    );
    assert_eq!(
        count(&team, "SELECT count(*) FROM steps"),
        count(&good, "SELECT count(*) FROM steps") + count(&late, "SELECT count(*) FROM steps")
    );
}

/// A copy of `good` at `dir/name` changed by `sql` (run with a plain connection, as an
/// attacker's own SQLite would).
fn hostile(dir: &Path, good: &Path, name: &str, sql: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::copy(good, &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    conn.execute_batch("PRAGMA journal_mode = DELETE").unwrap();
    drop(conn);
    path
}

/// Every row of every table of `db`.
fn everything(db: &Path) -> Vec<BTreeSet<Vec<String>>> {
    TABLES.iter().map(|t| set(db, t)).collect()
}

#[test]
fn hostile_job_databases_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b) = two_jobs(d);
    let team = d.join("team.db");
    merge_ok(&team, &a);
    let good = d.join("good.db");
    std::fs::copy(&b, &good).unwrap();
    // SQLite's own statistics tables (ANALYZE, as `synth` runs it) are not hostile.
    let analyzed = hostile(d, &a, "analyzed.db", "ANALYZE;");
    assert!(
        count(
            &analyzed,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'"
        ) > 0
    );
    merge_ok(&team, &analyzed);
    let before = everything(&team);
    let other_app = d.join("other-app.db");
    {
        let c = rusqlite::Connection::open(&other_app).unwrap();
        c.execute_batch(
            "PRAGMA user_version = 1; CREATE TABLE builds (id TEXT, owner TEXT);
             INSERT INTO builds VALUES ('x', 'someone');",
        )
        .unwrap();
    }
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (
            hostile(d, &good, "view.db", "ALTER TABLE label_rows RENAME TO real_labels;
             CREATE VIEW label_rows AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
             SELECT build_key, key, value FROM real_labels, n;"),
            "a view named \"label_rows\"",
        ),
        (
            hostile(d, &good, "redefined.db", "DROP VIEW labels;
             CREATE VIEW labels AS SELECT k.id AS build_id, l.key AS key, l.value AS value
             FROM label_rows l, build_keys k;"),
            "view \"labels\" defined differently",
        ),
        (
            hostile(d, &good, "trigger.db", "CREATE TRIGGER evil AFTER INSERT ON label_rows BEGIN DELETE FROM builds; END;"),
            "trigger \"evil\"",
        ),
        (
            hostile(d, &good, "extra.db", "CREATE TABLE payload (x);"),
            "table \"payload\", which is not part of buildprof's schema",
        ),
        (
            hostile(d, &good, "index.db", "CREATE INDEX steps_by_name ON step_defs (name);"),
            "index \"steps_by_name\"",
        ),
        (
            hostile(d, &good, "blob.db", "UPDATE step_rows SET error = zeroblob(50000000) WHERE seq = 0;"),
            "blob value (50000000 bytes) in step_rows.error",
        ),
        (
            hostile(d, &good, "long.db", "UPDATE step_defs SET name = printf('%.*c', 2000000, 'x');"),
            "value of 2000000 bytes in step_defs.name",
        ),
        (
            hostile(d, &good, "types.db", "UPDATE builds SET duration_ns = 'soon';"),
            "text value (4 bytes) in builds.duration_ns",
        ),
        (
            hostile(d, &good, "columns.db", "ALTER TABLE label_rows ADD COLUMN note TEXT;"),
            "table \"label_rows\" defined differently",
        ),
        (other_app.clone(), "other-app.db"),
    ];
    for (path, says) in &cases {
        let out = bin()
            .args([
                "merge",
                "--quiet",
                "--into",
                team.to_str().unwrap(),
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            err.contains(name) && err.contains(says),
            "{name}: {says:?} not in {err}"
        );
        assert_eq!(
            everything(&team),
            before,
            "{name} changed the team database"
        );
    }
    // A WAL file of another database beside a good one; a gzip file named .db.
    let wal_of = d.join("wal-donor.db");
    let donor = rusqlite::Connection::open(&wal_of).unwrap();
    donor
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(100000));",
        )
        .unwrap();
    let wal_job = d.join("with-foreign-wal.db");
    std::fs::copy(&good, &wal_job).unwrap();
    std::fs::copy(
        d.join("wal-donor.db-wal"),
        d.join("with-foreign-wal.db-wal"),
    )
    .unwrap();
    drop(donor);
    let gz = d.join("gzip.db");
    std::fs::write(
        &gz,
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00",
    )
    .unwrap();
    for path in [&wal_job, &gz] {
        let out = bin()
            .args([
                "merge",
                "--quiet",
                "--into",
                team.to_str().unwrap(),
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let name = path.file_name().unwrap().to_str().unwrap();
        // SQLite applies the foreign log's pages (its header is valid), and what it shows is
        // then not a buildprof database: refused.
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(name), "{err}");
        assert_eq!(
            everything(&team),
            before,
            "{name} changed the team database"
        );
    }
}

#[test]
fn a_job_cannot_change_builds_the_team_already_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, _) = two_jobs(d);
    let team = d.join("team.db");
    merge_ok(&team, &a);
    let before = everything(&team);
    // Same build ids, other contents, and one label the team lacks.
    let forged = hostile(
        d,
        &a,
        "forged.db",
        "UPDATE builds SET duration_ns = 1, status = 'failed', error = 'forged';
         UPDATE step_defs SET name = 'forged';
         UPDATE step_rows SET error = 'forged';
         UPDATE label_rows SET value = 'forged';
         INSERT INTO labels (build_id, key, value) SELECT id, 'added', 'yes' FROM builds;",
    );
    merge_ok(&team, &forged);
    let after = everything(&team);
    for (i, table) in TABLES.iter().enumerate() {
        if *table == "labels" {
            let added: BTreeSet<_> = after[i].difference(&before[i]).cloned().collect();
            assert!(
                before[i].is_subset(&after[i]),
                "no label changed or removed"
            );
            assert!(!added.is_empty());
            assert!(added.iter().all(|r| r[1].contains("added")), "{added:?}");
        } else {
            assert_eq!(after[i], before[i], "{table} changed");
        }
    }
}

#[test]
fn a_job_database_of_schema_1_merges_and_is_left_as_it_was() {
    older_job_database_merges(1);
}

#[test]
fn a_job_database_of_schema_2_merges_and_is_left_as_it_was() {
    older_job_database_merges(2);
}

/// A job database of an older schema `version` merges into a team database of the current
/// one with every row, from an upgraded copy: the job database itself is left as it was.
fn older_job_database_merges(version: i64) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_jobs(dir.path());
    let expected = dir.path().join("expected.db");
    merge_ok(&expected, &a);
    merge_ok(&expected, &b);
    crate::common::downgrade(&b, version);
    let before = std::fs::read(&b).unwrap();
    let team = dir.path().join("team.db");
    merge_ok(&team, &a);
    // The upgraded copy goes to the temp folder: a private one, to see that nothing is left.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let res = crate::common::bin()
        .env("TMPDIR", &tmp)
        .arg("--db")
        .arg(&team)
        .args([
            "merge",
            "--into",
            team.to_str().unwrap(),
            b.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    crate::common::assert_success(&res);
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("1 database"), "{out}");
    for table in [
        "builds",
        "steps",
        "labels",
        "step_inputs",
        "cache_layers",
        "cache_operations",
    ] {
        assert_eq!(set(&team, table), set(&expected, table), "{table}");
    }
    // Merged from an upgraded copy: the job database itself is unchanged, no copy is left.
    assert_eq!(std::fs::read(&b).unwrap(), before);
    let v: i64 = rusqlite::Connection::open(&b)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, version);
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temporary copies left"
    );
}
