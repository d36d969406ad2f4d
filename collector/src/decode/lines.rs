//! Byte-level helpers the line-oriented decoders share: bounded line reads, ASCII trimming and
//! short previews of offending text for error messages.

use std::io::BufRead;

/// The first characters of `text`, for an error message.
pub(crate) fn preview(text: &str) -> String {
    text.chars().take(60).collect()
}

pub(crate) fn trim_ascii(b: &[u8]) -> &[u8] {
    trim_ascii_end(trim_ascii_start(b))
}

pub(crate) fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn trim_ascii_end(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    &b[..b.len() - n]
}

/// `read_until(b'\n')` that refuses lines longer than `cap` instead of growing without bound.
pub(crate) fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let (done, used) = {
            let available = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match memchr::memchr(b'\n', available) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
        if buf.len() > cap {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line longer than {cap} bytes"),
            ));
        }
    }
}
