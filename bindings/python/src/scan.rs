//! `Scanner` and the streaming `ScanIterator`.
//!
//! Every method copies its arguments into owned Rust values, then runs the
//! scan with the GIL released (`py.detach`); nothing inside those closures
//! touches a Python object. Path scans run on a background thread that sends
//! findings through a bounded channel; the calling thread waits on it without
//! the GIL, in slices of [`POLL`], checking for signals (Ctrl-C) in between.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use keysweep_core::{
    FileOutcome, FingerprintKey, ScanEvent, ScanOptions, ScanScratch, ScanStats, Scanner,
    SkipReason,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::errors::{scan_error, scan_os_error, to_pyerr, warn};
use crate::finding::{sort_findings, PyFinding};
use crate::git;
use crate::rules::{build_rules, extract_sources, one_path, PyRuleSet};

// `Scanner(decode_depth=2)` is the core's default.
const _: () = assert!(keysweep_core::DEFAULT_DECODE_DEPTH == 2);

/// How long a waiting thread stays without the GIL before checking signals.
const POLL: Duration = Duration::from_millis(100);
/// Messages in flight between the scan and the consumer.
const CHANNEL_CAP: usize = 256;
/// Scratches kept for reuse by `scan_bytes`/`scan_text`.
const POOL_MAX: usize = 16;
/// errno values (Linux and macOS agree on these).
const EISDIR: i32 = 21;
const EFBIG: i32 = 27;

/// Scans bytes, text, files and directory trees for secrets.
///
/// Immutable and safe to share between threads; each call uses its own
/// per-thread scratch state.
#[pyclass(frozen, module = "keysweep", name = "Scanner")]
pub struct PyScanner {
    inner: Scanner,
    /// Reused scratch space for in-memory scans. Only ever `try_lock`ed, so a
    /// fork while another thread holds it cannot deadlock the child.
    pool: Mutex<Vec<ScanScratch>>,
}

/// What the background scan sends to the consumer.
enum Msg {
    Findings(Vec<PyFinding>),
    Warning(String),
    Error(keysweep_core::Error),
}

#[derive(Clone, Copy)]
struct PathOpts {
    threads: Option<usize>,
    ignore: bool,
    binary: bool,
    max_file_size: Option<u64>,
    follow_links: bool,
    archives: bool,
}

impl PathOpts {
    /// The library's defaults, so files are read, never memory-mapped
    /// (`MmapChoice::never()`): a Python program may scan files another
    /// process is changing, and a truncated mapped file would kill the
    /// interpreter with SIGBUS.
    fn scan_options(self) -> ScanOptions {
        let mut o = ScanOptions::new();
        o.threads(self.threads.unwrap_or(0))
            .ignore(self.ignore)
            .binary(self.binary)
            .follow_links(self.follow_links)
            .archives(self.archives);
        if let Some(m) = self.max_file_size {
            o.max_file_size(m);
        }
        o
    }
}

impl PyScanner {
    /// The key the scanner fingerprints with.
    pub fn fingerprint_key(&self) -> &FingerprintKey {
        self.inner.fingerprint_key()
    }

    fn with_scratch<R>(&self, f: impl FnOnce(&mut ScanScratch) -> R) -> R {
        let reused = self.pool.try_lock().ok().and_then(|mut p| p.pop());
        let mut scratch = reused.unwrap_or_else(|| self.inner.scratch());
        let out = f(&mut scratch);
        if let Ok(mut p) = self.pool.try_lock() {
            if p.len() < POOL_MAX {
                p.push(scratch);
            }
        }
        out
    }

    fn scan_owned(&self, py: Python<'_>, data: Vec<u8>, path: Option<PathBuf>) -> Vec<PyFinding> {
        py.detach(|| {
            let name: Option<Arc<Path>> = path.map(Arc::from);
            let found = self.with_scratch(|s| self.inner.scan_slice(s, &data, name.as_ref()));
            found.into_iter().map(PyFinding::from_core).collect()
        })
    }

    /// Starts `visit_paths` on a background thread; setting the flag (or
    /// dropping the receiver) stops it.
    fn spawn(&self, paths: Vec<PathBuf>, opts: PathOpts) -> PyResult<Running> {
        let (tx, rx) = crossbeam_channel::bounded::<Msg>(CHANNEL_CAP);
        let cancel = Arc::new(AtomicBool::new(false));
        let scanner = self.inner.clone();
        let stop = Arc::clone(&cancel);
        let opts = opts.scan_options();
        let handle = std::thread::Builder::new()
            .name("keysweep-scan".into())
            .spawn(move || run_scan(&scanner, &paths, &opts, &tx, &stop))
            .map_err(PyErr::from)?;
        Ok(Running { rx, cancel, handle })
    }
}

/// A path scan running on its own thread.
struct Running {
    rx: Receiver<Msg>,
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<ScanStats>,
}

fn run_scan(
    scanner: &Scanner,
    paths: &[PathBuf],
    opts: &ScanOptions,
    tx: &Sender<Msg>,
    cancel: &AtomicBool,
) -> ScanStats {
    scanner.visit_paths(paths, opts, || {
        |ev| {
            if cancel.load(Ordering::Relaxed) {
                return ControlFlow::Break(());
            }
            match message(ev).map(|msg| tx.send(msg)) {
                // The consumer is gone: stop the walk.
                Some(Err(_)) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    })
}

/// What the consumer hears of an event, if anything.
fn message(ev: ScanEvent) -> Option<Msg> {
    Some({
        match ev {
            ScanEvent::Scanned { findings, .. } if findings.is_empty() => return None,
            ScanEvent::Scanned { findings, .. } => {
                Msg::Findings(findings.into_iter().map(PyFinding::from_core).collect())
            }
            ScanEvent::Skipped {
                path,
                reason,
                explicit,
            } if reason.is_notable(explicit) => {
                Msg::Warning(format!("skipped {}: {reason}", path.display()))
            }
            ScanEvent::Skipped { path, reason, .. } => {
                tracing::debug!(path = %path.display(), %reason, "skipped");
                return None;
            }
            ScanEvent::Error {
                error,
                explicit: true,
            } => Msg::Error(error),
            ScanEvent::Error { error, .. } => Msg::Warning(keysweep_core::error_chain(&error)),
            _ => return None,
        }
    })
}

/// The bytes of a bytes-like object, copied.
fn owned_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "scan_bytes() takes a bytes-like object; use scan_text() for str",
        ));
    }
    // Any other buffer (memoryview, array, mmap, ...).
    let view = obj
        .py()
        .import("builtins")?
        .getattr("memoryview")?
        .call1((obj,))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "scan_bytes() takes a bytes-like object, not {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
    let bytes = view.call_method0("tobytes")?;
    Ok(bytes.cast::<PyBytes>()?.as_bytes().to_vec())
}

/// One path or an iterable of paths. `-` means a file named `-` (not stdin).
pub fn extract_paths(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    let fix = |p: PathBuf| {
        if p.as_os_str() == "-" {
            PathBuf::from("./-")
        } else {
            p
        }
    };
    if let Some(p) = one_path(obj)? {
        return Ok(vec![fix(p)]);
    }
    if obj.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "paths must be str or os.PathLike, not bytes",
        ));
    }
    let iter = obj.try_iter().map_err(|_| {
        PyTypeError::new_err("path must be a str, an os.PathLike, or an iterable of them")
    })?;
    let mut out = Vec::new();
    for item in iter {
        let item = item?;
        match one_path(&item)? {
            Some(p) => out.push(fix(p)),
            None => {
                return Err(PyTypeError::new_err(format!(
                    "paths must be str or os.PathLike, not {}",
                    item.get_type().name()?
                )))
            }
        }
    }
    Ok(out)
}

pub(crate) fn fingerprint_key(obj: &Bound<'_, PyAny>) -> PyResult<FingerprintKey> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(FingerprintKey::new(s.to_cow()?.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(FingerprintKey::new(b.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err("fingerprint_key must be str or bytes"))
}

#[pymethods]
impl PyScanner {
    /// A scanner over the embedded default rules plus `rules`.
    #[new]
    // A literal default, so that the text signature (and stubtest) shows it.
    #[pyo3(signature = (rules = None, *, default_rules = true, fingerprint_key = None,
                        decode_depth = 2))]
    fn new(
        py: Python<'_>,
        rules: Option<&Bound<'_, PyAny>>,
        default_rules: bool,
        fingerprint_key: Option<&Bound<'_, PyAny>>,
        decode_depth: usize,
    ) -> PyResult<Self> {
        let sources = extract_sources(rules)?;
        let key = fingerprint_key.map(self::fingerprint_key).transpose()?;
        let set = py
            .detach(move || build_rules(sources, default_rules))
            .map_err(|e| to_pyerr(py, e))?;
        // Like the command line: `KEYSWEEP_FINGERPRINT_KEY` unless a key is given.
        let inner = Scanner::new(set)
            .with_fingerprint_key(key.unwrap_or_else(FingerprintKey::from_env))
            .with_decode_depth(decode_depth);
        Ok(PyScanner {
            inner,
            pool: Mutex::new(Vec::new()),
        })
    }

    /// The compiled rules.
    #[getter]
    fn rules(&self) -> PyRuleSet {
        PyRuleSet(self.inner.rules().clone())
    }

    /// Scans a bytes-like object. `path`, if given, is attached to the
    /// findings and checked against the rules' path allow-lists.
    #[pyo3(signature = (data, *, path = None))]
    fn scan_bytes(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        path: Option<PathBuf>,
    ) -> PyResult<Vec<PyFinding>> {
        let data = owned_bytes(data)?;
        Ok(self.scan_owned(py, data, path))
    }

    /// Scans a string (as UTF-8). Columns count characters.
    #[pyo3(signature = (text, *, path = None))]
    fn scan_text(&self, py: Python<'_>, text: String, path: Option<PathBuf>) -> Vec<PyFinding> {
        self.scan_owned(py, text.into_bytes(), path)
    }

    /// Scans one file (binary or not). Raises ScanError when it cannot be read,
    /// is not a regular file, or exceeds `max_file_size` (default 64 MiB).
    /// An archive or compressed file is opened and its members scanned
    /// (`archives=False` scans its raw bytes); members that could not be
    /// read are reported as ScanWarning.
    #[pyo3(signature = (path, *, max_file_size = None, archives = true))]
    fn scan_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        max_file_size: Option<u64>,
        archives: bool,
    ) -> PyResult<Vec<PyFinding>> {
        let mut opts = ScanOptions::new();
        opts.archives(archives);
        if let Some(m) = max_file_size {
            opts.max_file_size(m);
        }
        let p = path.clone();
        let res = py.detach(|| {
            if p.is_dir() {
                return Ok(None);
            }
            self.with_scratch(|s| self.inner.scan_file(s, &p, &opts))
                .map(Some)
        });
        let name = path.to_string_lossy();
        match res {
            Err(e) => Err(to_pyerr(py, e)),
            Ok(None) => Err(scan_os_error(py, EISDIR, &name)),
            Ok(Some(FileOutcome::Scanned {
                findings, skipped, ..
            })) => {
                for m in skipped.iter().filter(|m| m.reason.is_notable(false)) {
                    warn(py, &format!("skipped {}: {}", m.path.display(), m.reason))?;
                }
                Ok(findings.into_iter().map(PyFinding::from_core).collect())
            }
            Ok(Some(FileOutcome::Skipped(SkipReason::TooLarge { .. }))) => {
                Err(scan_os_error(py, EFBIG, &name))
            }
            Ok(Some(FileOutcome::Skipped(reason))) => Err(scan_error(
                py,
                &format!("{}: {reason}", path.display()),
                Some(&name),
            )),
            Ok(Some(_)) => Ok(Vec::new()),
        }
    }

    /// Scans files and directories (walked in parallel, honouring
    /// `.gitignore`, `.ignore` and `.keysweepignore` unless `ignore=False`).
    /// Returns the findings sorted by path, offset and rule id.
    ///
    /// Paths that were named but cannot be scanned raise ScanError; problems
    /// met while walking are reported as ScanWarning.
    ///
    /// Archives and compressed files (zip, jar, whl, tar, gz, bz2, xz, zst,
    /// nested) are opened and their members scanned, unless
    /// `archives=False`; a member's finding has the path
    /// `outer.tar.gz!lib/app.jar!application.properties`.
    #[pyo3(signature = (path, *, threads = None, ignore = true, binary = false,
                        max_file_size = None, follow_links = false, archives = true))]
    #[allow(clippy::too_many_arguments)]
    fn scan_path(
        &self,
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        threads: Option<usize>,
        ignore: bool,
        binary: bool,
        max_file_size: Option<u64>,
        follow_links: bool,
        archives: bool,
    ) -> PyResult<Vec<PyFinding>> {
        let paths = extract_paths(path)?;
        let opts = PathOpts {
            threads,
            ignore,
            binary,
            max_file_size,
            follow_links,
            archives,
        };
        let Running { rx, cancel, .. } = self.spawn(paths, opts)?;
        let mut findings = Vec::new();
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        loop {
            let finished = py.detach(|| {
                let deadline = Instant::now() + POLL;
                loop {
                    match rx.recv_deadline(deadline) {
                        Ok(Msg::Findings(v)) => findings.extend(v),
                        Ok(Msg::Warning(w)) => warnings.push(w),
                        Ok(Msg::Error(e)) => errors.push(e),
                        Err(RecvTimeoutError::Timeout) => return false,
                        Err(RecvTimeoutError::Disconnected) => return true,
                    }
                }
            });
            if finished {
                break;
            }
            if let Err(e) = py.check_signals() {
                cancel.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
        if let Some(e) = errors.into_iter().next() {
            return Err(to_pyerr(py, e));
        }
        for w in &warnings {
            warn(py, w)?;
        }
        py.detach(|| sort_findings(&mut findings));
        Ok(findings)
    }

    /// Like `scan_path`, but yields findings while the scan runs (in the order
    /// files finish, not sorted). Named paths that cannot be scanned raise
    /// ScanError from `next()`. Closing or dropping the iterator stops the
    /// reporting.
    #[pyo3(signature = (path, *, threads = None, ignore = true, binary = false,
                        max_file_size = None, follow_links = false, archives = true))]
    #[allow(clippy::too_many_arguments)]
    fn iter_path(
        &self,
        path: &Bound<'_, PyAny>,
        threads: Option<usize>,
        ignore: bool,
        binary: bool,
        max_file_size: Option<u64>,
        follow_links: bool,
        archives: bool,
    ) -> PyResult<PyScanIterator> {
        let paths = extract_paths(path)?;
        let opts = PathOpts {
            threads,
            ignore,
            binary,
            max_file_size,
            follow_links,
            archives,
        };
        let Running { rx, cancel, handle } = self.spawn(paths, opts)?;
        Ok(PyScanIterator {
            rx: Mutex::new(Some(rx)),
            cancel,
            handle: Mutex::new(Some(handle)),
            stats: Mutex::new(None),
            buf: Mutex::new(VecDeque::new()),
            done: AtomicBool::new(false),
            pid: std::process::id(),
        })
    }

    /// Scans the git history of the repository containing `repo`: every blob
    /// reachable from all references (branches, tags, remotes, stash) and
    /// `HEAD`, each distinct blob once, in parallel. Findings carry the commit
    /// that introduced the secret (`commit`, `provenance`) and the `blob`; their
    /// `path` is the path in that commit. Sorted like the command line's report.
    ///
    /// `since_commit`: only commits not reachable from this revision (as
    /// `keysweep scan --git --since-commit`). `log_opts`: a range `A..B`,
    /// `A..`, `..B`, or one revision (its history), as `--log-opts`; not with
    /// `since_commit`. `all_refs=False` walks from `HEAD` only (ignored with
    /// `log_opts`, which names its own revisions). `all_provenance`: list every
    /// commit that introduced each secret's blob, not only the first.
    ///
    /// Raises ScanError when `repo` is not in a readable git repository or a
    /// revision does not resolve.
    #[pyo3(signature = (repo, *, since_commit = None, all_refs = true, log_opts = None,
                        all_provenance = false, threads = None, binary = false,
                        max_file_size = None))]
    #[allow(clippy::too_many_arguments)]
    fn scan_git(
        &self,
        py: Python<'_>,
        repo: PathBuf,
        since_commit: Option<String>,
        all_refs: bool,
        log_opts: Option<String>,
        all_provenance: bool,
        threads: Option<usize>,
        binary: bool,
        max_file_size: Option<u64>,
    ) -> PyResult<Vec<PyFinding>> {
        let mut opts = keysweep_git::HistoryOptions {
            range: git::range_of(since_commit, log_opts, all_refs)?,
            all_provenance,
            threads: threads.unwrap_or(0),
            binary,
            ..keysweep_git::HistoryOptions::default()
        };
        if let Some(m) = max_file_size {
            opts.max_blob_size = m;
        }
        git::scan_git(py, &self.inner, repo, opts)
    }

    /// Scans exactly the staged content (the index) of the repository
    /// containing `repo`, reporting only secrets on lines added or changed
    /// relative to `HEAD` (what a pre-commit hook needs). `paths` limits the
    /// scan to these files or directories (relative ones are taken from the
    /// current directory when it is inside the work tree, as git does, else
    /// from the repository root). Staged files larger than `max_file_size`
    /// (default 64 MiB) are skipped. Files matched by the repository root's
    /// `.keysweepignore` are left out, as `keysweep hook` does, unless
    /// `ignore=False`. Findings' paths are relative to the repository root.
    /// Raises ScanError when `repo` is not in a readable git repository.
    #[pyo3(signature = (repo, *, paths = None, max_file_size = None, ignore = true))]
    fn scan_staged(
        &self,
        py: Python<'_>,
        repo: PathBuf,
        paths: Option<&Bound<'_, PyAny>>,
        max_file_size: Option<u64>,
        ignore: bool,
    ) -> PyResult<Vec<PyFinding>> {
        let mut opts = keysweep_git::StagedOptions {
            paths: paths.map(extract_paths).transpose()?,
            ignore_file: ignore,
            ..keysweep_git::StagedOptions::default()
        };
        if let Some(m) = max_file_size {
            opts.max_file_size = m;
        }
        git::scan_staged(py, &self.inner, repo, opts)
    }

    fn __repr__(&self) -> String {
        format!("Scanner(<{} rules>)", self.inner.rules().len())
    }
}

/// Findings of a running `Scanner.iter_path` scan.
#[pyclass(frozen, module = "keysweep", name = "ScanIterator")]
pub struct PyScanIterator {
    /// Taken (dropped) by `close()`, which fails the scan's sends at once.
    rx: Mutex<Option<Receiver<Msg>>>,
    cancel: Arc<AtomicBool>,
    /// The scan thread, joined when the scan ends or is closed.
    handle: Mutex<Option<JoinHandle<ScanStats>>>,
    /// Its totals, once joined.
    stats: Mutex<Option<ScanStats>>,
    buf: Mutex<VecDeque<PyFinding>>,
    done: AtomicBool,
    /// The process that started the scan: after a fork, the scan thread does
    /// not exist in the child.
    pid: u32,
}

impl PyScanIterator {
    fn pop(&self) -> Option<PyFinding> {
        self.buf
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    /// Waits for the scan thread (which has ended or is stopping) and keeps
    /// its totals.
    fn join(&self) {
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            if let Ok(stats) = h.join() {
                *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = Some(stats);
            }
        }
    }
}

#[pymethods]
impl PyScanIterator {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyFinding>> {
        loop {
            if let Some(f) = self.pop() {
                return Ok(Some(f));
            }
            if self.done.load(Ordering::Acquire) {
                return Ok(None);
            }
            if self.pid != std::process::id() {
                self.done.store(true, Ordering::Release);
                return Err(scan_error(
                    py,
                    "this iterator was created before fork(); its scan runs in the parent process",
                    None,
                ));
            }
            let got = py.detach(|| {
                let rx = self.rx.lock().unwrap_or_else(|e| e.into_inner());
                match rx.as_ref() {
                    Some(rx) => rx.recv_timeout(POLL),
                    None => Err(RecvTimeoutError::Disconnected),
                }
            });
            match got {
                Ok(Msg::Findings(v)) => {
                    self.buf.lock().unwrap_or_else(|e| e.into_inner()).extend(v);
                }
                Ok(Msg::Warning(w)) => warn(py, &w)?,
                Ok(Msg::Error(e)) => return Err(to_pyerr(py, e)),
                Err(RecvTimeoutError::Timeout) => py.check_signals()?,
                Err(RecvTimeoutError::Disconnected) => {
                    self.done.store(true, Ordering::Release);
                    py.detach(|| self.join());
                }
            }
        }
    }

    /// Stops the scan: no file is started afterwards (each scan thread
    /// finishes at most the file it has), and later `next()` calls raise
    /// StopIteration. Returns once the scan has stopped.
    fn close(&self, py: Python<'_>) {
        self.cancel.store(true, Ordering::Relaxed);
        self.done.store(true, Ordering::Release);
        self.buf.lock().unwrap_or_else(|e| e.into_inner()).clear();
        py.detach(|| {
            // Dropping the receiver fails a send blocked on a full channel.
            drop(self.rx.lock().unwrap_or_else(|e| e.into_inner()).take());
            if self.pid == std::process::id() {
                self.join();
            }
        });
    }

    /// The scan's totals once it has ended or been closed (None while it
    /// runs): `files`, `bytes`, `skipped`, `errors`, `findings` and
    /// `stopped` (whether it was closed before its end).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
        let Some(s) = *self.stats.lock().unwrap_or_else(|e| e.into_inner()) else {
            return Ok(None);
        };
        let d = pyo3::types::PyDict::new(py);
        d.set_item("files", s.files)?;
        d.set_item("bytes", s.bytes)?;
        d.set_item("skipped", s.skipped)?;
        d.set_item("errors", s.errors)?;
        d.set_item("findings", s.findings)?;
        d.set_item("stopped", s.stopped)?;
        Ok(Some(d))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }
}

impl Drop for PyScanIterator {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}
