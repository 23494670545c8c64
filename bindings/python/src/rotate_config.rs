//! Config-driven rotation, as `keysweep rotate locate` and `keysweep rotate
//! plan --config` do it: `locate()` (where findings' values are stored, and
//! suggested `[[rotation]]` entries) and `plan_from_config()` (plans for the
//! config's entries that match findings, fingerprints or names).
//!
//! Everything is `keysweep-backends`' ([`RotateConfig`],
//! [`keysweep_backends::locate`], [`keysweep_backends::suggest_config`],
//! [`keysweep_backends::plan_target`]); this module converts arguments and
//! results. Results hold places, ids and fingerprints, never values.

use crate::errors::{rotation_error, RotationKind};
use crate::rotation::{
    block_on, chain, check_env, io_error, json_of, key, read_text, value_error, Failure,
    PyRotationPlan,
};
use crate::rules::py_repr;
use keysweep_backends::{
    ConfigError, FindingRef, LocateError, LocateOptions, LocateReport, PlanError, RotateConfig,
    VaultMount,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use serde_json::Value;
use std::path::PathBuf;

/// `config`, or `./keysweep-rotate.toml` when it exists, or an empty config.
fn load_config(py: Python<'_>, config: Option<PathBuf>) -> PyResult<RotateConfig> {
    match py.detach(|| RotateConfig::load(config.as_deref())) {
        Ok(c) => Ok(c),
        Err(ConfigError::Read { path, source }) => Err(io_error(py, &path, &source)),
        Err(e) => Err(value_error(chain(&e))),
    }
}

/// One finding record: a `Finding` (its `to_dict()`) or a mapping with the
/// keys of `keysweep scan --format json` records; only the keys rotation
/// needs are read (never `secret`).
fn record(item: &Bound<'_, PyAny>) -> PyResult<Value> {
    let item = if item.hasattr("to_dict")? && !item.is_instance_of::<pyo3::types::PyDict>() {
        item.call_method0("to_dict")?
    } else {
        item.clone()
    };
    if !item.hasattr("keys")? {
        return Err(PyTypeError::new_err(format!(
            "findings must hold Finding objects or mappings, not {}",
            item.get_type().name()?
        )));
    }
    let mut o = serde_json::Map::new();
    for k in ["rule_id", "kind", "path", "fingerprint"] {
        if item.contains(k)? {
            if let Ok(s) = item.get_item(k)?.extract::<String>() {
                o.insert(k.into(), s.into());
            }
        }
    }
    if item.contains("line")? {
        if let Ok(n) = item.get_item("line")?.extract::<u64>() {
            o.insert("line".into(), n.into());
        }
    }
    Ok(Value::Object(o))
}

/// Findings from a findings file (path) or an iterable of records, parsed
/// by `keysweep_backends::parse_findings` either way.
fn findings_arg(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<FindingRef>> {
    let (origin, text) = if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        let path: PathBuf = obj.extract()?;
        let text = read_text(py, &path)?;
        (path.to_string_lossy().into_owned(), text)
    } else {
        let mut records = Vec::new();
        for item in obj.try_iter().map_err(|_| {
            PyTypeError::new_err(
                "findings must be a path to a findings file or an iterable of findings",
            )
        })? {
            records.push(record(&item?)?);
        }
        ("findings".to_string(), Value::Array(records).to_string())
    };
    keysweep_backends::parse_findings(&text).map_err(|e| value_error(format!("{origin}: {e}")))
}

// ---------------------------------------------------------------------------
// locate()

/// What `locate()` found: where each finding's value is stored, which
/// findings were found nowhere, and suggested `[[rotation]]` entries.
#[pyclass(frozen, module = "keysweep.rotation", name = "LocateResult")]
pub struct PyLocateResult {
    report: LocateReport,
    suggested: String,
}

#[pymethods]
impl PyLocateResult {
    /// What was searched (`AWS Secrets Manager`, `Vault secret/`).
    #[getter]
    fn searched(&self) -> Vec<String> {
        self.report.searched.clone()
    }

    /// One dict per (finding, place): `rule_id`, `fingerprint`, `kind`,
    /// `path`, `line`, `store` (`{"kind", "locator", "options"}`), `field`,
    /// `version`, `labels`, `hints`.
    #[getter]
    fn located<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.report.located)
    }

    /// The findings found in no searched store (`rule_id`, `kind`, `path`,
    /// `line`, `fingerprint`).
    #[getter]
    fn not_located<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.report.not_located)
    }

    /// Suggested `[[rotation]]` entries (TOML to append to
    /// keysweep-rotate.toml), as `keysweep rotate locate --suggest-config`
    /// writes them.
    #[getter]
    fn suggested_config(&self) -> &str {
        &self.suggested
    }

    /// `{"searched", "located", "not_located"}`, as `keysweep rotate locate
    /// --format json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.report)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "LocateResult(searched={}, located={}, not_located={})",
            py_repr(py, &self.report.searched.join(", "))?,
            self.report.located.len(),
            self.report.not_located.len(),
        ))
    }
}

/// Finds where the findings' values are stored (AWS Secrets Manager, Vault
/// KV v2 mounts) by keyed fingerprint, as `keysweep rotate locate` does.
#[pyfunction]
#[pyo3(signature = (
    findings, config = None, *, vault_mounts = Vec::new(), aws = true, aws_prefix = None,
    endpoint_url = None, region = None, fingerprint_key = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn locate(
    py: Python<'_>,
    findings: &Bound<'_, PyAny>,
    config: Option<PathBuf>,
    vault_mounts: Vec<String>,
    aws: bool,
    aws_prefix: Option<String>,
    endpoint_url: Option<String>,
    region: Option<String>,
    fingerprint_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyLocateResult> {
    let cfg = load_config(py, config)?;
    let findings = findings_arg(py, findings)?;
    let mut opts = LocateOptions::from_config(&cfg);
    for m in &vault_mounts {
        opts.vault_mounts.push(
            m.parse::<VaultMount>()
                .map_err(|e| value_error(e.to_string()))?,
        );
    }
    if !aws {
        opts.aws = None;
    }
    if let Some(a) = &mut opts.aws {
        a.options = cfg.aws_defaults(endpoint_url.as_deref(), region.as_deref());
        if aws_prefix.is_some() {
            a.name_prefix = aws_prefix;
        }
    }
    let key = key(fingerprint_key)?;
    check_env(py)?;
    let res = block_on(py, async move {
        keysweep_backends::locate(&findings, key, &opts).await
    })?;
    match res {
        Ok(report) => Ok(PyLocateResult {
            suggested: keysweep_backends::suggest_config(&report.located),
            report,
        }),
        Err(e @ (LocateError::NoFindings | LocateError::NothingToSearch)) => {
            Err(value_error(e.to_string()))
        }
        Err(e) => {
            let msg = format!("locate: {}", chain(&e));
            let err = rotation_error(py, RotationKind::Other, &msg)?;
            let class = match &e {
                LocateError::Aws(b) | LocateError::VaultSettings(b) => Some(b.class.as_str()),
                LocateError::Vault { source, .. } => Some(source.class.as_str()),
                _ => Some("unsupported"),
            };
            err.value(py).setattr("error_class", class)?;
            Err(err)
        }
    }
}

// ---------------------------------------------------------------------------
// plan_from_config()

/// Plans the config's `[[rotation]]` entries that match the findings (a
/// findings file or records), fingerprints or names (all entries when none
/// is given), as `keysweep rotate plan --config ... --findings ...` does.
/// Returns (entry name, plan) pairs, for `save_plans()`.
#[pyfunction]
#[pyo3(signature = (
    findings = None, config = None, *, fingerprints = Vec::new(), rotations = Vec::new(),
    endpoint_url = None, region = None, fingerprint_key = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn plan_from_config(
    py: Python<'_>,
    findings: Option<&Bound<'_, PyAny>>,
    config: Option<PathBuf>,
    fingerprints: Vec<String>,
    rotations: Vec<String>,
    endpoint_url: Option<String>,
    region: Option<String>,
    fingerprint_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<(String, PyRotationPlan)>> {
    let cfg = load_config(py, config)?;
    let findings = findings.map(|f| findings_arg(py, f)).transpose()?;
    let aws = cfg.aws_defaults(endpoint_url.as_deref(), region.as_deref());
    let targets = cfg
        .planned_targets(findings.as_deref(), &fingerprints, &rotations, &aws)
        .map_err(|e| value_error(chain(&e)))?;
    let key = key(fingerprint_key)?;
    check_env(py)?;
    let res = block_on(py, async move {
        let mut plans = Vec::new();
        for t in &targets {
            plans.push(keysweep_backends::plan_target(t, &key).await?);
        }
        Ok::<_, PlanError>(plans)
    })?;
    match res {
        Ok(plans) => Ok(plans
            .into_iter()
            .map(|np| (np.name, PyRotationPlan(np.plan)))
            .collect()),
        Err(PlanError::Plan {
            name,
            store,
            source,
        }) => Err(Failure::Engine {
            op: format!("plan {name:?} ({store})"),
            error: source,
            rotation_id: None,
            status: None,
        }
        .into_pyerr(py)),
        Err(e @ (PlanError::Store { .. } | PlanError::Issuer { .. })) => {
            let class = match &e {
                PlanError::Store { source, .. } | PlanError::Issuer { source, .. } => source.class,
                PlanError::Plan { .. } => unreachable!("matched above"),
            };
            Err(Failure::Backend {
                message: format!("plan: {}", chain(&e)),
                class,
            }
            .into_pyerr(py))
        }
    }
}
