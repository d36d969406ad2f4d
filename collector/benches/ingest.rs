//! Ingest throughput benchmark: `read_builds` (decode + assemble + fingerprint) against a bare
//! serde_json typed parse of the same bytes, in the same process, as a ratio.
//!
//! Run: `cargo bench -p buildprof-collector --bench ingest` (add `-- --mb 400` for a bigger
//! file). The input is made by concatenating the real rawjson traces of `sample-traces/`
//! until it reaches the size asked for.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
struct SolveStatus<'a> {
    #[serde(default, borrow)]
    vertexes: Vec<Vertex<'a>>,
    #[serde(default, borrow)]
    statuses: Vec<Status<'a>>,
    #[serde(default, borrow)]
    logs: Vec<Log<'a>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Vertex<'a> {
    #[serde(borrow)]
    digest: Cow<'a, str>,
    #[serde(default, borrow)]
    inputs: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    started: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    completed: Option<Cow<'a, str>>,
    #[serde(default)]
    cached: bool,
    #[serde(default, borrow)]
    error: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Status<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    vertex: Option<Cow<'a, str>>,
    #[serde(default)]
    current: i64,
    #[serde(default)]
    total: i64,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    started: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    completed: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Log<'a> {
    #[serde(default, borrow)]
    vertex: Option<Cow<'a, str>>,
    #[serde(default)]
    stream: i64,
    #[serde(default, borrow)]
    data: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
}

fn make_input(mb: usize) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces/app1-series");
    let mut traces: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rawjson"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    traces.sort();
    let mut out = Vec::with_capacity(mb << 20);
    'fill: loop {
        for t in &traces {
            out.extend_from_slice(t);
            if out.len() >= mb << 20 {
                break 'fill;
            }
        }
    }
    out
}

fn bare_parse(bytes: &[u8]) -> usize {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<SolveStatus>()
        .map(|r| {
            let s = r.expect("valid JSON");
            s.vertexes.len() + s.statuses.len() + s.logs.len()
        })
        .sum()
}

fn ingest(bytes: &[u8]) -> usize {
    let out = read_builds("bench", bytes, None, &AssembleOptions::default()).expect("ingest");
    out.builds.iter().map(|b| b.steps.len()).sum()
}

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = std::hint::black_box(f());
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let input = make_input(mb);
    let size_mb = input.len() as f64 / (1 << 20) as f64;
    // Interleave the two so machine noise hits both alike.
    let mut bare = Duration::MAX;
    let mut ours = Duration::MAX;
    let mut items = 0;
    let mut steps = 0;
    for _ in 0..3 {
        let (d, n) = best_of(1, || bare_parse(&input));
        bare = bare.min(d);
        items = n;
        let (d, n) = best_of(1, || ingest(&input));
        ours = ours.min(d);
        steps = n;
    }
    let rate = |d: Duration| size_mb / d.as_secs_f64();
    println!("input: {size_mb:.0} MiB of real rawjson traces ({items} progress items, {steps} steps assembled)");
    println!("bare serde_json typed parse: {:7.1} MiB/s ({:.3} s)", rate(bare), bare.as_secs_f64());
    println!("buildprof read_builds:       {:7.1} MiB/s ({:.3} s)", rate(ours), ours.as_secs_f64());
    println!("ratio (ours / bare):         {:7.2}   (target >= 0.50)", bare.as_secs_f64() / ours.as_secs_f64());
}
