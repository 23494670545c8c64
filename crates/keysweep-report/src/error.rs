//! The errors of reading records and writing reports.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong reading findings or writing a report. Never shows a raw
/// secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing to the report's destination failed.
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    /// A findings file is not JSON of the expected shape.
    #[error("{}: {source}", place(origin, *line))]
    Json {
        /// The file (or `<string>`).
        origin: String,
        /// The line, for JSON Lines.
        line: Option<usize>,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A findings file holds something other than findings.
    #[error("{}not a keysweep findings file ({why})", if origin.is_empty() { String::new() } else { format!("{origin}: ") })]
    NotFindings {
        /// The file (or `<string>`).
        origin: String,
        /// What was found instead.
        why: &'static str,
    },
    /// A record cannot be turned back into a finding.
    #[error("invalid finding record: {0}")]
    Record(String),
}

/// `origin:line`, `origin`, or `line N` for a text without a name.
fn place(origin: &str, line: Option<usize>) -> String {
    match (origin.is_empty(), line) {
        (false, Some(l)) => format!("{origin}:{l}"),
        (false, None) => origin.to_string(),
        (true, Some(l)) => format!("line {l}"),
        (true, None) => "findings".to_string(),
    }
}

impl Error {
    pub(crate) fn record(why: impl Into<String>) -> Error {
        Error::Record(why.into())
    }

    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
