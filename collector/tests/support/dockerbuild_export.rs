//! Test support: writes `.dockerbuild` exports (gzip'd OCI image-layout tars of build records)
//! laid out as `docker buildx history export` does, and reads real Engine API traces for them.
//!
//! Blob names have the real form (`sha256:<64 hex>`) but are not SHA-256 sums (no hashing crate
//! here): four seeded FNV-1a passes over the content. The decoder does not verify digests.

#![allow(dead_code)]

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

pub const RECORD: &str = "application/vnd.buildkit.historyrecord.v0";
pub const STATUS: &str = "application/vnd.buildkit.status.v0";
pub const SOLVE_STATUS: &str = "application/vnd.buildkit.solvestatus.v0";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const REFERENCE_ANNOTATION: &str = "vnd.buildkit.history.reference";

/// A real trace file from the workspace's `sample-traces/`.
pub fn trace_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sample-traces")
        .join(rel)
}

pub fn read_trace(rel: &str) -> Vec<u8> {
    let path = trace_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The protobuf `StatusResponse` messages of an Engine API `/build?version=2` stream (the
/// base64 `aux` of its `moby.buildkit.trace` lines).
pub fn engine_trace_messages(rel: &str) -> Vec<Vec<u8>> {
    let text = String::from_utf8(read_trace(rel)).expect("utf-8 trace");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).expect("JSON line");
            (v["id"] == "moby.buildkit.trace").then(|| {
                BASE64
                    .decode(v["aux"].as_str().expect("aux string"))
                    .expect("base64 aux")
            })
        })
        .collect()
}

/// The `errorDetail.message` of an Engine API stream, if it failed.
pub fn engine_error(rel: &str) -> Option<String> {
    let text = String::from_utf8(read_trace(rel)).expect("utf-8 trace");
    text.lines().find_map(|line| {
        let v: Value = serde_json::from_str(line).ok()?;
        v["errorDetail"]["message"].as_str().map(str::to_owned)
    })
}

/// A status.v0 blob: each message behind its little-endian `u32` length.
pub fn frame(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(&u32::try_from(m.len()).expect("small message").to_le_bytes());
        out.extend_from_slice(m);
    }
    out
}

pub fn digest(data: &[u8]) -> String {
    let hex: String = (0..4u64)
        .map(|seed| {
            let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for b in data {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
            format!("{h:016x}")
        })
        .collect();
    format!("sha256:{hex}")
}

/// The tar path of a blob.
pub fn blob_path(data: &[u8]) -> String {
    format!("blobs/{}", digest(data).replacen(':', "/", 1))
}

/// One build record: its JSON and its layers (media type, bytes).
#[derive(Clone)]
pub struct Record {
    /// The `vnd.buildkit.history.reference` annotation in the nested index.
    pub reference: String,
    pub json: Value,
    pub layers: Vec<(&'static str, Vec<u8>)>,
}

fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": digest(data), "size": data.len()})
}

/// The files of an export, in containerd's order (blobs, `index.json`, `oci-layout`).
/// `nested`: `index.json` -> index -> annotated manifests, as buildx writes it; otherwise
/// `index.json` lists the manifests itself.
pub fn layout(records: &[Record], nested: bool) -> Vec<(String, Vec<u8>)> {
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    let mut entries = Vec::new();
    for r in records {
        let config = serde_json::to_vec_pretty(&r.json).expect("record JSON");
        let layers: Vec<Value> = r
            .layers
            .iter()
            .map(|(mt, data)| descriptor(mt, data))
            .collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(RECORD, &config),
            "layers": layers,
        }))
        .expect("manifest JSON");
        let mut entry = descriptor(OCI_MANIFEST, &manifest);
        if nested {
            entry["annotations"] = json!({ REFERENCE_ANNOTATION: r.reference });
        }
        entries.push(entry);
        blobs.push(config);
        blobs.extend(r.layers.iter().map(|(_, data)| data.clone()));
        blobs.push(manifest);
    }
    let mut top = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    if nested {
        let inner = serde_json::to_vec(&top).expect("index JSON");
        top = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_INDEX, &inner)]});
        blobs.push(inner);
    }
    let mut files = vec![
        ("blobs/".to_owned(), Vec::new()),
        ("blobs/sha256/".to_owned(), Vec::new()),
    ];
    files.extend(blobs.into_iter().map(|b| (blob_path(&b), b)));
    files.push((
        "index.json".to_owned(),
        serde_json::to_vec(&top).expect("index JSON"),
    ));
    files.push((
        "oci-layout".to_owned(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    files
}

/// A gzip'd tar of `files`; paths ending in `/` become directories.
pub fn pack(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        if path.ends_with('/') {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
        } else {
            header.set_mode(0o444);
        }
        header.set_size(data.len() as u64);
        tar.append_data(&mut header, path, data.as_slice())
            .expect("tar entry");
    }
    tar.into_inner()
        .expect("tar end")
        .finish()
        .expect("gzip end")
}

pub fn export(records: &[Record], nested: bool) -> Vec<u8> {
    pack(&layout(records, nested))
}
