//! Terminal tables of real builds.

use collector::model::Outcome;
use collector::store::BuildFilter;
use reports::render::terminal::{builds_table, show_build};

use crate::common::{builds, store_of};

#[test]
fn show_lists_every_step_with_its_outcome() {
    let b = builds("app1-series/010-min-web-iter3.rawjson").remove(0);
    let text = show_build(&b);
    // One row per step, with its instruction.
    for s in &b.steps {
        let instruction: String = s.instruction.chars().take(40).collect();
        assert!(text.contains(&instruction), "{instruction}");
    }
    let lazy_rows = text
        .lines()
        .filter(|l| l.contains("executed (lazy miss)"))
        .count();
    assert_eq!(lazy_rows, b.steps.iter().filter(|s| s.lazy_miss).count());
    let pulled_rows = text.lines().filter(|l| l.contains(" pulled ")).count();
    assert_eq!(
        pulled_rows,
        b.steps
            .iter()
            .filter(|s| s.outcome == Outcome::Pulled)
            .count()
    );
}

#[test]
fn builds_table_has_a_row_per_build_and_no_control_characters() {
    let mut all = builds("engine-20.10/");
    all[0]
        .labels
        .insert("branch".into(), "evil\u{1b}[31m\nnext".into());
    let store = store_of(&all);
    let rows = store.list_builds(&BuildFilter::default()).unwrap();
    let text = builds_table(&rows);
    assert_eq!(text.lines().count(), rows.len() + 1);
    assert!(!text.contains('\u{1b}'));
}
