//! The repository's `.keysweepignore`, as hooks and staged scans apply it.

use std::path::Path;

/// The `.keysweepignore` (gitignore syntax) at the repository root `root`.
///
/// Hooks apply it to every path, including paths a hook framework passes
/// explicitly, and [`scan_staged`](crate::scan_staged) applies it to staged
/// files by default ([`StagedOptions::ignore_file`](crate::StagedOptions)).
/// A missing file ignores nothing; an unreadable or malformed one is logged
/// at warn level and ignores what it could parse.
pub fn repo_ignore(root: &Path) -> ignore::gitignore::Gitignore {
    let mut b = ignore::gitignore::GitignoreBuilder::new(root);
    let file = root.join(keysweep_core::IGNORE_FILE);
    if file.is_file() {
        if let Some(e) = b.add(&file) {
            tracing::warn!(error = %e, "problem reading .keysweepignore");
        }
    }
    b.build().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "problem building .keysweepignore");
        ignore::gitignore::Gitignore::empty()
    })
}

/// Whether `rel` (relative to the repository root) or one of its parent
/// directories is ignored by `ignore`.
pub fn is_ignored(ignore: &ignore::gitignore::Gitignore, rel: &Path) -> bool {
    ignore.matched_path_or_any_parents(rel, false).is_ignore()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_files_and_directories_below_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".keysweepignore"),
            "fixtures/\n*.pem\n!keep.pem\n",
        )
        .unwrap();
        let ig = repo_ignore(dir.path());
        assert!(is_ignored(&ig, Path::new("fixtures/a/b.env")));
        assert!(is_ignored(&ig, Path::new("x/y.pem")));
        assert!(!is_ignored(&ig, Path::new("keep.pem")));
        assert!(!is_ignored(&ig, Path::new("src/main.rs")));
    }

    #[test]
    fn a_missing_file_ignores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_ignored(&repo_ignore(dir.path()), Path::new("a.env")));
    }
}
