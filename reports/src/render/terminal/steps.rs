//! `buildprof steps` for the terminal: one row per step identity.

use analyzer::steps::StepStats;

use crate::render::fmt::ellipsize;
use crate::render::fmt::{duration_ms, opt_duration_ms, percent, step_label};
use crate::render::table::{Align, Table};

pub fn render(s: &StepStats) -> String {
    let mut out = format!(
        "{} step identities over {} builds{}\n\n",
        s.identities,
        s.builds,
        if s.steps.len() < s.identities {
            format!(" (the {} costliest shown)", s.steps.len())
        } else {
            String::new()
        }
    );
    let mut t = Table::new(&[
        ("STEP", Align::Left),
        ("RUNS", Align::Right),
        ("HIT RATE", Align::Right),
        ("PULLED", Align::Right),
        ("EXECUTED", Align::Right),
        ("MEDIAN", Align::Right),
        ("P90", Align::Right),
        ("TOTAL", Align::Right),
        ("TREND", Align::Right),
    ]);
    for r in &s.steps {
        t.push(vec![
            ellipsize(&step_label(r.stage.as_deref(), &r.instruction), 64),
            r.runs.to_string(),
            percent(r.hit_rate),
            percent(r.pulled_share),
            r.executed_runs.to_string(),
            opt_duration_ms(r.median_executed_ms),
            opt_duration_ms(r.p90_executed_ms),
            duration_ms(r.total_ms),
            r.trend
                .map_or("-".into(), |x| format!("{:+.0}%", x * 100.0)),
        ]);
    }
    out.push_str(&t.to_text());
    out.push_str("\nHIT RATE counts cached and pulled runs; MEDIAN/P90 are of clean runs; TREND compares the later half of the window with the earlier.\n");
    out
}
