//! Which strategy comparisons a report shows: one per experiment (or scenario) when the
//! period's builds come from several, so no table pools two experiments into one median; one
//! over the whole period otherwise.

use analyzer::compare::{compare, CompareOptions, Comparison};
use analyzer::Scope;
use collector::store::{BuildRow, Store};

/// Labels whose values name a cache strategy or an experiment's variants, most specific first.
pub const STRATEGY_LABELS: [&str; 7] = [
    "strategy",
    "cache_strategy",
    "cache-strategy",
    "cache_mode",
    "cache",
    "variant",
    "experiment",
];

/// The first strategy-like label with at least two values among `rows`.
pub fn strategy_label(rows: &[&BuildRow]) -> Option<&'static str> {
    STRATEGY_LABELS.into_iter().find(|k| {
        let mut values = rows.iter().filter_map(|r| r.labels.get(*k));
        let first = values.next();
        first.is_some() && values.any(|v| Some(v) != first)
    })
}

/// Labels that split the period into separate comparisons, most specific first.
const SPLIT_BY: [&str; 2] = ["experiment", "scenario"];

/// One strategy comparison of the report: over the builds with label `part` (key, value), or
/// over the whole period.
pub struct PartComparison {
    pub part: Option<(String, String)>,
    pub comparison: Comparison,
}

/// The comparisons to show. `baseline` is used where that group exists; elsewhere the
/// comparison's own rule picks one. A part without a strategy-like label with two values, or
/// with too few builds to compare, has no table.
pub fn comparisons(
    store: &Store,
    period: &Scope,
    rows: &[BuildRow],
    baseline: Option<&str>,
) -> Vec<PartComparison> {
    let split = SPLIT_BY.into_iter().find_map(|key| {
        let mut values: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.labels.get(key).map(String::as_str))
            .collect();
        values.sort_unstable();
        values.dedup();
        (values.len() > 1).then_some((key, values))
    });
    let parts: Vec<Option<(String, String)>> = match split {
        Some((key, values)) => values
            .into_iter()
            .map(|v| Some((key.to_string(), v.to_string())))
            .collect(),
        None => vec![None],
    };
    parts
        .into_iter()
        .filter_map(|part| {
            let part_rows: Vec<&BuildRow> = rows
                .iter()
                .filter(|r| match &part {
                    Some((k, v)) => r.labels.get(k) == Some(v),
                    None => true,
                })
                .collect();
            let by = strategy_label(&part_rows)?;
            if part.as_ref().is_some_and(|(k, _)| k == by) {
                return None;
            }
            let scope = match &part {
                Some((k, v)) => period.clone().with_label(k, v),
                None => period.clone(),
            };
            let mut opts = CompareOptions::new(by);
            let has_baseline = |b: &str| {
                part_rows
                    .iter()
                    .any(|r| r.labels.get(by).map(String::as_str) == Some(b))
            };
            opts.baseline = baseline.filter(|b| has_baseline(b)).map(str::to_string);
            let comparison = compare(store.connection(), &scope, &opts).ok()?;
            Some(PartComparison { part, comparison })
        })
        .collect()
}
