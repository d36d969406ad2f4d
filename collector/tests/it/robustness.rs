//! Bad input never panics: arbitrary bytes, every sample trace cut at every line boundary,
//! corrupted bytes, huge lines. Each gives an error or a build (marked `incomplete` when cut).

use std::path::PathBuf;

use collector::assemble::AssembleOptions;
use collector::decode::decoder;
use collector::ingest::read_builds;
use collector::model::{BuildStatus, Format};
use collector::DecodeError;
use proptest::prelude::*;

fn sample_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-traces");
    let mut out = Vec::new();
    for dir in [
        "app1-series",
        "engine-20.10",
        "busybox-buildx0.13",
        "external",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_file() && !name.ends_with(".json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read(bytes: &[u8]) -> Result<collector::ingest::ReadOutcome, collector::ingest::ReadError> {
    read_builds("test", bytes, None, &AssembleOptions::default())
}

#[test]
fn every_line_boundary_cut_is_an_error_or_incomplete() {
    let mut cuts = 0;
    for path in sample_files() {
        let bytes = std::fs::read(&path).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            continue; // binary: covered by the byte-level cuts below
        }
        let full = read(&bytes).unwrap();
        let full_build = full.builds.last().unwrap();
        let ends: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        for &end in &ends {
            if end == bytes.len() {
                continue;
            }
            cuts += 1;
            let Ok(out) = read(&bytes[..end]) else {
                continue;
            };
            let b = out.builds.last().expect("a successful read yields a build");
            if b.status == BuildStatus::Incomplete {
                continue;
            }
            // Not marked incomplete: the stream's own verdict was already there, or the cut fell
            // after an export finished with nothing running; nothing that finished is lost.
            let rest = String::from_utf8_lossy(&bytes[end..]);
            let tail_is_text = !rest.contains("\"vertexes\"")
                && !rest.contains("\n#")
                && !rest.contains("moby.buildkit.trace");
            let exported = b.steps.iter().any(|s| s.kind.as_str().ends_with("export"));
            // A step that failed already decides the build, cut or not.
            let step_failed = b.status == BuildStatus::Failed
                && b.steps
                    .iter()
                    .any(|s| s.outcome == collector::Outcome::Failed && s.kind.is_instruction());
            assert!(
                tail_is_text || step_failed || b.status == full_build.status && exported,
                "{} cut at byte {end}: {:?} without a verdict or export",
                path.display(),
                b.status
            );
            assert!(b.steps.len() <= full_build.steps.len());
        }
    }
    assert!(cuts > 5000, "only {cuts} cuts");
}

#[test]
fn byte_cuts_of_a_history_export_are_errors_or_builds() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sample-traces/external/docker-actions-toolkit_fixture_docker_test-docker-action_SNHBPN_3.dockerbuild");
    let bytes = std::fs::read(path).unwrap();
    for end in (0..bytes.len()).step_by(97) {
        match read(&bytes[..end]) {
            Ok(out) => assert!(!out.builds.is_empty()),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn a_50_megabyte_line_is_an_error_not_a_hang_or_a_crash() {
    let mut big = b"{\"vertexes\":[{\"digest\":\"d\",\"name\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 50 << 20));
    let err = read(&big).unwrap_err();
    assert!(
        matches!(
            err,
            collector::ingest::ReadError::Decode(DecodeError::Truncated { .. })
        ),
        "{err}"
    );
    let mut garbage = vec![b'#'; 50 << 20];
    garbage.push(b'\n');
    assert!(read(&garbage).is_err());
}

#[test]
fn empty_binary_and_unknown_inputs_are_clear_errors() {
    let e = read(b"").unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    let e = read(&[0u8, 159, 146, 150, 1, 2, 3])
        .unwrap_err()
        .to_string();
    assert!(e.contains("binary data"), "{e}");
    let e = read(b"just some text\nand more\n").unwrap_err().to_string();
    assert!(e.contains("unrecognised"), "{e}");
    let e = read(b"{\"hello\": \"world\"}\n").unwrap_err().to_string();
    assert!(e.contains("line 1"), "{e}");
}

fn all_formats() -> [Format; 4] {
    [
        Format::Rawjson,
        Format::Plain,
        Format::Moby,
        Format::Dockerbuild,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for f in all_formats() {
            for item in decoder(f, bytes.as_slice()) {
                if item.is_err() { break; }
            }
        }
        let _ = read(&bytes);
    }

    #[test]
    fn corrupted_real_traces_never_panic(file in 0usize..40, pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let files = sample_files();
        let path = &files[file % files.len()];
        let mut bytes = std::fs::read(path).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let end = cut.index(bytes.len() + 1);
        let _ = read(&bytes[..end]);
    }
}
