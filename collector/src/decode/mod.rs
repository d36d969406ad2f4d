//! Decoders: one per input format, each a pure streaming iterator of progress [`Event`]s.
//!
//! A decoder reads from a `BufRead`, never touches the database or the network, and yields
//! `Result<Event, DecodeError>`. After an error it yields nothing more.

pub mod ci_prefix;
pub mod dockerbuild;
mod lines;
pub mod moby;
mod object_end;
pub mod plain;
pub mod proto;
pub mod rawjson;
mod records;
mod sniff;
mod window;
pub mod wire;

use std::io::BufRead;

pub use sniff::{sniff, SNIFF_BYTES};

use crate::error::DecodeError;
use crate::event::Event;
use crate::model::Format;

/// One decoded item.
pub type EventResult = Result<Event, DecodeError>;

/// A decoder over any reader.
pub type Decoder<'a> = Box<dyn Iterator<Item = EventResult> + 'a>;

/// The decoder for `format` over `reader`.
pub fn decoder<'a, R: BufRead + 'a>(format: Format, reader: R) -> Decoder<'a> {
    match format {
        Format::Rawjson => Box::new(rawjson::RawJsonDecoder::new(reader)),
        Format::Plain => Box::new(plain::PlainDecoder::new(reader)),
        Format::Moby => Box::new(moby::MobyDecoder::new(reader)),
        Format::Dockerbuild => Box::new(dockerbuild::DockerbuildDecoder::new(reader)),
    }
}
