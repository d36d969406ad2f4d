//! `DecodeError`: what goes wrong reading a trace, with the position it went wrong at.

use std::fmt;

/// Where in the input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line number, when the format is line-oriented.
    pub line: Option<u64>,
    /// 0-based byte offset.
    pub offset: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, byte {}", self.offset),
            None => write!(f, "byte {}", self.offset),
        }
    }
}

/// A decoder error.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("read error at {pos}: {source}")]
    Io {
        pos: Position,
        #[source]
        source: std::io::Error,
    },
    #[error("malformed {format} input at {pos}: {message}")]
    Malformed {
        format: &'static str,
        pos: Position,
        message: String,
    },
    /// The input stopped in the middle of a record (a truncated capture): what came before is
    /// still valid, and the build is stored as `incomplete`.
    #[error("input ends mid-record at {pos}: {message}")]
    Truncated { pos: Position, message: String },
    #[error("input is empty")]
    Empty,
    #[error("unrecognised input: not a BuildKit progress stream ({hint})")]
    Unrecognised { hint: String },
}

impl DecodeError {
    pub fn malformed(format: &'static str, pos: Position, message: impl Into<String>) -> Self {
        DecodeError::Malformed {
            format,
            pos,
            message: message.into(),
        }
    }
}
