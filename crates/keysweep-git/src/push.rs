//! What a `git push` sends: the lines git hands a pre-push hook, and the
//! history ranges they name.

use crate::history::Range;
use crate::staged::pushed_range;
use crate::{Error, Result};
use std::path::Path;

/// The object id git uses for "no object" (a new or deleted ref).
pub const ZERO_ID: &str = "0000000000000000000000000000000000000000";

/// One ref update of a push, as git writes it to a pre-push hook's standard
/// input: `<local ref> <local object id> <remote ref> <remote object id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushUpdate {
    /// The local ref pushed (`refs/heads/main`), or `(delete)`.
    pub local_ref: String,
    /// The object pushed; [`ZERO_ID`] when the remote ref is deleted.
    pub local_id: String,
    /// The remote ref updated.
    pub remote_ref: String,
    /// What the remote ref points at now; [`ZERO_ID`] for a new ref.
    pub remote_id: String,
}

impl PushUpdate {
    /// Parses one line; a blank line is `None`.
    pub fn parse(line: &str) -> Result<Option<PushUpdate>> {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            [] => Ok(None),
            [local_ref, local_id, remote_ref, remote_id] => Ok(Some(PushUpdate {
                local_ref: local_ref.to_string(),
                local_id: local_id.to_string(),
                remote_ref: remote_ref.to_string(),
                remote_id: remote_id.to_string(),
            })),
            _ => Err(Error::PushLine {
                line: line.to_string(),
            }),
        }
    }

    /// Parses every line of a pre-push hook's standard input.
    pub fn parse_all(text: &str) -> Result<Vec<PushUpdate>> {
        text.lines()
            .filter_map(|l| PushUpdate::parse(l).transpose())
            .collect()
    }
}

/// The history ranges a push sends. With no updates (a hook run by hand, or
/// by a framework that passes none), what pushing the current branch would
/// send ([`pushed_range`]). A deleted remote ref sends nothing; a new remote
/// ref sends what no remote-tracking branch has yet; an updated one sends
/// `remote..local`.
pub fn push_ranges(repo_path: &Path, updates: &[PushUpdate]) -> Result<Vec<Range>> {
    if updates.is_empty() {
        return Ok(vec![pushed_range(repo_path)?]);
    }
    let mut out = Vec::new();
    for u in updates.iter().filter(|u| u.local_id != ZERO_ID) {
        if u.remote_id == ZERO_ID {
            out.push(match pushed_range(repo_path)? {
                Range::Custom { hidden, .. } => Range::Custom {
                    tips: vec![u.local_id.clone()],
                    hidden,
                },
                _ => Range::parse(&u.local_id),
            });
        } else {
            out.push(Range::Between {
                from: u.remote_id.clone(),
                to: u.local_id.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse() {
        let text = format!(
            "refs/heads/main 1111111111111111111111111111111111111111 refs/heads/main {ZERO_ID}\n\n"
        );
        let ups = PushUpdate::parse_all(&text).unwrap();
        assert_eq!(ups.len(), 1);
        assert_eq!(ups[0].remote_id, ZERO_ID);
        assert_eq!(ups[0].local_ref, "refs/heads/main");
        let e = PushUpdate::parse_all("refs/heads/main abc\n").unwrap_err();
        assert!(e.to_string().contains("refs/heads/main abc"), "{e}");
    }

    #[test]
    fn deletions_send_nothing_and_updates_send_their_range() {
        let del = PushUpdate {
            local_ref: "(delete)".into(),
            local_id: ZERO_ID.into(),
            remote_ref: "refs/heads/old".into(),
            remote_id: "2".repeat(40),
        };
        let upd = PushUpdate {
            local_ref: "refs/heads/main".into(),
            local_id: "1".repeat(40),
            remote_ref: "refs/heads/main".into(),
            remote_id: "2".repeat(40),
        };
        // No repository is opened for these two.
        let r = push_ranges(Path::new("/nonexistent"), &[del, upd]).unwrap();
        assert_eq!(
            r,
            [Range::Between {
                from: "2".repeat(40),
                to: "1".repeat(40)
            }]
        );
    }
}
