//! Error types of the scanning library.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A problem with a rule definition: where it is and what is wrong.
///
/// Its `Display` names the file, the line and column (when known), the rule id
/// and the field, e.g.
/// `patterns/aws.toml:12:9: rule ks.aws.1, field regex: unclosed group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// Where the rule came from: a file path or a name such as `<inline>`.
    pub origin: String,
    /// 1-based line in `origin`, when known.
    pub line: Option<usize>,
    /// 1-based column in `origin`, when known.
    pub column: Option<usize>,
    /// The id of the rule at fault, when known.
    pub rule_id: Option<String>,
    /// The field at fault (`regex`, `keywords`, ...), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(id) = &self.rule_id {
            write!(f, "rule {id}, ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// Errors of the scanning library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file or rule definition is malformed.
    #[error(transparent)]
    Rule(Box<RuleError>),
    /// Reading a path failed. (The I/O error is part of the message, not a
    /// separate `source`, so chains print it once.)
    #[error("{}: {error}", path.display())]
    Io {
        /// The path that could not be read.
        path: PathBuf,
        /// The underlying error.
        error: io::Error,
    },
    /// A path names something that is not a regular file or directory (a FIFO,
    /// socket or device); keysweep never opens those for reading.
    #[error("{}: not a regular file (FIFO, socket or device); not scanned", path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A path does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// An error met while walking a directory (permission denied, symlink
    /// loop, unreadable ignore file...). Holds the walker's error as is
    /// (transparent: its `Display`, which names the path, and its `source`
    /// are this variant's, so a chain prints it once). It holds paths and
    /// file-system messages, never file contents.
    #[error(transparent)]
    Walk {
        /// The walker's error (an `ignore::Error`, boxed so that its type is
        /// not part of this crate's API; `downcast_ref` recovers it).
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl From<RuleError> for Error {
    fn from(e: RuleError) -> Error {
        Error::Rule(Box::new(e))
    }
}

impl Error {
    /// Wraps an I/O error with the path it concerns, naming a missing path plainly.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        let path = path.into();
        if source.kind() == io::ErrorKind::NotFound {
            Error::NotFound { path }
        } else {
            Error::Io {
                path,
                error: source,
            }
        }
    }
}

/// Formats `e` and its chain of sources as `e: source: source ...`, for
/// callers that print an [`Error`] with `Display` only (anyhow's `{:#}` does
/// the same).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_error_display_names_everything() {
        let e = RuleError {
            origin: "patterns/x.toml".into(),
            line: Some(4),
            column: Some(9),
            rule_id: Some("ks.x.1".into()),
            field: Some("regex".into()),
            message: "unclosed group".into(),
        };
        assert_eq!(
            e.to_string(),
            "patterns/x.toml:4:9: rule ks.x.1, field regex: unclosed group"
        );
    }

    #[test]
    fn walk_error_keeps_the_walkers_error() {
        #[derive(Debug)]
        struct Walker(io::Error);
        impl fmt::Display for Walker {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tree/x: cannot read")
            }
        }
        impl std::error::Error for Walker {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let denied = io::Error::new(io::ErrorKind::PermissionDenied, "denied");
        let e = Error::Walk {
            source: Box::new(Walker(denied)),
        };
        let Error::Walk { source } = &e else {
            unreachable!()
        };
        assert!(source.downcast_ref::<Walker>().is_some(), "held as is");
        // Transparent: the walker's text, then its source, each once.
        assert_eq!(e.to_string(), "tree/x: cannot read");
        let src = std::error::Error::source(&e).expect("the walker's source");
        assert_eq!(
            src.downcast_ref::<io::Error>().map(io::Error::kind),
            Some(io::ErrorKind::PermissionDenied)
        );
        assert_eq!(error_chain(&e), "tree/x: cannot read: denied");
    }

    #[test]
    fn missing_path_is_named() {
        let e = Error::io("/nope", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(e.to_string(), "/nope: no such file or directory");
    }
}
