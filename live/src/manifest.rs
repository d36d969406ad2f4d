//! `hash_context`: the manifest of a build context, a content hash per file the build can see
//! (`.dockerignore` applied as the Docker CLI applies it), as a tree of directory nodes
//! ([`collector::inputs::tree`]). No content is kept. Limits on files and bytes stop the walk
//! with a note instead of a partial manifest (a partial one would show files as removed).

use std::io::Read;
use std::path::Path;

use collector::inputs::tree::{encode, short_hash, EntryKind, TreeEntry};
use collector::inputs::ContextManifest;

use crate::dockerignore::DockerIgnore;
use crate::hash_cache::{HashCache, Stat};

/// How much of a context is hashed at most.
#[derive(Debug, Clone, Copy)]
pub struct ManifestLimits {
    pub max_files: u64,
    pub max_bytes: u64,
}

impl Default for ManifestLimits {
    /// 200,000 files, 8 GiB.
    fn default() -> Self {
        ManifestLimits {
            max_files: 200_000,
            max_bytes: 8 << 30,
        }
    }
}

struct Walk<'a> {
    ignore: &'a DockerIgnore,
    cache: HashCache,
    limits: ManifestLimits,
    files: u64,
    bytes: u64,
    nodes: Vec<(String, Vec<u8>)>,
    buf: Vec<u8>,
}

/// Hashes the context at `root`. `Err` is the note saying why there is no manifest.
/// `cache`: a file of remembered hashes ([`HashCache`]) to read and update.
pub fn hash_context(
    root: &Path,
    limits: ManifestLimits,
    cache: Option<&Path>,
) -> Result<ContextManifest, String> {
    let ignore = match std::fs::read_to_string(root.join(".dockerignore")) {
        Ok(t) => DockerIgnore::parse(&t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(e) => {
            return Err(format!(
                "cannot read {}: {e}",
                root.join(".dockerignore").display()
            ))
        }
    };
    let mut walk = Walk {
        ignore: &ignore,
        cache: HashCache::open(cache),
        limits,
        files: 0,
        bytes: 0,
        nodes: Vec::new(),
        buf: vec![0; 256 << 10],
    };
    let root_hash = walk.dir(root, "")?.unwrap_or_else(|| {
        let enc = encode(&[]);
        let h = short_hash(&enc);
        walk.nodes.push((h.clone(), enc));
        h
    });
    walk.cache.save();
    Ok(ContextManifest {
        root: root_hash,
        nodes: walk.nodes,
        files: walk.files,
        bytes: walk.bytes,
    })
}

impl Walk<'_> {
    /// The node hash of directory `dir` (`prefix` is its path in the context plus `/`), or
    /// `None` when everything in it is excluded.
    fn dir(&mut self, dir: &Path, prefix: &str) -> Result<Option<String>, String> {
        let io = |p: &Path, e: std::io::Error| format!("cannot read {}: {e}", p.display());
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(|e| io(dir, e))?;
        names.sort();
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            let name = name.to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let excluded = self.ignore.excludes(&rel);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
            if meta.is_dir() {
                if excluded && !self.ignore.has_exceptions() {
                    continue;
                }
                if let Some(hash) = self.dir(&path, &format!("{rel}/"))? {
                    entries.push(TreeEntry {
                        kind: EntryKind::Dir,
                        hash,
                        name,
                    });
                } else if !excluded {
                    let enc = encode(&[]);
                    let hash = short_hash(&enc);
                    self.nodes.push((hash.clone(), enc));
                    entries.push(TreeEntry {
                        kind: EntryKind::Dir,
                        hash,
                        name,
                    });
                }
                continue;
            }
            if excluded {
                continue;
            }
            let (kind, hash) = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).map_err(|e| io(&path, e))?;
                (
                    EntryKind::Link,
                    short_hash(target.to_string_lossy().as_bytes()),
                )
            } else if meta.is_file() {
                (file_kind(&meta), self.file(&path, &meta)?)
            } else {
                continue; // sockets, fifos, devices: not sent
            };
            entries.push(TreeEntry { kind, hash, name });
        }
        if entries.is_empty() {
            return Ok(None);
        }
        let enc = encode(&entries);
        let hash = short_hash(&enc);
        self.nodes.push((hash.clone(), enc));
        Ok(Some(hash))
    }

    fn file(&mut self, path: &Path, meta: &std::fs::Metadata) -> Result<String, String> {
        self.files += 1;
        self.bytes += meta.len();
        if self.files > self.limits.max_files {
            return Err(format!(
                "the context has more than {} files; it was not hashed (raise --context-max-files)",
                self.limits.max_files
            ));
        }
        if self.bytes > self.limits.max_bytes {
            return Err(format!(
                "the context holds more than {} bytes; it was not hashed (raise --context-max-bytes)",
                self.limits.max_bytes
            ));
        }
        let stat = Stat::of(meta);
        if let Some(hash) = self.cache.get(path, &stat) {
            return Ok(hash);
        }
        let mut f = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut h = blake3::Hasher::new();
        loop {
            let n = f
                .read(&mut self.buf)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if n == 0 {
                break;
            }
            h.update(&self.buf[..n]);
        }
        let hash = collector::inputs::tree::short_hash_of(h.finalize().as_bytes());
        self.cache.put(path, stat, &hash);
        Ok(hash)
    }
}

#[cfg(unix)]
fn file_kind(meta: &std::fs::Metadata) -> EntryKind {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 {
        EntryKind::Exec
    } else {
        EntryKind::File
    }
}

#[cfg(not(unix))]
fn file_kind(_: &std::fs::Metadata) -> EntryKind {
    EntryKind::File
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_hashes_are_used_only_for_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("ctx");
        std::fs::create_dir_all(&d).unwrap();
        let cache = dir.path().join("b.db-hashes");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let write = |name: &str, text: &str| {
            std::fs::write(d.join(name), text).unwrap();
            let f = std::fs::File::options()
                .write(true)
                .open(d.join(name))
                .unwrap();
            f.set_modified(old).unwrap();
        };
        write("a.txt", "a");
        write("b.txt", "b");
        let first = hash_context(&d, ManifestLimits::default(), Some(&cache)).unwrap();
        let remembered = std::fs::read_to_string(&cache).unwrap();
        assert_eq!(remembered.lines().count(), 2, "{remembered}");
        // An unchanged file is not read again: a remembered hash is taken as it is.
        let a_hash = first.nodes.last().unwrap();
        let a_line = remembered.lines().find(|l| l.ends_with("/a.txt")).unwrap();
        let fake = a_line.replace(a_line.split(' ').nth(4).unwrap(), &"0".repeat(32));
        std::fs::write(&cache, remembered.replace(a_line, &fake)).unwrap();
        let from_cache = hash_context(&d, ManifestLimits::default(), Some(&cache)).unwrap();
        assert_ne!(from_cache.root, first.root, "{a_hash:?}");
        // A changed file is read again even with its old size and modification time (its
        // change time moved).
        write("a.txt", "a");
        write("b.txt", "B");
        let changed = hash_context(&d, ManifestLimits::default(), Some(&cache)).unwrap();
        assert_ne!(changed.root, first.root);
        assert_eq!(
            changed,
            hash_context(&d, ManifestLimits::default(), None).unwrap()
        );
    }

    #[test]
    fn ignored_files_are_left_out_and_one_change_adds_one_path_of_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join(".dockerignore"), "*.log\ntmp/\n").unwrap();
        std::fs::create_dir_all(d.join("src/deep")).unwrap();
        std::fs::create_dir_all(d.join("lib")).unwrap();
        std::fs::create_dir_all(d.join("tmp")).unwrap();
        std::fs::write(d.join("src/deep/a.txt"), "a").unwrap();
        std::fs::write(d.join("lib/b.txt"), "b").unwrap();
        std::fs::write(d.join("tmp/x"), "x").unwrap();
        std::fs::write(d.join("debug.log"), "1").unwrap();
        let one = hash_context(d, ManifestLimits::default(), None).unwrap();
        assert_eq!(one.files, 3, ".dockerignore, a.txt, b.txt");
        std::fs::write(d.join("debug.log"), "2").unwrap();
        assert_eq!(
            hash_context(d, ManifestLimits::default(), None)
                .unwrap()
                .root,
            one.root
        );
        std::fs::write(d.join("src/deep/a.txt"), "A").unwrap();
        let two = hash_context(d, ManifestLimits::default(), None).unwrap();
        assert_ne!(two.root, one.root);
        let old: std::collections::HashSet<_> = one.nodes.iter().map(|n| &n.0).collect();
        let new = two.nodes.iter().filter(|n| !old.contains(&n.0)).count();
        assert_eq!(new, 3, "root, src, src/deep");
        let err = hash_context(
            d,
            ManifestLimits {
                max_files: 2,
                max_bytes: 1 << 20,
            },
            None,
        )
        .unwrap_err();
        assert!(err.contains("more than 2 files"), "{err}");
    }
}
