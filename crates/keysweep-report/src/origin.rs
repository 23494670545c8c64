//! Where a finding came from: a file (or unnamed bytes), or a git blob and
//! the commits that introduced it.

use serde::{Deserialize, Serialize};

/// Where a finding came from. The finding's own `path` names the file (or is
/// `None` for unnamed input such as stdin); this says what else is known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// A file on disk, stdin, or bytes handed to the scanner (default).
    #[default]
    Input,
    /// A blob of a git repository's history.
    Git(GitOrigin),
}

impl Origin {
    /// The git part, for history findings.
    pub fn git(&self) -> Option<&GitOrigin> {
        match self {
            Origin::Git(g) => Some(g),
            Origin::Input => None,
        }
    }
}

/// The blob of a history finding and the commits that introduced it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GitOrigin {
    /// The blob id (hex).
    pub blob: String,
    /// The commits that introduced the blob, the first one first (every one
    /// with `all`, else only the first).
    pub provenance: Vec<Commit>,
    /// Whether every introducing commit was asked for: records then list them
    /// under `provenance` (`keysweep scan --git --all-provenance`).
    pub all: bool,
}

/// A commit that introduced a secret, and the secret's path in it, as
/// records write it (commit metadata is public in the repository; no
/// secrets).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Commit {
    /// Full hex commit id.
    pub commit: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, ISO 8601 with offset.
    pub date: String,
    /// First line of the message.
    pub summary: String,
    /// Path of the blob in that commit.
    pub path: String,
}

#[cfg(feature = "git")]
impl From<&keysweep_git::Provenance> for Commit {
    fn from(p: &keysweep_git::Provenance) -> Commit {
        Commit {
            commit: p.commit.id.clone(),
            author: p.commit.author.clone(),
            email: p.commit.email.clone(),
            date: p.commit.date.clone(),
            summary: p.commit.summary.clone(),
            path: p.path.clone(),
        }
    }
}
