//! Placeholder for the plain decoder (being written).

use std::io::BufRead;

use super::EventResult;

pub struct PlainDecoder<R> {
    _reader: R,
}

impl<R: BufRead> PlainDecoder<R> {
    pub fn new(reader: R) -> Self {
        PlainDecoder { _reader: reader }
    }
}

impl<R: BufRead> Iterator for PlainDecoder<R> {
    type Item = EventResult;
    fn next(&mut self) -> Option<EventResult> {
        None
    }
}
