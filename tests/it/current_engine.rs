//! Builds captured on a current engine (Docker 26.1, buildx 0.13, a local registry;
//! sample-traces/current-engine/): what a user of registry caches sees in `builds`, `show`,
//! `summary` and `busts`.

use crate::common::{ingest, json, ok, run};

const DIR: &str = "current-engine/containerd-store/";

/// The first build of a new branch imports its own cache ref, which does not exist yet, and
/// main's. BuildKit logs the failed import and builds on; docker exits 0. In both progress
/// formats the build is stored as succeeded and the failed import is said where users look.
#[test]
fn a_missing_cache_ref_is_a_succeeded_build_that_says_it_ran_without_that_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let files = [
        "066-branch-cold-feature-x-rawjson-r1-src.rawjson",
        "069-branch-cold-feature-x-plain-r1-src.plain.log",
        // The next build of the branch finds its ref: every import worked.
        "067-branch-cold-feature-x-rawjson-r1-config.rawjson",
    ];
    for f in files {
        ingest(&db, &[&format!("{DIR}{f}")], &["branch=feature-x"]);
    }
    let builds = json(&db, &["builds", "--json"]);
    let builds = builds.as_array().unwrap();
    assert_eq!(builds.len(), 3);
    let missing = "failed to configure registry cache importer: \
                   127.0.0.1:5000/proj:cache-feature-x: not found";
    for b in builds {
        assert_eq!(b["status"], "succeeded", "{b:#}");
        assert_eq!(b["failed_step"], serde_json::Value::Null);
        let source = b["source"].as_str().unwrap();
        if source.contains("-config.") {
            assert_eq!(b["cache_import_error"], serde_json::Value::Null, "{b:#}");
        } else {
            assert_eq!(b["cache_import_error"], missing, "{b:#}");
        }
        let id = b["id"].as_str().unwrap();
        let show = json(&db, &["show", id, "--json"]);
        assert_eq!(show["cache_import_error"], b["cache_import_error"]);
        let text = ok(&db, &["show", id]);
        let line = "cache import of 127.0.0.1:5000/proj:cache-feature-x failed: \
                    failed to configure registry cache importer: \
                    127.0.0.1:5000/proj:cache-feature-x: not found; \
                    this build ran without that cache";
        assert_eq!(text.contains(line), !source.contains("-config."), "{text}");
        let summary = ok(&db, &["summary", id]);
        assert_eq!(
            summary.contains(line),
            !source.contains("-config."),
            "{summary}"
        );
        assert!(run(&db, &["show", id]).status.success());
    }
}
