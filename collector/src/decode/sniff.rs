//! Format sniffing: which decoder fits the first bytes of an input.

use super::ci_prefix::clean_line;
use crate::model::Format;

/// How many leading bytes [`sniff`] wants to see.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Guesses the format from the first bytes of an input; `None` when nothing fits.
pub fn sniff(prefix: &[u8]) -> Option<Format> {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Dockerbuild);
    }
    let text = String::from_utf8_lossy(prefix);
    let mut plain_lines = 0;
    for line in text.lines().take(400) {
        let clean = clean_line(line);
        let t = clean.text.trim_start();
        if t.is_empty() || clean.decoration {
            continue;
        }
        if t.starts_with('{') {
            let compact: String = t.chars().filter(|c| !c.is_whitespace()).take(200).collect();
            if compact.starts_with("{\"id\":\"moby.")
                || compact.starts_with("{\"stream\":")
                || compact.starts_with("{\"aux\":")
                || compact.starts_with("{\"errorDetail\":")
                || compact.starts_with("{\"status\":")
                || compact.starts_with("{\"id\":")
            {
                return Some(Format::Moby);
            }
            return Some(Format::Rawjson);
        }
        if t.starts_with('#') && t[1..].starts_with(|c: char| c.is_ascii_digit()) {
            plain_lines += 1;
            if plain_lines >= 1 {
                return Some(Format::Plain);
            }
        }
    }
    // An indented rawjson object starts with a lone `{` line, handled above.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Some(Format::Dockerbuild));
        assert_eq!(sniff(b"{\n  \"vertexes\": [\n"), Some(Format::Rawjson));
        assert_eq!(sniff(b"{\"vertexes\":[]}\n"), Some(Format::Rawjson));
        assert_eq!(
            sniff(b"{\"id\":\"moby.buildkit.trace\",\"aux\":\"AA==\"}\r\n"),
            Some(Format::Moby)
        );
        assert_eq!(sniff(b"{\"stream\":\"Step 1/2\"}\r\n"), Some(Format::Moby));
        assert_eq!(
            sniff(b"#0 building with \"default\"\n\n#1 [internal] load\n"),
            Some(Format::Plain)
        );
        assert_eq!(sniff(b"2024-01-03T02:30:03.5675877Z ##[group]Run build\n2024-01-03T02:30:03.5675877Z #1 [internal] load\n"), Some(Format::Plain));
        assert_eq!(sniff(b"hello\nworld\n"), None);
        assert_eq!(sniff(b""), None);
    }
}
