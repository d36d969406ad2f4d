//! Placeholder for the moby decoder (being written).

use std::io::BufRead;

use super::EventResult;

pub struct MobyDecoder<R> {
    _reader: R,
}

impl<R: BufRead> MobyDecoder<R> {
    pub fn new(reader: R) -> Self {
        MobyDecoder { _reader: reader }
    }
}

impl<R: BufRead> Iterator for MobyDecoder<R> {
    type Item = EventResult;
    fn next(&mut self) -> Option<EventResult> {
        None
    }
}
