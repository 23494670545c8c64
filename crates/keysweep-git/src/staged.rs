//! Scanning staged changes (the index), and finding the commits a push sends.

use gix::bstr::{BString, ByteSlice};
use gix::ObjectId;
use keysweep_core::{Finding, Scanner, SkipReason};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::history::{open, remote_tips, Range};
use crate::ignore_file::{is_ignored, repo_ignore};
use crate::lines::added_lines;
use crate::tree::all_blobs;
use crate::{Error, Result};

/// Options of a staged scan.
#[derive(Clone, Debug)]
pub struct StagedOptions {
    /// Only these files or directories (absolute inside the work tree, or
    /// relative: to the current directory when it is inside the work tree, as
    /// git does, else to the repository root); `None` scans every staged
    /// change (default).
    pub paths: Option<Vec<PathBuf>>,
    /// Staged blobs larger than this are skipped (default 64 MiB).
    pub max_file_size: u64,
    /// Leave out files that the repository root's `.keysweepignore` matches,
    /// as `keysweep hook` does (default `true`); see [`repo_ignore`].
    pub ignore_file: bool,
}

impl Default for StagedOptions {
    fn default() -> Self {
        StagedOptions {
            paths: None,
            max_file_size: keysweep_core::DEFAULT_MAX_FILE_SIZE,
            ignore_file: true,
        }
    }
}

/// Totals of a staged scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StagedStats {
    /// Changed staged files scanned.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Staged files skipped (too large).
    pub skipped: u64,
    /// Changed staged files left out by `.keysweepignore`.
    pub ignored: u64,
    /// Whether the sink stopped the scan before its end.
    pub stopped: bool,
}

/// Something that happened during [`visit_staged`].
#[derive(Debug)]
#[non_exhaustive]
pub enum StagedEvent {
    /// A secret on an added or changed line.
    Finding(Finding),
    /// A staged file was not scanned.
    Skipped {
        /// Its path, relative to the repository root.
        path: String,
        /// Why ([`SkipReason::TooLarge`]).
        reason: SkipReason,
    },
}

/// Most bytes of deleted files used as the "old" side of a renamed file.
const RENAME_SOURCE_LIMIT: usize = 16 * 1024 * 1024;

/// [`visit_staged`], collecting the findings (skipped files are counted in
/// the stats and logged).
pub fn scan_staged(
    scanner: &Scanner,
    repo_path: &Path,
    opts: &StagedOptions,
) -> Result<(Vec<Finding>, StagedStats)> {
    let mut findings = Vec::new();
    let stats = visit_staged(scanner, repo_path, opts, |ev| {
        match ev {
            StagedEvent::Finding(f) => findings.push(f),
            StagedEvent::Skipped { path, reason } => {
                tracing::warn!(path = %path, %reason, "staged file skipped");
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok((findings, stats))
}

/// Scans exactly the staged content of the repository at `repo_path` and
/// reports only secrets on lines added or changed relative to `HEAD`, as
/// events to `sink` (in index order); `sink` returning
/// [`ControlFlow::Break`] stops the scan before the next file
/// ([`StagedStats::stopped`]).
///
/// Unchanged files and pure renames (same blob elsewhere in `HEAD`) are not
/// scanned. For a new path, the content of files deleted in the same change
/// is the "old" side, so a renamed-and-edited file only reports its new lines.
/// Binary files are scanned (they were named by staging them). Works before
/// the first commit (everything is new). Findings' paths are relative to the
/// repository root.
pub fn visit_staged(
    scanner: &Scanner,
    repo_path: &Path,
    opts: &StagedOptions,
    mut sink: impl FnMut(StagedEvent) -> ControlFlow<()>,
) -> Result<StagedStats> {
    let _span = tracing::debug_span!("scan staged").entered();
    let repo = open(repo_path)?;
    let index = repo.index_or_empty().map_err(Error::git)?;
    let head_tree = repo.head_tree_id_or_empty().map_err(Error::git)?.detach();
    let head: HashMap<BString, ObjectId> = if head_tree.is_empty_tree() {
        HashMap::new()
    } else {
        all_blobs(&repo, head_tree)?
    };
    let head_ids: HashSet<ObjectId> = head.values().copied().collect();
    let filter = opts.paths.as_ref().map(|ps| normalise_paths(&repo, ps));
    let ignore = match (opts.ignore_file, repo.workdir()) {
        (true, Some(root)) => Some(repo_ignore(root)),
        _ => None,
    };
    let mut stats = StagedStats::default();

    let mut staged_paths: HashSet<BString> = HashSet::new();
    let mut changed: Vec<(BString, ObjectId)> = Vec::new();
    for entry in index.entries() {
        if entry.stage() != gix::index::entry::Stage::Unconflicted {
            continue;
        }
        let path = entry.path(&index).to_owned();
        staged_paths.insert(path.clone());
        let is_file = entry.mode == gix::index::entry::Mode::FILE
            || entry.mode == gix::index::entry::Mode::FILE_EXECUTABLE;
        if !is_file || head.get(&path) == Some(&entry.id) || head_ids.contains(&entry.id) {
            continue;
        }
        if filter.as_ref().is_some_and(|f| !selected(f, &path)) {
            continue;
        }
        if let Some(ig) = &ignore {
            if is_ignored(ig, Path::new(&*path.to_str_lossy())) {
                tracing::debug!(path = %path, "ignored by .keysweepignore");
                stats.ignored += 1;
                continue;
            }
        }
        changed.push((path, entry.id));
    }
    // Blobs deleted by this change: the old side for new paths (renames).
    let deleted: Vec<ObjectId> = head
        .iter()
        .filter(|(p, _)| !staged_paths.contains(*p))
        .map(|(_, id)| *id)
        .collect();
    let mut rename_source: Option<Vec<u8>> = None;

    let mut scratch = scanner.scratch();
    for (path, id) in changed {
        let header = repo.find_header(id).map_err(Error::git)?;
        if header.size() > opts.max_file_size {
            stats.skipped += 1;
            let ev = StagedEvent::Skipped {
                path: path.to_string(),
                reason: SkipReason::TooLarge {
                    size: header.size(),
                    limit: opts.max_file_size,
                },
            };
            if sink(ev).is_break() {
                stats.stopped = true;
                break;
            }
            continue;
        }
        let new = repo.find_blob(id).map_err(Error::git)?.detach().data;
        let old: Vec<u8> = match head.get(&path) {
            Some(old_id) => repo.find_blob(*old_id).map_err(Error::git)?.detach().data,
            None if !deleted.is_empty() => rename_source
                .get_or_insert_with(|| concat_blobs(&repo, &deleted))
                .clone(),
            None => Vec::new(),
        };
        let added = added_lines(&old, &new);
        let p: Arc<Path> = Arc::from(Path::new(&*path.to_str_lossy()));
        stats.files += 1;
        stats.bytes += new.len() as u64;
        let found = scanner
            .scan_slice(&mut scratch, &new, Some(&p))
            .into_iter()
            .filter(|f| (f.line..=f.end_line).any(|l| added.get(l - 1).copied().unwrap_or(true)));
        for f in found {
            if sink(StagedEvent::Finding(f)).is_break() {
                stats.stopped = true;
                break;
            }
        }
        if stats.stopped {
            break;
        }
    }
    Ok(stats)
}

fn concat_blobs(repo: &gix::Repository, ids: &[ObjectId]) -> Vec<u8> {
    let mut out = Vec::new();
    for id in ids {
        if out.len() > RENAME_SOURCE_LIMIT {
            break;
        }
        if let Ok(b) = repo.find_blob(*id) {
            out.extend_from_slice(&b.data);
            out.push(b'\n');
        }
    }
    out
}

/// Repository-relative, `/`-separated forms of user-given paths. Relative
/// paths are taken from the current directory when it is inside the work
/// tree, otherwise from the work tree root (a library caller's current
/// directory is often elsewhere; dropping its paths would scan nothing).
fn normalise_paths(repo: &gix::Repository, paths: &[PathBuf]) -> HashSet<BString> {
    let root = repo.workdir().map(canonical);
    let cwd = std::env::current_dir().ok().map(|c| canonical(&c));
    paths
        .iter()
        .filter_map(|p| {
            let Some(root) = &root else {
                return Some(BString::from(p.to_string_lossy().replace('\\', "/")));
            };
            let abs = if p.is_absolute() {
                p.clone()
            } else {
                match &cwd {
                    Some(c) if c.starts_with(root) => c.join(p),
                    _ => root.join(p),
                }
            };
            let rel = canonical(&abs).strip_prefix(root).ok()?.to_path_buf();
            Some(BString::from(rel.to_string_lossy().replace('\\', "/")))
        })
        .collect()
}

/// Whether the filter names `path` itself or a directory containing it (the
/// work tree root, `""`, contains everything).
fn selected(filter: &HashSet<BString>, path: &BString) -> bool {
    filter.contains(path)
        || filter.iter().any(|dir| {
            dir.is_empty()
                || (path.len() > dir.len()
                    && path.starts_with(dir.as_slice())
                    && path[dir.len()] == b'/')
        })
}

/// `path` with symbolic links and `..` resolved; for a path that no longer
/// exists (deleted from the work tree but still staged), its parent resolved.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// The commits a push of the current branch sends: `@{upstream}..HEAD`, or
/// when the branch has no upstream, `HEAD` minus everything any remote-tracking
/// branch already has (all of `HEAD`'s history when there is no remote).
pub fn pushed_range(repo_path: &Path) -> Result<Range> {
    let repo = open(repo_path)?;
    if let Ok(up) = repo.rev_parse_single("@{upstream}") {
        return Ok(Range::Between {
            from: up.to_string(),
            to: "HEAD".into(),
        });
    }
    let hidden = remote_tips(&repo)?
        .iter()
        .map(|id| id.to_string())
        .collect();
    Ok(Range::Custom {
        tips: vec!["HEAD".into()],
        hidden,
    })
}
