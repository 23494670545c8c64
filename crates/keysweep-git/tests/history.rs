//! History scans of repositories built with the real `git` binary: branches,
//! merges, deleted secrets, blob dedup, packs, bare clones, worktrees, ranges,
//! tags, empty repositories and non-repositories.

mod common;

use common::*;
use keysweep_core::SkipReason;
use keysweep_git::{Error, HistoryEvent, HistoryOptions, Range};
use std::ops::ControlFlow;

#[test]
fn secret_added_then_deleted_is_found_with_the_adding_commit() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("README.md", "# demo\n");
    repo.commit("initial commit");
    repo.write(
        "config/app.env",
        format!("REGION=eu-west-1\nAWS_ACCESS_KEY_ID={AWS_1}\n"),
    );
    let adding = repo.commit_as(
        "add app config\n\nWith the deploy key, to be removed.",
        "Bob Builder",
        "bob@example.org",
    );
    repo.remove("config/app.env");
    let deleting = repo.commit("remove app config");
    assert_eq!(repo.head(), deleting);

    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(secrets(&found), [AWS_1]);
    assert_eq!(stats.commits, 3);
    assert_eq!(stats.findings, 1);
    let hf = &found[0];
    assert_eq!(hf.finding.rule.id, "ks.aws.1");
    assert_eq!(hf.finding.line, 2);
    assert_eq!(
        hf.finding.path.as_deref(),
        Some(std::path::Path::new("config/app.env"))
    );
    assert_eq!(hf.blob, repo.rev(&format!("{adding}:config/app.env")));
    assert_eq!(hf.provenance.len(), 1);
    let p = &hf.provenance[0];
    assert_eq!(p.commit.id, adding);
    assert_eq!(p.commit.author, "Bob Builder");
    assert_eq!(p.commit.email, "bob@example.org");
    assert_eq!(p.commit.summary, "add app config");
    assert_eq!(p.path, "config/app.env");
    // ISO 8601 with an offset, the author date git recorded.
    let git_date = repo.git(&["show", "-s", "--format=%aI", &adding]);
    assert_eq!(
        p.commit.date.replace("+00:00", "Z"),
        git_date.replace("+00:00", "Z")
    );
}

#[test]
fn branches_and_a_merge() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "one\n");
    repo.commit("c1");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.yml", format!("token: {GH_1}\n"));
    let feature = repo.commit("feature with token");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.env", format!("KEY={AWS_1}\n"));
    let on_main = repo.commit("main with key");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let merge = repo.head();
    // A change made in the merge itself.
    repo.write("merged.txt", format!("id={AWS_2}\n"));
    repo.git(&["add", "merged.txt"]);
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    let merge_amended = repo.head();
    assert_ne!(merge, merge_amended);

    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(stats.commits, 4, "c1, feature, main, merge");
    assert_eq!(secrets(&found), sorted([AWS_1, AWS_2, GH_1]));
    let by_secret = |s: &str| {
        found
            .iter()
            .find(|f| f.finding.secret.expose() == s.as_bytes())
            .unwrap()
    };
    assert_eq!(by_secret(GH_1).provenance[0].commit.id, feature);
    assert_eq!(by_secret(GH_1).provenance[0].path, "feature.yml");
    assert_eq!(by_secret(AWS_1).provenance[0].commit.id, on_main);
    assert_eq!(by_secret(AWS_2).provenance[0].commit.id, merge_amended);
    assert_eq!(
        by_secret(AWS_2).provenance[0].commit.summary,
        "merge feature"
    );
}

#[test]
fn secret_on_an_unmerged_branch_is_found_with_all_refs() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "one\n");
    repo.commit("c1");
    repo.git(&["checkout", "-q", "-b", "wip"]);
    repo.write("wip.env", format!("AWS_ACCESS_KEY_ID={AWS_3}\n"));
    let wip = repo.commit("wip");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("b.txt", "two\n");
    repo.commit("c2");

    let (found, stats) = scan(&repo.path, &opts(Range::All));
    assert_eq!(secrets(&found), [AWS_3]);
    assert_eq!(found[0].provenance[0].commit.id, wip);
    assert_eq!(stats.commits, 3);

    // Only main's history: the branch is out of range.
    let (found, stats) = scan(&repo.path, &opts(Range::parse("main")));
    assert!(found.is_empty());
    assert_eq!(stats.commits, 2);
}

#[test]
fn identical_blob_at_two_paths_and_commits_is_scanned_once() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    let secret_file = format!("AWS_ACCESS_KEY_ID={AWS_1}\n");
    repo.write("README.md", "# demo\n");
    repo.write("a.env", &secret_file);
    let c1 = repo.commit("c1");
    repo.write("copy/b.env", &secret_file);
    let c2 = repo.commit("c2: copy");
    // Deleted and re-added later: introduced once more.
    repo.remove("a.env");
    repo.commit("c3: remove a");
    repo.write("a.env", &secret_file);
    let c4 = repo.commit("c4: re-add a");

    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(stats.commits, 4);
    assert_eq!(stats.blobs, 2, "README.md and the one secret blob");
    assert_eq!(stats.findings, 1);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provenance.len(), 1);
    assert_eq!(found[0].provenance[0].commit.id, c1);
    assert_eq!(found[0].provenance[0].path, "a.env");

    let (found, stats) = scan(
        &repo.path,
        &HistoryOptions {
            all_provenance: true,
            ..HistoryOptions::default()
        },
    );
    assert_eq!(stats.blobs, 2);
    assert_eq!(found.len(), 1, "reported once, with every provenance");
    let prov: Vec<(&str, &str)> = found[0]
        .provenance
        .iter()
        .map(|p| (p.commit.id.as_str(), p.path.as_str()))
        .collect();
    assert_eq!(
        prov,
        [
            (c1.as_str(), "a.env"),
            (c2.as_str(), "copy/b.env"),
            (c4.as_str(), "a.env")
        ]
    );
}

/// Findings reduced to what must not depend on storage.
fn normalised(found: &[keysweep_git::HistoryFinding]) -> Vec<String> {
    let mut v: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{} {} {:?}",
                f.blob,
                f.finding.rule.id,
                f.finding.line,
                f.finding.column,
                f.finding.fingerprint.to_hex(),
                f.provenance
                    .iter()
                    .map(|p| format!("{}@{}", p.path, p.commit.id))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    v.sort();
    v
}

fn build_history(repo: &Repo<'_>) {
    repo.write("README.md", "# demo\n");
    repo.write("src/main.rs", "fn main() {}\n");
    repo.commit("c1");
    repo.write("src/config.rs", format!("const K: &str = \"{AWS_1}\";\n"));
    repo.commit("c2");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("deploy/ci.yml", format!("env:\n  GH: {GH_1}\n"));
    repo.commit("c3");
    repo.git(&["checkout", "-q", "main"]);
    // A larger file, so packs store deltas against the previous version.
    let mut big = String::new();
    for i in 0..2000 {
        big.push_str(&format!("line {i} of filler text\n"));
    }
    repo.write("data/big.txt", &big);
    repo.commit("c4");
    big.push_str(&format!("aws_access_key_id = {AWS_2}\n"));
    repo.write("data/big.txt", &big);
    repo.commit("c5");
    repo.git(&["tag", "-a", "-m", "release", "v1", "HEAD~1"]);
}

#[test]
fn packed_and_loose_objects_give_the_same_findings() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    build_history(&repo);
    assert!(repo.loose_objects() > 0);
    let (loose, loose_stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(secrets(&loose), sorted([AWS_1, AWS_2, GH_1]));

    repo.git(&["gc", "-q", "--prune=now"]);
    assert_eq!(repo.loose_objects(), 0, "everything is packed");
    let (gc, gc_stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(normalised(&gc), normalised(&loose));
    assert_eq!(gc_stats, loose_stats);

    repo.git(&[
        "repack",
        "-a",
        "-d",
        "-q",
        "-f",
        "--depth=50",
        "--window=50",
    ]);
    repo.git(&["prune-packed"]);
    let (repacked, repacked_stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(normalised(&repacked), normalised(&loose));
    assert_eq!(repacked_stats, loose_stats);
}

#[test]
fn a_bare_clone_works() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    build_history(&repo);
    let (in_worktree, _) = scan(&repo.path, &HistoryOptions::default());
    sb.git_in(sb.path(), &["clone", "-q", "--bare", "repo", "bare.git"]);
    let bare = sb.path().join("bare.git");
    let (in_bare, stats) = scan(&bare, &HistoryOptions::default());
    assert_eq!(normalised(&in_bare), normalised(&in_worktree));
    assert_eq!(stats.commits, 5);
    // A path inside the bare repository is found too.
    let (in_refs_dir, _) = scan(&bare.join("refs"), &HistoryOptions::default());
    assert_eq!(normalised(&in_refs_dir), normalised(&in_worktree));
}

#[test]
fn a_linked_worktree_works() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.env", format!("KEY={AWS_1}\n"));
    repo.commit("c1");
    repo.git(&["worktree", "add", "-q", "-b", "other", "../wt"]);
    let wt = sb.repo_at(sb.path().join("wt"));
    wt.write("b.env", format!("KEY={AWS_2}\n"));
    let c2 = wt.commit("c2 in worktree");

    let (from_wt, stats) = scan(&wt.path, &HistoryOptions::default());
    assert_eq!(secrets(&from_wt), sorted([AWS_1, AWS_2]));
    assert_eq!(stats.commits, 2);
    let b = from_wt
        .iter()
        .find(|f| f.finding.secret.expose() == AWS_2.as_bytes())
        .unwrap();
    assert_eq!(b.provenance[0].commit.id, c2);
    // The main work tree sees the worktree's branch as a ref as well.
    let (from_main, _) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(normalised(&from_main), normalised(&from_wt));
    // Worktree HEAD only.
    let (head_only, _) = scan(&wt.path, &opts(Range::parse("HEAD~1..HEAD")));
    assert_eq!(secrets(&head_only), [AWS_2]);
}

#[test]
fn since_and_between_limit_commits() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("1.env", format!("K={AWS_1}\n"));
    let c1 = repo.commit("c1");
    repo.write("2.env", format!("K={AWS_2}\n"));
    let c2 = repo.commit("c2");
    repo.write("3.env", format!("K={AWS_3}\n"));
    let c3 = repo.commit("c3");

    let (found, stats) = scan(&repo.path, &opts(Range::Since(c1.clone())));
    assert_eq!(secrets(&found), sorted([AWS_2, AWS_3]));
    assert_eq!(stats.commits, 2);

    let between = Range::Between {
        from: c1.clone(),
        to: c2.clone(),
    };
    let (found, stats) = scan(&repo.path, &opts(between));
    assert_eq!(secrets(&found), [AWS_2]);
    assert_eq!(stats.commits, 1);
    assert_eq!(found[0].provenance[0].commit.id, c2);

    let (found, _) = scan(&repo.path, &opts(Range::parse(&format!("{c1}..{c2}"))));
    assert_eq!(secrets(&found), [AWS_2]);
    let (found, _) = scan(&repo.path, &opts(Range::parse(&format!("{c2}.."))));
    assert_eq!(secrets(&found), [AWS_3]);
    let (found, stats) = scan(&repo.path, &opts(Range::parse("HEAD~1")));
    assert_eq!(secrets(&found), sorted([AWS_1, AWS_2]));
    assert_eq!(stats.commits, 2);
    let (found, stats) = scan(&repo.path, &opts(Range::Since(c3)));
    assert!(found.is_empty());
    assert_eq!(stats.commits, 0);

    let err = keysweep_git::scan_history(
        &scanner(),
        &repo.path,
        &opts(Range::Since("no-such-rev".into())),
        |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Revision { .. }), "{err:?}");
    assert_eq!(err.to_string(), "cannot resolve revision \"no-such-rev\"");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

#[test]
fn tags_pointing_at_commits_work() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    repo.write("a.txt", "one\n");
    let c1 = repo.commit("c1");
    // Secrets reachable only from tags: the branches that had them are gone.
    repo.git(&["checkout", "-q", "-b", "tmp1"]);
    repo.write("annotated.env", format!("K={AWS_1}\n"));
    let annotated = repo.commit("for the annotated tag");
    repo.git(&["tag", "-a", "-m", "annotated tag", "v1.0"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "tmp2"]);
    repo.write("light.env", format!("K={AWS_2}\n"));
    let light = repo.commit("for the lightweight tag");
    repo.git(&["tag", "light"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "tmp1", "tmp2"]);

    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!(secrets(&found), sorted([AWS_1, AWS_2]));
    assert_eq!(stats.commits, 3);
    let prov: Vec<&str> = {
        let mut v: Vec<&str> = found
            .iter()
            .map(|f| f.provenance[0].commit.id.as_str())
            .collect();
        v.sort();
        v
    };
    let mut want = vec![annotated.as_str(), light.as_str()];
    want.sort();
    assert_eq!(prov, want);

    // Tags as range ends (the annotated one peeled to its commit).
    let (found, stats) = scan(&repo.path, &opts(Range::parse(&format!("{c1}..v1.0"))));
    assert_eq!(secrets(&found), [AWS_1]);
    assert_eq!(stats.commits, 1);
    let (found, _) = scan(&repo.path, &opts(Range::Since("v1.0".into())));
    assert_eq!(secrets(&found), [AWS_2]);
}

#[test]
fn an_empty_repository_gives_no_findings_and_no_error() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert!(found.is_empty());
    assert_eq!(stats.commits, 0);
    assert_eq!(stats.blobs, 0);
    // Staged but uncommitted content is not history.
    repo.write("a.env", format!("K={AWS_1}\n"));
    repo.git(&["add", "a.env"]);
    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert!(found.is_empty());
    assert_eq!(stats.commits, 0);
}

#[test]
fn a_path_outside_any_repository_is_an_open_error() {
    let sb = Sandbox::new();
    let dir = sb.path().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.env"), format!("K={AWS_1}\n")).unwrap();
    for path in [dir.clone(), sb.path().join("does-not-exist")] {
        let err = keysweep_git::scan_history(&scanner(), &path, &HistoryOptions::default(), |_| {
            panic!("no findings expected")
        })
        .unwrap_err();
        match &err {
            Error::Open { path: p, .. } => assert_eq!(p, &path),
            other => panic!("expected Error::Open, got {other:?}"),
        }
        assert!(err.to_string().contains("not a readable git repository"));
        // gix's error is kept as the source, and the chain shows it.
        let source = std::error::Error::source(&err).expect("gix's error is the source");
        let chain = keysweep_core::error_chain(&err);
        assert!(chain.contains(&source.to_string()), "{chain}");
        assert!(chain.len() > err.to_string().len(), "{chain}");
    }
}

#[test]
fn binary_blobs_are_skipped_unless_asked_for() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    let mut data = b"\x00\x01\x02binary header\n".to_vec();
    data.extend_from_slice(format!("key={AWS_4}\n").as_bytes());
    repo.write("blob.bin", &data);
    repo.commit("c1");
    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert!(found.is_empty());
    assert_eq!(stats.skipped, 1);
    let (found, stats) = scan(
        &repo.path,
        &HistoryOptions {
            binary: true,
            ..HistoryOptions::default()
        },
    );
    assert_eq!(secrets(&found), [AWS_4]);
    assert_eq!(stats.skipped, 0);
}

fn sorted<const N: usize>(mut v: [&str; N]) -> [&str; N] {
    v.sort();
    v
}

#[test]
fn a_sink_stops_the_scan_within_one_blob_per_worker() {
    let sb = Sandbox::new();
    let repo = sb.init("stop");
    for i in 0..60 {
        repo.write(&format!("f{i}.env"), format!("K={AWS_1}\n# {i}\n"));
    }
    repo.commit("many secrets");
    for threads in [1, 2] {
        let mut findings = 0;
        let stats = keysweep_git::scan_history(
            &scanner(),
            &repo.path,
            &HistoryOptions {
                threads,
                ..HistoryOptions::default()
            },
            |ev| {
                if let HistoryEvent::Finding(_) = ev {
                    findings += 1;
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert!(stats.stopped, "{stats:?}");
        assert_eq!(findings, 1);
        assert!(stats.blobs < 60, "{threads} threads: {stats:?}");
    }
    // Without a stop, every blob is scanned.
    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert!(!stats.stopped);
    assert_eq!((found.len(), stats.blobs), (60, 60));
}

#[test]
fn skipped_blobs_are_events_with_reasons() {
    let sb = Sandbox::new();
    let repo = sb.init("skips");
    repo.write("big.env", format!("K={AWS_1}\n{}\n", "x".repeat(4096)));
    repo.write("bin.dat", b"\0\0binary\0AKIAQYLPMN5HHHFPZAM2".as_slice());
    repo.commit("one big, one binary");
    let mut reasons = Vec::new();
    let stats = keysweep_git::scan_history(
        &scanner(),
        &repo.path,
        &HistoryOptions {
            max_blob_size: 1024,
            ..HistoryOptions::default()
        },
        |ev| {
            if let HistoryEvent::Skipped { path, reason, .. } = ev {
                reasons.push((path, reason));
            }
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    reasons.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(stats.skipped, 2);
    assert_eq!(reasons[0].0, "big.env");
    assert!(matches!(
        reasons[0].1,
        SkipReason::TooLarge { limit: 1024, .. }
    ));
    assert_eq!(reasons[1], ("bin.dat".to_string(), SkipReason::Binary));
}

#[test]
fn the_ignore_file_applies_to_history_on_request() {
    let sb = Sandbox::new();
    let repo = sb.init("ign");
    repo.write(".keysweepignore", "fixtures/\n");
    repo.write("fixtures/fake.env", format!("K={AWS_1}\n"));
    repo.write("app.env", format!("K={AWS_2}\n"));
    repo.commit("a fixture and a real one");
    let (found, stats) = scan(&repo.path, &HistoryOptions::default());
    assert_eq!((found.len(), stats.ignored), (2, 0));
    let (found, stats) = scan(
        &repo.path,
        &HistoryOptions {
            ignore_file: true,
            ..HistoryOptions::default()
        },
    );
    assert_eq!(secrets(&found), [AWS_2]);
    assert_eq!(stats.ignored, 1);
}
