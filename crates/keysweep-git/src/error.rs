//! Errors of the git inputs.

use std::path::PathBuf;

/// The error of a gix call, boxed: gix has one error type per operation, and
/// none of them is part of this crate's API.
pub type GixError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of history, staged and push scans.
///
/// Each variant keeps gix's error as its [`source`](std::error::Error::source)
/// (its `Display` does not repeat it): print the chain, e.g. with anyhow's
/// `{:#}` or [`keysweep_core::error_chain`]. The texts hold paths, revisions
/// and gix's messages, never blob contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not inside a git repository, or the repository is unreadable.
    #[error("{}: not a readable git repository", path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: GixError,
    },
    /// A revision could not be resolved.
    #[error("cannot resolve revision {rev:?}")]
    Revision {
        /// The revision as given.
        rev: String,
        /// What went wrong.
        #[source]
        source: GixError,
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
    #[error("git: reading the repository failed")]
    Git(#[source] GixError),
}

impl Error {
    pub(crate) fn git(e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Git(Box::new(e))
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
