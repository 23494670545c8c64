//! `Finding` and `Secret`: what a scan reports, redacted unless asked.

use keysweep_core::Finding;
use keysweep_report::{Item, Record};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use crate::git::PyCommit;
use crate::rules::py_repr;

/// The raw bytes of a secret and its redacted form (as computed by the core's
/// `Secret::redacted`, which is the only place the redaction rule lives).
#[derive(Clone)]
pub struct SecretValue {
    raw: Arc<[u8]>,
    redacted: String,
}

impl SecretValue {
    fn of(s: &keysweep_core::Secret) -> SecretValue {
        SecretValue {
            raw: Arc::from(s.expose()),
            redacted: s.redacted(),
        }
    }
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
///
/// Holds `keysweep_report::Item`, the finding and its origin; its record
/// (`to_dict`) and its reading back (`from_dict`) are `keysweep_report::Record`,
/// the code the command line's JSON report uses.
#[pyclass(frozen, module = "keysweep", name = "Finding")]
pub struct PyFinding {
    item: Item,
}

impl PyFinding {
    /// Converts a core finding (no Python objects involved, so this runs
    /// without the GIL).
    pub fn from_core(f: Finding) -> PyFinding {
        PyFinding {
            item: Item::plain(f),
        }
    }

    /// Converts a history finding; `all` says whether every introducing
    /// commit was asked for (the record then lists them under `provenance`).
    pub fn from_history(hf: keysweep_git::HistoryFinding, all: bool) -> PyFinding {
        PyFinding {
            item: Item::from_history(hf, all),
        }
    }

    /// The finding and its origin.
    pub fn item(&self) -> &Item {
        &self.item
    }

    /// The hex fingerprint (what baselines match on).
    pub fn fingerprint_hex(&self) -> String {
        self.item.finding.fingerprint.to_hex()
    }

    fn record(&self, reveal: bool) -> Record {
        Record::new(&self.item, reveal)
    }
}

/// Sorts findings like the command line's reports
/// (`keysweep_report::Item::report_order`).
pub fn sort_findings(v: &mut [PyFinding]) {
    v.sort_by(|a, b| a.item.report_order(&b.item));
}

/// The first 12 characters of an id (on a character boundary: ids read by
/// `from_dict` may be any text).
fn short(id: &str) -> &str {
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

/// A value as Python sees its JSON: through the `json` module, so a record
/// is exactly what `json.loads` of the command line's report gives.
pub(crate) fn to_python<'py>(
    py: Python<'py>,
    v: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// A dict read as a `Record` (through the `json` module).
fn record_of(d: &Bound<'_, PyDict>) -> PyResult<Record> {
    let text: String = d
        .py()
        .import("json")?
        .call_method1("dumps", (d,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("missing field `") {
            Some(rest) => {
                PyKeyError::new_err(rest.split('`').next().unwrap_or_default().to_string())
            }
            None => PyValueError::new_err(format!("invalid finding record: {msg}")),
        }
    })
}

#[pymethods]
impl PyFinding {
    /// The id of the rule that found it, e.g. `ks.aws.1`.
    #[getter]
    fn rule_id(&self) -> &str {
        &self.item.finding.rule.id
    }
    /// The rule's name.
    #[getter]
    fn rule_name(&self) -> &str {
        &self.item.finding.rule.name
    }
    /// The rule's kind.
    #[getter]
    fn kind(&self) -> &str {
        &self.item.finding.rule.kind
    }
    /// `info`, `low`, `medium`, `high` or `critical`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.item.finding.rule.severity.as_str()
    }
    /// The path as given to the scan (`None` for unnamed input).
    #[getter]
    fn path(&self) -> Option<String> {
        self.item
            .finding
            .path
            .as_deref()
            .map(|p| p.to_string_lossy().into_owned())
    }
    /// 1-based line of the secret's first byte.
    #[getter]
    fn line(&self) -> usize {
        self.item.finding.line
    }
    /// 1-based column (characters) of the secret's first byte.
    #[getter]
    fn column(&self) -> usize {
        self.item.finding.column
    }
    /// 1-based line of the secret's last byte.
    #[getter]
    fn end_line(&self) -> usize {
        self.item.finding.end_line
    }
    /// 1-based column just after the secret's last byte.
    #[getter]
    fn end_column(&self) -> usize {
        self.item.finding.end_column
    }
    /// Byte range of the secret, (start, end).
    #[getter]
    fn span(&self) -> (usize, usize) {
        (self.item.finding.span.start, self.item.finding.span.end)
    }
    /// The keyed fingerprint (64 hex digits).
    #[getter]
    fn fingerprint(&self) -> String {
        self.fingerprint_hex()
    }
    /// Shannon entropy of the secret, bits per byte.
    #[getter]
    fn entropy(&self) -> f64 {
        self.item.finding.entropy
    }
    /// The line holding the secret, redacted.
    #[getter]
    fn snippet(&self) -> &str {
        &self.item.finding.snippet
    }
    /// The decodings the secret was found under, outermost first (`base64`,
    /// `hex`, `percent`, `escape`, `html`); empty for a plain secret. For a
    /// decoded one, the position is that of the encoded span.
    #[getter]
    fn decoded(&self) -> Vec<&'static str> {
        self.item
            .finding
            .decoded
            .iter()
            .map(|e| e.as_str())
            .collect()
    }

    /// The matched secret (redacted unless `.reveal()`ed).
    #[getter]
    fn secret(&self) -> PySecret {
        PySecret(SecretValue::of(&self.item.finding.secret))
    }

    /// The redacted secret, e.g. `AKIA*****`.
    #[getter]
    fn secret_redacted(&self) -> String {
        self.item.finding.secret.redacted()
    }

    /// History findings (`Scanner.scan_git`): the commit that first
    /// introduced the secret's blob, and the path there; None otherwise.
    #[getter]
    fn commit(&self) -> Option<PyCommit> {
        self.item
            .git()
            .and_then(|g| g.provenance.first())
            .map(|c| PyCommit(c.clone()))
    }

    /// History findings: the id (hex) of the blob holding the secret; None
    /// otherwise.
    #[getter]
    fn blob(&self) -> Option<&str> {
        self.item.git().map(|g| g.blob.as_str())
    }

    /// History findings: the commits that introduced the blob, the first one
    /// first (all of them with `scan_git(all_provenance=True)`, else only the
    /// first); empty for other findings.
    #[getter]
    fn provenance(&self) -> Vec<PyCommit> {
        self.item
            .git()
            .map(|g| g.provenance.iter().cloned().map(PyCommit).collect())
            .unwrap_or_default()
    }

    /// The record `keysweep scan --format json` writes for this finding (the
    /// entries of its `findings` list). The raw secret is included under
    /// `secret` only with `reveal=True`. History findings add `commit` and
    /// `blob` (and `provenance` with `all_provenance=True`), as
    /// `keysweep scan --git --format json` does.
    #[pyo3(signature = (reveal = false))]
    fn to_dict<'py>(&self, py: Python<'py>, reveal: bool) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.record(reveal))
    }

    /// Rebuilds a Finding from a `to_dict(reveal=True)` record or a record of
    /// `keysweep scan --format json --reveal` (with `--git`: its `commit`,
    /// `blob` and `provenance` too). The raw `secret` is required; `entropy`
    /// is recomputed from it.
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyDict>) -> PyResult<PyFinding> {
        let record = record_of(d)?;
        if record.secret.is_none() {
            return Err(PyKeyError::new_err(
                "secret (from_dict needs the raw secret: a record written with \
                 to_dict(reveal=True) or `keysweep scan --reveal`)",
            ));
        }
        if record.blob.is_none() && (record.commit.is_some() || record.provenance.is_some()) {
            return Err(PyKeyError::new_err("blob"));
        }
        record
            .to_item()
            .map(|item| PyFinding { item })
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let f = &self.item.finding;
        let path = match self.path() {
            Some(p) => py_repr(py, &p)?,
            None => "None".to_string(),
        };
        let commit = match self.item.git().and_then(|g| g.provenance.first()) {
            Some(c) => format!(", commit={}", py_repr(py, short(&c.commit))?),
            None => String::new(),
        };
        Ok(format!(
            "Finding(rule_id={}, kind={}, path={}, line={}, column={}, secret={}, fingerprint={}{commit})",
            py_repr(py, &f.rule.id)?,
            py_repr(py, &f.rule.kind)?,
            path,
            f.line,
            f.column,
            py_repr(py, &f.secret.redacted())?,
            py_repr(py, &f.fingerprint.short())?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        let Ok(o) = other.cast::<PyFinding>() else {
            return false;
        };
        let (a, b) = (&self.item, &o.get().item);
        // The revealed records hold every field; the raw paths may differ
        // in a leading `./` that records do not show.
        a.finding.path == b.finding.path
            && a.finding.entropy.to_bits() == b.finding.entropy.to_bits()
            && SecretValue::of(&a.finding.secret) == SecretValue::of(&b.finding.secret)
            && self.record(true) == o.get().record(true)
    }

    fn __hash__(&self) -> u64 {
        let f = &self.item.finding;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        f.rule.id.hash(&mut h);
        f.path.hash(&mut h);
        f.span.hash(&mut h);
        f.fingerprint.hash(&mut h);
        self.item.git().map(|g| &g.blob).hash(&mut h);
        h.finish()
    }
}
