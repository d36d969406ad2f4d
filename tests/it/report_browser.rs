//! The HTML report as a person sees it: headless Chromium opens the report of the app1 strategy
//! series, its DOM must hold the rendered charts and the screenshot must show them (many
//! colours, the chart palette present), in the light and the dark scheme.
//!
//! `#[ignore]`d unless asked for (`--include-ignored`, as `.ci/run` does after installing
//! Chromium); then a missing Chromium fails it. `BUILDPROF_SCREENSHOT=PATH` keeps the light screenshot (how `docs/report.png` is made).

use crate::common::ok;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `chromium` (Debian) or `chromium-browser`, from `BUILDPROF_CHROMIUM` or the PATH.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BUILDPROF_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs headless Chromium with a fresh, empty profile; returns stdout.
fn chromium(exe: &Path, args: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Decodes an RGB(A) PNG into its distinct colours and their pixel counts.
fn colours(png_path: &Path) -> (u32, u32, std::collections::HashMap<[u8; 3], u32>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let mut counts = std::collections::HashMap::new();
    for px in buf[..info.buffer_size()].chunks(step) {
        *counts.entry([px[0], px[1], px[2]]).or_insert(0u32) += 1;
    }
    (info.width, info.height, counts)
}

/// Pixels within a small distance of `rgb` (anti-aliasing and colour management shift them).
fn near(counts: &std::collections::HashMap<[u8; 3], u32>, rgb: [u8; 3]) -> u32 {
    counts
        .iter()
        .filter(|(c, _)| {
            c.iter()
                .zip(rgb)
                .all(|(a, b)| (*a as i32 - b as i32).abs() <= 6)
        })
        .map(|(_, n)| n)
        .sum()
}

#[test]
#[ignore = "needs Chromium (.ci/run installs Debian's chromium)"]
fn report_renders_its_charts_in_chromium() {
    let exe = find_chromium().expect("no chromium on PATH (apt-get install chromium)");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    crate::common::app1_series(&db);
    let out = dir.path().join("report");
    ok(
        &db,
        &[
            "report",
            "--since",
            "2026-11-16",
            "--until",
            "2026-11-23",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let url = format!("file://{}", out.join("report.html").display());

    // The DOM after rendering: every chart is an inline SVG with drawn shapes and axis text.
    let dom = chromium(&exe, &["--dump-dom"], &url);
    let svgs = dom.matches("<svg").count();
    assert_eq!(
        svgs, 5,
        "weekly wall, weekly hits, builds, re-run time by cause, waterfall"
    );
    // At least a bar per build (24) and per step of the slowest build (20).
    let rects = dom.matches("<rect").count();
    assert!(rects >= 44, "only {rects} bars drawn");
    assert!(
        dom.contains("time since the build started (s)"),
        "waterfall axis labelled with its unit"
    );
    assert!(dom.contains("wall time (s)"));
    assert!(dom.contains("cache hit ratio (%)"));
    assert!(dom.contains("What busted the cache") && dom.contains("Strategies"));

    // The screenshot: not blank, the chart palette on screen.
    let shot = dir.path().join("light.png");
    chromium(
        &exe,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
        &url,
    );
    let (w, h, counts) = colours(&shot);
    assert_eq!((w, h), (1280, 2000));
    assert!(
        counts.len() > 200,
        "only {} colours: a blank page?",
        counts.len()
    );
    let background = counts.values().max().copied().unwrap_or(0);
    assert!(
        (background as f64) < 0.9 * (w * h) as f64,
        "one colour covers over 90% of the page"
    );
    // Bars of succeeded builds and medians (#3b82f6), failed/lazy-miss accents are optional.
    assert!(
        near(&counts, [0x3b, 0x82, 0xf6]) > 2_000,
        "chart bars are not on screen"
    );
    if let Some(keep) = std::env::var_os("BUILDPROF_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }

    // The dark scheme: the page turns dark and the charts stay visible.
    let dark = dir.path().join("dark.png");
    chromium(
        &exe,
        &[
            &format!("--screenshot={}", dark.display()),
            "--window-size=1280,2000",
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ],
        &url,
    );
    let (_, _, dark_counts) = colours(&dark);
    let (bg, _) = dark_counts.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(
        bg.iter().map(|c| *c as u32).sum::<u32>() < 3 * 60,
        "dark scheme background is {bg:?}"
    );
    assert!(
        near(&dark_counts, [0x3b, 0x82, 0xf6]) > 2_000,
        "chart bars in the dark scheme"
    );
    // Axis text is drawn in the page's light ink (`currentColor`), not black on black.
    assert!(
        near(&dark_counts, [0xe2, 0xe8, 0xf0]) > 500,
        "light text in the dark scheme"
    );
}
