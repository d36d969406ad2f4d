//! `MarkdownRenderer`: GitHub-flavoured Markdown (reports, `$GITHUB_STEP_SUMMARY`). Text from
//! builds goes in code spans and everything else is escaped, so a step name cannot add a link,
//! an image or HTML to the page.

use super::{MarkupRenderer, RenderError};
use crate::render::chart::Chart;
use crate::render::document::{Doc, DocTable, MetricSet, Span};
use crate::render::escape::{clean, clean_inline, md_code, md_text, MAX_CELL};
use crate::render::table::Align;

/// How charts appear in Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Images {
    /// Not at all (job summaries: a CI page cannot show files beside it).
    None,
    /// As images `<stem>.svg` beside the Markdown file.
    Svg,
    /// As images `<stem>.png` beside the Markdown file.
    Png,
}

/// Renders documents as Markdown.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownRenderer {
    pub images: Images,
}

fn spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) | Span::Change(t, _) => md_text(&clean_inline(t)),
            Span::Strong(t) => format!("**{}**", md_text(&clean(t, usize::MAX))),
            Span::Code(t) => md_code(&clean(t, MAX_CELL), false),
        })
        .collect()
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

impl MarkupRenderer for MarkdownRenderer {
    fn heading(&self, text: &str) -> String {
        format!("## {}\n\n", md_text(&clean(text, usize::MAX)))
    }

    fn paragraph(&self, s: &[Span]) -> String {
        format!("{}\n\n", spans(s))
    }

    fn metrics(&self, m: &MetricSet) -> String {
        let mut out = row(&[
            String::new(),
            md_text(&m.current),
            md_text(&m.previous),
            "change".into(),
        ]);
        out.push_str("|---|--:|--:|--:|\n");
        for x in &m.items {
            out.push_str(&row(&[
                md_text(&x.label),
                format!("**{}**", md_text(&x.value)),
                md_text(&x.previous),
                md_text(&x.change),
            ]));
        }
        out.push('\n');
        out
    }

    fn table(&self, t: &DocTable) -> String {
        let mut out = row(&t
            .table
            .headers
            .iter()
            .map(|h| md_text(&clean(h, usize::MAX)))
            .collect::<Vec<_>>());
        let rule: Vec<String> = (0..t.table.headers.len())
            .map(|i| match t.table.align.get(i) {
                Some(Align::Right) => "--:".to_string(),
                _ => "---".to_string(),
            })
            .collect();
        out.push_str(&row(&rule));
        for r in &t.table.rows {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let c = clean(c, MAX_CELL);
                    if t.is_code(i) {
                        md_code(&c, true)
                    } else {
                        md_text(&c)
                    }
                })
                .collect();
            out.push_str(&row(&cells));
        }
        out.push('\n');
        out
    }

    fn chart(&self, chart: &Chart) -> Result<String, RenderError> {
        let ext = match self.images {
            Images::None => return Ok(String::new()),
            Images::Svg => "svg",
            Images::Png => "png",
        };
        // The stem is one of ours (`waterfall`, `weekly-wall`, ...), never text from a build.
        Ok(format!(
            "![{}]({}.{ext})\n\n",
            md_text(&clean(&chart.alt, MAX_CELL * 2)),
            chart.stem
        ))
    }

    fn list(&self, items: &[Vec<Span>]) -> String {
        let mut out: String = items.iter().map(|i| format!("- {}\n", spans(i))).collect();
        out.push('\n');
        out
    }

    fn document(&self, doc: &Doc, body: &str) -> String {
        let mut out = format!("# {}\n\n", md_text(&clean(&doc.title, usize::MAX)));
        if !doc.subtitle.is_empty() {
            out.push_str(&self.paragraph(&doc.subtitle));
        }
        out.push_str(body);
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }
}
