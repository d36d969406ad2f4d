//! Fuzz regressions: replays every input under `tests/fuzz-regressions/<target>/` through the
//! entry point of the cargo-fuzz target of the same name (`fuzz/fuzz_targets/`), on stable Rust.
//!
//! Each input must not panic, must finish in reasonable time, and must give either builds
//! (the last one `incomplete` when the input was cut mid-record, unless the stream had already
//! said it failed) or an error that names a position. Each directory holds the crash, timeout
//! and contract-breaking inputs the fuzz campaign found (see docs/fuzzing.md) and, under
//! `corpus/`, a minimised set of its corpus; a new finding is a new file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use collector::assemble::{AssembleOptions, Assembler};
use collector::decode::decoder;
use collector::ingest::{read_builds, ReadError};
use collector::model::{Build, BuildStatus, Format};
use collector::DecodeError;

#[path = "../../../fuzz/common/members.rs"]
mod members;
#[path = "../../../fuzz/common/trickle.rs"]
mod trickle;

/// Far above what any input here takes in a debug build; a hang of old took minutes or more.
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// The inputs of `target`: the committed ones, or those of a whole local corpus when
/// `BUILDPROF_FUZZ_CORPUS` names one (`BUILDPROF_FUZZ_CORPUS=$PWD/fuzz/corpus cargo test -p
/// buildprof-collector --test fuzz_regressions` checks every corpus entry against the contract).
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = std::env::var_os("BUILDPROF_FUZZ_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions"),
        PathBuf::from,
    );
    let dir = root.join(target);
    let mut files = Vec::new();
    collect_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// The files under `dir`, subdirectories included (findings at the top, `corpus/` below).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// What the decoder-level fuzz targets do: decode, feed the assembler until the first error.
fn fuzz_target_body(format: Format, data: &[u8]) {
    let mut asm = Assembler::new("fuzz", format);
    for item in decoder(format, data) {
        match item {
            Ok(ev) => {
                let _ = asm.push(ev);
            }
            Err(_) => break,
        }
    }
    let _ = asm.finish(false);
}

/// Checks the contract on one input read through `read_builds` (what `buildprof ingest` does).
/// `offsets_in_input`: error offsets count bytes of the input itself (not of a decompressed
/// stream), so they cannot lie past its end.
fn check_read(data: &[u8], format: Option<Format>, offsets_in_input: bool) -> Result<(), String> {
    match read_builds("fuzz", data, format, &AssembleOptions::default()) {
        Ok(out) => {
            let Some(last) = out.builds.last() else {
                return Err(format!("read succeeded with no build ({:?})", out.format));
            };
            // Cut mid-record: incomplete, unless the stream had already given its verdict
            // (a failure or cancellation stays one; a success cannot be trusted any more).
            if let Some(cut) = &out.truncated {
                if last.status == BuildStatus::Succeeded {
                    return Err(format!(
                        "input cut ({cut}) but its last build is {:?}",
                        last.status
                    ));
                }
            }
            Ok(())
        }
        Err(ReadError::Io(e) | ReadError::Open(e)) => {
            Err(format!("I/O error reading a byte slice: {e}"))
        }
        Err(ReadError::Decode(e)) => {
            let pos = match &e {
                DecodeError::Empty => {
                    return if data.is_empty() {
                        Ok(())
                    } else {
                        Err(format!("non-empty input reported empty: {e}"))
                    }
                }
                DecodeError::Unrecognised { .. } if format.is_none() => return Ok(()),
                DecodeError::Unrecognised { .. } => {
                    return Err(format!("unrecognised although the format was given: {e}"))
                }
                DecodeError::Io { pos, .. }
                | DecodeError::Malformed { pos, .. }
                | DecodeError::Truncated { pos, .. } => *pos,
            };
            let text = e.to_string();
            if !text.contains(&format!("byte {}", pos.offset)) {
                return Err(format!("error does not name its position: {text}"));
            }
            if offsets_in_input && pos.offset > data.len() as u64 {
                return Err(format!(
                    "error position past the end of the {}-byte input: {text}",
                    data.len()
                ));
            }
            if let Some(line) = pos.line {
                let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                if offsets_in_input && (line == 0 || line > lines) {
                    return Err(format!("error names line {line} of {lines}: {text}"));
                }
            }
            Ok(())
        }
    }
}

/// Runs `check` on every input of `target`, and fails with the list of inputs that panicked,
/// took too long or broke the contract.
fn replay(target: &str, check: impl Fn(&[u8]) -> Result<(), String>) {
    let mut failures = Vec::new();
    let inputs = inputs(target);
    for (path, data) in &inputs {
        let name = path.display();
        let start = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| check(data))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(format!("{name}: {why}")),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: panicked: {msg}"));
            }
        }
        let took = start.elapsed();
        if took > TIME_LIMIT {
            failures.push(format!("{name}: took {took:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {target} inputs failed:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

fn decoder_target(target: &str, format: Format) {
    let offsets_in_input = format != Format::Dockerbuild;
    replay(target, |data| {
        fuzz_target_body(format, data);
        if format != Format::Dockerbuild {
            same_items_whatever_the_reads(format, data)?;
        }
        check_read(data, Some(format), offsets_in_input)
    });
}

/// The streaming decoders give the same items (events and errors, positions included) when the
/// input arrives a few bytes per read, as from a pipe, as when it arrives in one piece.
fn same_items_whatever_the_reads(format: Format, data: &[u8]) -> Result<(), String> {
    let whole = trickle::decoded(format, data, None);
    let chunk = trickle::chunk_for(data);
    let trickled = trickle::decoded(format, data, Some(chunk));
    if whole == trickled {
        return Ok(());
    }
    let at = whole
        .iter()
        .zip(&trickled)
        .take_while(|(a, b)| a == b)
        .count();
    Err(format!(
        "{chunk}-byte reads decode differently from item {at}: {:?} against {:?}",
        whole.get(at),
        trickled.get(at)
    ))
}

#[test]
fn rawjson_regressions() {
    decoder_target("rawjson", Format::Rawjson);
}

#[test]
fn plain_regressions() {
    decoder_target("plain", Format::Plain);
}

#[test]
fn moby_regressions() {
    decoder_target("moby", Format::Moby);
}

#[test]
fn dockerbuild_regressions() {
    decoder_target("dockerbuild", Format::Dockerbuild);
}

#[test]
fn dockerbuild_members_regressions() {
    replay("dockerbuild_members", |data| {
        let archive = members::pack(&members::split(data));
        fuzz_target_body(Format::Dockerbuild, &archive);
        check_read(&archive, Some(Format::Dockerbuild), false)
    });
}

#[test]
fn ingest_regressions() {
    replay("ingest", |data| {
        let sniffed =
            collector::decode::sniff(&data[..data.len().min(collector::decode::SNIFF_BYTES)]);
        check_read(data, None, sniffed != Some(Format::Dockerbuild))
    });
}

// What the fixes for the campaign's findings guarantee, beyond "no panic".

fn read_file(target: &str, name: &str, format: Option<Format>) -> Result<Vec<Build>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target)
        .join(name);
    let mut data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if target == "dockerbuild_members" {
        data = members::pack(&members::split(&data));
    }
    read_builds("fuzz", data.as_slice(), format, &AssembleOptions::default())
        .map(|out| out.builds)
        .map_err(|e| e.to_string())
}

#[test]
fn durations_between_the_extreme_times_saturate() {
    // A vertex from 1700 to 2260: 1.8e19 ns does not fit an i64.
    let builds = read_file("rawjson", "interval-1700-to-2260.rawjson", None).unwrap();
    assert_eq!(builds[0].steps[0].duration_ns, i64::MAX);
    assert_eq!(builds[0].duration_ns, Some(i64::MAX));
}

#[test]
fn pulled_bytes_saturate() {
    // Two layers of i64::MAX bytes each.
    let builds = read_file("rawjson", "pulled-bytes-sum.rawjson", None).unwrap();
    assert_eq!(builds[0].steps[0].pulled_bytes, i64::MAX);
}

#[test]
fn plain_elapsed_after_a_huge_done_saturates() {
    // `DONE 99999999999s`, resumed, a log line at 1.0 s, then an error: the step's time so far
    // is the DONE total plus the elapsed time.
    let builds = read_file("plain", "elapsed-after-huge-done.log", None).unwrap();
    let step = &builds[0].steps[0];
    assert_eq!(step.outcome, collector::Outcome::Failed);
    assert_eq!(step.duration_ns, i64::MAX);
}

#[test]
fn a_blob_listed_many_times_is_walked_once() {
    // Seven nested indexes each listing the next ten times: 10^7 paths to one record.
    let start = Instant::now();
    let builds = read_file("dockerbuild_members", "index-fanout.members", None).unwrap();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0].reference.as_deref(), Some("fanout"));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn inputs_without_progress_are_errors_not_empty_successes() {
    let e = read_file("rawjson", "empty-object-only.rawjson", None).unwrap_err();
    assert!(e.contains("at byte 3: no build progress found"), "{e}");
    let e = read_file("moby", "legacy-builder-stream.jsonl", None).unwrap_err();
    assert!(e.contains("legacy builder"), "{e}");
    let e = read_file("dockerbuild_members", "empty-record.members", None).unwrap_err();
    assert!(e.contains("no build progress found"), "{e}");
}
