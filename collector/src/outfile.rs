//! Writing an output file so that nothing already at its name is followed: a new temporary file
//! in the destination's folder, renamed over the destination once complete.
//!
//! A checkout or an artifact can carry a symbolic link (or a hard link) under a name buildprof
//! writes (`report.html`, `builds.csv`): writing through it would overwrite whatever it points
//! to. Renaming a new file over the name replaces the link itself, and a reader never sees a
//! half-written file. A folder or a special file (FIFO, socket, device) at the name is an error
//! rather than something to replace.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes the file at `path` with `write`, through a new temporary file beside it renamed over
/// `path`. `io` turns an I/O error (of the destination check, the temporary file or the rename)
/// into the caller's error. The temporary file is removed when anything fails.
pub fn write_replacing<T, E>(
    path: &Path,
    io: impl Fn(io::Error) -> E,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, E> {
    check_destination(path).map_err(&io)?;
    let (tmp, file) = create_temporary(path).map_err(&io)?;
    let result = (|| {
        let mut w = BufWriter::new(file);
        let value = write(&mut w)?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(&io)?;
        std::fs::rename(&tmp, path).map_err(&io)?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_replacing`] for bytes already in memory.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_replacing(path, |e| e, |w| w.write_all(bytes))
}

/// Refuses a folder or a special file at `path`; a regular file, a link of any kind, or
/// nothing at all is fine (it is replaced).
pub fn check_destination(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => Err(io::Error::new(
            ErrorKind::IsADirectory,
            "is a folder, not a file to replace",
        )),
        Ok(m) if m.is_file() || m.file_type().is_symlink() => Ok(()),
        Ok(_) => Err(io::Error::new(
            ErrorKind::InvalidInput,
            "is a special file (FIFO, socket or device), not a file to replace",
        )),
    }
}

/// The folder a file at `path` lives in.
pub fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A new file `.NAME.PID.N.tmp` beside `path`, created exclusively (`O_EXCL`: an existing
/// file or link under that name is never opened).
fn create_temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let dir = folder_of(path);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && n < 1_000_000 => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_replaced_and_their_targets_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("victim"), "keep").unwrap();
        std::fs::create_dir(d.join("victim-dir")).unwrap();
        std::fs::hard_link(d.join("victim"), d.join("hard")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("victim"), d.join("to-file")).unwrap();
            std::os::unix::fs::symlink(d.join("victim-dir"), d.join("to-dir")).unwrap();
            std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling")).unwrap();
        }
        for name in ["hard", "to-file", "to-dir", "dangling", "new"] {
            if !cfg!(unix) && name.starts_with("to") {
                continue;
            }
            write_bytes(&d.join(name), b"written").unwrap();
            let m = std::fs::symlink_metadata(d.join(name)).unwrap();
            assert!(m.is_file(), "{name} is now a plain file");
            assert_eq!(std::fs::read(d.join(name)).unwrap(), b"written");
        }
        assert_eq!(std::fs::read(d.join("victim")).unwrap(), b"keep");
        assert!(std::fs::read_dir(d.join("victim-dir"))
            .unwrap()
            .next()
            .is_none());
        assert!(!d.join("nowhere").exists());
        let left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn folders_and_failed_writes_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("folder")).unwrap();
        let err = write_bytes(&d.join("folder"), b"x").unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        std::fs::write(d.join("old"), "old").unwrap();
        let failed: io::Result<()> = write_replacing(
            &d.join("old"),
            |e| e,
            |_| Err(io::Error::other("disk full")),
        );
        assert!(failed.is_err());
        assert_eq!(std::fs::read(d.join("old")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 2);
    }
}
