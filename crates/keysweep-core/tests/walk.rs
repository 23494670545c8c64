//! `Scanner::scan_paths`: directory walking, ignore files, special files and
//! the events reported for each.

mod common;

use common::*;
use keysweep_core::{Error, MmapChoice, ScanEvent, ScanOptions, ScanStats, SkipReason};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// What one `scan_paths` call reported.
struct Run {
    root: PathBuf,
    events: Vec<ScanEvent>,
    stats: ScanStats,
}

/// Scans `paths` on another thread and fails (instead of hanging) when the
/// scan does not finish within 30 s, e.g. because it opened a FIFO.
fn scan(root: &Path, paths: &[PathBuf], opts: &ScanOptions) -> Run {
    let (tx, rx) = std::sync::mpsc::channel();
    let paths = paths.to_vec();
    let opts = opts.clone();
    std::thread::spawn(move || {
        let s = scanner();
        let events = Mutex::new(Vec::new());
        let stats = s.scan_paths(&paths, &opts, |ev| events.lock().unwrap().push(ev));
        let _ = tx.send((events.into_inner().unwrap(), stats));
    });
    let (events, stats) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("scan_paths did not finish within 30 s (blocked on a special file?)");
    let run = Run {
        root: root.to_path_buf(),
        events,
        stats,
    };
    run.check_stats();
    run
}

impl Run {
    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }

    /// Scanned files (relative to the root) and the secrets found in each.
    fn scanned(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ev in &self.events {
            if let ScanEvent::Scanned { path, findings, .. } = ev {
                let prev = out.insert(
                    self.rel(path),
                    findings
                        .iter()
                        .map(|f| String::from_utf8_lossy(f.secret.expose()).into_owned())
                        .collect(),
                );
                assert!(prev.is_none(), "{} scanned twice", path.display());
            }
        }
        out
    }

    /// Files with at least one finding.
    fn with_findings(&self) -> Vec<String> {
        self.scanned()
            .into_iter()
            .filter(|(_, f)| !f.is_empty())
            .map(|(p, _)| p)
            .collect()
    }

    fn skipped(&self) -> Vec<(String, SkipReason, bool)> {
        let mut out: Vec<_> = self
            .events
            .iter()
            .filter_map(|ev| match ev {
                ScanEvent::Skipped {
                    path,
                    reason,
                    explicit,
                } => Some((self.rel(path), reason.clone(), *explicit)),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn errors(&self) -> Vec<(&Error, bool)> {
        self.events
            .iter()
            .filter_map(|ev| match ev {
                ScanEvent::Error { error, explicit } => Some((error, *explicit)),
                _ => None,
            })
            .collect()
    }

    /// The totals agree with the events.
    fn check_stats(&self) {
        let mut want = ScanStats::default();
        for ev in &self.events {
            match ev {
                ScanEvent::Scanned {
                    bytes, findings, ..
                } => {
                    want.files += 1;
                    want.bytes += bytes;
                    want.findings += findings.len() as u64;
                }
                ScanEvent::Skipped { .. } => want.skipped += 1,
                ScanEvent::Error { .. } => want.errors += 1,
                _ => panic!("unknown event {ev:?}"),
            }
        }
        assert_eq!(self.stats, want);
    }
}

fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, contents).unwrap();
    p
}

fn secret_line(secret: &str) -> String {
    format!("key = {secret}\n")
}

fn opts() -> ScanOptions {
    ScanOptions::new()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn ignore_files_are_honoured_and_can_be_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "git-ignored.txt\nbuild/\n");
    write(root, ".ignore", "dot-ignored.txt\n");
    write(root, ".keysweepignore", "ks-ignored.txt\n");
    write(root, "sub/.keysweepignore", "nested-ignored.txt\n");
    for f in [
        "kept.txt",
        "git-ignored.txt",
        "dot-ignored.txt",
        "ks-ignored.txt",
        "build/out.txt",
        "sub/kept.txt",
        "sub/nested-ignored.txt",
    ] {
        write(root, f, secret_line(AWS_ID_1));
    }
    let roots = [root.to_path_buf()];
    for threads in [1, 0] {
        let mut o = opts();
        o.threads(threads);
        let run = scan(root, &roots, &o);
        let scanned: Vec<String> = run.scanned().into_keys().collect();
        assert_eq!(
            scanned,
            strs(&[
                ".gitignore",
                ".ignore",
                ".keysweepignore",
                "kept.txt",
                "sub/.keysweepignore",
                "sub/kept.txt"
            ]),
            "threads {threads}"
        );
        assert_eq!(run.with_findings(), strs(&["kept.txt", "sub/kept.txt"]));
        assert!(run.skipped().is_empty() && run.errors().is_empty());
    }

    let mut o = opts();
    o.ignore(false);
    let run = scan(root, &roots, &o);
    assert_eq!(
        run.with_findings(),
        strs(&[
            "build/out.txt",
            "dot-ignored.txt",
            "git-ignored.txt",
            "kept.txt",
            "ks-ignored.txt",
            "sub/kept.txt",
            "sub/nested-ignored.txt",
        ])
    );
    assert_eq!(run.stats.files, 11);
    assert_eq!(run.stats.findings, 7);
}

#[test]
fn hidden_files_are_scanned_but_git_directories_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".env", secret_line(AWS_ID_1));
    write(root, ".config/app.toml", secret_line(GH_PAT_1));
    write(root, ".git/config", secret_line(AWS_ID_2));
    write(root, ".git/objects/ab/cdef", secret_line(AWS_ID_3));
    write(root, "sub/.git/HEAD", secret_line(GH_PAT_2));
    // A worktree's `.git` is a file.
    write(root, "wt/.git", secret_line(GH_OAUTH));
    for ignore in [true, false] {
        let mut o = opts();
        o.ignore(ignore);
        let run = scan(root, &[root.to_path_buf()], &o);
        let scanned = run.scanned();
        assert_eq!(scanned[".env"], strs(&[AWS_ID_1]));
        assert_eq!(scanned[".config/app.toml"], strs(&[GH_PAT_1]));
        assert_eq!(scanned.len(), 2, "ignore {ignore}: {scanned:?}");
    }
}

#[test]
fn binary_files_are_skipped_when_walked_and_scanned_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bin = write(root, "bin.dat", format!("\0{}", secret_line(AWS_ID_1)));
    // The probe covers the first 64 KiB: a NUL at offset 65535 counts, one
    // at 65536 does not.
    let mut edge = vec![b'a'; 65535];
    edge.push(0);
    edge.extend_from_slice(secret_line(AWS_ID_2).as_bytes());
    write(root, "edge.dat", &edge);
    let mut late = vec![b'a'; 65536];
    late.push(0);
    late.push(b'\n');
    late.extend_from_slice(secret_line(AWS_ID_3).as_bytes());
    write(root, "late.dat", &late);

    // SAFETY: the test's own temporary files; nothing else changes them.
    for mmap in [MmapChoice::never(), unsafe { MmapChoice::auto() }] {
        let mut o = opts();
        o.mmap(mmap).mmap_threshold(0);
        let run = scan(root, &[root.to_path_buf()], &o);
        assert_eq!(
            run.skipped(),
            vec![
                ("bin.dat".into(), SkipReason::Binary, false),
                ("edge.dat".into(), SkipReason::Binary, false),
            ],
            "mmap {mmap:?}"
        );
        assert_eq!(run.with_findings(), strs(&["late.dat"]), "mmap {mmap:?}");

        let run = scan(root, std::slice::from_ref(&bin), &o);
        assert_eq!(run.scanned()["bin.dat"], strs(&[AWS_ID_1]), "mmap {mmap:?}");

        o.binary(true);
        let run = scan(root, &[root.to_path_buf()], &o);
        assert!(run.skipped().is_empty());
        assert_eq!(
            run.with_findings(),
            strs(&["bin.dat", "edge.dat", "late.dat"])
        );
    }
}

#[test]
fn max_file_size_skips_walked_and_explicit_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "exact.txt", "0123456789");
    let big = write(root, "big.txt", secret_line(AWS_ID_1));
    let size = secret_line(AWS_ID_1).len() as u64;
    let mut o = opts();
    o.max_file_size(10);
    let run = scan(root, &[root.to_path_buf()], &o);
    assert_eq!(
        run.skipped(),
        vec![(
            "big.txt".into(),
            SkipReason::TooLarge { size, limit: 10 },
            false
        )]
    );
    assert_eq!(run.scanned().into_keys().collect::<Vec<_>>(), ["exact.txt"]);

    let run = scan(root, &[big], &o);
    assert_eq!(
        run.skipped(),
        vec![(
            "big.txt".into(),
            SkipReason::TooLarge { size, limit: 10 },
            true
        )]
    );
    assert_eq!(run.stats.files, 0);

    o.max_file_size(size);
    let run = scan(root, &[root.to_path_buf()], &o);
    assert_eq!(run.with_findings(), strs(&["big.txt"]));
}

#[test]
fn nonexistent_explicit_path_is_an_explicit_error_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let real = write(root, "real.txt", secret_line(AWS_ID_1));
    let missing = root.join("missing.txt");
    let run = scan(root, &[missing.clone(), real], &opts());
    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    let (error, explicit) = errors[0];
    assert!(explicit);
    assert!(
        matches!(error, Error::NotFound { path } if *path == missing),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("{}: no such file or directory", missing.display())
    );
    assert_eq!(run.with_findings(), strs(&["real.txt"]));
    assert_eq!((run.stats.files, run.stats.errors), (1, 1));
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifos_are_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "secret.txt", secret_line(AWS_ID_1));
    let fifo = root.join("pipe");
    mkfifo(&fifo);
    std::os::unix::fs::symlink(&fifo, root.join("link-to-pipe")).unwrap();

    // Walked: skipped as not regular, without blocking.
    let run = scan(root, &[root.to_path_buf()], &opts());
    assert_eq!(
        run.skipped(),
        vec![("pipe".into(), SkipReason::NotRegular, false)]
    );
    assert_eq!(run.with_findings(), strs(&["secret.txt"]));
    assert!(run.errors().is_empty());

    // Walked following links: the link resolves to the FIFO and is skipped too.
    let mut o = opts();
    o.follow_links(true);
    let run = scan(root, &[root.to_path_buf()], &o);
    assert_eq!(
        run.skipped(),
        vec![
            ("link-to-pipe".into(), SkipReason::NotRegular, false),
            ("pipe".into(), SkipReason::NotRegular, false),
        ]
    );
    assert_eq!(run.with_findings(), strs(&["secret.txt"]));

    // Named explicitly (directly or through a link): an explicit error.
    for p in [fifo.clone(), root.join("link-to-pipe")] {
        let run = scan(root, std::slice::from_ref(&p), &opts());
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{}", p.display());
        assert!(errors[0].1);
        assert!(
            matches!(errors[0].0, Error::NotRegularFile { path } if *path == p),
            "{:?}",
            errors[0].0
        );
        assert_eq!(run.stats.files, 0);
    }
}

#[test]
fn symlink_loop_is_a_warning_and_the_scan_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a/f.txt", secret_line(AWS_ID_1));
    std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();

    let mut o = opts();
    o.follow_links(true);
    let run = scan(root, &[root.to_path_buf()], &o);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (error, explicit) = errors[0];
    assert!(!explicit);
    assert!(
        matches!(error, Error::Walk { source } if source.to_string().contains("loop")),
        "{error:?}"
    );
    assert_eq!(run.with_findings(), strs(&["a/f.txt"]));

    // Not following links: the link is not entered and nothing is reported.
    let run = scan(root, &[root.to_path_buf()], &opts());
    assert!(run.errors().is_empty());
    assert_eq!(run.with_findings(), strs(&["a/f.txt"]));
}

#[test]
fn symlinked_files_are_followed_only_when_asked_or_named() {
    let outside = tempfile::tempdir().unwrap();
    let target = write(outside.path(), "real.txt", secret_line(GH_PAT_1));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let link = root.join("link.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let run = scan(root, &[root.to_path_buf()], &opts());
    assert!(run.events.is_empty(), "{:?}", run.events);

    let mut o = opts();
    o.follow_links(true);
    let run = scan(root, &[root.to_path_buf()], &o);
    assert_eq!(run.scanned()["link.txt"], strs(&[GH_PAT_1]));

    let run = scan(root, &[link], &opts());
    assert_eq!(run.scanned()["link.txt"], strs(&[GH_PAT_1]));
}

#[test]
fn unreadable_file_is_a_warning_when_walked_and_an_error_when_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "ok.txt", secret_line(AWS_ID_1));
    let locked = write(root, "locked.txt", secret_line(AWS_ID_2));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        eprintln!("skipped: running with privileges that ignore file permissions (root?)");
        return;
    }
    let run = scan(root, &[root.to_path_buf()], &opts());
    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    assert!(!errors[0].1, "walked errors are warnings");
    assert!(
        matches!(errors[0].0, Error::Io { path, error: source }
            if *path == locked && source.kind() == std::io::ErrorKind::PermissionDenied),
        "{:?}",
        errors[0].0
    );
    assert_eq!(run.with_findings(), strs(&["ok.txt"]));

    let run = scan(root, std::slice::from_ref(&locked), &opts());
    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1, "named errors are explicit");
}

#[test]
fn several_roots_are_all_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "one/a.txt", secret_line(AWS_ID_1));
    write(root, "two/b.txt", secret_line(AWS_ID_2));
    let c = write(root, "c.txt", secret_line(AWS_ID_3));
    let run = scan(root, &[root.join("one"), root.join("two"), c], &opts());
    assert_eq!(
        run.with_findings(),
        strs(&["c.txt", "one/a.txt", "two/b.txt"])
    );
}

/// A tree of `n` files, each holding one finding.
fn secret_tree(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        std::fs::write(
            dir.path().join(format!("{i:04}.env")),
            "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n",
        )
        .unwrap();
    }
    dir
}

/// A visitor that stops the run at its first finding, counting what it saw.
fn stop_at_first(
    seen: &std::sync::atomic::AtomicU64,
) -> impl FnMut(ScanEvent) -> std::ops::ControlFlow<()> + '_ {
    move |ev| {
        seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match ev {
            ScanEvent::Scanned { findings, .. } if !findings.is_empty() => {
                std::ops::ControlFlow::Break(())
            }
            _ => std::ops::ControlFlow::Continue(()),
        }
    }
}

#[test]
fn a_visitor_stops_a_walk_within_one_file_per_thread() {
    let dir = secret_tree(400);
    let s = scanner();
    for threads in [1, 2, 4] {
        let seen = std::sync::atomic::AtomicU64::new(0);
        let mut opts = ScanOptions::new();
        opts.threads(threads);
        let stats = s.visit_paths(&[dir.path().to_path_buf()], &opts, || stop_at_first(&seen));
        assert!(stats.stopped, "{threads} threads: {stats:?}");
        // Every thread finishes at most the file it had started.
        assert!(
            stats.files >= 1 && stats.files <= threads as u64,
            "{threads} threads scanned {} files after the stop",
            stats.files
        );
        assert_eq!(seen.into_inner(), stats.files);
    }
}

#[test]
fn a_visitor_stops_a_list_of_named_files() {
    let dir = secret_tree(20);
    let paths: Vec<PathBuf> = (0..20)
        .map(|i| dir.path().join(format!("{i:04}.env")))
        .collect();
    let seen = std::sync::atomic::AtomicU64::new(0);
    let stats = scanner().visit_paths(&paths, &ScanOptions::new(), || stop_at_first(&seen));
    assert!(stats.stopped);
    assert_eq!((stats.files, stats.findings), (1, 1));
}

#[test]
fn without_a_stop_every_file_is_visited() {
    let dir = secret_tree(50);
    let seen = std::sync::atomic::AtomicU64::new(0);
    let stats = scanner().visit_paths(&[dir.path().to_path_buf()], &ScanOptions::new(), || {
        |_ev| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::ops::ControlFlow::Continue(())
        }
    });
    assert!(!stats.stopped);
    assert_eq!((stats.files, seen.into_inner()), (50, 50));
}
