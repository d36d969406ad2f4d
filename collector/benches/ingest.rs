//! Ingest throughput benchmark: `read_builds` (decode + assemble + fingerprint) against a bare
//! serde_json typed parse of the same bytes, in the same process, as a ratio.
//!
//! Run: `cargo bench -p buildprof-collector --bench ingest` (add `-- --mb 400` for a bigger
//! file). The input is made by concatenating the real rawjson traces of `sample-traces/`
//! until it reaches the size asked for.
//!
//! With `-- --memory FILE` it instead ingests FILE the way `buildprof ingest` does (streaming
//! from the file into a SQLite database) and prints the peak resident memory of the process;
//! `benches/ingest_memory.py` makes a ~1 GB log-heavy trace and runs this.

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

/// Peak resident memory of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn memory(path: &str) {
    let before = peak_rss_kib().unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("buildprof-mem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut store = collector::store::Store::open(dir.join("mem.db")).unwrap();
    let t = Instant::now();
    let f = std::fs::File::open(path).unwrap();
    let size = f.metadata().unwrap().len() as f64 / (1 << 20) as f64;
    let out = read_builds(path, f, None, &AssembleOptions::default()).expect("ingest");
    let source = collector::store::SourceInfo {
        path: path.into(),
        bytes: out.bytes,
        ingested_at: 0,
    };
    for b in &out.builds {
        store.insert_build(b, &source).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let peak = peak_rss_kib().unwrap_or(0);
    println!("input: {size:.0} MiB ({path})");
    println!("ingest into SQLite: {secs:.2} s, {:.0} MiB/s", size / secs);
    println!(
        "peak RSS: {:.1} MiB (process baseline {:.1} MiB; target < 100 MiB)",
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
}

/// Where the time goes on FILE: decoding alone, decoding and assembling, the whole read.
fn stages(path: &str) {
    let bytes = std::fs::read(path).unwrap();
    let format = collector::decode::sniff(&bytes[..bytes.len().min(65536)]).expect("a trace");
    let t = Instant::now();
    let n = collector::decode::decoder(format, bytes.as_slice()).count();
    let decode = t.elapsed();
    let t = Instant::now();
    let mut asm = collector::assemble::Assembler::new("x", format);
    for ev in collector::decode::decoder(format, bytes.as_slice()) {
        let _ = asm.push(ev.unwrap());
    }
    let steps = asm.finish(false).map_or(0, |b| b.steps.len());
    let assemble = t.elapsed();
    let t = Instant::now();
    ingest(&bytes);
    let whole = t.elapsed();
    println!(
        "{n} events, {steps} steps: decode {:.2} s, decode+assemble {:.2} s, read_builds {:.2} s",
        decode.as_secs_f64(),
        assemble.as_secs_f64(),
        whole.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--stages") {
        stages(args.get(i + 1).expect("--stages FILE"));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--memory") {
        memory(args.get(i + 1).expect("--memory FILE"));
        return;
    }
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
    println!(
        "bare serde_json typed parse: {:7.1} MiB/s ({:.3} s)",
        rate(bare),
        bare.as_secs_f64()
    );
    println!(
        "buildprof read_builds:       {:7.1} MiB/s ({:.3} s)",
        rate(ours),
        ours.as_secs_f64()
    );
    println!(
        "ratio (ours / bare):         {:7.2}   (target >= 0.50)",
        bare.as_secs_f64() / ours.as_secs_f64()
    );
}
