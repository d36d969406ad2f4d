//! `HtmlRenderer`: one self-contained HTML page (inline CSS and SVG charts; no scripts, no
//! external assets), readable in light and dark schemes. Every string is escaped; a
//! Content-Security-Policy forbids scripts and remote loads as a second line of defence.

use super::{MarkupRenderer, RenderError};
use crate::render::chart::Chart;
use crate::render::document::{Doc, DocTable, MetricSet, Span};
use crate::render::escape::{clean, clean_inline, html, MAX_CELL};
use crate::render::table::Align;

/// The page's styles (light and dark via `prefers-color-scheme`).
const CSS: &str = include_str!("report.css");

/// Renders documents as a standalone HTML page.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlRenderer;

fn text(s: &str) -> String {
    html(&clean(s, usize::MAX))
}

fn spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) => html(&clean_inline(t)),
            Span::Strong(t) => format!("<strong>{}</strong>", text(t)),
            Span::Code(t) => format!("<code>{}</code>", html(&clean(t, MAX_CELL))),
            Span::Change(t, tone) => {
                format!("<span class=\"{}\">{}</span>", tone.as_str(), text(t))
            }
        })
        .collect()
}

/// An `id` for a heading: lowercase ASCII letters and digits joined by `-`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

impl MarkupRenderer for HtmlRenderer {
    fn heading(&self, t: &str) -> String {
        format!("<h2 id=\"{}\">{}</h2>\n", slug(t), text(t))
    }

    fn paragraph(&self, s: &[Span]) -> String {
        format!("<p>{}</p>\n", spans(s))
    }

    fn metrics(&self, m: &MetricSet) -> String {
        let mut out = String::from("<div class=\"metrics\">\n");
        for x in &m.items {
            out.push_str(&format!(
                "<div class=\"metric\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
                 <div class=\"change {}\">{}</div><div class=\"previous\">{}: {}</div></div>\n",
                text(&x.label),
                text(&x.value),
                x.tone.as_str(),
                text(&x.change),
                text(&m.previous),
                text(&x.previous),
            ));
        }
        out.push_str("</div>\n");
        out
    }

    fn table(&self, t: &DocTable) -> String {
        let right = |i: usize| t.table.align.get(i) == Some(&Align::Right);
        let mut out = format!(
            "<div class=\"table-wrap\"><table class=\"{}\">\n<thead><tr>",
            html(t.class)
        );
        for (i, h) in t.table.headers.iter().enumerate() {
            let class = if right(i) { " class=\"num\"" } else { "" };
            out.push_str(&format!("<th{class}>{}</th>", text(h)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in &t.table.rows {
            out.push_str("<tr>");
            for (i, c) in r.iter().enumerate() {
                let class = if right(i) { " class=\"num\"" } else { "" };
                let cell = html(&clean(c, MAX_CELL));
                if t.is_code(i) && !cell.is_empty() {
                    out.push_str(&format!("<td{class}><code>{cell}</code></td>"));
                } else {
                    out.push_str(&format!("<td{class}>{cell}</td>"));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
        out
    }

    fn chart(&self, chart: &Chart) -> Result<String, RenderError> {
        let svg = chart.svg()?;
        // Drop plotters' fixed size so the viewBox scales the chart to the page.
        let (w, h) = chart.size();
        let svg = svg.replacen(&format!("<svg width=\"{w}\" height=\"{h}\" "), "<svg ", 1);
        let class = if w <= 600 { "chart half" } else { "chart" };
        Ok(format!(
            "<figure class=\"{class}\"><figcaption>{}</figcaption>\
             <div class=\"svg\" role=\"img\" aria-label=\"{}\" style=\"aspect-ratio: {w} / {h}\">\n{}</div></figure>\n",
            text(&chart.title),
            text(&chart.alt),
            svg.trim_end()
        ))
    }

    fn list(&self, items: &[Vec<Span>]) -> String {
        let mut out = String::from("<ul>\n");
        for i in items {
            out.push_str(&format!("<li>{}</li>\n", spans(i)));
        }
        out.push_str("</ul>\n");
        out
    }

    fn document(&self, doc: &Doc, body: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n\
             <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n\
             <header><h1>{title}</h1><p class=\"subtitle\">{sub}</p></header>\n{body}\
             <footer>Made by buildprof. Times are wall-clock; hits are cached and pulled steps (a lazy miss is a miss).</footer>\n\
             </main>\n</body>\n</html>\n",
            title = text(&doc.title),
            sub = spans(&doc.subtitle),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(slug("What busted the cache?"), "what-busted-the-cache");
        assert_eq!(slug("<script>"), "script");
    }
}
