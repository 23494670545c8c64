//! `Baseline` and `BaselineEntry`: the accepted findings of a
//! `.keysweep-baseline.json` file (`keysweep_core::Baseline`), read, written
//! and applied to findings.
//!
//! Files are read and written by the core (`Baseline::from_json` /
//! `Baseline::to_json`), so they are byte-for-byte what `keysweep baseline
//! create` writes. Identity is the keyed fingerprint of (rule id, secret).

use keysweep_core::{Baseline, BaselineEntry, FingerprintKey};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyString};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::errors::to_pyerr;
use crate::finding::PyFinding;
use crate::rules::py_repr;
use crate::scan::PyScanner;

/// A set of accepted findings, by fingerprint (immutable).
#[pyclass(frozen, module = "keysweep", name = "Baseline")]
pub struct PyBaseline {
    inner: Baseline,
    /// The entries' fingerprints (the core's map is private).
    index: HashSet<String>,
}

impl PyBaseline {
    fn new(inner: Baseline) -> PyBaseline {
        let index = inner.entries().map(|e| e.fingerprint.clone()).collect();
        PyBaseline { inner, index }
    }
}

/// Writes `text` to `path` atomically (`keysweep_report::write_atomic`: a
/// temporary file in the same directory, renamed into place when complete).
pub(crate) fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    keysweep_report::write_atomic(path, text.as_bytes()).map_err(|e| match e {
        keysweep_report::Error::Io { source, .. } | keysweep_report::Error::Write(source) => source,
        other => std::io::Error::other(other.to_string()),
    })
}

/// The fingerprint a `__contains__` argument names: a Finding's, or a str.
fn fingerprint_of(obj: &Bound<'_, PyAny>) -> Option<String> {
    if let Ok(f) = obj.cast::<PyFinding>() {
        return Some(f.get().fingerprint_hex());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s.to_cow().ok().map(|s| s.to_ascii_lowercase());
    }
    None
}

fn as_finding<'a, 'py>(item: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, PyFinding>> {
    item.cast::<PyFinding>().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected Finding objects, not {}",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })
}

#[pymethods]
impl PyBaseline {
    /// Reads a baseline file (as written by `keysweep baseline create` or
    /// `save()`). Raises ScanError when it cannot be read and RuleError (a
    /// ValueError) when it is malformed.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyBaseline> {
        py.detach(|| Baseline::load(&path))
            .map(PyBaseline::new)
            .map_err(|e| to_pyerr(py, e))
    }

    /// Parses the JSON text of a baseline; `origin` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, *, origin = None))]
    fn from_json(py: Python<'_>, text: &str, origin: Option<&str>) -> PyResult<PyBaseline> {
        Baseline::from_json(origin.unwrap_or("<string>"), text)
            .map(PyBaseline::new)
            .map_err(|e| to_pyerr(py, e))
    }

    /// A baseline accepting `findings` (what `keysweep baseline create`
    /// writes for them). `scanner` is the Scanner that found them: the file
    /// records whether its fingerprint key is the built-in one or a custom
    /// one. Without it, the key a default `Scanner()` uses is assumed (from
    /// `KEYSWEEP_FINGERPRINT_KEY`, else the built-in one).
    #[staticmethod]
    #[pyo3(signature = (findings, *, scanner = None))]
    fn from_findings(
        py: Python<'_>,
        findings: &Bound<'_, PyAny>,
        scanner: Option<&Bound<'_, PyScanner>>,
    ) -> PyResult<PyBaseline> {
        let mut items = Vec::new();
        for item in findings.try_iter()? {
            let item = item?;
            items.push(as_finding(&item)?.get().item().finding.clone());
        }
        let key = match scanner {
            Some(s) => s.get().fingerprint_key().clone(),
            None => FingerprintKey::from_env(),
        };
        let _ = py;
        Ok(PyBaseline::new(Baseline::from_findings(&items, &key)))
    }

    /// The deterministic JSON text of the file (entries sorted by
    /// fingerprint, no timestamps, no secrets).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// Writes the baseline to `path` atomically (a temporary file in the same
    /// directory, renamed into place). Raises ScanError when that fails.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let text = self.inner.to_json();
        py.detach(|| write_atomic(&path, &text))
            .map_err(|e| to_pyerr(py, keysweep_core::Error::io(&path, e)))
    }

    /// The findings the baseline does not accept (the same objects, in order).
    fn filter<'py>(&self, findings: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(findings.py());
        for item in findings.try_iter()? {
            let item = item?;
            if !self
                .index
                .contains(&as_finding(&item)?.get().fingerprint_hex())
            {
                out.append(item)?;
            }
        }
        Ok(out)
    }

    /// Whether the file was made with a custom fingerprint key
    /// (`KEYSWEEP_FINGERPRINT_KEY` or `Scanner(fingerprint_key=...)`).
    #[getter]
    fn custom_key(&self) -> bool {
        self.inner.custom_key()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// `finding in baseline`, or a fingerprint (64 hex digits) `in baseline`.
    fn __contains__(&self, item: &Bound<'_, PyAny>) -> bool {
        fingerprint_of(item).is_some_and(|fp| self.index.contains(&fp))
    }

    /// The entries, sorted by fingerprint.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        let entries: Vec<PyBaselineEntry> =
            self.inner.entries().cloned().map(PyBaselineEntry).collect();
        PyList::new(py, entries)?.try_iter()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyBaseline>() {
            Ok(o) => self.inner == o.get().inner,
            Err(_) => false,
        }
    }

    fn __repr__(&self) -> String {
        format!("Baseline(<{} entries>)", self.inner.len())
    }
}

/// One accepted finding of a Baseline.
#[pyclass(frozen, module = "keysweep", name = "BaselineEntry")]
pub struct PyBaselineEntry(BaselineEntry);

#[pymethods]
impl PyBaselineEntry {
    /// The keyed fingerprint (64 hex digits).
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }
    /// The rule that found it.
    #[getter]
    fn rule_id(&self) -> &str {
        &self.0.rule_id
    }
    /// Where it was first seen (informational; `/`-separated).
    #[getter]
    fn path(&self) -> &str {
        &self.0.path
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "BaselineEntry(rule_id={}, path={}, fingerprint={})",
            py_repr(py, &self.0.rule_id)?,
            py_repr(py, &self.0.path)?,
            py_repr(py, &self.0.fingerprint)?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyBaselineEntry>() {
            Ok(o) => self.0 == o.get().0,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.fingerprint.hash(&mut h);
        h.finish()
    }
}
