//! Staged scans of repositories built with the real `git` binary: only lines
//! added or changed in the index relative to `HEAD` are reported.

mod common;

use common::*;
use keysweep_core::Finding;
use keysweep_git::{StagedOptions, StagedStats};
use std::path::{Path, PathBuf};

fn staged(repo: &Repo<'_>) -> (Vec<Finding>, StagedStats) {
    staged_with(repo, &StagedOptions::default())
}

fn staged_with(repo: &Repo<'_>, opts: &StagedOptions) -> (Vec<Finding>, StagedStats) {
    let (mut found, stats) = keysweep_git::scan_staged(&scanner(), &repo.path, opts)
        .unwrap_or_else(|e| panic!("staged scan failed: {e}"));
    found.sort_by(|a, b| (&a.path, a.span.start).cmp(&(&b.path, b.span.start)));
    (found, stats)
}

/// `(path, line, secret)` of each finding.
fn summary(found: &[Finding]) -> Vec<(String, usize, String)> {
    found
        .iter()
        .map(|f| {
            (
                f.path
                    .as_deref()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                f.line,
                String::from_utf8(f.secret.expose().to_vec()).unwrap(),
            )
        })
        .collect()
}

fn one(path: &str, line: usize, secret: &str) -> Vec<(String, usize, String)> {
    vec![(path.to_string(), line, secret.to_string())]
}

/// A repository whose `HEAD` has `config.env` with a secret on line 2.
fn with_committed_secret(sb: &Sandbox) -> Repo<'_> {
    let repo = sb.init("repo");
    repo.write(
        "config.env",
        format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={AWS_1}\nDEBUG=0\n"),
    );
    repo.write("README.md", "# demo\n");
    repo.commit("c1");
    repo
}

#[test]
fn a_committed_secret_in_a_file_with_an_unrelated_edit_is_not_reported() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write(
        "config.env",
        format!("REGION=eu-central-1\nAWS_ACCESS_KEY_ID={AWS_1}\nDEBUG=1\nNEW=x\n"),
    );
    repo.git(&["add", "config.env"]);
    let (found, stats) = staged(&repo);
    assert!(found.is_empty(), "{:?}", summary(&found));
    assert_eq!(stats.files, 1);
}

#[test]
fn a_new_secret_line_is_reported() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write(
        "config.env",
        format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={AWS_1}\nDEBUG=0\nGITHUB_TOKEN={GH_1}\n"),
    );
    repo.write("src/new.py", format!("# setup\nKEY = \"{AWS_2}\"\n"));
    repo.git(&["add", "-A"]);
    let (found, stats) = staged(&repo);
    assert_eq!(
        summary(&found),
        [
            ("config.env".to_string(), 4, GH_1.to_string()),
            ("src/new.py".to_string(), 2, AWS_2.to_string())
        ]
    );
    assert_eq!(stats.files, 2);
    assert_eq!(found[0].rule.id, "ks.github.1");
}

#[test]
fn the_first_commit_of_a_repository_works() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    // Nothing staged at all yet.
    let (found, stats) = staged(&repo);
    assert!(found.is_empty());
    assert_eq!(stats.files, 0);
    repo.write("a.env", format!("K={AWS_1}\n"));
    repo.write("clean.txt", "hello\n");
    repo.git(&["add", "-A"]);
    let (found, stats) = staged(&repo);
    assert_eq!(summary(&found), one("a.env", 1, AWS_1));
    assert_eq!(stats.files, 2);
}

#[test]
fn a_rename_without_changes_reports_nothing() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.git(&["mv", "config.env", "settings.env"]);
    let (found, stats) = staged(&repo);
    assert!(found.is_empty(), "{:?}", summary(&found));
    assert_eq!(stats.files, 0, "a pure rename is not even scanned");
}

#[test]
fn a_rename_with_an_edit_reports_only_the_new_line() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    std::fs::create_dir(repo.path.join("conf")).unwrap();
    repo.git(&["mv", "config.env", "conf/settings.env"]);
    repo.write(
        "conf/settings.env",
        format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={AWS_1}\nDEBUG=0\nSECOND_KEY={AWS_2}\n"),
    );
    repo.git(&["add", "-A"]);
    let (found, _) = staged(&repo);
    assert_eq!(summary(&found), one("conf/settings.env", 4, AWS_2));
}

#[test]
fn deleting_a_file_reports_nothing() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.git(&["rm", "-q", "config.env"]);
    let (found, stats) = staged(&repo);
    assert!(found.is_empty());
    assert_eq!(stats.files, 0);
}

#[test]
fn a_staged_binary_file_is_scanned() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    let mut data = b"\x00\x01\x02\x03binary\x00header\n".to_vec();
    data.extend_from_slice(format!("key={AWS_3}\n\x00\x00").as_bytes());
    repo.write("assets/blob.bin", &data);
    repo.git(&["add", "-A"]);
    let (found, _) = staged(&repo);
    assert_eq!(summary(&found), one("assets/blob.bin", 2, AWS_3));
}

#[test]
fn a_secret_only_in_the_work_tree_is_not_reported() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write("new.env", "K=placeholder\n");
    repo.git(&["add", "new.env"]);
    // Edited after staging: the index still has the clean version.
    repo.write("new.env", format!("K={AWS_2}\n"));
    let (found, stats) = staged(&repo);
    assert!(found.is_empty(), "{:?}", summary(&found));
    assert_eq!(stats.files, 1);
    // Not staged at all.
    repo.write("untracked.env", format!("K={AWS_3}\n"));
    let (found, _) = staged(&repo);
    assert!(found.is_empty(), "{:?}", summary(&found));
}

#[test]
fn a_staged_secret_removed_from_the_work_tree_is_reported() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write("new.env", format!("K={AWS_2}\n"));
    repo.git(&["add", "new.env"]);
    repo.write("new.env", "K=placeholder\n");
    let (found, _) = staged(&repo);
    assert_eq!(summary(&found), one("new.env", 1, AWS_2));
    // Even with the file gone from the work tree entirely.
    repo.remove("new.env");
    let (found, _) = staged(&repo);
    assert_eq!(summary(&found), one("new.env", 1, AWS_2));
}

#[test]
fn the_paths_filter_restricts_the_scan() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write("a.env", format!("K={AWS_2}\n"));
    repo.write("sub/b.env", format!("K={AWS_3}\n"));
    repo.git(&["add", "-A"]);
    let only = |paths: Vec<PathBuf>| {
        staged_with(
            &repo,
            &StagedOptions {
                paths: Some(paths),
                ..StagedOptions::default()
            },
        )
    };
    // Absolute paths inside the work tree.
    let (found, stats) = only(vec![repo.path.join("sub/b.env")]);
    assert_eq!(summary(&found), one("sub/b.env", 1, AWS_3));
    assert_eq!(stats.files, 1);
    let (found, _) = only(vec![repo.path.join("a.env"), repo.path.join("sub/b.env")]);
    assert_eq!(found.len(), 2);
    // A path with no staged change, and an empty list.
    let (found, stats) = only(vec![repo.path.join("README.md")]);
    assert!(found.is_empty());
    assert_eq!(stats.files, 0);
    let (found, _) = only(vec![]);
    assert!(found.is_empty());
    // Directories select the files under them; the root selects everything.
    let (found, _) = only(vec![repo.path.join("sub")]);
    assert_eq!(summary(&found), one("sub/b.env", 1, AWS_3));
    let (found, _) = only(vec![repo.path.join("su")]);
    assert!(found.is_empty(), "a name prefix is not a directory");
    let (found, _) = only(vec![repo.path.clone()]);
    assert_eq!(found.len(), 2);
    // Staged, then deleted from the work tree: the path still selects it.
    repo.remove("a.env");
    let (found, _) = only(vec![repo.path.join("a.env")]);
    assert_eq!(summary(&found), one("a.env", 1, AWS_2));
    // `..` and a path outside the work tree.
    let (found, _) = only(vec![repo.path.join("sub/../sub/b.env")]);
    assert_eq!(summary(&found), one("sub/b.env", 1, AWS_3));
    let (found, _) = only(vec![sb.path().join("elsewhere.env")]);
    assert!(found.is_empty());
}

#[test]
fn relative_filter_paths_are_relative_to_the_repository_root() {
    // The test process's current directory is the crate, not the repository:
    // relative paths must still select files of the repository.
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    assert!(!std::env::current_dir().unwrap().starts_with(&repo.path));
    repo.write("a.env", format!("K={AWS_2}\n"));
    repo.write("sub/b.env", format!("K={AWS_3}\n"));
    repo.git(&["add", "-A"]);
    let (found, _) = staged_with(
        &repo,
        &StagedOptions {
            paths: Some(vec![Path::new("sub/b.env").to_path_buf()]),
            ..StagedOptions::default()
        },
    );
    assert_eq!(summary(&found), one("sub/b.env", 1, AWS_3));
}

#[test]
fn moving_a_secret_line_within_a_file_is_not_reported() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write(
        "config.env",
        format!("# moved to the top\nAWS_ACCESS_KEY_ID={AWS_1}\n\nREGION=eu-west-1\nDEBUG=0\n"),
    );
    repo.git(&["add", "config.env"]);
    let (found, _) = staged(&repo);
    assert!(found.is_empty(), "{:?}", summary(&found));
}

#[test]
fn a_changed_secret_on_an_existing_line_is_reported() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write(
        "config.env",
        format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={AWS_4}\nDEBUG=0\n"),
    );
    repo.git(&["add", "config.env"]);
    let (found, _) = staged(&repo);
    assert_eq!(summary(&found), one("config.env", 2, AWS_4));
}

#[test]
fn copying_a_committed_file_is_not_a_new_secret() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    std::fs::copy(repo.path.join("config.env"), repo.path.join("copy.env")).unwrap();
    repo.git(&["add", "copy.env"]);
    let (found, _) = staged(&repo);
    assert!(found.is_empty(), "{:?}", summary(&found));
}

#[test]
fn a_path_outside_any_repository_is_an_open_error() {
    let sb = Sandbox::new();
    let err =
        keysweep_git::scan_staged(&scanner(), sb.path(), &StagedOptions::default()).unwrap_err();
    assert!(matches!(err, keysweep_git::Error::Open { .. }), "{err:?}");
}

#[test]
fn pushed_range_without_upstream_hides_remote_tracking_commits() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.env", format!("K={AWS_1}\n"));
    repo.commit("c1");
    sb.git_in(sb.path(), &["init", "-q", "--bare", "remote.git"]);
    repo.git(&["remote", "add", "origin", "../remote.git"]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write("b.env", format!("K={AWS_2}\n"));
    repo.commit("c2");
    let range = keysweep_git::pushed_range(&repo.path).unwrap();
    let (found, stats) = scan(&repo.path, &opts(range));
    assert_eq!(secrets(&found), [AWS_2]);
    assert_eq!(stats.commits, 1);
    // With an upstream: `@{upstream}..HEAD`.
    repo.git(&["branch", "-q", "--set-upstream-to=origin/main"]);
    let range = keysweep_git::pushed_range(&repo.path).unwrap();
    assert!(
        matches!(&range, keysweep_git::Range::Between { to, .. } if to == "HEAD"),
        "{range:?}"
    );
    let (found, _) = scan(&repo.path, &opts(range));
    assert_eq!(secrets(&found), [AWS_2]);
}

#[test]
fn keysweepignore_leaves_out_staged_files_unless_turned_off() {
    let sb = Sandbox::new();
    let repo = with_committed_secret(&sb);
    repo.write(".keysweepignore", "fixtures/\n");
    repo.write("fixtures/fake.env", format!("KEY={AWS_2}\n"));
    repo.write("app.env", format!("KEY={AWS_3}\n"));
    repo.git(&["add", "-A"]);
    let (found, stats) = staged(&repo);
    assert_eq!(summary(&found), one("app.env", 1, AWS_3));
    assert_eq!(stats.ignored, 1);
    // Named explicitly (as pre-commit passes files): still left out.
    let named = StagedOptions {
        paths: Some(vec![repo.path.join("fixtures/fake.env")]),
        ..StagedOptions::default()
    };
    assert!(staged_with(&repo, &named).0.is_empty());
    let all = StagedOptions {
        ignore_file: false,
        ..StagedOptions::default()
    };
    let (found, stats) = staged_with(&repo, &all);
    assert_eq!(found.len(), 2, "{:?}", summary(&found));
    assert_eq!(stats.ignored, 0);
}

#[test]
fn a_sink_stops_a_staged_scan_before_the_next_file() {
    let sb = Sandbox::new();
    let repo = sb.init("stop");
    for i in 0..10 {
        repo.write(&format!("f{i}.env"), format!("K={AWS_1}\n# {i}\n"));
    }
    repo.git(&["add", "-A"]);
    let mut seen = 0;
    let stats =
        keysweep_git::visit_staged(&scanner(), &repo.path, &StagedOptions::default(), |ev| {
            if let keysweep_git::StagedEvent::Finding(_) = ev {
                seen += 1;
                return std::ops::ControlFlow::Break(());
            }
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert!(stats.stopped);
    assert_eq!((seen, stats.files), (1, 1));
    let (found, stats) = staged(&repo);
    assert!(!stats.stopped);
    assert_eq!((found.len(), stats.files), (10, 10));
}

#[test]
fn too_large_staged_files_are_skip_events() {
    let sb = Sandbox::new();
    let repo = sb.init("big");
    repo.write("big.env", format!("K={AWS_1}\n{}\n", "x".repeat(4096)));
    repo.git(&["add", "-A"]);
    let mut skipped = Vec::new();
    let opts = StagedOptions {
        max_file_size: 1024,
        ..StagedOptions::default()
    };
    let stats = keysweep_git::visit_staged(&scanner(), &repo.path, &opts, |ev| {
        if let keysweep_git::StagedEvent::Skipped { path, reason } = ev {
            skipped.push((path, reason));
        }
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(stats.skipped, 1);
    assert_eq!(skipped[0].0, "big.env");
    assert!(matches!(
        skipped[0].1,
        keysweep_core::SkipReason::TooLarge { limit: 1024, .. }
    ));
}
