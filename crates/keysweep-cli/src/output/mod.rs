//! Report writers: human, JSON, JSON Lines and SARIF.

pub mod human;
pub mod sarif;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the report goes: stdout, or a file written atomically (a temporary
/// file in the same directory, renamed into place only when complete, so an
/// interrupted scan never leaves a partial report behind).
pub enum Destination {
    Stdout(io::BufWriter<io::Stdout>),
    File {
        tmp: tempfile::NamedTempFile,
        buf: io::BufWriter<std::fs::File>,
        path: PathBuf,
    },
}

impl Destination {
    pub fn open(path: Option<&Path>) -> anyhow::Result<Destination> {
        use anyhow::Context as _;
        Ok(match path {
            None => Destination::Stdout(io::BufWriter::new(io::stdout())),
            Some(p) => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let tmp = tempfile::Builder::new()
                    .prefix(".keysweep-report-")
                    .tempfile_in(dir)
                    .with_context(|| {
                        format!("cannot create the output file in {}", dir.display())
                    })?;
                let buf = io::BufWriter::new(tmp.as_file().try_clone()?);
                Destination::File {
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
            Destination::File { tmp, mut buf, path } => {
                buf.flush()?;
                drop(buf);
                tmp.as_file().sync_all()?;
                tmp.persist(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Destination {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(w) => w.write(data),
            Destination::File { buf, .. } => buf.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(w) => w.flush(),
            Destination::File { buf, .. } => buf.flush(),
        }
    }
}
