//! Errors of the git inputs.

use std::path::PathBuf;

/// Errors of history, staged and push scans.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not inside a git repository, or the repository is unreadable.
    #[error("{}: not a readable git repository: {message}", path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A revision could not be resolved.
    #[error("cannot resolve revision {rev:?}: {message}")]
    Revision {
        /// The revision as given.
        rev: String,
        /// What went wrong.
        message: String,
    },
    /// Scan options that contradict each other or are empty.
    #[error("{0}")]
    Options(&'static str),
    /// A line of a pre-push hook's input is not
    /// `<local ref> <local id> <remote ref> <remote id>`.
    #[error("unexpected pre-push input line: {line:?}")]
    PushLine {
        /// The line.
        line: String,
    },
    /// Reading git data failed.
    #[error("git: {0}")]
    Git(String),
}

impl Error {
    pub(crate) fn git(e: impl std::fmt::Display) -> Error {
        Error::Git(e.to_string())
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
