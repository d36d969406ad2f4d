//! What `ingest`, `record` and `build` say of each build they stored:
//! `stored 1a2b3c4d5e6f succeeded (rawjson, 20 steps: 5 cached, 1 pulled, 14 executed, 2 lazy)
//! from build.json`.

use collector::ingest::Ingested;
use collector::model::Build;
use collector::store::{Inserted, Stored};

use crate::render::fmt::printable;

/// `VERB ID STATUS (FORMAT, N steps: x cached, y pulled, z executed`, left open for the rest.
fn build_line(b: &Build, inserted: Inserted, verb: &str) -> String {
    let c = b.counts();
    let verb = match inserted {
        Inserted::New => verb,
        Inserted::Existing => "already stored",
    };
    format!(
        "{verb} {} {} ({}, {} steps: {} cached, {} pulled, {} executed",
        &b.id[..12.min(b.id.len())],
        b.status.as_str(),
        b.format.as_str(),
        b.steps.len(),
        c.cached,
        c.pulled,
        c.executed,
    )
}

/// `ingest`: the build, its lazy misses, and the input it came from.
pub fn stored_line(b: &Build, inserted: Inserted, input: &str) -> String {
    let lazy = b.counts().lazy_miss;
    let mut text = build_line(b, inserted, "stored");
    if lazy > 0 {
        text.push_str(&format!(", {lazy} lazy"));
    }
    format!("{text}) from {}", printable(input))
}

/// `ingest`: a line per build stored from one input, after a warning when the input was cut
/// short, and the notes about what was stored beside the builds.
pub fn ingested_lines(ingested: &Ingested) -> Vec<String> {
    let name = &ingested.source;
    let builds = ingested
        .builds
        .iter()
        .filter_map(|(build, inserted)| Some(stored_line(build, *inserted.as_ref().ok()?, name)));
    let warnings = ingested_warnings(ingested);
    let (cut, notes) = warnings.split_at(usize::from(ingested.truncated.is_some()));
    cut.iter()
        .cloned()
        .chain(builds)
        .chain(notes.iter().cloned())
        .collect()
}

/// The warnings of one input: it was cut short, or something beside its builds was not stored.
pub fn ingested_warnings(ingested: &Ingested) -> Vec<String> {
    let name = printable(&ingested.source);
    let cut = ingested
        .truncated
        .iter()
        .map(|t| format!("warning: {name}: {t}; the build is stored as incomplete"));
    cut.chain(ingested.notes.iter().cloned()).collect()
}

/// `record`, `build`, `ingest --tee`: the build, its failed steps and its wall time.
pub fn recorded_line(b: &Build, inserted: Inserted) -> String {
    let c = b.counts();
    let mut text = build_line(b, inserted, "recorded");
    if c.failed > 0 {
        text.push_str(&format!(", {} failed", c.failed));
    }
    if let Some(d) = b.duration_ns {
        text.push_str(&format!(", {:.1}s", d as f64 / 1e9));
    }
    text.push(')');
    text
}

/// What a live capture stored: its notes, then a [`recorded_line`] per build.
pub fn recorded_lines(stored: &Stored) -> Vec<String> {
    let builds = stored.builds.iter().map(|(b, i)| recorded_line(b, *i));
    stored.notes.iter().cloned().chain(builds).collect()
}
