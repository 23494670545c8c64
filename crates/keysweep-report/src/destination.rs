//! [`Destination`]: where a report goes, written atomically.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// Where a report goes: stdout, or a file written atomically (a temporary
/// file in the same directory, renamed into place only when complete, so an
/// interrupted scan never leaves a partial report behind).
///
/// An existing path that is neither a regular file nor a directory
/// (`/dev/null`, a FIFO, a terminal) is written in place, since renaming over
/// it would replace the device.
pub struct Destination(Inner);

enum Inner {
    Stdout(io::BufWriter<io::Stdout>),
    Special(io::BufWriter<std::fs::File>),
    File {
        tmp: tempfile::NamedTempFile,
        buf: io::BufWriter<std::fs::File>,
        path: PathBuf,
        _pending: Pending,
    },
}

/// Temporary report files in progress. A signal ends a process without
/// running destructors, so a program's signal handler calls
/// [`remove_unfinished`] to delete them.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Deletes the temporary files of reports not yet finished, for a program's
/// signal handler (which then exits). It waits for a report being renamed
/// into place, so that report is either complete or absent; reports opened
/// afterwards are not affected.
pub fn remove_unfinished() {
    let files = pending();
    for f in files.iter() {
        let _ = std::fs::remove_file(f);
    }
}

/// Registers a temporary file in [`PENDING`] while it lives.
struct Pending(PathBuf);

impl Pending {
    /// Creates a temporary report file in `dir`, registered while the
    /// registry is locked, so no [`remove_unfinished`] comes between the two.
    fn create(dir: &Path) -> io::Result<(tempfile::NamedTempFile, Pending)> {
        let mut files = pending();
        let tmp = tempfile::Builder::new()
            .prefix(".keysweep-report-")
            .tempfile_in(dir)?;
        files.push(tmp.path().to_path_buf());
        let path = tmp.path().to_path_buf();
        Ok((tmp, Pending(path)))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        pending().retain(|p| p != &self.0);
    }
}

impl Destination {
    /// Standard output.
    pub fn stdout() -> Destination {
        Destination(Inner::Stdout(io::BufWriter::new(io::stdout())))
    }

    /// `path` (see the type's docs), or standard output for `None`.
    pub fn open(path: Option<&Path>) -> Result<Destination> {
        let Some(p) = path else {
            return Ok(Destination::stdout());
        };
        if std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .map_err(|e| Error::io(p, e))?;
            return Ok(Destination(Inner::Special(io::BufWriter::new(f))));
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let (tmp, pending) = Pending::create(dir).map_err(|e| Error::io(dir, e))?;
        let file = tmp.as_file().try_clone().map_err(|e| Error::io(dir, e))?;
        Ok(Destination(Inner::File {
            _pending: pending,
            tmp,
            buf: io::BufWriter::new(file),
            path: p.to_path_buf(),
        }))
    }

    /// Whether this is standard output and a terminal.
    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        matches!(self.0, Inner::Stdout(_)) && io::stdout().is_terminal()
    }

    /// Flushes and, for files, moves the finished report into place.
    pub fn finish(self) -> Result<()> {
        match self.0 {
            Inner::Stdout(mut w) => w.flush().map_err(Into::into),
            Inner::Special(mut w) => w.flush().map_err(Into::into),
            Inner::File {
                tmp,
                mut buf,
                path,
                _pending,
            } => {
                buf.flush().map_err(|e| Error::io(&path, e))?;
                drop(buf);
                tmp.as_file().sync_all().map_err(|e| Error::io(&path, e))?;
                // Not interrupted half-way: `remove_unfinished` waits for this lock.
                let persisted = {
                    let _lock = pending();
                    tmp.persist(&path)
                };
                persisted.map_err(|e| Error::io(&path, e.error))?;
                Ok(())
            }
        }
    }
}

impl Write for Destination {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Inner::Stdout(w) => w.write(data),
            Inner::Special(w) => w.write(data),
            Inner::File { buf, .. } => buf.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Inner::Stdout(w) => w.flush(),
            Inner::Special(w) => w.flush(),
            Inner::File { buf, .. } => buf.flush(),
        }
    }
}

/// Writes `data` to `path` atomically (a [`Destination`]).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let mut d = Destination::open(Some(path))?;
    d.write_all(data).map_err(|e| Error::io(path, e))?;
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `remove_unfinished` acts on every pending report of the process, so
    /// the tests that create reports take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn files_appear_only_when_finished() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.json");
        let mut d = Destination::open(Some(&out)).unwrap();
        d.write_all(b"{}").unwrap();
        assert!(!out.exists());
        d.finish().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn unfinished_reports_are_removed() {
        let _serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r.json");
        let mut d = Destination::open(Some(&out)).unwrap();
        d.write_all(b"partial").unwrap();
        remove_unfinished();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(d.finish().is_err());
        assert!(!out.exists());
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let mut d = Destination::open(Some(Path::new("/dev/null"))).unwrap();
        d.write_all(b"x").unwrap();
        d.finish().unwrap();
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let e = Destination::open(Some(Path::new("/nonexistent-dir/x/r.json")))
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent-dir/x"), "{e}");
    }
}
