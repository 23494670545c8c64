//! Scanning paths: explicit files, directories walked in parallel, stdin.

use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// A file was scanned.
    Scanned {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
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
        }
    }
}

impl Scanner {
    /// Scans files and directories. Directories are walked in parallel,
    /// honouring ignore files unless disabled; `-` reads standard input.
    /// Every file's result is passed to `sink` (from walker threads).
    pub fn scan_paths<F>(&self, paths: &[PathBuf], opts: &ScanOptions, sink: F) -> ScanStats
    where
        F: Fn(ScanEvent) + Sync,
    {
        let counters = Counters::default();
        let emit = |ev: ScanEvent| {
            counters.count(&ev);
            sink(ev);
        };
        let mut roots = Vec::new();
        for p in paths {
            if p.as_os_str() == "-" {
                self.scan_stdin(opts, &emit);
                continue;
            }
            match std::fs::symlink_metadata(p).and_then(|m| {
                if m.file_type().is_symlink() {
                    std::fs::metadata(p)
                } else {
                    Ok(m)
                }
            }) {
                Err(e) => emit(ScanEvent::Error {
                    error: Error::io(p.clone(), e),
                    explicit: true,
                }),
                // A named directory that cannot be listed is an error of the
                // run, not a warning of the walk (which would exit 0).
                Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
                    Ok(_) => roots.push(p.clone()),
                    Err(e) => emit(ScanEvent::Error {
                        error: Error::io(p.clone(), e),
                        explicit: true,
                    }),
                },
                Ok(m) if m.is_file() => {
                    let mut scratch = self.scratch();
                    emit(file_event(self, &mut scratch, p, opts, true));
                }
                Ok(_) => emit(ScanEvent::Error {
                    error: Error::NotRegularFile { path: p.clone() },
                    explicit: true,
                }),
            }
        }
        if !roots.is_empty() {
            self.walk(&roots, opts, &emit);
        }
        counters.stats()
    }

    fn scan_stdin(&self, opts: &ScanOptions, emit: &(dyn Fn(ScanEvent) + Sync)) {
        let name: Arc<Path> = Arc::from(Path::new("<stdin>"));
        let mut scratch = self.scratch();
        let mut stdin = CountingReader {
            inner: std::io::stdin().lock(),
            count: 0,
        };
        match self.scan_reader(&mut scratch, &mut stdin, opts.max_file_size, Some(&name)) {
            Ok(findings) => emit(ScanEvent::Scanned {
                path: PathBuf::from("<stdin>"),
                bytes: stdin.count,
                findings,
            }),
            Err(e) => emit(ScanEvent::Error {
                error: Error::io("<stdin>", e),
                explicit: true,
            }),
        }
    }

    fn walk(&self, roots: &[PathBuf], opts: &ScanOptions, emit: &(dyn Fn(ScanEvent) + Sync)) {
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
            Box::new(move |res| {
                match res {
                    Err(e) => emit(ScanEvent::Error {
                        error: Error::Walk {
                            source: Box::new(e),
                        },
                        explicit: false,
                    }),
                    Ok(entry) => {
                        let Some(ft) = entry.file_type() else {
                            return WalkState::Continue;
                        };
                        if ft.is_dir() {
                            return WalkState::Continue;
                        }
                        if ft.is_file() || (ft.is_symlink() && opts.follow_links) {
                            emit(file_event(self, &mut scratch, entry.path(), opts, false));
                        } else if !ft.is_symlink() {
                            tracing::debug!(path = %entry.path().display(), "not a regular file, skipped");
                            emit(ScanEvent::Skipped {
                                path: entry.path().to_path_buf(),
                                reason: SkipReason::NotRegular,
                                explicit: false,
                            });
                        }
                    }
                }
                WalkState::Continue
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

fn file_event(
    scanner: &Scanner,
    scratch: &mut crate::ScanScratch,
    path: &Path,
    opts: &ScanOptions,
    explicit: bool,
) -> ScanEvent {
    match scanner.scan_file(scratch, path, opts, explicit) {
        Ok(FileOutcome::Scanned { bytes, findings }) => ScanEvent::Scanned {
            path: path.to_path_buf(),
            bytes,
            findings,
        },
        Ok(FileOutcome::Skipped(reason)) => ScanEvent::Skipped {
            path: path.to_path_buf(),
            reason,
            explicit,
        },
        Err(error) => ScanEvent::Error { error, explicit },
    }
}
