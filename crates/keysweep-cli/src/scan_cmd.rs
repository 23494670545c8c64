//! `keysweep scan`: files, directories, stdin, or git history.

use anyhow::{Context as _, Result};
use keysweep_core::{
    error_chain, ArchiveLimit, Baseline, MmapChoice, ScanEvent, ScanOptions, Scanner, SkipReason,
};
use keysweep_git::{HistoryEvent, HistoryOptions, Range};
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;

use crate::args::{ColorWhen, GitArgs, ScanArgs};
use crate::progress::Progress;
use crate::rules_cmd::load_rules_for;
use keysweep_report::{display_path, Item, Reporter, Totals};

/// Runs a scan and returns the exit code (0 clean, 1 findings, 2 error).
pub fn run(args: &ScanArgs, color: ColorWhen, quiet: bool) -> Result<i32> {
    let scanner = crate::rules_cmd::scanner(&args.rules, load_rules_for(&args.rules, &args.paths)?);
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let dest = crate::output::open(args.output.as_deref())?;
    let mut reporter = Reporter::new(args.format.into(), args.reveal, baseline, dest);
    let progress = Progress::new(!quiet && !args.no_progress && std::io::stderr().is_terminal());
    let (totals, failed) = if args.git.git {
        let history = HistoryOptions {
            threads: args.threads.unwrap_or(0),
            max_blob_size: args.max_file_size,
            binary: args.binary,
            ..HistoryOptions::default()
        };
        collect_git(
            &scanner,
            &args.paths,
            &args.git,
            history,
            &progress,
            &mut |i| reporter.push(i),
        )?
    } else {
        let mut opts = fs_options(args.no_mmap);
        opts.max_file_size(args.max_file_size)
            .binary(args.binary)
            .ignore(!args.no_ignore)
            .follow_links(args.follow)
            .threads(args.threads.unwrap_or(0))
            .archives(!args.no_archives)
            .max_archive_depth(args.max_archive_depth)
            .max_archive_bytes(args.max_archive_bytes);
        collect_fs(&scanner, &args.paths, &opts, &progress, &mut |i| {
            reporter.push(i)
        })
    };
    progress.finish();
    let color = crate::output::use_color(color, &reporter);
    let n = reporter.finish(totals, color)?;
    Ok(exit_code(failed, n))
}

/// The file-scan options the commands start from: the library's defaults,
/// except that files of [`keysweep_core::DEFAULT_MMAP_THRESHOLD`] or more are
/// memory-mapped unless `no_mmap` (`--no-mmap`).
pub fn fs_options(no_mmap: bool) -> ScanOptions {
    let mut opts = ScanOptions::new();
    if !no_mmap {
        // SAFETY: a file changed while keysweep maps it may give wrong
        // findings for that file, and one truncated while mapped kills the
        // process with SIGBUS; for a command-line scan (as for ripgrep) that
        // is acceptable, and `--no-mmap` avoids it. This is the one unsafe
        // site of the command line.
        #[allow(unsafe_code)]
        let mmap = unsafe { MmapChoice::auto() };
        opts.mmap(mmap);
    }
    opts
}

/// 2 when a named path failed, else 1 with findings, else 0.
pub fn exit_code(failed: bool, findings: u64) -> i32 {
    if failed {
        2
    } else if findings > 0 {
        1
    } else {
        0
    }
}

/// Scans files and directories; returns totals and whether a named path failed.
pub fn collect_fs(
    scanner: &Scanner,
    paths: &[PathBuf],
    opts: &ScanOptions,
    progress: &Progress,
    on_item: &mut dyn FnMut(Item),
) -> (Totals, bool) {
    let (tx, rx) = crossbeam_channel::bounded::<ScanEvent>(256);
    let mut failed = false;
    // Without a progress bar, a file scanned without findings needs nothing
    // from this thread: not sending it saves a channel hand-off (and often a
    // thread wake-up) per file.
    let quiet_clean = !progress.enabled();
    let stats = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let stats = scanner.scan_paths(paths, opts, |ev| {
                if quiet_clean
                    && matches!(&ev, ScanEvent::Scanned { findings, .. } if findings.is_empty())
                {
                    return;
                }
                let _ = tx.send(ev);
            });
            drop(tx);
            stats
        });
        for ev in rx.iter() {
            match ev {
                ScanEvent::Scanned {
                    bytes, findings, ..
                } => {
                    progress.file(bytes);
                    findings
                        .into_iter()
                        .map(Item::plain)
                        .for_each(&mut *on_item);
                }
                ScanEvent::Skipped {
                    path,
                    reason,
                    explicit,
                } => {
                    if reason.is_notable(explicit) {
                        progress.println(&format!(
                            "note: skipped {}: {}",
                            display_path(&path),
                            skip_note(&reason)
                        ));
                    } else {
                        tracing::debug!(path = %path.display(), %reason, "skipped");
                    }
                }
                ScanEvent::Error { error, explicit } => {
                    if explicit {
                        failed = true;
                        progress.println(&format!("error: {}", error_chain(&error)));
                    } else {
                        progress.println(&format!("warning: {}", error_chain(&error)));
                    }
                }
                _ => {}
            }
        }
        handle.join().expect("scan thread panicked")
    });
    let totals = Totals {
        files: stats.files,
        bytes: stats.bytes,
        skipped: stats.skipped,
        errors: stats.errors,
        ..Totals::default()
    };
    (totals, failed)
}

/// Why a file was skipped, with the option that changes it.
pub fn skip_note(reason: &SkipReason) -> String {
    match reason {
        SkipReason::Binary => "binary file (use --binary to scan it)".to_string(),
        SkipReason::TooLarge { size, limit } => {
            format!("file of {size} bytes exceeds --max-file-size {limit}")
        }
        SkipReason::ArchiveLimit { what, limit } => {
            let flag = match what {
                ArchiveLimit::Depth => "--max-archive-depth",
                ArchiveLimit::Bytes => "--max-archive-bytes",
                ArchiveLimit::MemberSize => "--max-file-size",
                _ => return reason.to_string(),
            };
            format!("{reason} ({flag} {limit})")
        }
        other => other.to_string(),
    }
}

/// Scans the history of each repository in `paths`.
pub fn collect_git(
    scanner: &Scanner,
    paths: &[PathBuf],
    git: &GitArgs,
    mut opts: HistoryOptions,
    progress: &Progress,
    on_item: &mut dyn FnMut(Item),
) -> Result<(Totals, bool)> {
    // clap refuses --since-commit with --log-opts.
    opts.range = Range::from_options(git.since_commit.as_deref(), git.log_opts.as_deref(), true)?;
    opts.all_provenance = git.all_provenance;
    let mut totals = Totals {
        commits: Some(0),
        ..Totals::default()
    };
    for repo in paths {
        let stats = keysweep_git::scan_history(scanner, repo, &opts, |ev| {
            match ev {
                HistoryEvent::Finding(hf) => {
                    progress.file(0);
                    on_item(Item::from_history(hf, git.all_provenance));
                }
                HistoryEvent::Unreadable { path, blob, error } => {
                    progress.println(&format!("warning: blob {blob} ({path}): {error}"));
                }
                HistoryEvent::Skipped { path, reason, .. } => {
                    tracing::debug!(%path, %reason, "blob skipped");
                }
                _ => {}
            }
            ControlFlow::Continue(())
        })
        .with_context(|| format!("scanning the history of {}", repo.display()))?;
        totals.files += stats.blobs;
        totals.bytes += stats.bytes;
        totals.skipped += stats.skipped;
        totals.errors += stats.unreadable;
        totals.commits = Some(totals.commits.unwrap_or(0) + stats.commits);
    }
    Ok((totals, false))
}
