//! Scanning every blob reachable in history, each distinct blob once.

use gix::ObjectId;
use keysweep_core::{is_binary, Finding, Scanner, SkipReason};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::commit::{CommitInfo, Provenance};
use crate::ignore_file::{is_ignored, repo_ignore};
use crate::tree::changed_blobs;
use crate::{Error, Result};

/// Which commits a history scan covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Range {
    /// Everything reachable from any reference (branches, tags, remotes, stash).
    #[default]
    All,
    /// Reachable from any reference but not from this revision.
    Since(String),
    /// `A..B`: reachable from `B` (default `HEAD`) but not from `A`.
    Between {
        /// Excluded revision.
        from: String,
        /// Included revision.
        to: String,
    },
    /// Reachable from `tips` but not from `hidden` (object ids or revisions).
    Custom {
        /// Included revisions.
        tips: Vec<String>,
        /// Excluded revisions.
        hidden: Vec<String>,
    },
}

impl Range {
    /// The range of the usual history-scan options: `since_commit` (only
    /// commits not reachable from it, as gitleaks' and `keysweep scan --git
    /// --since-commit`), `log_opts` (a range `A..B`, `A..`, `..B` or one
    /// revision, as `--log-opts`), and whether to start from every
    /// reference (`all_refs`) or only `HEAD`. `since_commit` and `log_opts`
    /// exclude each other, and `log_opts` must not be empty.
    pub fn from_options(
        since_commit: Option<&str>,
        log_opts: Option<&str>,
        all_refs: bool,
    ) -> Result<Range> {
        Ok(match (since_commit, log_opts) {
            (Some(_), Some(_)) => {
                return Err(Error::Options(
                    "since_commit and log_opts cannot be used together",
                ))
            }
            (Some(rev), None) if all_refs => Range::Since(rev.to_string()),
            (Some(rev), None) => Range::Custom {
                tips: vec!["HEAD".into()],
                hidden: vec![rev.to_string()],
            },
            (None, Some(spec)) if spec.trim().is_empty() => {
                return Err(Error::Options("log_opts must not be empty"))
            }
            (None, Some(spec)) => Range::parse(spec),
            (None, None) if all_refs => Range::All,
            (None, None) => Range::parse("HEAD"),
        })
    }

    /// Parses `A..B`, `A..`, `..B` or a single revision `B` (everything reachable from B).
    pub fn parse(spec: &str) -> Range {
        match spec.split_once("..") {
            Some((a, b)) => Range::Between {
                from: if a.is_empty() {
                    "HEAD".into()
                } else {
                    a.into()
                },
                to: if b.is_empty() {
                    "HEAD".into()
                } else {
                    b.into()
                },
            },
            None => Range::Custom {
                tips: vec![spec.to_string()],
                hidden: Vec::new(),
            },
        }
    }
}

/// Options of a history scan.
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    /// Which commits (default: all references).
    pub range: Range,
    /// Report every commit that introduced a secret's blob, not only the first
    /// (default `false`).
    pub all_provenance: bool,
    /// Worker threads; 0 picks one per CPU (default 0).
    pub threads: usize,
    /// Blobs larger than this are skipped (default 64 MiB).
    pub max_blob_size: u64,
    /// Scan blobs with a NUL byte in their first 64 KiB (default `false`).
    pub binary: bool,
    /// Leave out findings whose path (in the introducing commit) the work
    /// tree's `.keysweepignore` matches, as `keysweep hook --stage pre-push`
    /// does (default `false`; see [`crate::repo_ignore`]).
    pub ignore_file: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            range: Range::All,
            all_provenance: false,
            threads: 0,
            max_blob_size: keysweep_core::DEFAULT_MAX_FILE_SIZE,
            binary: false,
            ignore_file: false,
        }
    }
}

/// A finding in history: the finding (its `path` is the path in the
/// introducing commit), the blob, and where it came from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HistoryFinding {
    /// The finding; positions are within the blob.
    pub finding: Finding,
    /// The blob's id (hex).
    pub blob: String,
    /// The commit that first introduced the blob first, then (with
    /// `all_provenance`) every other commit that introduced it at some path.
    pub provenance: Vec<Provenance>,
}

/// Something that happened during [`scan_history`].
#[derive(Debug)]
#[non_exhaustive]
pub enum HistoryEvent {
    /// A secret in a blob.
    Finding(HistoryFinding),
    /// A blob was not scanned.
    Skipped {
        /// The blob id (hex).
        blob: String,
        /// Its path in the first commit that introduced it.
        path: String,
        /// Why ([`SkipReason::TooLarge`] or [`SkipReason::Binary`]).
        reason: SkipReason,
    },
    /// A blob could not be read (a damaged or incomplete object database).
    Unreadable {
        /// The blob id (hex).
        blob: String,
        /// Its path in the first commit that introduced it.
        path: String,
        /// What went wrong.
        error: Error,
    },
}

/// Totals of a history scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryStats {
    /// Commits walked.
    pub commits: u64,
    /// Distinct blobs scanned.
    pub blobs: u64,
    /// Bytes of distinct blobs scanned.
    pub bytes: u64,
    /// Blobs skipped (too large or binary).
    pub skipped: u64,
    /// Findings reported.
    pub findings: u64,
    /// Blobs that could not be read ([`HistoryEvent::Unreadable`]).
    pub unreadable: u64,
    /// Blobs whose findings `.keysweepignore` left out
    /// ([`HistoryOptions::ignore_file`]).
    pub ignored: u64,
    /// Whether the sink stopped the scan before its end.
    pub stopped: bool,
}

struct Job {
    blob: ObjectId,
    commit: u32,
    path: Arc<str>,
}

struct Done {
    blob: ObjectId,
    commit: u32,
    findings: Vec<Finding>,
    bytes: u64,
    outcome: Outcome,
}

/// What became of a blob.
enum Outcome {
    Scanned,
    Skipped(SkipReason),
    Unreadable(Error),
}

/// Opens the repository containing `path` (work tree, `.git` dir, or bare).
pub fn open(path: &Path) -> Result<gix::Repository> {
    gix::discover(path).map_err(|e| Error::Open {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

fn resolve(repo: &gix::Repository, rev: &str) -> Result<ObjectId> {
    let id = repo.rev_parse_single(rev).map_err(|e| Error::Revision {
        rev: rev.into(),
        source: Box::new(e),
    })?;
    // Peel tags to the commit they name.
    let obj = id.object().map_err(Error::git)?;
    let commit = obj.peel_to_commit().map_err(|e| Error::Revision {
        rev: rev.into(),
        source: Box::new(e),
    })?;
    Ok(commit.id)
}

/// The commits every reference points at (tags peeled; non-commits skipped).
pub(crate) fn all_ref_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>> {
    let mut tips = Vec::new();
    let platform = repo.references().map_err(Error::git)?;
    for r in platform.all().map_err(Error::git)? {
        let Ok(mut r) = r else { continue };
        if let Ok(c) = r.peel_to_commit() {
            tips.push(c.id);
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Remote-tracking refs (`refs/remotes/*`), peeled to commits.
pub(crate) fn remote_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>> {
    let mut tips = Vec::new();
    let platform = repo.references().map_err(Error::git)?;
    for r in platform.remote_branches().map_err(Error::git)? {
        let Ok(mut r) = r else { continue };
        if let Ok(c) = r.peel_to_commit() {
            tips.push(c.id);
        }
    }
    Ok(tips)
}

/// The commits of `range`, oldest first, each with its first parent.
fn commits(repo: &gix::Repository, range: &Range) -> Result<Vec<(ObjectId, Option<ObjectId>)>> {
    let (tips, hidden): (Vec<ObjectId>, Vec<ObjectId>) = match range {
        Range::All => (all_ref_tips(repo)?, Vec::new()),
        Range::Since(rev) => (all_ref_tips(repo)?, vec![resolve(repo, rev)?]),
        Range::Between { from, to } => (vec![resolve(repo, to)?], vec![resolve(repo, from)?]),
        Range::Custom { tips, hidden } => (
            tips.iter()
                .map(|t| resolve(repo, t))
                .collect::<Result<_>>()?,
            hidden
                .iter()
                .map(|t| resolve(repo, t))
                .collect::<Result<_>>()?,
        ),
    };
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let walk = repo
        .rev_walk(tips)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .with_hidden(hidden)
        .all()
        .map_err(Error::git)?;
    let mut out = Vec::new();
    for info in walk {
        let info = info.map_err(Error::git)?;
        out.push((info.id, info.parent_ids.first().copied()));
    }
    out.reverse();
    Ok(out)
}

fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    let c = repo.find_commit(commit).map_err(Error::git)?;
    Ok(c.tree_id().map_err(Error::git)?.detach())
}

/// Scans the history of the repository at `repo_path`. Each distinct blob is
/// scanned once, in parallel; `sink` receives events on the calling thread
/// as they happen (findings after the walk when `all_provenance` is set).
/// When `sink` returns [`ControlFlow::Break`], the scan stops: no blob is
/// started afterwards (each worker finishes at most the blob it has), and
/// [`HistoryStats::stopped`] is set.
///
/// Memory holds the list of commit ids of the range and the set of blob ids
/// seen (the dedup set); blob contents are streamed.
pub fn scan_history(
    scanner: &Scanner,
    repo_path: &Path,
    opts: &HistoryOptions,
    mut sink: impl FnMut(HistoryEvent) -> ControlFlow<()>,
) -> Result<HistoryStats> {
    let _span = tracing::debug_span!("scan history").entered();
    let mut repo = open(repo_path)?;
    repo.object_cache_size_if_unset(16 * 1024 * 1024);
    let list = commits(&repo, &opts.range)?;
    tracing::debug!(commits = list.len(), "walking commits");
    let sync = repo.clone().into_sync();
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let mut stats = HistoryStats {
        commits: list.len() as u64,
        ..HistoryStats::default()
    };
    let mut infos: HashMap<u32, Arc<CommitInfo>> = HashMap::new();
    let mut commit_info = |repo: &gix::Repository, idx: u32| -> Result<Arc<CommitInfo>> {
        if let Some(i) = infos.get(&idx) {
            return Ok(Arc::clone(i));
        }
        let info = Arc::new(CommitInfo::load(repo, list[idx as usize].0)?);
        infos.insert(idx, Arc::clone(&info));
        Ok(info)
    };
    let ignore = match (opts.ignore_file, repo.workdir()) {
        (true, Some(root)) => Some(repo_ignore(root)),
        _ => None,
    };
    let stop = AtomicBool::new(false);
    let stop = &stop;
    let mut deferred: Vec<(Done, Arc<str>)> = Vec::new();
    let mut walk_error: Option<Error> = None;
    let (job_tx, job_rx) = crossbeam_channel::bounded::<Job>(1024);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<(Done, Arc<str>)>(256);
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let sync = &sync;
            s.spawn(move || {
                let mut repo = sync.to_thread_local();
                repo.object_cache_size_if_unset(4 * 1024 * 1024);
                let mut scratch = scanner.scratch();
                for job in job_rx {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let done = scan_blob(scanner, &mut scratch, &repo, &job, opts);
                    if done_tx.send((done, job.path)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        // The producer walks tree diffs on its own thread.
        let producer = s.spawn(|| -> Result<()> {
            let repo = sync.to_thread_local();
            let mut seen: HashSet<ObjectId> = HashSet::new();
            for (idx, (commit, parent)) in list.iter().enumerate() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let tree = tree_of(&repo, *commit)?;
                let parent_tree = match parent {
                    Some(p) => Some(tree_of(&repo, *p)?),
                    None => None,
                };
                let mut send_err = false;
                changed_blobs(&repo, parent_tree, tree, &mut |b| {
                    if !send_err && seen.insert(b.id) {
                        let job = Job {
                            blob: b.id,
                            commit: idx as u32,
                            path: Arc::from(b.path.to_string()),
                        };
                        send_err = job_tx.send(job).is_err();
                    }
                })?;
                if send_err {
                    break;
                }
            }
            drop(job_tx);
            Ok(())
        });
        let local = sync.to_thread_local();
        for (mut done, path) in done_rx {
            let outcome = std::mem::replace(&mut done.outcome, Outcome::Scanned);
            let flow = match outcome {
                Outcome::Scanned => {
                    stats.blobs += 1;
                    stats.bytes += done.bytes;
                    ControlFlow::Continue(())
                }
                Outcome::Skipped(reason) => {
                    stats.skipped += 1;
                    sink(HistoryEvent::Skipped {
                        blob: done.blob.to_string(),
                        path: path.to_string(),
                        reason,
                    })
                }
                Outcome::Unreadable(error) => {
                    stats.unreadable += 1;
                    sink(HistoryEvent::Unreadable {
                        blob: done.blob.to_string(),
                        path: path.to_string(),
                        error,
                    })
                }
            };
            let flow = if done.findings.is_empty() || flow.is_break() {
                flow
            } else if ignore
                .as_ref()
                .is_some_and(|ig| is_ignored(ig, Path::new(&*path)))
            {
                tracing::debug!(path = %path, "ignored by .keysweepignore");
                stats.ignored += 1;
                flow
            } else if opts.all_provenance {
                stats.findings += done.findings.len() as u64;
                deferred.push((done, path));
                flow
            } else {
                stats.findings += done.findings.len() as u64;
                match commit_info(&local, done.commit) {
                    Ok(info) => emit(
                        done,
                        vec![Provenance {
                            commit: info,
                            path: path.to_string(),
                        }],
                        &mut sink,
                    ),
                    Err(e) => {
                        walk_error = Some(e);
                        ControlFlow::Break(())
                    }
                }
            };
            if flow.is_break() {
                // Dropping the receiver (leaving the loop) fails the workers'
                // sends; the flag keeps them and the producer from starting
                // more.
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        producer.join().expect("history producer panicked")
    })?;
    if let Some(e) = walk_error {
        return Err(e);
    }
    stats.stopped = stop.load(Ordering::Relaxed);
    if stats.stopped {
        return Ok(stats);
    }
    if opts.all_provenance && !deferred.is_empty() {
        let wanted: HashSet<ObjectId> = deferred.iter().map(|(d, _)| d.blob).collect();
        let mut events: HashMap<ObjectId, Vec<(u32, String)>> = HashMap::new();
        for (idx, (commit, parent)) in list.iter().enumerate() {
            let tree = tree_of(&repo, *commit)?;
            let parent_tree = match parent {
                Some(p) => Some(tree_of(&repo, *p)?),
                None => None,
            };
            changed_blobs(&repo, parent_tree, tree, &mut |b| {
                if wanted.contains(&b.id) {
                    events
                        .entry(b.id)
                        .or_default()
                        .push((idx as u32, b.path.to_string()));
                }
            })?;
        }
        deferred.sort_by_key(|(d, _)| d.commit);
        for (done, _) in deferred {
            let mut prov = Vec::new();
            for (idx, path) in events.remove(&done.blob).unwrap_or_default() {
                prov.push(Provenance {
                    commit: commit_info(&repo, idx)?,
                    path,
                });
            }
            if emit(done, prov, &mut sink).is_break() {
                stats.stopped = true;
                break;
            }
        }
    }
    Ok(stats)
}

fn emit(
    done: Done,
    provenance: Vec<Provenance>,
    sink: &mut impl FnMut(HistoryEvent) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let blob = done.blob.to_string();
    for finding in done.findings {
        sink(HistoryEvent::Finding(HistoryFinding {
            finding,
            blob: blob.clone(),
            provenance: provenance.clone(),
        }))?;
    }
    ControlFlow::Continue(())
}

fn scan_blob(
    scanner: &Scanner,
    scratch: &mut keysweep_core::ScanScratch,
    repo: &gix::Repository,
    job: &Job,
    opts: &HistoryOptions,
) -> Done {
    let mut done = Done {
        blob: job.blob,
        commit: job.commit,
        findings: Vec::new(),
        bytes: 0,
        outcome: Outcome::Scanned,
    };
    match repo.find_header(job.blob) {
        Ok(h) if h.size() > opts.max_blob_size => {
            tracing::debug!(blob = %job.blob, size = h.size(), "blob too large, skipped");
            done.outcome = Outcome::Skipped(SkipReason::TooLarge {
                size: h.size(),
                limit: opts.max_blob_size,
            });
            return done;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::debug!(blob = %job.blob, path = %job.path, error = %e, "cannot read blob header");
            done.outcome = Outcome::Unreadable(Error::git(e));
            return done;
        }
    }
    let blob = match repo.find_blob(job.blob) {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(blob = %job.blob, path = %job.path, error = %e, "cannot read blob");
            done.outcome = Outcome::Unreadable(Error::git(e));
            return done;
        }
    };
    let data = &blob.data;
    if !opts.binary && is_binary(data) {
        done.outcome = Outcome::Skipped(SkipReason::Binary);
        return done;
    }
    let path: Arc<Path> = Arc::from(Path::new(&*job.path));
    done.findings = scanner.scan_slice(scratch, data, Some(&path));
    done.bytes = data.len() as u64;
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_finding_debug_is_redacted() {
        // Issue 8: no Debug output of a public type may show a raw secret.
        let scanner = keysweep_core::Scanner::with_default_rules().unwrap();
        let raw = "AKIAZQSNTLAWS7X4M2RQ";
        let finding = scanner
            .scan_bytes(format!("AWS_ACCESS_KEY_ID={raw}\n").as_bytes())
            .remove(0);
        let commit = std::sync::Arc::new(crate::CommitInfo {
            id: "0".repeat(40),
            author: "A".into(),
            email: "a@example.com".into(),
            date: "2024-01-01T00:00:00+00:00".into(),
            summary: "add config".into(),
        });
        let hf = HistoryFinding {
            finding,
            blob: "1".repeat(40),
            provenance: vec![crate::Provenance {
                commit,
                path: ".env".into(),
            }],
        };
        for shown in [format!("{hf:?}"), format!("{hf:#?}")] {
            assert!(!shown.contains("SNTL"), "{shown}");
            assert!(shown.contains("AKIA*****"), "{shown}");
        }
    }

    #[test]
    fn ranges_from_options() {
        assert_eq!(Range::from_options(None, None, true).unwrap(), Range::All);
        assert_eq!(
            Range::from_options(None, None, false).unwrap(),
            Range::parse("HEAD")
        );
        assert_eq!(
            Range::from_options(Some("v1"), None, true).unwrap(),
            Range::Since("v1".into())
        );
        assert_eq!(
            Range::from_options(Some("v1"), None, false).unwrap(),
            Range::Custom {
                tips: vec!["HEAD".into()],
                hidden: vec!["v1".into()]
            }
        );
        assert_eq!(
            Range::from_options(None, Some("a..b"), false).unwrap(),
            Range::parse("a..b")
        );
        assert!(Range::from_options(Some("a"), Some("b"), true).is_err());
        assert!(Range::from_options(None, Some(" "), true).is_err());
    }

    #[test]
    fn range_parsing() {
        assert_eq!(
            Range::parse("a..b"),
            Range::Between {
                from: "a".into(),
                to: "b".into()
            }
        );
        assert_eq!(
            Range::parse("v1.0.."),
            Range::Between {
                from: "v1.0".into(),
                to: "HEAD".into()
            }
        );
        assert_eq!(
            Range::parse("main"),
            Range::Custom {
                tips: vec!["main".into()],
                hidden: vec![]
            }
        );
    }
}
