//! A reader that hands out its bytes a few at a time, as a pipe does, so decoders can be checked
//! to give the same events whatever the read boundaries.
//!
//! Shared by the fuzz targets and `collector/tests/fuzz_regressions.rs` (included with `#[path]`);
//! each uses a part of it.

#![allow(dead_code)]

use std::io::{BufReader, Read};

use collector::decode::decoder;
use collector::model::Format;

/// Reads at most `chunk` bytes per call.
pub struct Trickle<'a> {
    pub data: &'a [u8],
    pub chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Every item `format`'s decoder yields for `data` (errors included, with their positions),
/// read in one piece or `chunk` bytes at a time.
pub fn decoded(format: Format, data: &[u8], chunk: Option<usize>) -> Vec<String> {
    let items = |d: collector::decode::Decoder<'_>| d.map(|r| format!("{r:?}")).collect();
    match chunk {
        None => items(decoder(format, data)),
        Some(chunk) => items(trickled(format, data, chunk)),
    }
}

/// `format`'s decoder over `data` handed out `chunk` bytes per read.
pub fn trickled(format: Format, data: &[u8], chunk: usize) -> collector::decode::Decoder<'_> {
    decoder(
        format,
        BufReader::with_capacity(chunk, Trickle { data, chunk }),
    )
}

/// The read size a fuzz input is trickled with: small, and varying with the input.
pub fn chunk_for(data: &[u8]) -> usize {
    1 + data.len() % 13
}
