//! `HashCache`: file content hashes remembered by path and file status (size, modification and
//! change times, inode), like git's index, so hashing a context again reads only the files that
//! changed. Kept in a file beside the database (`<db>-hashes`); a missing or unreadable cache
//! is an empty one. A file modified less than [`RACY_NS`] before hashing started is not
//! remembered (it could change again within the clock's granularity, as git's "racy" entries).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files modified this recently (before hashing started) are hashed again next time.
const RACY_NS: i64 = 2_000_000_000;

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
}

impl Stat {
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            inode: meta.ino(),
        }
    }

    #[cfg(not(unix))]
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        Stat {
            size: meta.len(),
            mtime_ns,
            ctime_ns: mtime_ns,
            inode: 0,
        }
    }
}

/// Remembered hashes, and those seen in this run (which replace them when saved).
#[derive(Debug, Default)]
pub(crate) struct HashCache {
    path: Option<PathBuf>,
    old: HashMap<PathBuf, (Stat, String)>,
    new: Vec<(PathBuf, Stat, String)>,
    started_ns: i64,
}

impl HashCache {
    /// The cache kept at `path` (`None`: remember nothing).
    pub fn open(path: Option<&Path>) -> HashCache {
        let started_ns = collector::time::now_ns();
        let old = path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().filter_map(parse_line).collect())
            .unwrap_or_default();
        HashCache {
            path: path.map(Path::to_path_buf),
            old,
            new: Vec::new(),
            started_ns,
        }
    }

    /// The remembered hash of `path` when its status is unchanged.
    pub fn get(&self, path: &Path, stat: &Stat) -> Option<String> {
        self.old
            .get(path)
            .filter(|(s, _)| s == stat)
            .map(|(_, h)| h.clone())
    }

    pub fn put(&mut self, path: &Path, stat: Stat, hash: &str) {
        if stat.mtime_ns < self.started_ns - RACY_NS {
            self.new.push((path.to_path_buf(), stat, hash.to_string()));
        }
    }

    /// Writes the files seen in this run (replacing the file atomically); errors are ignored:
    /// the cache only saves time.
    pub fn save(self) {
        let Some(path) = self.path else {
            return;
        };
        let mut text = String::with_capacity(self.new.len() * 120);
        for (p, s, h) in &self.new {
            let Some(name) = p.to_str().filter(|n| !n.contains('\n')) else {
                continue;
            };
            text.push_str(&format!(
                "{} {} {} {} {h} {name}\n",
                s.size, s.mtime_ns, s.ctime_ns, s.inode
            ));
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(text.as_bytes()));
        if written.is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

fn parse_line(line: &str) -> Option<(PathBuf, (Stat, String))> {
    let mut parts = line.splitn(6, ' ');
    let stat = Stat {
        size: parts.next()?.parse().ok()?,
        mtime_ns: parts.next()?.parse().ok()?,
        ctime_ns: parts.next()?.parse().ok()?,
        inode: parts.next()?.parse().ok()?,
    };
    let hash = parts.next()?.to_string();
    let path = PathBuf::from(parts.next()?);
    (hash.len() == 32).then_some((path, (stat, hash)))
}
