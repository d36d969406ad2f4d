//! Placeholder for the dockerbuild decoder (being written).

use std::io::BufRead;

use super::EventResult;

pub struct DockerbuildDecoder<R> {
    _reader: R,
}

impl<R: BufRead> DockerbuildDecoder<R> {
    pub fn new(reader: R) -> Self {
        DockerbuildDecoder { _reader: reader }
    }
}

impl<R: BufRead> Iterator for DockerbuildDecoder<R> {
    type Item = EventResult;
    fn next(&mut self) -> Option<EventResult> {
        None
    }
}
