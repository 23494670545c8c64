//! Commit metadata attached to findings.

/// Where a secret came from in history: a commit and the path in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The commit.
    pub commit: std::sync::Arc<CommitInfo>,
    /// The path of the blob in that commit.
    pub path: String,
}

/// Metadata of a commit (no secrets: commit metadata is public in the repository).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, ISO 8601 with offset.
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

impl CommitInfo {
    /// Reads a commit's metadata.
    pub(crate) fn load(repo: &gix::Repository, id: gix::ObjectId) -> crate::Result<CommitInfo> {
        let commit = repo.find_commit(id).map_err(crate::Error::git)?;
        let author = commit.author().map_err(crate::Error::git)?;
        let date = author
            .time()
            .ok()
            .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok())
            .unwrap_or_default();
        let summary = commit
            .message()
            .map(|m| m.summary().to_string())
            .unwrap_or_default();
        Ok(CommitInfo {
            id: id.to_string(),
            author: author.name.to_string().trim().to_string(),
            email: author.email.to_string().trim().to_string(),
            date,
            summary,
        })
    }
}
