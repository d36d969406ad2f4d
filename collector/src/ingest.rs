//! Reading one input into builds: sniff the format, decode, assemble, fingerprint
//! ([`read_builds`]: bytes in, [`Build`]s out, no database); and [`ingest_input`], which also
//! stores them with their labels, as `buildprof ingest` does for each input.

use std::io::{BufReader, Cursor, Read};

use xxhash_rust::xxh3::Xxh3;

use crate::assemble::{AssembleOptions, Assembler};
use crate::decode::{decoder, sniff, SNIFF_BYTES};
use crate::error::{DecodeError, Position};
use crate::inputs::BuildInputs;
use crate::model::{Build, Format};
use crate::store::{Inserted, SourceInfo, Store, StoreError};

/// What reading one input produced.
#[derive(Debug)]
pub struct ReadOutcome {
    pub format: Format,
    pub builds: Vec<Build>,
    /// Bytes read from the input.
    pub bytes: u64,
    /// Set when the input stopped mid-record: its last build is stored as `incomplete`.
    pub truncated: Option<DecodeError>,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("could not read: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot open: {0}")]
    Open(std::io::Error),
}

/// What ingesting one input stored.
#[derive(Debug)]
pub struct Ingested {
    /// The input's name in the builds and messages (`<stdin>` for `-`).
    pub source: String,
    /// Each build as stored (labels set), with whether it was new; a build that could not be
    /// stored has its error instead, and the others are kept.
    pub builds: Vec<(Build, Result<Inserted, StoreError>)>,
    /// Set when the input stopped mid-record: its last build is stored as `incomplete`.
    pub truncated: Option<DecodeError>,
    /// Warnings about what was stored beside the builds (their inputs).
    pub notes: Vec<String>,
}

impl Ingested {
    /// The ids of the builds stored (new or already there).
    pub fn stored_ids(&self) -> Vec<&str> {
        let stored = self.builds.iter().filter(|(_, r)| r.is_ok());
        stored.map(|(b, _)| b.id.as_str()).collect()
    }

    /// The first build that could not be stored, if one could not.
    pub fn failed(&self) -> Option<&StoreError> {
        self.builds.iter().find_map(|(_, r)| r.as_ref().err())
    }

    /// Stores `inputs` (the build's Dockerfile, args and context manifest, when recorded) with
    /// every build read; a failure is a note, the build itself stays stored.
    pub fn store_inputs(&mut self, store: &mut Store, inputs: Option<&BuildInputs>) {
        let Some(inputs) = inputs else { return };
        for (build, _) in &self.builds {
            if let Err(e) = store.insert_inputs(&build.id, inputs) {
                let id = &build.id;
                self.notes.push(format!(
                    "warning: the inputs of build {id} were not stored: {e}"
                ));
            }
        }
    }
}

/// Opens an input named on the command line: a file, or stdin for `-`; returns its name for
/// messages and builds with the reader.
pub fn open_input(input: &str) -> Result<(String, Box<dyn Read>), ReadError> {
    if input == "-" {
        return Ok(("<stdin>".to_string(), Box::new(std::io::stdin().lock())));
    }
    let file = std::fs::File::open(input).map_err(ReadError::Open)?;
    Ok((input.to_string(), Box::new(file)))
}

/// Reads one input named `source` and stores its builds labelled with `labels`, in batches
/// (each build all-or-nothing).
pub fn ingest_input<R: Read>(
    store: &mut Store,
    source: &str,
    input: R,
    format: Option<Format>,
    labels: &[(String, String)],
    options: &AssembleOptions,
) -> Result<Ingested, ReadError> {
    let read = read_builds(source, input, format, options)?;
    let mut builds = read.builds;
    let results = store.insert_labelled(&mut builds, labels, &SourceInfo::now(source, read.bytes));
    Ok(Ingested {
        source: source.to_string(),
        builds: builds.into_iter().zip(results).collect(),
        truncated: read.truncated,
        notes: Vec::new(),
    })
}

/// Counts and hashes every byte that passes through, so a build's fingerprint is its content.
struct Fingerprint<R> {
    inner: R,
    hasher: Xxh3,
    bytes: u64,
}

impl<R: Read> Read for Fingerprint<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Reads one input (a file or stdin) into builds. `source` names it in the builds and errors.
pub fn read_builds<R: Read>(
    source: &str,
    input: R,
    format: Option<Format>,
    options: &AssembleOptions,
) -> Result<ReadOutcome, ReadError> {
    let mut fp = Fingerprint {
        inner: input,
        hasher: Xxh3::new(),
        bytes: 0,
    };
    // Sniff from a prefix, then read it again followed by the rest.
    let mut prefix = Vec::new();
    (&mut fp)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)?;
    if prefix.is_empty() {
        return Err(DecodeError::Empty.into());
    }
    let format = match format {
        Some(f) => f,
        None => sniff(&prefix).ok_or_else(|| DecodeError::Unrecognised {
            hint: describe(&prefix),
        })?,
    };
    let mut reader = BufReader::with_capacity(256 * 1024, Cursor::new(prefix).chain(&mut fp));
    let mut asm = Assembler::with_options(source, format, options.clone());
    let mut builds = Vec::new();
    let mut truncated = None;
    let mut events = 0u64;
    for item in decoder(format, &mut reader) {
        match item {
            Ok(ev) => {
                events += 1;
                if let Some(b) = asm.push(ev) {
                    builds.push(b);
                }
            }
            Err(e @ DecodeError::Truncated { .. }) if events > 0 => {
                truncated = Some(e);
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Drain what the decoder left unread so the fingerprint covers the whole input.
    std::io::copy(&mut reader, &mut std::io::sink())?;
    drop(reader);
    if let Some(b) = asm.finish(truncated.is_some()) {
        builds.push(b);
    }
    if builds.is_empty() {
        // Well-formed but without any progress (rawjson `{}` objects, an Engine API stream of
        // the legacy builder): storing nothing and succeeding would hide that.
        let message = match format {
            Format::Moby => "no BuildKit trace (moby.buildkit.trace) in the stream: builds by the legacy builder cannot be profiled",
            _ => "no build progress found",
        };
        let end = Position {
            line: None,
            offset: fp.bytes,
        };
        return Err(DecodeError::malformed(format.as_str(), end, message).into());
    }
    assign_ids(&mut builds, format, fp.hasher.digest128());
    Ok(ReadOutcome {
        format,
        builds,
        bytes: fp.bytes,
        truncated,
    })
}

/// Build ids: the fingerprint of the input's bytes (`whole`), or of it and the build's position
/// when the input holds several builds; a build record's own reference for `.dockerbuild`.
fn assign_ids(builds: &mut [Build], format: Format, whole: u128) {
    let n = builds.len();
    for (i, b) in builds.iter_mut().enumerate() {
        b.id = match (&b.reference, format) {
            // Build records carry the builder's own reference: the same record exported twice
            // is the same build.
            (Some(r), Format::Dockerbuild) => hex(xxhash_rust::xxh3::xxh3_128(
                format!("dockerbuild\0{r}").as_bytes(),
            )),
            _ if n == 1 => hex(whole),
            _ => hex(xxhash_rust::xxh3::xxh3_128(
                format!("{whole:032x}\0{i}").as_bytes(),
            )),
        };
    }
}

fn hex(v: u128) -> String {
    format!("{v:032x}")
}

/// A short description of unrecognised input for the error message.
fn describe(prefix: &[u8]) -> String {
    if prefix.iter().take(512).any(|&b| b == 0 || (b < 9)) {
        return "binary data".into();
    }
    let first = String::from_utf8_lossy(prefix);
    let line = first.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let shown: String = line.chars().take(60).collect();
    format!("first line {shown:?}; expected rawjson, plain, an Engine API stream or a .dockerbuild file")
}
