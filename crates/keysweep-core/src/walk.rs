//! Scanning paths: explicit files, directories walked in parallel, stdin.

use ignore::{WalkBuilder, WalkState};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::Error;
use crate::finding::Finding;
use crate::input::{FileOutcome, ScanOptions, SkipReason};
use crate::scan::Scanner;

/// Name of keysweep's own ignore file (gitignore syntax).
pub const IGNORE_FILE: &str = ".keysweepignore";

/// Something that happened during [`Scanner::scan_paths`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ScanEvent {
    /// A file was scanned. An archive is one such event, with all its
    /// members' findings (whose paths are `archive!member` chains), followed
    /// by a [`ScanEvent::Skipped`] for each member that was not scanned (its
    /// `path` the chain, `explicit` false). So [`ScanStats::files`] counts
    /// files on disk, [`ScanStats::skipped`] skipped files and members.
    Scanned {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (for an archive: the unpacked bytes of the
        /// members that were scanned).
        bytes: u64,
        /// What was found in it.
        findings: Vec<Finding>,
    },
    /// A file was skipped.
    Skipped {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: SkipReason,
        /// Whether the user named the file explicitly.
        explicit: bool,
    },
    /// A path could not be scanned.
    Error {
        /// What went wrong (it names the path).
        error: Error,
        /// Whether the user named the path explicitly (an error for those
        /// should fail the run; errors met while walking are warnings).
        explicit: bool,
    },
}

/// Receives the events of one thread of a [`Scanner::visit_paths`] run.
///
/// Visitors are `Send` (each lives on the thread it was made for). Each
/// walker thread gets its own visitor (made by the builder closure
/// given to `visit_paths`), so a visitor may keep per-thread state without
/// locking and merge it when dropped, like ripgrep's `ParallelVisitor`.
/// Returning [`ControlFlow::Break`] stops the whole run: no file is started
/// after that on any thread (each thread finishes at most the file it is
/// scanning), and [`ScanStats::stopped`] is set.
pub trait ScanVisitor {
    /// Handles one event; `Break` stops the run.
    fn visit(&mut self, event: ScanEvent) -> ControlFlow<()>;
}

impl<F: FnMut(ScanEvent) -> ControlFlow<()>> ScanVisitor for F {
    fn visit(&mut self, event: ScanEvent) -> ControlFlow<()> {
        self(event)
    }
}

/// Totals of a [`Scanner::scan_paths`] run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanStats {
    /// Files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files skipped.
    pub skipped: u64,
    /// Paths that failed.
    pub errors: u64,
    /// Findings reported.
    pub findings: u64,
    /// Whether a visitor stopped the run before its end.
    pub stopped: bool,
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    skipped: AtomicU64,
    errors: AtomicU64,
    findings: AtomicU64,
}

impl Counters {
    fn count(&self, ev: &ScanEvent) {
        match ev {
            ScanEvent::Scanned {
                bytes, findings, ..
            } => {
                self.files.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(*bytes, Ordering::Relaxed);
                self.findings
                    .fetch_add(findings.len() as u64, Ordering::Relaxed);
            }
            ScanEvent::Skipped { .. } => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
            }
            ScanEvent::Error { .. } => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn stats(&self) -> ScanStats {
        ScanStats {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            findings: self.findings.load(Ordering::Relaxed),
            stopped: false,
        }
    }
}

/// The shared state of one run: totals and the stop flag.
struct Run<'a> {
    counters: Counters,
    stop: AtomicBool,
    opts: &'a ScanOptions,
}

impl Run<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts `ev`, hands it to `v`, and records a stop.
    fn emit(&self, v: &mut impl ScanVisitor, ev: ScanEvent) {
        self.counters.count(&ev);
        if v.visit(ev).is_break() {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Scanner {
    /// Scans files and directories. Directories are walked in parallel,
    /// honouring ignore files unless disabled; `-` reads standard input.
    /// Every file's result is passed to `sink` (from walker threads). See
    /// [`Scanner::visit_paths`] to stop early or keep per-thread state.
    pub fn scan_paths<F>(&self, paths: &[PathBuf], opts: &ScanOptions, sink: F) -> ScanStats
    where
        F: Fn(ScanEvent) + Sync,
    {
        self.visit_paths(paths, opts, || {
            |ev| {
                sink(ev);
                ControlFlow::Continue(())
            }
        })
    }

    /// Scans files and directories like [`Scanner::scan_paths`], handing
    /// events to visitors: `visitors` makes one per thread (the calling
    /// thread's for named paths and stdin, one per walker thread). A visitor
    /// returning [`ControlFlow::Break`] stops the run.
    ///
    /// # Example
    ///
    /// Stopping at the first finding:
    ///
    /// ```
    /// use keysweep_core::{ScanEvent, ScanOptions, Scanner};
    /// use std::ops::ControlFlow;
    ///
    /// let dir = tempfile::tempdir()?;
    /// for i in 0..50 {
    ///     std::fs::write(dir.path().join(format!("{i}.env")), "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2")?;
    /// }
    /// let scanner = Scanner::with_default_rules()?;
    /// let mut opts = ScanOptions::new();
    /// opts.threads(1);
    /// let stats = scanner.visit_paths(&[dir.path().to_path_buf()], &opts, || {
    ///     |ev| match ev {
    ///         ScanEvent::Scanned { findings, .. } if !findings.is_empty() => ControlFlow::Break(()),
    ///         _ => ControlFlow::Continue(()),
    ///     }
    /// });
    /// assert!(stats.stopped);
    /// assert_eq!(stats.files, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn visit_paths<B, V>(&self, paths: &[PathBuf], opts: &ScanOptions, visitors: B) -> ScanStats
    where
        B: Fn() -> V + Sync,
        V: ScanVisitor + Send,
    {
        let run = Run {
            counters: Counters::default(),
            stop: AtomicBool::new(false),
            opts,
        };
        let mut roots = Vec::new();
        {
            let mut v = visitors();
            for p in paths {
                if run.stopped() {
                    break;
                }
                if p.as_os_str() == "-" {
                    let ev = self.scan_stdin(opts);
                    run.emit(&mut v, ev);
                    continue;
                }
                let meta = std::fs::symlink_metadata(p).and_then(|m| {
                    if m.file_type().is_symlink() {
                        std::fs::metadata(p)
                    } else {
                        Ok(m)
                    }
                });
                let ev = match meta {
                    Err(e) => ScanEvent::Error {
                        error: Error::io(p.clone(), e),
                        explicit: true,
                    },
                    // A named directory that cannot be listed is an error of
                    // the run, not a warning of the walk (which would exit 0).
                    Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
                        Ok(_) => {
                            roots.push(p.clone());
                            continue;
                        }
                        Err(e) => ScanEvent::Error {
                            error: Error::io(p.clone(), e),
                            explicit: true,
                        },
                    },
                    Ok(m) if m.is_file() => {
                        let mut scratch = self.scratch();
                        file_events(self, &mut scratch, p, opts, true, &mut |ev| {
                            run.emit(&mut v, ev)
                        });
                        continue;
                    }
                    Ok(_) => ScanEvent::Error {
                        error: Error::NotRegularFile { path: p.clone() },
                        explicit: true,
                    },
                };
                run.emit(&mut v, ev);
            }
        }
        if !roots.is_empty() && !run.stopped() {
            self.walk(&roots, &run, &visitors);
        }
        let mut stats = run.counters.stats();
        stats.stopped = run.stopped();
        stats
    }

    fn scan_stdin(&self, opts: &ScanOptions) -> ScanEvent {
        let name: Arc<Path> = Arc::from(Path::new("<stdin>"));
        let mut scratch = self.scratch();
        let mut stdin = CountingReader {
            inner: std::io::stdin().lock(),
            count: 0,
        };
        match self.scan_reader(&mut scratch, &mut stdin, opts.max_file_size, Some(&name)) {
            Ok(findings) => ScanEvent::Scanned {
                path: PathBuf::from("<stdin>"),
                bytes: stdin.count,
                findings,
            },
            Err(e) => ScanEvent::Error {
                error: Error::io("<stdin>", e),
                explicit: true,
            },
        }
    }

    fn walk<B, V>(&self, roots: &[PathBuf], run: &Run<'_>, visitors: &B)
    where
        B: Fn() -> V + Sync,
        V: ScanVisitor + Send,
    {
        let opts = run.opts;
        let _span = tracing::debug_span!("walk", roots = roots.len()).entered();
        let mut b = WalkBuilder::new(&roots[0]);
        for r in &roots[1..] {
            b.add(r);
        }
        b.hidden(false)
            .parents(opts.ignore)
            .ignore(opts.ignore)
            .git_ignore(opts.ignore)
            .git_global(opts.ignore)
            .git_exclude(opts.ignore)
            .require_git(false)
            .follow_links(opts.follow_links)
            .threads(opts.threads)
            .filter_entry(|e| e.file_name() != ".git");
        if opts.ignore {
            b.add_custom_ignore_filename(IGNORE_FILE);
        }
        b.build_parallel().run(|| {
            let mut scratch = self.scratch();
            let mut v = visitors();
            Box::new(move |res| {
                if run.stopped() {
                    return WalkState::Quit;
                }
                match res {
                    Err(e) => run.emit(
                        &mut v,
                        ScanEvent::Error {
                            error: Error::Walk {
                                source: Box::new(e),
                            },
                            explicit: false,
                        },
                    ),
                    Ok(entry) => {
                        let Some(ft) = entry.file_type() else {
                            return WalkState::Continue;
                        };
                        if ft.is_dir() {
                            return WalkState::Continue;
                        }
                        if ft.is_file() || (ft.is_symlink() && opts.follow_links) {
                            file_events(self, &mut scratch, entry.path(), opts, false, &mut |ev| {
                                run.emit(&mut v, ev)
                            });
                        } else if !ft.is_symlink() {
                            tracing::debug!(path = %entry.path().display(), "not a regular file, skipped");
                            run.emit(
                                &mut v,
                                ScanEvent::Skipped {
                                    path: entry.path().to_path_buf(),
                                    reason: SkipReason::NotRegular,
                                    explicit: false,
                                },
                            );
                        }
                    }
                }
                if run.stopped() {
                    WalkState::Quit
                } else {
                    WalkState::Continue
                }
            })
        });
    }
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Scans one file and emits its events: one `Scanned` (for an archive: the
/// archive with all its members' findings, then a `Skipped` for each member
/// that was not scanned, named `archive!member`, never explicit), or one
/// `Skipped`, or one `Error`.
fn file_events(
    scanner: &Scanner,
    scratch: &mut crate::ScanScratch,
    path: &Path,
    opts: &ScanOptions,
    explicit: bool,
    emit: &mut dyn FnMut(ScanEvent),
) {
    let binary = if explicit {
        opts.binary_named
    } else {
        opts.binary_walked
    };
    match scanner.scan_file_as(scratch, path, opts, binary) {
        Ok(FileOutcome::Scanned {
            bytes,
            findings,
            skipped,
        }) => {
            emit(ScanEvent::Scanned {
                path: path.to_path_buf(),
                bytes,
                findings,
            });
            for member in skipped {
                emit(ScanEvent::Skipped {
                    path: member.path,
                    reason: member.reason,
                    explicit: false,
                });
            }
        }
        Ok(FileOutcome::Skipped(reason)) => emit(ScanEvent::Skipped {
            path: path.to_path_buf(),
            reason,
            explicit,
        }),
        Err(error) => emit(ScanEvent::Error { error, explicit }),
    }
}
