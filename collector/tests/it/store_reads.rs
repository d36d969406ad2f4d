//! The store's indexed reads of one build and its neighbours: the recent builds of a label
//! before a time (a job summary's baseline) and id prefixes.

use collector::model::Build;
use collector::store::{SourceInfo, Store, StoreError};

use crate::store_batches::{sample_builds, source};

/// The app1 builds, alternately labelled `branch=main` and `branch=dev`, stored.
fn labelled() -> (Store, Vec<Build>) {
    let mut builds = sample_builds();
    for (i, b) in builds.iter_mut().enumerate() {
        let branch = if i % 2 == 0 { "main" } else { "dev" };
        b.labels.insert("branch".into(), branch.into());
    }
    let mut store = Store::open_in_memory().unwrap();
    let src = source();
    for b in &builds {
        store.insert_build(b, &src).unwrap();
    }
    (store, builds)
}

#[test]
fn the_recent_builds_of_a_label_are_the_newest_that_started_before() {
    let (store, builds) = labelled();
    let mut main: Vec<&Build> = builds
        .iter()
        .filter(|b| b.labels["branch"] == "main" && b.started_at.is_some())
        .collect();
    main.sort_by_key(|b| b.started_at);
    assert!(main.len() >= 8);
    let this = main[main.len() - 2];
    let before: Vec<&str> = main
        .iter()
        .filter(|b| b.started_at < this.started_at)
        .map(|b| b.id.as_str())
        .rev()
        .collect();
    for n in [0, 1, 3, before.len(), before.len() + 5] {
        let got = store
            .recent_with_label(("branch", "main"), this.started_at, &this.id, n)
            .unwrap();
        let want: Vec<&str> = before.iter().take(n).copied().collect();
        assert_eq!(got, want, "n = {n}");
    }
    // No time bound: every build of the label but the excluded one, newest first.
    let got = store
        .recent_with_label(("branch", "main"), None, &this.id, 100)
        .unwrap();
    assert_eq!(got.len(), main.len() - 1);
    assert!(!got.contains(&this.id));
    assert_eq!(got[0], main[main.len() - 1].id);
    // A label nobody has.
    let none = store
        .recent_with_label(("branch", "nope"), None, "", 10)
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn id_prefixes_resolve_in_any_case_and_say_when_they_do_not() {
    let (mut store, builds) = labelled();
    let src = SourceInfo {
        path: "input".into(),
        bytes: 1,
        ingested_at: 8,
        capture_wall_ns: None,
    };
    for last in ["1", "2"] {
        let mut b = builds[0].clone();
        b.id = format!("abcdef{}{last}", "0".repeat(25));
        store.insert_build(&b, &src).unwrap();
    }
    let id = &builds[0].id;
    assert_eq!(store.resolve_id(id).unwrap(), *id);
    assert_eq!(store.resolve_id(&id[..8]).unwrap(), *id);
    assert_eq!(
        store.resolve_id(&id[..8].to_ascii_uppercase()).unwrap(),
        *id
    );
    let two = "abcdef0000000000000000000000000";
    assert_eq!(
        store.resolve_id(&format!("{two}2")).unwrap(),
        format!("{two}2")
    );
    assert_eq!(
        store
            .resolve_id("ABCDEF00000000000000000000000001")
            .unwrap(),
        format!("{two}1")
    );
    for prefix in ["abcd", "ABCDEF", two] {
        assert!(
            matches!(
                store.resolve_id(prefix),
                Err(StoreError::Ambiguous { count: 2, .. })
            ),
            "{prefix}"
        );
    }
    for prefix in ["zzzz", "abce", "zz%_", "abc", ""] {
        assert!(
            matches!(store.resolve_id(prefix), Err(StoreError::NotFound(_))),
            "{prefix}"
        );
    }
}

#[test]
fn a_common_label_and_a_rare_one_give_the_same_recent_builds() {
    // 2,400 builds: every one `branch=main` (read by walking start times), every 100th also
    // `team=x` (read through the label index), some starting at the same time.
    let template = sample_builds().into_iter().next().unwrap();
    let mut builds = Vec::new();
    for i in 0..2_400i64 {
        let mut b = template.clone();
        b.id = format!("{:032x}", 0xb000 + (i * 7919) % 2_400);
        b.started_at = Some(1_000_000_000 * (i / 2));
        b.labels.insert("branch".into(), "main".into());
        if i % 100 == 0 {
            b.labels.insert("team".into(), "x".into());
        }
        builds.push(b);
    }
    let mut store = Store::open_in_memory().unwrap();
    let src = source();
    let batch: Vec<_> = builds.iter().map(|b| (b, &src)).collect();
    assert!(store.insert_builds(&batch).iter().all(|r| r.is_ok()));
    let want = |label: &str, before: i64, exclude: &str, n: usize| -> Vec<String> {
        let mut m: Vec<&Build> = builds
            .iter()
            .filter(|b| b.labels.contains_key(label) && b.started_at < Some(before))
            .filter(|b| b.id != exclude)
            .collect();
        m.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.id.cmp(&b.id)));
        m.iter().take(n).map(|b| b.id.clone()).collect()
    };
    let this = &builds[1_501];
    let before = this.started_at.unwrap();
    for n in [1, 2, 10, 50] {
        let main = store
            .recent_with_label(("branch", "main"), Some(before), &this.id, n)
            .unwrap();
        assert_eq!(main, want("branch", before, &this.id, n), "n = {n}");
        let team = store
            .recent_with_label(("team", "x"), Some(before), &this.id, n)
            .unwrap();
        assert_eq!(team, want("team", before, &this.id, n), "n = {n}");
    }
}

/// Listing many builds attaches labels in one pass over a range of `label_rows`: the labels of
/// every listed build are its own (as the per-build read gives them), and builds the filter
/// leaves out inside that range lend none.
#[test]
fn a_long_listing_attaches_each_build_its_own_labels() {
    let base = sample_builds();
    let mut store = Store::open_in_memory().unwrap();
    let src = source();
    let mut n = 0;
    while n < 400 {
        for b in &base {
            let mut b = b.clone();
            b.id = format!("{:032x}", n + 1);
            b.labels.insert("copy".into(), n.to_string());
            b.labels
                .insert("team".into(), if n % 3 == 0 { "a" } else { "b" }.into());
            store.insert_build(&b, &src).unwrap();
            n += 1;
        }
    }
    let all = store.list_builds(&Default::default()).unwrap();
    assert_eq!(all.len(), n);
    let team_b = store
        .list_builds(&collector::store::BuildFilter::default().with_label("team", "b"))
        .unwrap();
    assert!(team_b.len() >= 256, "{}", team_b.len());
    for rows in [&all, &team_b] {
        for r in rows.iter() {
            let one = store.build_row(&r.id).unwrap();
            assert_eq!(r.labels, one.labels, "{}", r.id);
            let copy: usize = r.labels["copy"].parse().unwrap();
            assert_eq!(r.id, format!("{:032x}", copy + 1));
        }
    }
    assert!(team_b.iter().all(|r| r.labels["team"] == "b"));
}
