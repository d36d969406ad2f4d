//! No write through a planted link: every file `report` and `export` write, with a symbolic
//! link at its name (to a file, to a folder, dangling) or a hard link, is replaced by a plain
//! file and what the link pointed to is left as it was; a folder or FIFO at the name is an error.
//! `merge --into` refuses a link rather than following it.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::common::{app1_series, run};

/// The series ran on 2026-11-22.
const PERIOD: [&str; 4] = ["--since", "2026-11-22", "--until", "2026-11-23"];

/// Where planted links point: a file, an empty folder and a name that does not exist.
struct Victims {
    file: PathBuf,
    folder: PathBuf,
    nowhere: PathBuf,
}

impl Victims {
    fn new(root: &Path) -> Victims {
        let v = Victims {
            file: root.join("victim.txt"),
            folder: root.join("victim-folder"),
            nowhere: root.join("nowhere"),
        };
        std::fs::write(&v.file, "precious").unwrap();
        std::fs::create_dir(&v.folder).unwrap();
        v
    }

    /// Plants at `at` link kind `kind` (0 to a file, 1 to a folder, 2 dangling, 3 hard link).
    fn plant(&self, at: &Path, kind: usize) {
        match kind % 4 {
            0 => symlink(&self.file, at).unwrap(),
            1 => symlink(&self.folder, at).unwrap(),
            2 => symlink(&self.nowhere, at).unwrap(),
            _ => std::fs::hard_link(&self.file, at).unwrap(),
        }
    }

    #[track_caller]
    fn untouched(&self, what: &str) {
        assert_eq!(
            std::fs::read_to_string(&self.file).unwrap(),
            "precious",
            "{what}"
        );
        assert_eq!(
            std::fs::read_dir(&self.folder).unwrap().count(),
            0,
            "{what}"
        );
        assert!(!self.nowhere.exists(), "{what}");
    }
}

/// The names a run writes into `out` (a fresh folder).
fn names(out: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[track_caller]
/// Every expected name is a plain file now, at least `min_len` bytes long, and nothing else is
/// there.
fn all_plain_files(out: &Path, expected: &[String], what: &str, min_len: usize) {
    assert_eq!(&names(out), expected, "{what}: no temporary file left");
    for n in expected {
        let m = std::fs::symlink_metadata(out.join(n)).unwrap();
        assert!(m.is_file(), "{what}: {n} is a plain file now");
        assert!(
            std::fs::read(out.join(n)).unwrap().len() >= min_len,
            "{what}: {n}"
        );
    }
}

#[test]
fn report_replaces_every_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    app1_series(&db);
    for (formats, png) in [("html,md,json", false), ("md", true)] {
        let clean = dir.path().join(format!("clean-{png}"));
        let mut args = vec![
            "report",
            "--out",
            clean.to_str().unwrap(),
            "--format",
            formats,
        ];
        args.extend(PERIOD);
        if png {
            args.push("--png");
        }
        assert!(run(&db, &args).status.success());
        let expected = names(&clean);
        assert!(expected.len() >= 3, "{expected:?}");
        // Each name gets each kind of link in one of four runs.
        for round in 0..4 {
            let root = dir.path().join(format!("r{png}{round}"));
            std::fs::create_dir(&root).unwrap();
            let victims = Victims::new(&root);
            let out = root.join("out");
            std::fs::create_dir(&out).unwrap();
            for (i, n) in expected.iter().enumerate() {
                victims.plant(&out.join(n), i + round);
            }
            let mut args = args.clone();
            args[2] = out.to_str().unwrap();
            let res = run(&db, &args);
            assert!(
                res.status.success(),
                "{}",
                String::from_utf8_lossy(&res.stderr)
            );
            let what = format!("report {formats} png={png} round {round}");
            victims.untouched(&what);
            all_plain_files(&out, &expected, &what, 11);
        }
    }
}

#[test]
fn export_replaces_every_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    app1_series(&db);
    for format in ["parquet", "csv", "jsonl"] {
        let clean = dir.path().join(format!("clean-{format}"));
        let base = ["export", "--format", format, "--table", "all", "--out"];
        let mut args: Vec<&str> = base.to_vec();
        args.push(clean.to_str().unwrap());
        assert!(run(&db, &args).status.success());
        let expected = names(&clean);
        let tables = collector::store::schema::TABLES.len();
        assert_eq!(expected.len(), tables, "{expected:?}");
        for round in 0..4 {
            let root = dir.path().join(format!("{format}{round}"));
            std::fs::create_dir(&root).unwrap();
            let victims = Victims::new(&root);
            let out = root.join("out");
            std::fs::create_dir(&out).unwrap();
            for (i, n) in expected.iter().enumerate() {
                victims.plant(&out.join(n), i + round);
            }
            let mut args = args.clone();
            *args.last_mut().unwrap() = out.to_str().unwrap();
            let res = run(&db, &args);
            assert!(
                res.status.success(),
                "{}",
                String::from_utf8_lossy(&res.stderr)
            );
            let what = format!("export {format} round {round}");
            victims.untouched(&what);
            // An empty table is an empty JSONL file: the lengths are checked against a clean
            // export below.
            all_plain_files(&out, &expected, &what, 0);
            for n in &expected {
                assert_eq!(
                    std::fs::read(out.join(n)).unwrap().len(),
                    std::fs::read(clean.join(n)).unwrap().len(),
                    "{what}: {n} is the whole table"
                );
            }
            // One table to a file name that is a link: the link is replaced too.
            let single = root.join(format!("builds.{format}"));
            victims.plant(&single, round);
            let res = run(
                &db,
                &[
                    "export",
                    "--format",
                    format,
                    "--table",
                    "builds",
                    "--out",
                    single.to_str().unwrap(),
                ],
            );
            assert!(
                res.status.success(),
                "{}",
                String::from_utf8_lossy(&res.stderr)
            );
            assert!(
                std::fs::symlink_metadata(&single).unwrap().is_file(),
                "{what}"
            );
            victims.untouched(&what);
        }
    }
}

#[test]
fn folders_and_special_files_at_an_output_name_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    app1_series(&db);
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("report.html")).unwrap();
    let mut args = vec!["report", "--out", out.to_str().unwrap()];
    args.extend(PERIOD);
    let res = run(&db, &args);
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("report.html") && err.contains("is a folder"),
        "{err}"
    );
    let fifo = out.join("report.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    args.extend(["--format", "json"]);
    let res = run(&db, &args);
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("report.json") && err.contains("special file"),
        "{err}"
    );
}

#[test]
fn merge_refuses_a_linked_team_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let job = d.join("job.db");
    app1_series(&job);
    let victims = Victims::new(d);
    for kind in 0..4 {
        let team = d.join(format!("team{kind}.db"));
        victims.plant(&team, kind);
        let res = crate::common::bin()
            .args([
                "merge",
                "--quiet",
                "--into",
                team.to_str().unwrap(),
                job.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(res.status.code(), Some(1), "kind {kind}");
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(
            err.contains(&format!("team{kind}.db")) && err.contains("link"),
            "{err}"
        );
        victims.untouched(&format!("merge kind {kind}"));
    }
}
