//! `buildprof busts` for the terminal: one build's busts, or the instructions that bust most.

use analyzer::busts::{BuildBusts, BustSummary};
use analyzer::busts::{Bust, BustCause};

use analyzer::why::BustsWhy;

use crate::render::cause::cause_phrase;
use crate::render::fmt::{duration_ms, opt_duration_ms, percent, step_label};
use crate::render::fmt::{ellipsize, printable};
use crate::render::reason::cause_text;
use crate::render::table::{Align, Table};

/// "busted at `COPY . /src` in stage build (WHY): 7 steps re-ran, 3m12s; the compared build
/// (ID) had it cached". Without the build (`busts` over a selection) the cause is not worded.
pub fn sentence(b: &Bust, build: Option<&BuildBusts>) -> String {
    let stage = match &b.stage {
        Some(s) => format!(" in stage {}", printable(s)),
        None => String::new(),
    };
    let (head, why) = match (b.cause, build) {
        (BustCause::LazyMiss, _) => (
            "lazy miss",
            " (reported cached, its layers were not in the imported cache)".to_string(),
        ),
        (_, Some(build)) => ("busted", format!(" ({})", cause_phrase(b, build))),
        (_, None) => ("busted", String::new()),
    };
    let mut s = format!(
        "{head} at `{}`{stage}{}: {} step{} re-ran, {}",
        printable(&ellipsize(&b.instruction, 80)),
        printable(&why),
        b.reran_steps,
        if b.reran_steps == 1 { "" } else { "s" },
        duration_ms(b.rerun_ms)
    );
    if let Some(p) = &b.previous {
        let short: String = p.build_id.chars().take(12).collect();
        let was = match (&p.outcome, p.digest_changed) {
            (None, _) => "had no such step".to_string(),
            (Some(o), Some(false)) => format!("had it {o}, with the same digest"),
            (Some(o), _) => format!("had it {o}"),
        };
        s.push_str(&format!("; the compared build ({short}) {was}"));
    }
    s
}

pub fn render_build(both: &BustsWhy) -> String {
    let b = &both.busts;
    let mut out = format!(
        "{} {} in {}: {} instructions, {} hit the cache, {} ran\n",
        b.build_id.chars().take(12).collect::<String>(),
        b.status,
        opt_duration_ms(b.wall_ms),
        b.instruction_steps,
        b.hits,
        b.ran_steps
    );
    match (&b.compared_by, &b.previous_build) {
        (Some(by), Some(p)) => out.push_str(&format!(
            "{}: compared with the previous build {}\n",
            printable(by),
            p.chars().take(12).collect::<String>()
        )),
        (Some(by), None) => out.push_str(&format!(
            "{}: no earlier build of it to compare with\n",
            printable(by)
        )),
        (None, _) => {
            out.push_str("no experiment variant or branch label: nothing to compare with\n")
        }
    }
    out.push('\n');
    if b.busts.is_empty() {
        out.push_str(if b.cold {
            "no bust: no instruction hit the cache at all (a cold builder or an empty cache)\n"
        } else {
            "no bust: every stage's cache chain held\n"
        });
        return out;
    }
    let code = |s: &str| format!("`{}`", printable(s));
    for bust in &b.busts {
        out.push_str(&sentence(bust, Some(b)));
        out.push('\n');
        // The root cause `why` finds for the step, in its words.
        if let Some(w) = both.cause_of(bust.seq) {
            out.push_str(&format!("    why: {}\n", cause_text(w, &code)));
        }
    }
    out.push_str(&format!(
        "\ntime lost to busts: {}\n",
        duration_ms(b.bust_ms)
    ));
    out
}

pub fn render_summary(s: &BustSummary) -> String {
    let mut out = format!(
        "{} busts in {} of {} builds, {} of steps re-run\n\n",
        s.busts,
        s.builds_with_busts,
        s.builds,
        duration_ms(s.total_rerun_ms)
    );
    if s.instructions.is_empty() {
        return out;
    }
    let mut t = Table::new(&[
        ("BUSTED AT", Align::Left),
        ("BUSTS", Align::Right),
        ("LAZY", Align::Right),
        ("OF BUILDS", Align::Right),
        ("RE-RUN STEPS", Align::Right),
        ("MEDIAN COST", Align::Right),
        ("TOTAL COST", Align::Right),
    ]);
    for i in &s.instructions {
        t.push(vec![
            ellipsize(&step_label(i.stage.as_deref(), &i.instruction), 64),
            i.busts.to_string(),
            i.lazy_misses.to_string(),
            percent(i.share_of_builds),
            format!("{:.0}", i.median_reran_steps),
            duration_ms(i.median_rerun_ms),
            duration_ms(i.total_rerun_ms),
        ]);
    }
    out.push_str(&t.to_text());
    if !s.costliest.is_empty() {
        out.push_str("\ncostliest:\n");
        for b in &s.costliest {
            out.push_str(&format!(
                "  {}  {}\n",
                b.build_id.chars().take(12).collect::<String>(),
                sentence(b, None)
            ));
        }
    }
    out
}
