//! Placeholder for the rawjson decoder (being written).

use std::io::BufRead;

use super::EventResult;

pub struct RawJsonDecoder<R> {
    _reader: R,
}

impl<R: BufRead> RawJsonDecoder<R> {
    pub fn new(reader: R) -> Self {
        RawJsonDecoder { _reader: reader }
    }
}

impl<R: BufRead> Iterator for RawJsonDecoder<R> {
    type Item = EventResult;
    fn next(&mut self) -> Option<EventResult> {
        None
    }
}
