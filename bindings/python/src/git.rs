//! Git inputs: `Scanner.scan_git` (history, over `keysweep_git::scan_history`),
//! `Scanner.scan_staged` (the index, added lines only) and `Commit`, the
//! provenance attached to history findings.
//!
//! As with path scans, the work runs on a background thread; the calling
//! thread waits for it without the GIL, in slices of [`POLL`], checking for
//! signals (Ctrl-C) in between. Nothing on the scan thread touches Python.

use keysweep_core::Scanner;
use keysweep_git::{HistoryEvent, HistoryOptions, Range, StagedEvent, StagedOptions};
use keysweep_report::Commit;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::hash::{Hash, Hasher};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::errors::{scan_error, scan_os_error};
use crate::finding::{sort_findings, to_python, PyFinding};
use crate::rules::py_repr;

/// How long a waiting thread stays without the GIL before checking signals.
const POLL: Duration = Duration::from_millis(100);
/// errno of a missing path (Linux and macOS agree).
const ENOENT: i32 = 2;

/// A commit that introduced a secret, and the secret's path in it.
#[pyclass(frozen, module = "keysweep", name = "Commit")]
pub struct PyCommit(pub Commit);

#[pymethods]
impl PyCommit {
    /// The full commit id (hex).
    #[getter]
    fn id(&self) -> &str {
        &self.0.commit
    }
    /// The author's name.
    #[getter]
    fn author(&self) -> &str {
        &self.0.author
    }
    /// The author's email.
    #[getter]
    fn email(&self) -> &str {
        &self.0.email
    }
    /// The author date, ISO 8601 with offset (`datetime.fromisoformat` reads it).
    #[getter]
    fn date(&self) -> &str {
        &self.0.date
    }
    /// The first line of the commit message.
    #[getter]
    fn summary(&self) -> &str {
        &self.0.summary
    }
    /// The path of the secret's file in this commit.
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }

    /// The record `keysweep scan --git --format json` writes under `commit`
    /// (keys `commit`, `author`, `email`, `date`, `summary`, `path`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Commit(id={}, author={}, date={}, path={})",
            py_repr(py, &self.0.commit)?,
            py_repr(py, &self.0.author)?,
            py_repr(py, &self.0.date)?,
            py_repr(py, &self.0.path)?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyCommit>() {
            Ok(o) => self.0 == o.get().0,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.commit.hash(&mut h);
        self.0.path.hash(&mut h);
        h.finish()
    }
}

/// The history range the keyword arguments of `scan_git` select
/// (`keysweep_git::Range::from_options`).
pub fn range_of(
    since_commit: Option<String>,
    log_opts: Option<String>,
    all_refs: bool,
) -> PyResult<Range> {
    Range::from_options(since_commit.as_deref(), log_opts.as_deref(), all_refs)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Runs `work` on its own thread and waits for its result without the GIL,
/// checking for signals every [`POLL`]. On KeyboardInterrupt (or any error
/// a signal handler raises) the flag handed to `work` is set, so its scan
/// stops at the next blob or file, and its result is dropped.
fn run_detached<T: Send + 'static>(
    py: Python<'_>,
    name: &str,
    work: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = crossbeam_channel::bounded::<T>(1);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work(&flag));
        })
        .map_err(PyErr::from)?;
    loop {
        match py.detach(|| rx.recv_timeout(POLL)) {
            Ok(v) => return Ok(v),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "the {name} thread panicked"
                )))
            }
        }
    }
}

/// Maps an error of the git inputs to `ScanError` (with the repository as
/// `filename`). Git errors hold paths, revisions and messages, never secrets.
fn git_error(py: Python<'_>, err: keysweep_git::Error, repo: &Path) -> PyErr {
    let repo = repo.to_string_lossy();
    match &err {
        keysweep_git::Error::Open { path, .. } => scan_error(
            py,
            &keysweep_core::error_chain(&err),
            Some(&path.to_string_lossy()),
        ),
        _ => scan_error(
            py,
            &format!("{repo}: {}", keysweep_core::error_chain(&err)),
            Some(&repo),
        ),
    }
}

/// A missing repository path: the OSError Python users expect (`ENOENT`).
fn check_exists(py: Python<'_>, repo: &Path) -> PyResult<()> {
    if std::fs::symlink_metadata(repo).is_err() {
        return Err(scan_os_error(py, ENOENT, &repo.to_string_lossy()));
    }
    Ok(())
}

/// `Scanner.scan_git`: every finding in the history `opts` selects, sorted
/// like the command line's report.
pub fn scan_git(
    py: Python<'_>,
    scanner: &Scanner,
    repo: PathBuf,
    opts: HistoryOptions,
) -> PyResult<Vec<PyFinding>> {
    check_exists(py, &repo)?;
    let scanner = scanner.clone();
    let path = repo.clone();
    let res = run_detached(py, "keysweep-git", move |cancel| {
        let all = opts.all_provenance;
        let mut out = Vec::new();
        keysweep_git::scan_history(&scanner, &path, &opts, |ev| {
            match ev {
                HistoryEvent::Finding(hf) => out.push(PyFinding::from_history(hf, all)),
                HistoryEvent::Unreadable { blob, path, error } => {
                    tracing::warn!(%blob, %path, %error, "cannot read blob");
                }
                _ => {}
            }
            go_on(cancel)
        })?;
        sort_findings(&mut out);
        Ok::<_, keysweep_git::Error>(out)
    })?;
    res.map_err(|e| git_error(py, e, &repo))
}

/// What a scan sink returns: stop once the caller was interrupted.
fn go_on(cancel: &AtomicBool) -> ControlFlow<()> {
    if cancel.load(Ordering::Relaxed) {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}

/// `Scanner.scan_staged`: the findings on lines the index adds or changes
/// relative to `HEAD`, sorted.
pub fn scan_staged(
    py: Python<'_>,
    scanner: &Scanner,
    repo: PathBuf,
    opts: StagedOptions,
) -> PyResult<Vec<PyFinding>> {
    check_exists(py, &repo)?;
    let scanner = scanner.clone();
    let path = repo.clone();
    let res = run_detached(py, "keysweep-staged", move |cancel| {
        let mut out = Vec::new();
        keysweep_git::visit_staged(&scanner, &path, &opts, |ev| {
            match ev {
                StagedEvent::Finding(f) => out.push(PyFinding::from_core(f)),
                StagedEvent::Skipped { path, reason } => {
                    tracing::warn!(%path, %reason, "staged file skipped");
                }
                _ => {}
            }
            go_on(cancel)
        })?;
        sort_findings(&mut out);
        Ok::<_, keysweep_git::Error>(out)
    })?;
    res.map_err(|e| git_error(py, e, &repo))
}
