//! `manifest.tsv`: the labels of each sample trace, one line per file
//! (`file<TAB>demo<TAB>key=value,key=value` under a header line), as the demo, `synth`, the
//! tests and the benchmarks read it.

use std::path::Path;

use crate::model::parse_label;

/// One trace of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The trace's path, relative to the manifest's folder.
    pub file: String,
    /// Whether `buildprof demo` ingests it (`yes`).
    pub demo: bool,
    pub labels: Vec<(String, String)>,
}

/// Why a manifest cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
}

/// Reads the manifest at `path`.
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestEntry>, ManifestError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
        path: name.clone(),
        source,
    })?;
    parse_manifest(&text, &name)
}

/// Parses a manifest's text; `name` is used in errors. Blank lines are skipped.
pub fn parse_manifest(text: &str, name: &str) -> Result<Vec<ManifestEntry>, ManifestError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fail = |message: String| ManifestError::Line {
            path: name.to_string(),
            line: i + 1,
            message,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, demo, labels] = cols[..] else {
            return Err(fail("expected 3 tab-separated columns".into()));
        };
        let labels = labels
            .split(',')
            .filter(|s| !s.is_empty())
            .map(parse_label)
            .collect::<Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?;
        out.push(ManifestEntry {
            file: file.to_string(),
            demo: demo == "yes",
            labels,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_manifest_reads_and_bad_lines_name_their_place() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces/manifest.tsv");
        let entries = read_manifest(&path).unwrap();
        let first = &entries[0];
        assert_eq!(first.file, "app1-series/001-max-src-iter1.rawjson");
        assert!(first.demo);
        assert!(first
            .labels
            .contains(&("strategy".to_string(), "max".to_string())));
        let err = parse_manifest("file\tdemo\tlabels\na\tyes\n", "m.tsv").unwrap_err();
        assert_eq!(err.to_string(), "m.tsv:2: expected 3 tab-separated columns");
        let err = parse_manifest("h\n\na\tno\tbad\n", "m.tsv").unwrap_err();
        assert_eq!(err.to_string(), "m.tsv:3: label \"bad\" is not KEY=VALUE");
    }
}
