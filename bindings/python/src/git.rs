//! Git inputs: `Scanner.scan_git` (history, over `keysweep_git::scan_history`),
//! `Scanner.scan_staged` (the index, added lines only) and `Commit`, the
//! provenance attached to history findings.
//!
//! As with path scans, the work runs on a background thread; the calling
//! thread waits for it without the GIL, in slices of [`POLL`], checking for
//! signals (Ctrl-C) in between. Nothing on the scan thread touches Python.

use keysweep_core::Scanner;
use keysweep_git::{CommitInfo, HistoryOptions, Provenance, Range, StagedOptions};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::errors::{scan_error, scan_os_error};
use crate::finding::{sort_findings, PyFinding};
use crate::rules::py_repr;

/// How long a waiting thread stays without the GIL before checking signals.
const POLL: Duration = Duration::from_millis(100);
/// errno of a missing path (Linux and macOS agree).
const ENOENT: i32 = 2;

/// The git part of a history finding: its blob and the commits that
/// introduced it (the first one first).
#[derive(Clone, PartialEq, Eq)]
pub struct GitContext {
    /// The blob id (hex).
    pub blob: String,
    /// The introducing commits (one unless `all_provenance`).
    pub provenance: Vec<Provenance>,
    /// Whether every introducing commit was asked for: the record then has a
    /// `provenance` list, as with `keysweep scan --git --all-provenance`.
    pub all: bool,
}

impl GitContext {
    /// Adds `commit`, `blob` and (with `all`) `provenance` to a finding's
    /// record, as the command line's JSON does.
    pub fn write_record(&self, py: Python<'_>, d: &Bound<'_, PyDict>) -> PyResult<()> {
        if let Some(first) = self.provenance.first() {
            d.set_item("commit", commit_record(py, first)?)?;
        }
        d.set_item("blob", &self.blob)?;
        if self.all {
            let list = PyList::empty(py);
            for p in &self.provenance {
                list.append(commit_record(py, p)?)?;
            }
            d.set_item("provenance", list)?;
        }
        Ok(())
    }

    /// Reads the git keys of a record, if it has any.
    pub fn from_record(d: &Bound<'_, PyDict>) -> PyResult<Option<GitContext>> {
        let commit = d.get_item("commit")?.filter(|v| !v.is_none());
        let provenance = d.get_item("provenance")?.filter(|v| !v.is_none());
        let blob = match d.get_item("blob")?.filter(|v| !v.is_none()) {
            Some(b) => b.extract::<String>()?,
            None if commit.is_some() || provenance.is_some() => {
                return Err(PyKeyError::new_err("blob"))
            }
            None => return Ok(None),
        };
        let (provenance, all) = match (provenance, commit) {
            (Some(list), _) => {
                let mut out = Vec::new();
                for item in list.try_iter()? {
                    out.push(provenance_from_record(item?.cast::<PyDict>()?)?);
                }
                (out, true)
            }
            (None, Some(c)) => (vec![provenance_from_record(c.cast::<PyDict>()?)?], false),
            (None, None) => (Vec::new(), false),
        };
        Ok(Some(GitContext {
            blob,
            provenance,
            all,
        }))
    }

    /// Hashes what identifies the context (the blob).
    pub fn hash_into(&self, h: &mut impl Hasher) {
        self.blob.hash(h);
    }
}

/// `ProvenanceRecord` of the command line's JSON: the commit's metadata and
/// the path of the secret in it.
fn commit_record<'py>(py: Python<'py>, p: &Provenance) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("commit", &p.commit.id)?;
    d.set_item("author", &p.commit.author)?;
    d.set_item("email", &p.commit.email)?;
    d.set_item("date", &p.commit.date)?;
    d.set_item("summary", &p.commit.summary)?;
    d.set_item("path", &p.path)?;
    Ok(d)
}

fn provenance_from_record(d: &Bound<'_, PyDict>) -> PyResult<Provenance> {
    let get = |k: &str| -> PyResult<String> {
        match d.get_item(k)? {
            Some(v) => v.extract(),
            None => Err(PyKeyError::new_err(format!("commit.{k}"))),
        }
    };
    Ok(Provenance {
        commit: Arc::new(CommitInfo {
            id: get("commit")?,
            author: get("author")?,
            email: get("email")?,
            date: get("date")?,
            summary: get("summary")?,
        }),
        path: get("path")?,
    })
}

/// A commit that introduced a secret, and the secret's path in it.
#[pyclass(frozen, module = "keysweep", name = "Commit")]
pub struct PyCommit(pub Provenance);

#[pymethods]
impl PyCommit {
    /// The full commit id (hex).
    #[getter]
    fn id(&self) -> &str {
        &self.0.commit.id
    }
    /// The author's name.
    #[getter]
    fn author(&self) -> &str {
        &self.0.commit.author
    }
    /// The author's email.
    #[getter]
    fn email(&self) -> &str {
        &self.0.commit.email
    }
    /// The author date, ISO 8601 with offset (`datetime.fromisoformat` reads it).
    #[getter]
    fn date(&self) -> &str {
        &self.0.commit.date
    }
    /// The first line of the commit message.
    #[getter]
    fn summary(&self) -> &str {
        &self.0.commit.summary
    }
    /// The path of the secret's file in this commit.
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }

    /// The record `keysweep scan --git --format json` writes under `commit`
    /// (keys `commit`, `author`, `email`, `date`, `summary`, `path`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        commit_record(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Commit(id={}, author={}, date={}, path={})",
            py_repr(py, &self.0.commit.id)?,
            py_repr(py, &self.0.commit.author)?,
            py_repr(py, &self.0.commit.date)?,
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
        self.0.commit.id.hash(&mut h);
        self.0.path.hash(&mut h);
        h.finish()
    }
}

/// The history range the keyword arguments of `scan_git` select (as the
/// command line's `--since-commit` / `--log-opts`).
pub fn range_of(
    since_commit: Option<String>,
    log_opts: Option<String>,
    all_refs: bool,
) -> PyResult<Range> {
    Ok(match (since_commit, log_opts) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "since_commit and log_opts cannot be used together",
            ))
        }
        (Some(rev), None) if all_refs => Range::Since(rev),
        (Some(rev), None) => Range::Custom {
            tips: vec!["HEAD".into()],
            hidden: vec![rev],
        },
        (None, Some(spec)) => {
            if spec.trim().is_empty() {
                return Err(PyValueError::new_err("log_opts must not be empty"));
            }
            Range::parse(&spec)
        }
        (None, None) if all_refs => Range::All,
        (None, None) => Range::parse("HEAD"),
    })
}

/// Runs `work` on its own thread and waits for its result without the GIL,
/// checking for signals every [`POLL`]. On KeyboardInterrupt (or any error
/// a signal handler raises) the thread finishes in the background and its
/// result is dropped.
fn run_detached<T: Send + 'static>(
    py: Python<'_>,
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = crossbeam_channel::bounded::<T>(1);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(PyErr::from)?;
    loop {
        match py.detach(|| rx.recv_timeout(POLL)) {
            Ok(v) => return Ok(v),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => py.check_signals()?,
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
    let res = run_detached(py, "keysweep-git", move || {
        let all = opts.all_provenance;
        let mut out = Vec::new();
        keysweep_git::scan_history(&scanner, &path, &opts, |hf| {
            out.push(PyFinding::from_history(hf, all));
        })?;
        sort_findings(&mut out);
        Ok::<_, keysweep_git::Error>(out)
    })?;
    res.map_err(|e| git_error(py, e, &repo))
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
    let res = run_detached(py, "keysweep-staged", move || {
        let (found, _stats) = keysweep_git::scan_staged(&scanner, &path, &opts)?;
        let mut out: Vec<PyFinding> = found.into_iter().map(PyFinding::from_core).collect();
        sort_findings(&mut out);
        Ok::<_, keysweep_git::Error>(out)
    })?;
    res.map_err(|e| git_error(py, e, &repo))
}
