//! The layout shared by the Markdown and HTML outputs: which sections a weekly report
//! ([`report()`]) and a CI job summary ([`summary()`]) have, in what order, as a [`Doc`]; and the
//! pieces both use (metric cards with their change, tables, dates).

mod report;
mod summary;

pub use report::report;
pub use summary::summary;

use super::document::{DocTable, MetricCard, Tone};
use super::fmt::{duration_ms, signed_duration_ms, UNKNOWN};
use super::table::{Align, Table};
use crate::weekly::model::Change;

/// Which direction of change is good news.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Better {
    Lower,
    Higher,
    Neither,
}

/// How a number is shown.
#[derive(Clone, Copy)]
pub(super) enum Unit {
    Count,
    Ms,
    Ratio,
}

fn value(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => UNKNOWN.into(),
        (Some(v), Unit::Count) => format!("{v:.0}"),
        (Some(v), Unit::Ms) => duration_ms(v.round()),
        (Some(v), Unit::Ratio) => format!("{:.0}%", v * 100.0),
    }
}

/// `+1.2s (+14%)`, `−3`, `+5 pts`, with its tone.
fn change_text(c: &Change, unit: Unit, better: Better) -> (String, Tone) {
    let Some(d) = c.delta else {
        let why = if c.current.is_none() {
            "not computed"
        } else {
            "no earlier data"
        };
        return (why.into(), Tone::Neutral);
    };
    let tone = match better {
        _ if d == 0.0 => Tone::Neutral,
        Better::Neither => Tone::Neutral,
        Better::Lower if d < 0.0 => Tone::Good,
        Better::Higher if d > 0.0 => Tone::Good,
        _ => Tone::Bad,
    };
    let arrow = if d > 0.0 {
        "▲ "
    } else if d < 0.0 {
        "▼ "
    } else {
        ""
    };
    let main = match unit {
        Unit::Count if d > 0.0 => format!("+{d:.0}"),
        Unit::Count if d < 0.0 => format!("−{:.0}", -d),
        Unit::Count => "±0".into(),
        Unit::Ms => signed_duration_ms(d.round()),
        Unit::Ratio => format!("{:+.1} pts", d * 100.0).replace('-', "−"),
    };
    let rel = match (unit, c.delta_pct) {
        (Unit::Ratio, _) | (_, None) => String::new(),
        (_, Some(p)) if d != 0.0 => format!(" ({}%)", format!("{p:+.0}").replace('-', "−")),
        _ => String::new(),
    };
    (format!("{arrow}{main}{rel}"), tone)
}

pub(super) fn metric(label: &str, c: &Change, unit: Unit, better: Better) -> MetricCard {
    let (change, tone) = change_text(c, unit, better);
    MetricCard {
        label: label.into(),
        value: value(c.current, unit),
        previous: value(c.previous, unit),
        change,
        tone,
    }
}

pub(super) fn table(
    headers: &[(&str, Align)],
    code_columns: &[usize],
    class: &'static str,
) -> DocTable {
    DocTable {
        table: Table::new(headers),
        code_columns: code_columns.to_vec(),
        class,
    }
}

/// `2026-11-15T04:33:00.000Z` as `2026-11-15 04:33 UTC`.
pub(super) fn minute(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => t.to_string(),
    }
}

/// Date part of an RFC 3339 time.
pub(super) fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_good_or_bad_news() {
        let slower = Change::new(Some(12_000.0), Some(10_000.0));
        assert_eq!(
            change_text(&slower, Unit::Ms, Better::Lower),
            ("▲ +2.0s (+20%)".to_string(), Tone::Bad)
        );
        let more_hits = Change::new(Some(0.8), Some(0.75));
        assert_eq!(
            change_text(&more_hits, Unit::Ratio, Better::Higher),
            ("▲ +5.0 pts".to_string(), Tone::Good)
        );
        let fewer = Change::new(Some(3.0), Some(5.0));
        assert_eq!(
            change_text(&fewer, Unit::Count, Better::Lower),
            ("▼ −2 (−40%)".to_string(), Tone::Good)
        );
        let unknown = Change::new(Some(3.0), None);
        assert_eq!(
            change_text(&unknown, Unit::Count, Better::Lower).0,
            "no earlier data"
        );
        let same = Change::new(Some(0.0), Some(0.0));
        assert_eq!(
            change_text(&same, Unit::Count, Better::Lower),
            ("±0".to_string(), Tone::Neutral)
        );
        assert_eq!(crate::render::fmt::signed_percent(-0.004), "±0%");
        assert_eq!(crate::render::fmt::signed_percent(-0.33), "−33%");
    }
}
