//! `ObjectEnd`: finds where a JSON object ends by counting brackets outside strings, fed a piece
//! at a time, so a reader can tell when an object cut off by a read is complete without parsing
//! it again after every read.

/// Incremental bracket scanner: depth outside strings, with string and escape state carried
/// from one piece to the next.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjectEnd {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl ObjectEnd {
    /// Feeds the next bytes; returns the index just past the byte that closed the top-level
    /// value, if it is among them.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                // Most bytes of a log-heavy trace are inside strings (base64 log data): jump to
                // the next quote or backslash instead of looking at each byte.
                let j = i + memchr::memchr2(b'"', b'\\', &bytes[i..])?;
                if bytes[j] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                }
                i = j + 1;
                continue;
            }
            let b = bytes[i];
            i += 1;
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner one byte at a time: what `feed` must agree with.
    fn feed_bytewise(scan: &mut ObjectEnd, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            if scan.in_string {
                if scan.escaped {
                    scan.escaped = false;
                } else if b == b'\\' {
                    scan.escaped = true;
                } else if b == b'"' {
                    scan.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => scan.in_string = true,
                b'{' | b'[' => scan.depth += 1,
                b'}' | b']' => {
                    scan.depth = scan.depth.saturating_sub(1);
                    if scan.depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn skipping_strings_agrees_with_the_bytewise_scan(
            chunks in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"{}[]\\\"a :,".to_vec()), 0..40),
                1..6,
            ),
        ) {
            // Fed in pieces, as reads arrive, with the state carried between them.
            let (mut fast, mut slow) = (ObjectEnd::default(), ObjectEnd::default());
            for chunk in &chunks {
                let mut rest: &[u8] = chunk;
                loop {
                    let (a, b) = (fast.feed(rest), feed_bytewise(&mut slow, rest));
                    proptest::prop_assert_eq!(a, b);
                    proptest::prop_assert_eq!(fast, slow);
                    match a {
                        Some(end) => {
                            rest = &rest[end..];
                            fast = ObjectEnd::default();
                            slow = ObjectEnd::default();
                        }
                        None => break,
                    }
                }
            }
        }
    }

    #[test]
    fn brackets_in_strings_and_escaped_quotes_do_not_count() {
        let object = br#"{"name": "RUN echo '}{' \"}\" [", "x": [1, {"y": "]"}]}"#;
        assert_eq!(ObjectEnd::default().feed(object), Some(object.len()));
        let mut scan = ObjectEnd::default();
        let (a, b) = object.split_at(20);
        assert_eq!(scan.feed(a), None);
        assert_eq!(scan.feed(b), Some(b.len()));
    }
}
