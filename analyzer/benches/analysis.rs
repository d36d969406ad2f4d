//! Benchmark of the analyses on a synthetic history (see docs/performance.md, "Analyzer").
//!
//! Make the history first, then run the benchmark on it:
//!
//! ```text
//! cargo build --release
//! target/release/buildprof --db target/bench-data/synth-1m.db synth --steps 1000000
//! BUILDPROF_BENCH_DB=$PWD/target/bench-data/synth-1m.db cargo bench -p buildprof-analyzer --bench analysis
//! ```
//!
//! (The path must be absolute: cargo runs benchmarks from the package's folder.)
//! Each case runs once to warm SQLite's and the OS's caches, then `BUILDPROF_BENCH_RUNS` times
//! (default 5); the minimum and the median are printed.

use std::time::{Duration, Instant};

use analyzer::compare::{compare, CompareOptions, Metric};
use analyzer::load::{Loaded, StepSelect};
use analyzer::steps::{step_stats, StepsOptions};
use analyzer::trends::{trends, Period, TrendsOptions};
use analyzer::Scope;
use collector::store::Store;

/// The allocator of the `buildprof` binary, so the figures are those of the commands.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    f();
    let mut d: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    d.sort();
    (d[0], d[d.len() / 2])
}

fn main() {
    let Ok(path) = std::env::var("BUILDPROF_BENCH_DB") else {
        eprintln!(
            "set BUILDPROF_BENCH_DB to a database made by `buildprof synth` (see docs/performance.md); skipping"
        );
        return;
    };
    let runs: usize = std::env::var("BUILDPROF_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let store = Store::open(&path).expect("open the benchmark database");
    let conn = store.connection();
    let steps: i64 = conn
        .query_row("SELECT COUNT(*) FROM steps", [], |r| r.get(0))
        .expect("count steps");
    let builds: i64 = conn
        .query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))
        .expect("count builds");
    println!("{path}: {builds} builds, {steps} steps; {runs} runs per case (min / median)");
    let all = Scope::default();
    let report = |name: &str, (min, med): (Duration, Duration)| {
        println!(
            "{name:<44} {:>8.3} s {:>8.3} s",
            min.as_secs_f64(),
            med.as_secs_f64()
        );
    };
    let mut opts = CompareOptions::new("strategy");
    opts.baseline = Some("max".into());
    report(
        "compare --by strategy (wall)",
        time(runs, || compare(conn, &all, &opts).expect("compare")),
    );
    for metric in [Metric::HitRatio, Metric::Saved] {
        let mut o = opts.clone();
        o.metric = metric;
        report(
            &format!("compare --by strategy --metric {}", metric.as_str()),
            time(runs, || compare(conn, &all, &o).expect("compare")),
        );
    }
    let tr = TrendsOptions {
        period: Period::Week,
        price_per_minute: 0.008,
    };
    report(
        "trends --by week",
        time(runs, || trends(conn, &all, &tr).expect("trends")),
    );
    report(
        "  of which: load steps with identity",
        time(runs, || {
            Loaded::load(
                conn,
                &all,
                StepSelect {
                    all_kinds: false,
                    identity: true,
                },
            )
            .expect("load")
        }),
    );
    report(
        "steps",
        time(runs, || {
            step_stats(conn, &all, &StepsOptions::default()).expect("steps")
        }),
    );
}
