//! Fuzz input framing for `.dockerbuild` archives: member files as text, packed into a real
//! gzip'd tar so that mutations reach the OCI index, record JSON and status protobufs instead
//! of dying on gzip and tar checksums.
//!
//! Shared by the `dockerbuild_members` fuzz target and `collector/tests/fuzz_regressions.rs`
//! (included with `#[path]`), so a saved input replays exactly as the fuzzer ran it.
//!
//! The input is a series of members, each `%%file <path>\n<data>`, up to the next `%%file `.
//! Bytes before the first marker are ignored. Paths are written as given when tar accepts
//! them (a path it refuses is skipped).

use std::io::Write;

/// What starts each member.
pub const MARKER: &[u8] = b"%%file ";

/// The members of a framed input, in order.
pub fn split(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut members = Vec::new();
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(at) = find(&data[i..], MARKER) {
        starts.push(i + at);
        i += at + MARKER.len();
    }
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(data.len());
        let body = &data[start + MARKER.len()..end];
        let (path, content) = match body.iter().position(|&b| b == b'\n') {
            Some(nl) => (&body[..nl], &body[nl + 1..]),
            None => (body, &[][..]),
        };
        members.push((String::from_utf8_lossy(path).into_owned(), content.to_vec()));
    }
    members
}

/// A gzip'd tar holding `members` (fast compression: the decoder's cost is what is fuzzed).
pub fn pack(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in members {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o444);
        header.set_size(content.len() as u64);
        // A path tar refuses (absolute, `..`, NUL) is not worth a finding: skip the member.
        let _ = tar.append_data(&mut header, path, content.as_slice());
    }
    let mut gz = tar.into_inner().expect("writing to a Vec cannot fail");
    gz.flush().expect("writing to a Vec cannot fail");
    gz.finish().expect("writing to a Vec cannot fail")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
