//! Hostile builds through ingest → report → summary: step names, logs and labels carrying HTML,
//! Markdown link and image injection, ANSI escapes, NUL and 100 KB strings. The HTML must have
//! no active content and the Markdown no injected links, images or HTML.

use crate::common::ok;

use html5gum::{Token, Tokenizer};
use pulldown_cmark::{Event, Options, Parser, Tag};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";
const MD_LINK: &str = "[x](javascript:alert(1))";
const MD_IMAGE: &str = "![i](http://evil/x.png)";
const ANSI: &str = "\u{1b}[31mred\u{1b}[0m \u{1b}]8;;http://evil\u{7}osc-link\u{1b}]8;;\u{7}";

/// A rawjson trace of one build whose steps have hostile names and logs. `cached` steps are
/// reported cached (the second build hits the first two steps, then busts at the third).
fn hostile_trace(t0: &str, cached: &[usize]) -> String {
    let long = "A".repeat(100_000);
    let names = [
        format!("[build 1/5] RUN echo {SCRIPT}"),
        format!("[build 2/5] COPY {IMG} /x"),
        format!("[build 3/5] RUN {MD_LINK} {MD_IMAGE} | pipe `tick` {ANSI}"),
        "[build 4/5] RUN nul\u{0}byte\nnew line <b onmouseover=alert(1)>b</b>".to_string(),
        format!("[build 5/5] RUN {long}"),
        "exporting to image".to_string(),
    ];
    let mut out = String::new();
    let mut prev: Option<String> = None;
    for (i, name) in names.iter().enumerate() {
        let digest = format!("sha256:{:064x}", i + 1);
        let start = format!("{t0}:{:02}.000000000Z", 10 + 3 * i);
        let end = format!("{t0}:{:02}.500000000Z", 11 + 3 * i);
        let inputs: Vec<String> = prev.iter().cloned().collect();
        let cached_step = cached.contains(&i);
        let v = serde_json::json!({"vertexes": [{
            "digest": digest, "name": name, "inputs": inputs, "started": start,
            "completed": end, "cached": cached_step
        }]});
        out.push_str(&v.to_string());
        out.push('\n');
        if !cached_step {
            let log = format!("{SCRIPT} {IMG} {MD_LINK} {ANSI}\n");
            let l = serde_json::json!({"logs": [{
                "vertex": digest, "stream": 1,
                "data": base64(log.as_bytes()), "timestamp": end
            }]});
            out.push_str(&l.to_string());
            out.push('\n');
        }
        prev = Some(digest);
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Asserts the page has no script, no event handler, no `javascript:` and no external
/// reference, and only elements a report uses.
fn assert_inert_html(html: &str) {
    const ALLOWED: &[&str] = &[
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "main",
        "header",
        "footer",
        "h1",
        "h2",
        "p",
        "span",
        "strong",
        "code",
        "div",
        "ul",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "figcaption",
        "svg",
        "rect",
        "line",
        "polyline",
        "polygon",
        "circle",
        "text",
        "path",
    ];
    let mut elements = 0;
    for token in Tokenizer::new(html) {
        if let Ok(Token::StartTag(tag)) = token {
            elements += 1;
            let name = String::from_utf8_lossy(&tag.name).to_ascii_lowercase();
            assert!(
                ALLOWED.contains(&name.as_str()),
                "unexpected element <{name}>"
            );
            for (k, v) in &tag.attributes {
                let k = String::from_utf8_lossy(k).to_ascii_lowercase();
                let v = String::from_utf8_lossy(v).to_ascii_lowercase();
                assert!(!k.starts_with("on"), "event handler {k}={v} on <{name}>");
                assert!(
                    !matches!(
                        k.as_str(),
                        "src" | "href" | "xlink:href" | "action" | "formaction" | "srcset"
                    ),
                    "reference {k}={v} on <{name}>"
                );
                assert!(!v.contains("javascript:"), "javascript: in {k} on <{name}>");
                assert!(!v.contains("url("), "url() in {k} on <{name}>");
            }
        }
    }
    assert!(elements > 50, "the page has content");
    assert!(
        !html.contains('\u{0}') && !html.contains('\u{1b}'),
        "NUL or ESC in the HTML"
    );
    assert!(
        !html.contains(&"A".repeat(1000)),
        "a 100 KB name was not cut"
    );
}

/// Asserts the Markdown has no HTML, no links, and no images except the report's own charts.
fn assert_inert_markdown(md: &str) {
    let mut cells = 0;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML in Markdown: {h}"),
            Event::Start(Tag::Link { dest_url, .. }) => panic!("link to {dest_url} in Markdown"),
            Event::Start(Tag::Image { dest_url, .. }) => {
                let ok = [
                    "weekly-wall",
                    "weekly-hits",
                    "builds",
                    "waterfall",
                    "rerun-by-cause",
                ]
                .iter()
                .any(|s| {
                    dest_url.as_ref() == format!("{s}.svg")
                        || dest_url.as_ref() == format!("{s}.png")
                });
                assert!(ok, "injected image {dest_url}");
            }
            Event::Start(Tag::TableCell) => cells += 1,
            _ => {}
        }
    }
    assert!(cells > 10, "the tables survived");
    assert!(
        !md.contains('\u{0}') && !md.contains('\u{1b}'),
        "NUL or ESC in the Markdown"
    );
    assert!(!md.contains(&"A".repeat(1000)), "a 100 KB name was not cut");
    // GitHub also links bare `scheme://` and `www.` text: outside code spans, none may be left
    // unescaped in the source.
    let mut outside = md.to_string();
    for (event, range) in Parser::new_ext(md, Options::ENABLE_TABLES).into_offset_iter() {
        if let Event::Code(_) = event {
            outside.replace_range(range.clone(), &" ".repeat(range.len()));
        }
    }
    assert!(
        !outside.contains("://") && !outside.to_ascii_lowercase().contains("www."),
        "bare URL outside code in {md}"
    );
    assert!(md.contains("evil"), "the hostile text is shown");
}

#[test]
fn hostile_names_and_labels_stay_inert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let cold = dir.path().join("cold.json");
    let warm = dir.path().join("warm.json");
    std::fs::write(&cold, hostile_trace("2026-11-20T10:00", &[])).unwrap();
    std::fs::write(&warm, hostile_trace("2026-11-20T11:00", &[0, 1])).unwrap();
    let long_label = format!("long={}", "B".repeat(100_000));
    ok(
        &db,
        &[
            "ingest",
            cold.to_str().unwrap(),
            "--label",
            &format!("strategy={SCRIPT}"),
            "--label",
            &format!("branch={MD_LINK}"),
        ],
    );
    ok(
        &db,
        &[
            "ingest",
            warm.to_str().unwrap(),
            "--label",
            &format!("strategy={IMG}"),
            "--label",
            &format!("note={MD_IMAGE} {ANSI}"),
            "--label",
            &long_label,
            "--label",
            &format!("branch={MD_LINK}"),
        ],
    );
    let builds: serde_json::Value = serde_json::from_str(&ok(&db, &["builds", "--json"])).unwrap();
    assert_eq!(
        builds.as_array().unwrap().len(),
        2,
        "both hostile builds stored"
    );

    let out = dir.path().join("out");
    ok(
        &db,
        &[
            "report",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-21",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "html,md,json",
        ],
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_inert_html(&html);
    // The hostile text is shown, as text.
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "names are escaped, not dropped"
    );
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_inert_markdown(&md);
    assert!(
        md.contains(SCRIPT),
        "shown verbatim inside a code span: {md}"
    );
    // Every chart SVG written beside the Markdown is inert too.
    for stem in ["builds", "waterfall"] {
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert_inert_html(&format!(
            "<html><body><main>{}</main></body></html>",
            svg.repeat(2)
        ));
    }
    // JSON carries the data as it is, as valid JSON.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert!(json["slowest_build"]["steps"].as_array().unwrap().len() >= 5);

    let mut summaries = Vec::new();
    for id in builds
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
    {
        let summary = ok(
            &db,
            &[
                "summary",
                id,
                "--baseline-label",
                &format!("strategy={SCRIPT}"),
            ],
        );
        assert_inert_markdown(&summary);
        summaries.push(summary);
    }
    // The warm build busted at the step with the Markdown injection in its name.
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("Busted at") && s.contains(MD_LINK)),
        "{summaries:?}"
    );
}

#[test]
fn base64_matches_the_standard() {
    assert_eq!(base64(b"hello!"), "aGVsbG8h");
    assert_eq!(base64(b"hi"), "aGk=");
    assert_eq!(base64(b"h"), "aA==");
}
