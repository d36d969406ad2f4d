//! Ingest throughput benchmark: `read_builds` (decode + assemble + fingerprint) against a bare
//! serde_json typed parse of the same bytes, in the same process, as a ratio.
//!
//! Run: `cargo bench -p buildprof-collector --bench ingest` (add `-- --mb 400` for a bigger
//! file). The input is made by concatenating the real rawjson traces of `sample-traces/`
//! until it reaches the size asked for.
//!
//! With `-- --memory FILE` it instead ingests FILE the way `buildprof ingest` does (streaming
//! from the file into a SQLite database) and prints the time of reading and of storing (with
//! the SQLite insert rate in steps/s) and the peak resident memory of the process;
//! `benches/ingest_memory.py` makes a ~1 GB log-heavy trace and runs this, and
//! `benches/compare.py` runs it against a Python baseline.
//!
//! With `-- --stages FILE` it prints wall and CPU time per stage of the ingest path (decode,
//! assemble, `read_builds`, store) on FILE read into memory. With `-- --many FILE [N]` it
//! stores FILE's build N times (2000 by default) with fresh ids, one transaction per build
//! against the batches `ingest` uses for the builds of one input.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use serde::Deserialize;

/// The allocator of the `buildprof` binary, so the figures are those of `buildprof ingest`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let f = std::fs::File::open(path).unwrap();
    let size = f.metadata().unwrap().len() as f64 / (1 << 20) as f64;
    let (read, out) =
        timed(|| read_builds(path, f, None, &AssembleOptions::default()).expect("ingest"));
    let (stored, ()) = timed(|| store_all(&mut store, path, &out));
    let secs = read.0 + stored.0;
    let (steps, rows) = rows(&store);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let peak = peak_rss_kib().unwrap_or(0);
    println!("input: {size:.0} MiB ({path})");
    println!("ingest into SQLite: {secs:.2} s, {:.0} MiB/s", size / secs);
    println!(
        "  read (decode, assemble): {:.2} s wall, {:.2} s cpu",
        read.0, read.1
    );
    println!(
        "  store: {:.2} s wall, {:.2} s cpu, {steps} steps, {rows} rows: {:.0} steps/s, {:.0} rows/s",
        stored.0,
        stored.1,
        steps as f64 / stored.0,
        rows as f64 / stored.0
    );
    println!(
        "peak RSS: {:.1} MiB (process baseline {:.1} MiB; target < 100 MiB)",
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
}

/// Where the time goes on FILE (read into memory first): decoding alone, assembling alone
/// (events already decoded), the whole `read_builds` (decoding, assembling, fingerprint and
/// redaction), and storing into a fresh SQLite file. Wall and CPU time per stage: on a busy
/// machine CPU time is the steadier figure.
fn stages(path: &str) {
    let bytes = std::fs::read(path).unwrap();
    let size = bytes.len() as f64 / (1 << 20) as f64;
    let format = collector::decode::sniff(&bytes[..bytes.len().min(65536)]).expect("a trace");
    let (decode, events) = timed(|| {
        collector::decode::decoder(format, bytes.as_slice())
            .map(|e| e.expect("a valid trace"))
            .collect::<Vec<_>>()
    });
    let n = events.len();
    let (assemble, _) = timed(|| {
        let mut asm = collector::assemble::Assembler::new("x", format);
        let mut builds: Vec<_> = events.into_iter().filter_map(|e| asm.push(e)).collect();
        builds.extend(asm.finish(false));
        builds
    });
    let (read, out) = timed(|| {
        read_builds(path, bytes.as_slice(), None, &AssembleOptions::default()).expect("ingest")
    });
    drop(bytes);
    let dir = std::env::temp_dir().join(format!("buildprof-stages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut store = collector::store::Store::open(dir.join("stages.db")).unwrap();
    let (store_t, ()) = timed(|| store_all(&mut store, path, &out));
    let (steps, rows) = rows(&store);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "input: {size:.0} MiB {}, {n} events, {} builds, {steps} steps",
        out.format.as_str(),
        out.builds.len()
    );
    println!("stage                                        wall      cpu");
    let line = |name: &str, (wall, cpu): (f64, f64), extra: String| {
        println!("{name:<40} {wall:6.2} s {cpu:6.2} s   {extra}")
    };
    line(
        "decode (events kept in memory)",
        decode,
        format!("{:.0} MiB/s", size / decode.0),
    );
    line("assemble (from those events)", assemble, String::new());
    line(
        "read_builds (decode, assemble, redact)",
        read,
        format!("{:.0} MiB/s", size / read.0),
    );
    line(
        "store (SQLite, one transaction a build)",
        store_t,
        format!(
            "{:.0} steps/s, {:.0} rows/s ({rows} rows)",
            steps as f64 / store_t.0,
            rows as f64 / store_t.0
        ),
    );
}

/// Wall and CPU seconds of `f` (CPU of the whole process: every thread).
fn timed<T>(f: impl FnOnce() -> T) -> ((f64, f64), T) {
    let (t, c) = (Instant::now(), cpu_seconds());
    let v = f();
    ((t.elapsed().as_secs_f64(), cpu_seconds() - c), v)
}

fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn store_all(
    store: &mut collector::store::Store,
    path: &str,
    out: &collector::ingest::ReadOutcome,
) {
    let source = collector::store::SourceInfo {
        path: path.into(),
        bytes: out.bytes,
        ingested_at: 0,
        capture_wall_ns: None,
    };
    for b in &out.builds {
        store.insert_build(b, &source).unwrap();
    }
}

/// Steps stored, and rows of the per-step tables (steps, inputs, cache operations and layers).
fn rows(store: &collector::store::Store) -> (i64, i64) {
    let count = |table: &str| -> i64 {
        store
            .connection()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let steps = count("steps");
    let rows = steps + count("step_inputs") + count("cache_operations") + count("cache_layers");
    (steps, rows)
}

/// Many small builds: FILE's build stored N times (fresh ids, as the builds of one input)
/// into a fresh database, once with one transaction per build and once the way `ingest`
/// stores an input's builds (batches of up to `BATCH_STEPS` steps), in the same run.
fn many(path: &str, n: usize) {
    let f = std::fs::File::open(path).unwrap();
    let out = read_builds(path, f, None, &AssembleOptions::default()).expect("ingest");
    let source = collector::store::SourceInfo {
        path: path.into(),
        bytes: out.bytes,
        ingested_at: 0,
        capture_wall_ns: None,
    };
    let builds: Vec<_> = (0..n as u128)
        .map(|i| {
            let mut b = out.builds[0].clone();
            // Spread like real fingerprints, so rows land all over the b-trees.
            b.id = format!(
                "{:032x}",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
            );
            b
        })
        .collect();
    println!("{n} builds of {} steps ({path})", out.builds[0].steps.len());
    for batched in [false, true] {
        let dir = std::env::temp_dir().join(format!("buildprof-many-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = collector::store::Store::open(dir.join("many.db")).unwrap();
        let (t, ()) = timed(|| {
            if batched {
                let all: Vec<_> = builds.iter().map(|b| (b, &source)).collect();
                for r in store.insert_builds(&all) {
                    r.unwrap();
                }
            } else {
                for b in &builds {
                    store.insert_build(b, &source).unwrap();
                }
            }
        });
        let (steps, rows) = rows(&store);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "  {:<28} {:6.2} s wall {:6.2} s cpu  {:5.2} ms/build  {:6.0} steps/s  {:6.0} rows/s",
            if batched {
                "batches (ingest)"
            } else {
                "one transaction per build"
            },
            t.0,
            t.1,
            t.0 * 1e3 / n as f64,
            steps as f64 / t.0,
            rows as f64 / t.0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--many") {
        let n = args.get(i + 2).and_then(|v| v.parse().ok()).unwrap_or(2000);
        many(args.get(i + 1).expect("--many FILE [N]"), n);
        return;
    }
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
