//! CI log line prefixes: strips what CI systems add around each line of a build log and keeps
//! their timestamps, the only wall-clock times a plain log has.
//!
//! Handled: ANSI escape sequences; a leading RFC 3339 timestamp (GitHub Actions raw logs with 7
//! fractional digits, other hosts with 6 or 9); GitLab section markers
//! (`\e[0Ksection_start:<unix>:<name>\r\e[0K<header>`) and its `FF_TIMESTAMPS` prefix
//! (`<ts> 00O+`); GitHub workflow commands (`##[group]`, `##[endgroup]`, `##[error]`).

use crate::event::Nanos;
use crate::time::parse_rfc3339;

/// A log line with its CI decoration removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanLine<'a> {
    /// The line as the build tool printed it.
    pub text: std::borrow::Cow<'a, str>,
    /// The CI timestamp of the line, if it had one.
    pub timestamp: Option<Nanos>,
    /// The line was pure CI decoration (a group marker, a section end): nothing to parse.
    pub decoration: bool,
}

/// Strips CI prefixes and ANSI codes from one line (without its line ending).
pub fn clean_line(line: &str) -> CleanLine<'_> {
    let mut rest = line;
    let mut timestamp = None;
    if let Some((ts, after)) = split_timestamp(rest) {
        timestamp = Some(ts);
        rest = after;
        // GitLab FF_TIMESTAMPS: `<ts> 00O+text` / `00E text`.
        rest = strip_gitlab_stream_tag(rest);
    }
    // ANSI escapes or a GitLab section marker's carriage return (one SIMD pass for both).
    let escaped = memchr::memchr2(0x1b, b'\r', rest.as_bytes()).is_some();
    let text: std::borrow::Cow<'_, str> = if escaped {
        std::borrow::Cow::Owned(strip_ansi_and_sections(rest))
    } else {
        std::borrow::Cow::Borrowed(rest)
    };
    let decoration = is_decoration(&text);
    CleanLine {
        text,
        timestamp,
        decoration,
    }
}

fn split_timestamp(line: &str) -> Option<(Nanos, &str)> {
    // Shortest form: 2024-01-03T02:30:03Z
    let b = line.as_bytes();
    if b.len() < 20 || !b[0].is_ascii_digit() || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let end = line.find(' ').unwrap_or(line.len());
    let ts = parse_rfc3339(&line[..end])?;
    let rest = line.get(end + 1..).unwrap_or("");
    Some((ts, rest))
}

fn strip_gitlab_stream_tag(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 3
        && b[0].is_ascii_hexdigit()
        && b[1].is_ascii_hexdigit()
        && (b[2] == b'O' || b[2] == b'E')
    {
        let skip = if b.get(3) == Some(&b'+') { 4 } else { 3 };
        let after = &s[skip..];
        return after.strip_prefix(' ').unwrap_or(after);
    }
    s
}

/// Removes ANSI escape sequences, and GitLab `section_start/end` markers up to their `\r`.
fn strip_ansi_and_sections(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters then one final byte in @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ST
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            },
            '\r' => {
                // GitLab: `section_start:...:name\r\e[0K<header>`: drop what came before.
                if out.starts_with("section_start:") || out.starts_with("section_end:") {
                    out.clear();
                }
            }
            c => out.push(c),
        }
    }
    if out.starts_with("section_start:") || out.starts_with("section_end:") {
        out.clear();
    }
    out
}

fn is_decoration(text: &str) -> bool {
    text.starts_with("##[") || text.starts_with("::group::") || text.starts_with("::endgroup::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_prefix_with_seven_digits() {
        let l = clean_line("2024-01-03T02:30:03.5675877Z #5 [base 1/2] FROM x");
        assert_eq!(l.text, "#5 [base 1/2] FROM x");
        assert_eq!(l.timestamp, parse_rfc3339("2024-01-03T02:30:03.5675877Z"));
        assert!(!l.decoration);
    }

    #[test]
    fn github_group_markers_are_decoration() {
        let l = clean_line("2024-01-03T02:30:03.5675877Z ##[group]Build");
        assert!(l.decoration);
    }

    #[test]
    fn ansi_colours_are_removed() {
        let l = clean_line("\u{1b}[33m 1 warning found\u{1b}[0m");
        assert_eq!(l.text, " 1 warning found");
    }

    #[test]
    fn gitlab_sections_and_timestamps() {
        let l = clean_line(
            "\u{1b}[0Ksection_start:1700000000:build[collapsed=true]\r\u{1b}[0K#1 [internal] load",
        );
        assert_eq!(l.text, "#1 [internal] load");
        let l = clean_line("\u{1b}[0Ksection_end:1700000000:build\r\u{1b}[0K");
        assert_eq!(l.text, "");
        let l = clean_line("2024-05-14T11:19:20.000000Z 00O+#2 DONE 0.1s");
        assert_eq!(l.text, "#2 DONE 0.1s");
        assert!(l.timestamp.is_some());
    }

    #[test]
    fn plain_lines_pass_through() {
        let l = clean_line("#12 0.656 Collecting requests==2.32.3");
        assert_eq!(l.text, "#12 0.656 Collecting requests==2.32.3");
        assert_eq!(l.timestamp, None);
    }
}
