//! `BuildContext`: a build context directory as the tar stream the Engine API takes, with
//! `.dockerignore` applied and the Dockerfile always included (as the Docker CLI does).
//!
//! The tree is walked once up front, so an unreadable context fails before the request starts;
//! the tar is written later, streaming. Headers are deterministic (no owners or times), which is
//! what BuildKit's content-based cache keys look at anyway.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dockerignore::DockerIgnore;

/// Why a context cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("build context {0}: not a directory")]
    NotADirectory(PathBuf),
    #[error("no Dockerfile at {0}: name one with -f")]
    NoDockerfile(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
enum EntryKind {
    Dir,
    File,
    Symlink,
}

#[derive(Debug, Clone)]
struct Entry {
    rel: String,
    path: PathBuf,
    kind: EntryKind,
}

/// The context directory and the Dockerfile, as absolute paths, checked to exist.
/// `dockerfile` (relative to the working directory, as with `docker build -f`) defaults to
/// `root/Dockerfile`.
pub fn locate(root: &Path, dockerfile: Option<&Path>) -> Result<(PathBuf, PathBuf), ContextError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ContextError::Io { path, source }
    };
    if !root.is_dir() {
        return Err(ContextError::NotADirectory(root.to_path_buf()));
    }
    let root_abs = root.canonicalize().map_err(io(root))?;
    let df_path = match dockerfile {
        Some(p) => p.to_path_buf(),
        None => root.join("Dockerfile"),
    };
    if !df_path.is_file() {
        return Err(ContextError::NoDockerfile(df_path));
    }
    let df_abs = df_path.canonicalize().map_err(io(&df_path))?;
    Ok((root_abs, df_abs))
}

/// A scanned build context.
#[derive(Debug, Clone)]
pub struct BuildContext {
    root: PathBuf,
    entries: Vec<Entry>,
    dockerfile_name: String,
    /// A Dockerfile from outside the context, sent under a private name.
    outside_dockerfile: Option<Vec<u8>>,
    bytes: u64,
}

impl BuildContext {
    /// Scans `root`; `dockerfile` (relative to the working directory, as with `docker build -f`)
    /// defaults to `root/Dockerfile`.
    pub fn scan(root: &Path, dockerfile: Option<&Path>) -> Result<BuildContext, ContextError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ContextError::Io { path, source }
        };
        let (root_abs, df_abs) = locate(root, dockerfile)?;
        let (dockerfile_name, outside_dockerfile) = match df_abs.strip_prefix(&root_abs) {
            Ok(rel) => (slash_path(rel), None),
            Err(_) => {
                let text = std::fs::read(&df_abs).map_err(io(&df_abs))?;
                let name = format!(
                    ".dockerfile.{:016x}",
                    xxhash_rust::xxh3::xxh3_64(df_abs.to_string_lossy().as_bytes())
                );
                (name, Some(text))
            }
        };
        let ignore = match std::fs::read_to_string(root_abs.join(".dockerignore")) {
            Ok(t) => DockerIgnore::parse(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
            Err(e) => {
                return Err(ContextError::Io {
                    path: root_abs.join(".dockerignore"),
                    source: e,
                })
            }
        };
        let mut ctx = BuildContext {
            root: root_abs.clone(),
            entries: Vec::new(),
            dockerfile_name,
            outside_dockerfile,
            bytes: 0,
        };
        let always = [ctx.dockerfile_name.clone(), ".dockerignore".to_string()];
        ctx.walk(&root_abs, "", &ignore, &always)?;
        Ok(ctx)
    }

    fn walk(
        &mut self,
        dir: &Path,
        prefix: &str,
        ignore: &DockerIgnore,
        always: &[String],
    ) -> Result<(), ContextError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ContextError::Io { path, source }
        };
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let rel = format!("{prefix}{}", name.to_string_lossy());
            let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            let excluded = ignore.excludes(&rel) && !always.contains(&rel);
            if meta.is_dir() {
                if excluded && !ignore.has_exceptions() {
                    continue;
                }
                if !excluded {
                    self.entries.push(Entry {
                        rel: rel.clone(),
                        path: path.clone(),
                        kind: EntryKind::Dir,
                    });
                }
                self.walk(&path, &format!("{rel}/"), ignore, always)?;
            } else if !excluded {
                let kind = if meta.file_type().is_symlink() {
                    EntryKind::Symlink
                } else if meta.is_file() {
                    self.bytes += meta.len();
                    EntryKind::File
                } else {
                    continue; // sockets, fifos, devices: the CLI skips them too
                };
                self.entries.push(Entry { rel, path, kind });
            }
        }
        Ok(())
    }

    /// The Dockerfile's name inside the tar (the `dockerfile` query parameter).
    pub fn dockerfile_name(&self) -> &str {
        &self.dockerfile_name
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Files (and links and directories) sent.
    pub fn entry_count(&self) -> usize {
        self.entries.len() + usize::from(self.outside_dockerfile.is_some())
    }

    /// Bytes of file content sent.
    pub fn content_bytes(&self) -> u64 {
        self.bytes
    }

    /// Writes the context as an uncompressed tar.
    pub fn write_tar(&self, out: impl Write) -> std::io::Result<()> {
        let mut tar = tar::Builder::new(out);
        tar.mode(tar::HeaderMode::Deterministic);
        tar.follow_symlinks(false);
        for e in &self.entries {
            match e.kind {
                EntryKind::Dir => tar.append_dir(&e.rel, &e.path)?,
                EntryKind::File | EntryKind::Symlink => {
                    tar.append_path_with_name(&e.path, &e.rel)?
                }
            }
        }
        if let Some(text) = &self.outside_dockerfile {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, &self.dockerfile_name, &text[..])?;
        }
        tar.into_inner()?.flush()
    }
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar_bytes: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(tar_bytes);
        a.entries()
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .unwrap()
                    .to_string_lossy()
                    .trim_end_matches('/')
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn applies_dockerignore_but_keeps_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(d.join(".dockerignore"), "target\nDockerfile\n*.tmp\n").unwrap();
        std::fs::create_dir_all(d.join("target/debug")).unwrap();
        std::fs::write(d.join("target/debug/big"), "x").unwrap();
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::write(d.join("src/a.txt"), "a").unwrap();
        std::fs::write(d.join("b.tmp"), "b").unwrap();
        let ctx = BuildContext::scan(d, None).unwrap();
        let mut out = Vec::new();
        ctx.write_tar(&mut out).unwrap();
        assert_eq!(
            names(&out),
            vec![".dockerignore", "Dockerfile", "src", "src/a.txt"]
        );
        assert_eq!(ctx.dockerfile_name(), "Dockerfile");
    }

    #[test]
    fn a_dockerfile_outside_the_context_is_sent_privately() {
        let dir = tempfile::tempdir().unwrap();
        let ctx_dir = dir.path().join("ctx");
        std::fs::create_dir_all(&ctx_dir).unwrap();
        std::fs::write(dir.path().join("other.Dockerfile"), "FROM scratch\n").unwrap();
        let ctx = BuildContext::scan(&ctx_dir, Some(&dir.path().join("other.Dockerfile"))).unwrap();
        assert!(ctx.dockerfile_name().starts_with(".dockerfile."));
        let mut out = Vec::new();
        ctx.write_tar(&mut out).unwrap();
        assert_eq!(names(&out), vec![ctx.dockerfile_name().to_string()]);
    }

    #[test]
    fn a_missing_dockerfile_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = BuildContext::scan(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("-f"), "{err}");
    }
}
