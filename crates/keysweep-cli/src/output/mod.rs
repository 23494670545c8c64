//! Report writers: human, JSON, JSON Lines and SARIF.

pub mod human;
pub mod sarif;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

/// Where the report goes: stdout, or a file written atomically (a temporary
/// file in the same directory, renamed into place only when complete, so an
/// interrupted scan never leaves a partial report behind).
pub enum Destination {
    Stdout(io::BufWriter<io::Stdout>),
    /// An existing non-regular file (`/dev/null`, a FIFO, a terminal):
    /// written in place, since renaming over it would replace the device.
    Special(io::BufWriter<std::fs::File>),
    File {
        tmp: tempfile::NamedTempFile,
        buf: io::BufWriter<std::fs::File>,
        path: PathBuf,
        _pending: Pending,
    },
}

/// Temporary report files in progress. A signal ends the process without
/// running destructors, so the temporary file would stay behind; the
/// interrupt handler deletes these instead.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a temporary file in [`PENDING`] while it lives.
pub struct Pending(PathBuf);

impl Pending {
    /// Creates a temporary report file in `dir`, registered for deletion on
    /// interrupt. The handler is installed first and the registry is locked
    /// while the file is created, so no signal can come between the two.
    fn create(dir: &Path) -> io::Result<(tempfile::NamedTempFile, Pending)> {
        static HANDLER: Once = Once::new();
        HANDLER.call_once(|| {
            // SIGINT, SIGTERM and SIGHUP: the handler runs on its own thread,
            // so it may take the lock, delete files and exit. A report being
            // renamed into place holds the lock, so it is either complete or
            // absent.
            let res = ctrlc::set_handler(|| {
                let files = pending();
                for f in files.iter() {
                    let _ = std::fs::remove_file(f);
                }
                eprintln!("error: interrupted");
                std::process::exit(130);
            });
            if let Err(e) = res {
                tracing::debug!(error = %e, "no interrupt handler; an interrupted scan may leave a temporary report file");
            }
        });
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
    pub fn open(path: Option<&Path>) -> anyhow::Result<Destination> {
        use anyhow::Context as _;
        Ok(match path {
            None => Destination::Stdout(io::BufWriter::new(io::stdout())),
            Some(p) if std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()) => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                Destination::Special(io::BufWriter::new(f))
            }
            Some(p) => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let (tmp, pending) = Pending::create(dir).with_context(|| {
                    format!("cannot create the output file in {}", dir.display())
                })?;
                let buf = io::BufWriter::new(tmp.as_file().try_clone()?);
                Destination::File {
                    _pending: pending,
                    tmp,
                    buf,
                    path: p.to_path_buf(),
                }
            }
        })
    }

    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        matches!(self, Destination::Stdout(_)) && io::stdout().is_terminal()
    }

    /// Flushes and, for files, moves the finished report into place.
    pub fn finish(self) -> anyhow::Result<()> {
        use anyhow::Context as _;
        match self {
            Destination::Stdout(mut w) => w.flush().map_err(Into::into),
            Destination::Special(mut w) => w.flush().map_err(Into::into),
            Destination::File {
                tmp,
                mut buf,
                path,
                _pending,
            } => {
                buf.flush()?;
                drop(buf);
                tmp.as_file().sync_all()?;
                // Not interrupted half-way: the handler waits for this lock.
                let persisted = {
                    let _lock = pending();
                    tmp.persist(&path)
                };
                persisted.with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Destination {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(w) => w.write(data),
            Destination::Special(w) => w.write(data),
            Destination::File { buf, .. } => buf.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(w) => w.flush(),
            Destination::Special(w) => w.flush(),
            Destination::File { buf, .. } => buf.flush(),
        }
    }
}
