//! `Finding` and `Secret`: what a scan reports, redacted unless asked.

use keysweep_core::{shannon_entropy, Finding};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use crate::git::{GitContext, PyCommit};
use crate::rules::py_repr;

/// The raw bytes of a secret and its redacted form (as computed by the core's
/// `Secret::redacted`, which is the only place the redaction rule lives).
#[derive(Clone)]
pub struct SecretValue {
    raw: Arc<[u8]>,
    redacted: String,
}

impl SecretValue {
    fn expose(&self) -> &[u8] {
        &self.raw
    }
    fn len(&self) -> usize {
        self.raw.len()
    }
    fn redacted(&self) -> String {
        self.redacted.clone()
    }
}

impl PartialEq for SecretValue {
    fn eq(&self, o: &Self) -> bool {
        constant_time_eq(&self.raw, &o.raw)
    }
}

/// A matched secret. `str()` and `repr()` are redacted; `reveal()` returns it.
#[pyclass(frozen, module = "keysweep", name = "Secret")]
pub struct PySecret(pub SecretValue);

#[pymethods]
impl PySecret {
    /// The raw secret as text (invalid UTF-8 is replaced by U+FFFD). Hand it
    /// only to what needs it (a rotation, a revocation call); never log it.
    fn reveal(&self) -> String {
        String::from_utf8_lossy(self.0.expose()).into_owned()
    }

    /// The raw secret bytes.
    fn reveal_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.0.expose())
    }

    /// The redacted form, e.g. `ghp_*****`.
    #[getter]
    fn redacted(&self) -> String {
        self.0.redacted()
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __str__(&self) -> String {
        self.0.redacted()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Secret({}, len={})",
            py_repr(py, &self.0.redacted())?,
            self.0.len()
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PySecret>() {
            Ok(o) => self.0 == o.get().0,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        // Keyed per process, like Python's own str hashes, so a hash value
        // cannot be used to confirm a guessed secret elsewhere.
        static STATE: std::sync::OnceLock<std::collections::hash_map::RandomState> =
            std::sync::OnceLock::new();
        let state = STATE.get_or_init(std::collections::hash_map::RandomState::new);
        state.hash_one(self.0.expose())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One detected secret. Immutable; `repr()` never shows the raw secret.
#[pyclass(frozen, module = "keysweep", name = "Finding")]
pub struct PyFinding {
    #[pyo3(get)]
    rule_id: String,
    #[pyo3(get)]
    rule_name: String,
    #[pyo3(get)]
    kind: String,
    #[pyo3(get)]
    severity: String,
    #[pyo3(get)]
    path: Option<String>,
    #[pyo3(get)]
    line: usize,
    #[pyo3(get)]
    column: usize,
    #[pyo3(get)]
    end_line: usize,
    #[pyo3(get)]
    end_column: usize,
    #[pyo3(get)]
    span: (usize, usize),
    #[pyo3(get)]
    fingerprint: String,
    #[pyo3(get)]
    entropy: f64,
    #[pyo3(get)]
    snippet: String,
    secret: SecretValue,
    /// History findings: the blob and the commits that introduced it.
    git: Option<GitContext>,
}

impl PyFinding {
    /// Converts a core finding (no Python objects involved, so this runs
    /// without the GIL).
    pub fn from_core(f: Finding) -> PyFinding {
        PyFinding {
            rule_id: f.rule.id.clone(),
            rule_name: f.rule.name.clone(),
            kind: f.rule.kind.clone(),
            severity: f.rule.severity.as_str().to_string(),
            path: f.path.as_deref().map(|p| p.to_string_lossy().into_owned()),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            span: (f.span.start, f.span.end),
            fingerprint: f.fingerprint.to_hex(),
            entropy: f.entropy,
            snippet: f.snippet,
            secret: SecretValue {
                raw: Arc::from(f.secret.expose()),
                redacted: f.secret.redacted(),
            },
            git: None,
        }
    }

    /// Converts a history finding; `all` says whether every introducing
    /// commit was asked for (the record then lists them under `provenance`).
    pub fn from_history(hf: keysweep_git::HistoryFinding, all: bool) -> PyFinding {
        let mut f = PyFinding::from_core(hf.finding);
        f.git = Some(GitContext {
            blob: hf.blob,
            provenance: hf.provenance,
            all,
        });
        f
    }

    /// The hex fingerprint (what baselines match on).
    pub fn fingerprint_hex(&self) -> &str {
        &self.fingerprint
    }

    /// The path as recorded (`None` for unnamed input).
    pub fn path_str(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The rule id.
    pub fn rule_id(&self) -> &str {
        &self.rule_id
    }

    /// The sort key: the command line's (path, offset, rule id), then the
    /// blob, so that history findings sort deterministically (each blob is
    /// reported once).
    fn key(&self) -> (&Option<String>, usize, &str, Option<&str>) {
        (
            &self.path,
            self.span.0,
            &self.rule_id,
            self.git.as_ref().map(|g| g.blob.as_str()),
        )
    }
}

/// A path as the command line prints it: no leading `./`, `/` separators.
/// Mirrors `keysweep-cli`'s `report::display_path`.
fn display_path(p: &str) -> String {
    let s = p.strip_prefix("./").unwrap_or(p);
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

/// The first 12 characters of an id (on a character boundary: ids read by
/// `from_dict` may be any text).
fn short(id: &str) -> &str {
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

/// Sorts findings like the command line's reports: by path, offset, rule id.
pub fn sort_findings(v: &mut [PyFinding]) {
    v.sort_by(|a, b| a.key().cmp(&b.key()));
}

#[pymethods]
impl PyFinding {
    /// The matched secret (redacted unless `.reveal()`ed).
    #[getter]
    fn secret(&self) -> PySecret {
        PySecret(self.secret.clone())
    }

    /// The redacted secret, e.g. `AKIA*****`.
    #[getter]
    fn secret_redacted(&self) -> String {
        self.secret.redacted()
    }

    /// History findings (`Scanner.scan_git`): the commit that first
    /// introduced the secret's blob, and the path there; None otherwise.
    #[getter]
    fn commit(&self) -> Option<PyCommit> {
        self.git
            .as_ref()
            .and_then(|g| g.provenance.first())
            .map(|p| PyCommit(p.clone()))
    }

    /// History findings: the id (hex) of the blob holding the secret; None
    /// otherwise.
    #[getter]
    fn blob(&self) -> Option<&str> {
        self.git.as_ref().map(|g| g.blob.as_str())
    }

    /// History findings: the commits that introduced the blob, the first one
    /// first (all of them with `scan_git(all_provenance=True)`, else only the
    /// first); empty for other findings.
    #[getter]
    fn provenance(&self) -> Vec<PyCommit> {
        self.git
            .as_ref()
            .map(|g| g.provenance.iter().cloned().map(PyCommit).collect())
            .unwrap_or_default()
    }

    /// The record `keysweep scan --format json` writes for this finding (the
    /// entries of its `findings` list). The raw secret is included under
    /// `secret` only with `reveal=True`. History findings add `commit` and
    /// `blob` (and `provenance` with `all_provenance=True`), as
    /// `keysweep scan --git --format json` does.
    #[pyo3(signature = (reveal = false))]
    fn to_dict<'py>(&self, py: Python<'py>, reveal: bool) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("rule_id", &self.rule_id)?;
        d.set_item("rule_name", &self.rule_name)?;
        d.set_item("kind", &self.kind)?;
        d.set_item("severity", &self.severity)?;
        d.set_item(
            "path",
            self.path.as_deref().map(display_path).unwrap_or_default(),
        )?;
        d.set_item("line", self.line)?;
        d.set_item("column", self.column)?;
        d.set_item("end_line", self.end_line)?;
        d.set_item("end_column", self.end_column)?;
        d.set_item("byte_start", self.span.0)?;
        d.set_item("byte_end", self.span.1)?;
        d.set_item("fingerprint", &self.fingerprint)?;
        // Same rounding as the command line's record.
        d.set_item("entropy", (self.entropy * 1000.0).round() / 1000.0)?;
        d.set_item("secret_redacted", self.secret.redacted())?;
        if reveal {
            d.set_item("secret", self.reveal_text())?;
        }
        d.set_item("snippet", &self.snippet)?;
        if let Some(g) = &self.git {
            g.write_record(py, &d)?;
        }
        Ok(d)
    }

    /// Rebuilds a Finding from a `to_dict(reveal=True)` record or a record of
    /// `keysweep scan --format json --reveal` (with `--git`: its `commit`,
    /// `blob` and `provenance` too). The raw `secret` is required; `entropy`
    /// is recomputed from it.
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyDict>) -> PyResult<PyFinding> {
        fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, k: &str) -> PyResult<T> {
            match d.get_item(k)? {
                Some(v) => v.extract::<T>().map_err(Into::into),
                None => Err(PyKeyError::new_err(k.to_string())),
            }
        }
        let secret: String = match d.get_item("secret")? {
            Some(v) => v.extract()?,
            None => {
                return Err(PyKeyError::new_err(
                    "secret (from_dict needs the raw secret: a record written with \
                     to_dict(reveal=True) or `keysweep scan --reveal`)",
                ))
            }
        };
        let span: (usize, usize) = (get(d, "byte_start")?, get(d, "byte_end")?);
        if span.1.checked_sub(span.0) != Some(secret.len()) {
            return Err(PyValueError::new_err(
                "byte_end - byte_start does not match the length of the secret",
            ));
        }
        let path: String = get(d, "path")?;
        let git = GitContext::from_record(d)?;
        Ok(PyFinding {
            rule_id: get(d, "rule_id")?,
            rule_name: get(d, "rule_name")?,
            kind: get(d, "kind")?,
            severity: get(d, "severity")?,
            path: (!path.is_empty()).then_some(path),
            line: get(d, "line")?,
            column: get(d, "column")?,
            end_line: get(d, "end_line")?,
            end_column: get(d, "end_column")?,
            span,
            fingerprint: get(d, "fingerprint")?,
            entropy: shannon_entropy(secret.as_bytes()),
            snippet: get(d, "snippet")?,
            secret: SecretValue {
                raw: Arc::from(secret.into_bytes()),
                redacted: get(d, "secret_redacted")?,
            },
            git,
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let path = match &self.path {
            Some(p) => py_repr(py, p)?,
            None => "None".to_string(),
        };
        let commit = match self.git.as_ref().and_then(|g| g.provenance.first()) {
            Some(p) => format!(", commit={}", py_repr(py, short(&p.commit.id))?),
            None => String::new(),
        };
        Ok(format!(
            "Finding(rule_id={}, kind={}, path={}, line={}, column={}, secret={}, fingerprint={}{commit})",
            py_repr(py, &self.rule_id)?,
            py_repr(py, &self.kind)?,
            path,
            self.line,
            self.column,
            py_repr(py, &self.secret.redacted())?,
            py_repr(py, short(&self.fingerprint))?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        let Ok(o) = other.cast::<PyFinding>() else {
            return false;
        };
        let o = o.get();
        self.rule_id == o.rule_id
            && self.rule_name == o.rule_name
            && self.kind == o.kind
            && self.severity == o.severity
            && self.path == o.path
            && (self.line, self.column, self.end_line, self.end_column)
                == (o.line, o.column, o.end_line, o.end_column)
            && self.span == o.span
            && self.fingerprint == o.fingerprint
            && self.entropy.to_bits() == o.entropy.to_bits()
            && self.snippet == o.snippet
            && self.secret == o.secret
            && self.git == o.git
    }

    fn __hash__(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.rule_id.hash(&mut h);
        self.path.hash(&mut h);
        self.span.hash(&mut h);
        self.fingerprint.hash(&mut h);
        if let Some(g) = &self.git {
            g.hash_into(&mut h);
        }
        h.finish()
    }
}

impl PyFinding {
    fn reveal_text(&self) -> String {
        String::from_utf8_lossy(self.secret.expose()).into_owned()
    }
}
