//! `buildprof trends` for the terminal: one row per period.

use analyzer::trends::{Period, Trends};

use crate::render::fmt::{duration_ms, opt_duration_ms, opt_percent, usd};
use crate::render::table::{Align, Table};

pub fn render(tr: &Trends) -> String {
    let mut t = Table::new(&[
        (
            match tr.period {
                Period::Week => "WEEK OF",
                Period::Day => "DAY",
            },
            Align::Left,
        ),
        ("BUILDS", Align::Right),
        ("FAILED", Align::Right),
        ("MEDIAN WALL", Align::Right),
        ("P90 WALL", Align::Right),
        ("HIT RATIO", Align::Right),
        ("SAVED", Align::Right),
        ("LOST TO BUSTS", Align::Right),
        ("SAVED $", Align::Right),
        ("BUSTS $", Align::Right),
    ]);
    for r in &tr.periods {
        t.push(vec![
            r.start.clone(),
            r.builds.to_string(),
            r.failures.to_string(),
            opt_duration_ms(r.median_wall_ms),
            opt_duration_ms(r.p90_wall_ms),
            opt_percent(r.hit_ratio),
            duration_ms(r.saved_ms),
            duration_ms(r.bust_ms),
            usd(r.saved_usd),
            usd(r.bust_usd),
        ]);
    }
    let mut out = if tr.periods.is_empty() {
        "no builds with a start time in the selection\n".to_string()
    } else {
        t.to_text()
    };
    out.push_str(&format!(
        "\nwall time of succeeded builds; money at {} per runner-minute",
        usd(tr.price_per_minute_usd)
    ));
    if tr.builds_without_start > 0 {
        out.push_str(&format!(
            "; {} build(s) without a start time left out",
            tr.builds_without_start
        ));
    }
    out.push('\n');
    out
}
