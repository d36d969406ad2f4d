//! A build's inputs, recorded beside its trace when buildprof runs or wraps the build: the
//! Dockerfile (text, hash, [`dockerfile::StageGraph`]), the build args (keyed hashes of their
//! values; values only when asked), and a manifest of the build context ([`tree`]). No file
//! content is ever kept: only hashes and names.

pub mod dockerfile;
pub mod tree;

use serde::{Deserialize, Serialize};

use crate::redact::Redactor;
pub use dockerfile::StageGraph;
pub use tree::{ChangedFile, TreeEntry};

/// Everything recorded about a build's inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildInputs {
    /// The context directory as given.
    pub context: Option<String>,
    pub dockerfile: Option<DockerfileInput>,
    pub args: Vec<BuildArg>,
    /// Whether arg values were stored (`--store-build-arg-values`).
    pub arg_values_stored: bool,
    pub manifest: Option<ContextManifest>,
    /// The image each stage built `FROM` an image starts from, as resolved on the builder's
    /// host (progress of local images names no digest).
    pub base_images: Vec<BaseImage>,
    /// What could not be recorded, and why (limits, unreadable paths).
    pub notes: Vec<String>,
}

/// A stage's base image: the reference with build args substituted, and its image id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseImage {
    pub stage: String,
    pub reference: String,
    /// `sha256:...` as the image store knows it, when it could be asked.
    pub id: Option<String>,
}

/// The image references of the stages built `FROM` an image, `$NAME`/`${NAME}` substituted
/// from `args` (given values) and the global `ARG` defaults of `text`.
pub fn base_references(
    text: &str,
    graph: &StageGraph,
    args: &[(String, String)],
) -> Vec<BaseImage> {
    let mut values: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.len() > 4 && line[..4].eq_ignore_ascii_case("FROM") {
            break;
        }
        if let Some(rest) = line
            .strip_prefix("ARG ")
            .or_else(|| line.strip_prefix("arg "))
        {
            for w in rest.split_whitespace() {
                if let Some((k, v)) = w.split_once('=') {
                    values.push((k.to_string(), v.trim_matches('"').to_string()));
                }
            }
        }
    }
    for (k, v) in args {
        values.retain(|(n, _)| n != k);
        values.push((k.clone(), v.clone()));
    }
    graph
        .stages
        .iter()
        .filter(|s| s.base_stage.is_none() && s.base != "scratch")
        .map(|s| {
            let mut r = s.base.clone();
            for (k, v) in &values {
                r = r
                    .replace(&format!("${{{k}}}"), v)
                    .replace(&format!("${k}"), v);
            }
            BaseImage {
                stage: s.name.clone(),
                reference: r,
                id: None,
            }
        })
        .filter(|b| !b.reference.contains('$'))
        .collect()
}

/// The Dockerfile of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DockerfileInput {
    pub path: String,
    /// [`tree::short_hash`] of the text.
    pub hash: String,
    pub text: String,
    pub graph: StageGraph,
}

impl DockerfileInput {
    pub fn new(path: impl Into<String>, text: String) -> DockerfileInput {
        DockerfileInput {
            path: path.into(),
            hash: tree::short_hash(text.as_bytes()),
            graph: dockerfile::parse(&text),
            text,
        }
    }
}

/// One `--build-arg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildArg {
    pub name: String,
    /// Keyed hash of the value ([`hash_arg_value`]); `None` for an arg given without a value
    /// that the environment did not set either.
    pub value_hash: Option<String>,
    /// The value (redacted), only with `--store-build-arg-values` and never for a name that
    /// looks secret.
    pub value: Option<String>,
}

impl BuildArg {
    /// An arg as given: its value hashed, kept (redacted) only when `store_value` holds and the
    /// redactor leaves nothing to mask in `NAME=value`.
    pub fn new(name: &str, value: Option<&str>, store_value: bool, redactor: &Redactor) -> Self {
        let kept = value.filter(|_| store_value).and_then(|v| {
            let line = format!("{name}={v}");
            (redactor.apply(&line) == line).then(|| v.to_string())
        });
        BuildArg {
            name: name.to_string(),
            value_hash: value.map(hash_arg_value),
            value: kept,
        }
    }
}

/// The manifest of a build context: its root node and the nodes of its tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextManifest {
    pub root: String,
    /// (hash, encoded entries) of every directory node, root included.
    pub nodes: Vec<(String, Vec<u8>)>,
    pub files: u64,
    pub bytes: u64,
}

/// The environment variable holding the key of build-arg hashes. Without it a fixed key is
/// used: values are then not stored in clear, but a short value can be guessed by hashing
/// candidates. Jobs whose databases are merged must share the key to compare args.
pub const ARG_KEY_ENV: &str = "BUILDPROF_ARG_KEY";

/// The keyed hash of a build-arg value (BLAKE3 keyed by [`ARG_KEY_ENV`]).
pub fn hash_arg_value(value: &str) -> String {
    let secret = std::env::var(ARG_KEY_ENV).unwrap_or_default();
    let key = blake3::derive_key("buildprof 2026 build-arg value", secret.as_bytes());
    tree::hex16(&blake3::keyed_hash(&key, value.as_bytes()).as_bytes()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_values_are_hashed_and_kept_only_when_asked_and_not_secret() {
        let r = Redactor::new(true, &[]).unwrap();
        let a = BuildArg::new("BASE", Some("busybox:1"), false, &r);
        assert_eq!(a.value, None);
        assert_eq!(a.value_hash.as_deref().map(str::len), Some(32));
        assert_ne!(
            a.value_hash,
            BuildArg::new("BASE", Some("busybox:2"), false, &r).value_hash
        );
        assert_eq!(
            BuildArg::new("BASE", Some("busybox:1"), true, &r)
                .value
                .as_deref(),
            Some("busybox:1")
        );
        assert_eq!(
            BuildArg::new("NPM_TOKEN", Some("abc"), true, &r).value,
            None
        );
    }
}
