//! Making untrusted text safe to show: step names, logs and labels come from builds anyone can
//! start, so they are cleaned (ANSI escapes, NUL and other controls removed, length capped) and
//! then escaped for the output format (HTML text and attributes, Markdown text and code spans).

/// Longest untrusted string shown in a table cell or a sentence, in characters.
pub const MAX_CELL: usize = 160;

/// Removes ANSI escape sequences, control characters (NUL, newlines, tabs, C1) and bidirectional
/// overrides, collapses whitespace, and cuts the result to `max` characters (marked with `…`).
/// Stops reading once `max` characters are kept, so a 100 KB name costs little.
pub fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)).saturating_add(4));
    let mut kept = 0usize;
    let mut space = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            skip_escape(c, &mut chars);
            continue;
        }
        let blank = c.is_whitespace() || c.is_control();
        if is_invisible(c) {
            continue;
        }
        if blank {
            space = kept > 0;
            continue;
        }
        if space {
            if kept + 1 >= max {
                out.push('…');
                return out;
            }
            out.push(' ');
            kept += 1;
            space = false;
        }
        if kept + 1 >= max && chars.peek().is_some() {
            out.push('…');
            return out;
        }
        out.push(c);
        kept += 1;
    }
    out
}

/// [`clean`] for a piece of a sentence: one space is kept at either end, so the pieces around
/// a code span stay apart.
pub fn clean_inline(s: &str) -> String {
    let inner = clean(s, usize::MAX);
    if inner.is_empty() {
        return if s.is_empty() {
            String::new()
        } else {
            " ".into()
        };
    }
    let lead = if s.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trail = if s.ends_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    format!("{lead}{inner}{trail}")
}

/// Skips one escape sequence whose introducer (`ESC` or the C1 `CSI`) was just read.
fn skip_escape(first: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let kind = if first == '\u{9b}' {
        '['
    } else {
        match chars.next() {
            Some(k) => k,
            None => return,
        }
    };
    match kind {
        // CSI: parameters and intermediates, then one final byte in @..~.
        '[' => {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        // OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \).
        ']' | 'P' | 'X' | '^' | '_' => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        // Two-character sequences (ESC 7, ESC c, ...): the second character is consumed.
        _ => {}
    }
}

/// Characters that change how the text around them is displayed without showing themselves:
/// bidirectional embeddings, overrides and isolates ("Trojan Source"), zero-width joiners aside.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown (CommonMark and GitHub's flavour): every ASCII punctuation mark
/// that can open a construct (links, images, emphasis, HTML, code, tables, headings, autolinks)
/// gets a backslash, and `www.` loses its link. Newlines must already be gone (see [`clean`]).
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `(`, `)` and `!` need no escape: with `[` and `]` escaped no link or image can form.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' | '@' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // GitHub links bare `scheme://` and `www.` text: an escape splits the text there.
            ':' if chars.peek() == Some(&'/') => out.push_str("\\:"),
            '.' if out.len() >= 3
                && out.as_bytes()[out.len() - 3..].eq_ignore_ascii_case(b"www") =>
            {
                out.push_str("\\.")
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span holding `s` verbatim: nothing inside is a link, an image or HTML.
/// The fence is one backtick longer than the longest run inside; in a table cell, pipes are
/// escaped as GitHub's table syntax requires (it removes the backslash inside code too).
pub fn md_code(s: &str, in_table: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let body = if in_table {
        s.replace('|', "\\|")
    } else {
        s.to_string()
    };
    // A space on each side keeps a leading or trailing backtick apart from the fence.
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_escapes_and_controls() {
        assert_eq!(clean("\u{1b}[31mred\u{1b}[0m text", 50), "red text");
        assert_eq!(
            clean("a\u{1b}]8;;http://evil\u{7}link\u{1b}]8;;\u{1b}\\b", 50),
            "alinkb"
        );
        assert_eq!(
            clean("nul\0byte\nnew\r\nline\ttab", 50),
            "nul byte new line tab"
        );
        assert_eq!(clean("  lead and trail  ", 50), "lead and trail");
        assert_eq!(clean("rtl\u{202e}txt.exe", 50), "rtltxt.exe");
        assert_eq!(clean("\u{9b}1mcsi", 50), "csi");
    }

    #[test]
    fn clean_caps_length_cheaply() {
        let long = "A".repeat(100_000);
        let c = clean(&long, 40);
        assert_eq!(c.chars().count(), 40);
        assert!(c.ends_with('…'));
        assert_eq!(clean("exactly", 7), "exactly");
        assert_eq!(clean("exactly8", 7), "exactl…");
    }

    #[test]
    fn html_escapes_text_and_attributes() {
        assert_eq!(
            html("\"><img src=x onerror='a'>&"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;"
        );
    }

    #[test]
    fn markdown_text_cannot_link_or_embed() {
        let hostile =
            "[x](javascript:alert(1)) ![i](http://evil/x.png) <b>hi</b> www.evil.com a|b `c`";
        let md = format!(
            "| a |\n|---|\n| {} |\n\n{}\n",
            md_text(hostile),
            md_text(hostile)
        );
        assert_no_links_or_html(&md);
        let code = format!(
            "| a |\n|---|\n| {} |\n\n{}\n",
            md_code(hostile, true),
            md_code(hostile, false)
        );
        assert_no_links_or_html(&code);
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(md_code("a`b", false), "``a`b``");
        assert_eq!(md_code("`x`", false), "`` `x` ``");
        assert_eq!(md_code("a|b", true), "`a\\|b`");
        let events: Vec<_> = pulldown_cmark::Parser::new("``a`b``").collect();
        assert!(events
            .iter()
            .any(|e| matches!(e, pulldown_cmark::Event::Code(c) if c.as_ref() == "a`b")));
    }

    fn assert_no_links_or_html(md: &str) {
        use pulldown_cmark::{Event, Options, Parser, Tag};
        let mut table_cells = 0;
        for e in Parser::new_ext(md, Options::ENABLE_TABLES) {
            match e {
                Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                    panic!("link or image in {md}")
                }
                Event::Html(h) | Event::InlineHtml(h) => panic!("HTML {h} in {md}"),
                Event::Start(Tag::TableCell) => table_cells += 1,
                _ => {}
            }
        }
        // The header cell and one body cell: the pipe inside did not split the row.
        assert_eq!(table_cells, 2, "{md}");
    }
}
