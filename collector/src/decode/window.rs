//! `Window`: the bytes of an input read but not yet decoded, in one buffer a parser can borrow
//! from, with input positions (byte offset and line) worked out only when asked for.

use std::io::Read;

use crate::error::Position;

/// Bytes asked of the reader at a time, at least.
const READ_BYTES: usize = 1 << 20;

/// A sliding window over a reader. `bytes()` is what has been read and not consumed;
/// [`Window::fill`] reads more (moving the unconsumed bytes to the front first), growing the
/// buffer only when they fill it.
pub(crate) struct Window<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Input offset of `buf[0]`.
    base: u64,
    /// Newlines in the input before `buf[0]`.
    lines_before: u64,
}

impl<R: Read> Window<R> {
    pub(crate) fn new(reader: R) -> Self {
        Window {
            reader,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            base: 0,
            lines_before: 0,
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks the first `n` unconsumed bytes as decoded.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.start += n;
    }

    /// Whether the reader has reported the end of the input.
    pub(crate) fn at_eof(&self) -> bool {
        self.eof
    }

    /// The position of the unconsumed byte `ahead` bytes in: its input offset and 1-based line.
    /// Counts newlines, so it is for error paths.
    pub(crate) fn position(&self, ahead: usize) -> Position {
        let at = self.start + ahead;
        Position {
            line: Some(self.lines_before + count_newlines(&self.buf[..at]) + 1),
            offset: self.base + at as u64,
        }
    }

    /// Reads more input after the unconsumed bytes. `Ok(false)` at the end of the input.
    pub(crate) fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.lines_before += count_newlines(&self.buf[..self.start]);
            self.base += self.start as u64;
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_BYTES {
            let len = (self.buf.len() * 2).max(self.end + READ_BYTES);
            self.buf.resize(len, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // memchr counts with SIMD; a byte-by-byte filter-count cost 15% of `read_builds` on
    // indented traces (a newline every ~30 bytes).
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per read, as a pipe does.
    pub(crate) struct Trickle<'a> {
        pub(crate) data: &'a [u8],
        pub(crate) chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn positions_survive_refills() {
        let data = b"ab\ncd\n\nef";
        let mut w = Window::new(Trickle { data, chunk: 2 });
        let mut seen = Vec::new();
        while w.fill().unwrap() {
            let n = w.bytes().len();
            for i in 0..n {
                let p = w.position(i);
                seen.push((w.bytes()[i], p.line.unwrap(), p.offset));
            }
            w.consume(n);
        }
        let expected: Vec<(u8, u64, u64)> = vec![
            (b'a', 1, 0),
            (b'b', 1, 1),
            (b'\n', 1, 2),
            (b'c', 2, 3),
            (b'd', 2, 4),
            (b'\n', 2, 5),
            (b'\n', 3, 6),
            (b'e', 4, 7),
            (b'f', 4, 8),
        ];
        assert_eq!(seen, expected);
        assert!(w.at_eof());
        assert_eq!(w.position(0).offset, 9);
    }

    #[test]
    fn unconsumed_bytes_are_kept_across_fills() {
        let mut w = Window::new(Trickle {
            data: b"0123456789",
            chunk: 3,
        });
        w.fill().unwrap();
        w.consume(1);
        w.fill().unwrap();
        assert_eq!(w.bytes(), b"12345");
        assert_eq!(w.position(0).offset, 1);
    }
}
