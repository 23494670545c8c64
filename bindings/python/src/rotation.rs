//! Rotation of leaked credentials over `keysweep-rotate` and
//! `keysweep-backends`: `plan()`, `RotationPlan`, `Engine` (apply, status,
//! resume, rollback, finalize), `RotationStatus`, and plan files.
//!
//! This calls what `keysweep rotate` (crates/keysweep-cli/src/rotate) calls:
//! the same backends by kind ([`Backends`]), the same fingerprint key
//! (`KEYSWEEP_FINGERPRINT_KEY`), the same plan file ([`PlanFile`]:
//! `{"format": "keysweep-rotation-plan", "version": 1, "plans": [...]}`, a
//! bare plan is accepted too), the same spec and duration parsing and the
//! same journal directory rule ([`resolve_state_dir`]), all from
//! `keysweep-rotate` and `keysweep-backends`, so a plan made here can be
//! applied by the command line and the other way round.
//!
//! Async work runs on a current-thread tokio runtime made for each call,
//! without the GIL, in slices of [`POLL`] between which signals are checked.
//! On KeyboardInterrupt the operation's future is dropped where it stands,
//! exactly like a killed CLI: the journal says where it stopped and
//! `Engine.resume()` continues. A runtime per call keeps nothing alive
//! between calls (no threads, so `fork()` is safe).
//!
//! Plans and statuses hold no secret values (ids, versions and keyed
//! fingerprints only), and engine errors never quote values.

use keysweep_backends::{Backends, PlanError, PlannedTarget};
use keysweep_rotate::{
    resolve_state_dir, Engine, Error as RotateError, ErrorClass, FieldPath, FingerprintKey,
    IssuerRef, NamedPlan, PlanFile, RotationPlan, RotationStatus, StoreRef, Target, STATE_DIR_ENV,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::errors::{rotation_error, scan_error, scan_os_error, RotationKind};
use crate::rules::py_repr;

/// How long a call runs without the GIL before checking for signals.
const POLL: Duration = Duration::from_millis(100);

// ---------------------------------------------------------------------------
// Plan files ([`PlanFile`])

/// An error and its sources, `: `-separated (as the command line prints it).
pub(crate) use keysweep_core::error_chain as chain;

/// Parses a plan file, or a bare plan (named by its id), as `keysweep rotate
/// apply --plan` does. Errors name `origin`.
fn parse_plans(origin: &str, text: &str) -> PyResult<Vec<NamedPlan>> {
    PlanFile::parse(origin, text)
        .map(|f| f.plans)
        .map_err(|e| value_error(chain(&e)))
}

/// Writes `plans` as one plan file (atomically).
fn save_plan_file(py: Python<'_>, path: &Path, plans: Vec<NamedPlan>) -> PyResult<()> {
    let file = PlanFile::new(plans);
    match py.detach(|| file.save(path)) {
        Ok(()) => Ok(()),
        Err(keysweep_rotate::PlanFileError::Write { source, .. }) => {
            Err(io_error(py, path, &source))
        }
        Err(e) => Err(value_error(chain(&e))),
    }
}

pub(crate) fn read_text(py: Python<'_>, path: &Path) -> PyResult<String> {
    py.detach(|| std::fs::read_to_string(path))
        .map_err(|e| io_error(py, path, &e))
}

pub(crate) fn io_error(py: Python<'_>, path: &Path, e: &std::io::Error) -> PyErr {
    let name = path.to_string_lossy();
    match e.raw_os_error() {
        Some(code) => scan_os_error(py, code, &name),
        None => scan_error(py, &format!("{name}: {e}"), Some(&name)),
    }
}

// ---------------------------------------------------------------------------
// JSON values as Python objects

pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

pub(crate) fn json_of<'py>(py: Python<'py>, v: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, &serde_json::to_value(v).expect("serialises"))
}

// ---------------------------------------------------------------------------
// The runtime

/// Runs `fut` to completion on a fresh current-thread runtime, without the
/// GIL, checking for signals every [`POLL`]. An exception from a signal
/// handler (KeyboardInterrupt) drops the future where it stands.
pub(crate) fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            rotation_error(
                py,
                RotationKind::Other,
                &format!("cannot start the async runtime: {e}"),
            )
            .unwrap_or_else(|e| e)
        })?;
    let mut fut = Box::pin(fut);
    loop {
        let slice =
            py.detach(|| rt.block_on(async { tokio::time::timeout(POLL, fut.as_mut()).await }));
        match slice {
            Ok(out) => return Ok(out),
            Err(_elapsed) => {
                if let Err(e) = py.check_signals() {
                    // Drop the operation inside the runtime's context: its
                    // I/O resources deregister from this runtime's driver.
                    let _guard = rt.enter();
                    drop(fut);
                    return Err(e);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Errors

/// A failure of a call, turned into a Python exception once the GIL is back.
pub(crate) enum Failure {
    /// The engine's error; `rotation_id` and the status after it, when known.
    Engine {
        op: String,
        error: RotateError,
        rotation_id: Option<String>,
        status: Option<Box<RotationStatus>>,
    },
    /// A backend could not be built (unknown kind, bad settings).
    Backend { message: String, class: ErrorClass },
}

impl Failure {
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        self.build(py).unwrap_or_else(|e| e)
    }

    fn build(self, py: Python<'_>) -> PyResult<PyErr> {
        match self {
            Failure::Backend { message, class } => {
                let err = rotation_error(py, RotationKind::Other, &message)?;
                err.value(py).setattr("error_class", class.as_str())?;
                Ok(err)
            }
            Failure::Engine {
                op,
                error,
                rotation_id,
                status,
            } => {
                let kind = match &error {
                    RotateError::StalePlan { .. } | RotateError::PlanHashMismatch { .. } => {
                        RotationKind::Stale
                    }
                    RotateError::Aborted { .. } => RotationKind::Aborted,
                    RotateError::GraceNotElapsed { .. } => RotationKind::Grace,
                    _ => RotationKind::Other,
                };
                let id = match &error {
                    RotateError::StalePlan { rotation_id, .. }
                    | RotateError::PlanHashMismatch { rotation_id }
                    | RotateError::Aborted { rotation_id, .. }
                    | RotateError::InvalidState { rotation_id, .. }
                    | RotateError::GraceNotElapsed { rotation_id, .. } => Some(rotation_id.clone()),
                    RotateError::AlreadyStarted(id)
                    | RotateError::NoJournal(id)
                    | RotateError::Locked(id) => Some(id.clone()),
                    _ => rotation_id,
                };
                // `apply rot-…: step set: …`, without repeating an id the
                // engine's message already names.
                let text = error.to_string();
                let message = match &id {
                    Some(id) if !text.contains(id.as_str()) => format!("{op} {id}: {text}"),
                    _ => format!("{op}: {text}"),
                };
                let err = rotation_error(py, kind, &message)?;
                let v = err.value(py);
                v.setattr("error_class", error.class().as_str())?;
                v.setattr("rotation_id", id)?;
                let step = match &error {
                    RotateError::Step { step, .. }
                    | RotateError::Aborted { step, .. }
                    | RotateError::Crashed { step } => Some(step.to_string()),
                    _ => None,
                };
                v.setattr("step", step)?;
                v.setattr("status", status.map(|s| PyRotationStatus(*s)))?;
                match error {
                    RotateError::StalePlan { reasons, .. } => {
                        v.setattr("reasons", PyTuple::new(py, reasons)?)?;
                    }
                    RotateError::PlanHashMismatch { .. } => {
                        let why = ["plan_hash does not match its contents (the plan was edited)"];
                        v.setattr("reasons", PyTuple::new(py, why)?)?;
                    }
                    RotateError::GraceNotElapsed { remaining_secs, .. } => {
                        v.setattr("remaining", remaining_secs)?;
                    }
                    _ => {}
                }
                Ok(err)
            }
        }
    }
}

/// Refuses to run when the AWS SDK would log request bodies (secret values),
/// as the command line does (`keysweep_backends::refuse_body_logging`).
pub(crate) fn check_env(py: Python<'_>) -> PyResult<()> {
    keysweep_backends::refuse_body_logging(|k| std::env::var_os(k).is_some())
        .map_err(|e| rotation_error(py, RotationKind::Other, &e.to_string()).unwrap_or_else(|e| e))
}

// ---------------------------------------------------------------------------
// Arguments

pub(crate) fn value_error(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// `KIND:LOCATOR`.
fn parse_store(spec: &str) -> PyResult<StoreRef> {
    spec.parse()
        .map_err(|e: keysweep_rotate::SpecError| value_error(e.to_string()))
}

/// `KIND[:PRINCIPAL]`.
fn parse_issuer(spec: &str) -> PyResult<IssuerRef> {
    spec.parse()
        .map_err(|e: keysweep_rotate::SpecError| value_error(e.to_string()))
}

/// A mapping of non-secret settings: str, int, float or bool values, as the
/// CLI's config accepts them.
fn options(what: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let Some(obj) = obj else {
        return Ok(out);
    };
    let items = obj.call_method0("items").map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be a mapping of str to str, int or bool"
        ))
    })?;
    for item in items.try_iter()? {
        let (k, v): (String, Bound<'_, PyAny>) = item?.extract()?;
        let s = if v.is_instance_of::<PyBool>() {
            v.extract::<bool>()?.to_string()
        } else if v.is_instance_of::<PyString>() {
            v.extract::<String>()?
        } else if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
            v.str()?.to_string()
        } else {
            return Err(PyTypeError::new_err(format!(
                "{what}[{k:?}] must be str, int, float or bool, not {}",
                v.get_type().name()?
            )));
        };
        out.insert(k, s);
    }
    Ok(out)
}

fn field(path: Option<&str>) -> PyResult<Option<FieldPath>> {
    path.map(|p| FieldPath::new(p).map_err(|e| value_error(e.to_string())))
        .transpose()
}

/// `7d`, `12h`, `30m`, `45s` or plain seconds (the CLI's parser).
fn parse_duration(s: &str) -> PyResult<u64> {
    keysweep_rotate::parse_duration(s).map_err(|e| value_error(chain(&e)))
}

/// Seconds from an int, a duration string or a `datetime.timedelta`.
fn grace_secs(obj: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    let Some(obj) = obj else {
        return Ok(keysweep_backends::DEFAULT_GRACE_SECS);
    };
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(
            "grace must be seconds, a duration string or a timedelta",
        ));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return parse_duration(&s.to_cow()?);
    }
    if obj.is_instance_of::<PyInt>() {
        return obj
            .extract::<u64>()
            .map_err(|_| value_error("grace must not be negative"));
    }
    if obj.hasattr("total_seconds")? && obj.hasattr("days")? {
        let secs: f64 = obj.call_method0("total_seconds")?.extract()?;
        if secs < 0.0 || !secs.is_finite() {
            return Err(value_error("grace must not be negative"));
        }
        return Ok(secs as u64);
    }
    Err(PyTypeError::new_err(format!(
        "grace must be seconds (int), a duration string like '7d', or a timedelta, not {}",
        obj.get_type().name()?
    )))
}

pub(crate) fn key(obj: Option<&Bound<'_, PyAny>>) -> PyResult<FingerprintKey> {
    match obj {
        Some(k) => crate::scan::fingerprint_key(k),
        None => Ok(FingerprintKey::from_env()),
    }
}

/// A rotation id, or the id of a RotationPlan or RotationStatus.
fn rotation_id(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(p) = obj.cast::<PyRotationPlan>() {
        return Ok(p.get().0.id.clone());
    }
    if let Ok(s) = obj.cast::<PyRotationStatus>() {
        return Ok(s.get().0.rotation_id.clone());
    }
    Err(PyTypeError::new_err(format!(
        "expected a rotation id (str), a RotationPlan or a RotationStatus, not {}",
        obj.get_type().name()?
    )))
}

// ---------------------------------------------------------------------------
// plan()

/// Inspects the store and the issuer (read-only) and returns a RotationPlan.
#[pyfunction]
#[pyo3(signature = (
    store, issuer, *, field = None, id_field = None, store_options = None,
    issuer_options = None, strategy = "overlap", grace = None, on_full = "refuse",
    retire = "drop-labels", allow_unversioned = false, fingerprint_key = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn plan(
    py: Python<'_>,
    store: &str,
    issuer: &str,
    field: Option<&str>,
    id_field: Option<&str>,
    store_options: Option<&Bound<'_, PyAny>>,
    issuer_options: Option<&Bound<'_, PyAny>>,
    strategy: &str,
    grace: Option<&Bound<'_, PyAny>>,
    on_full: &str,
    retire: &str,
    allow_unversioned: bool,
    fingerprint_key: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyRotationPlan> {
    let mut sref = parse_store(store)?;
    let mut iref = parse_issuer(issuer)?;
    sref.options = options("store_options", store_options)?;
    iref.options = options("issuer_options", issuer_options)?;
    if allow_unversioned {
        sref.options
            .insert("allow_unversioned".into(), "true".into());
    }
    let strategy =
        keysweep_backends::strategy(Some(strategy), Some(grace_secs(grace)?), Some(on_full))
            .map_err(|e| value_error(e.to_string()))?;
    let retire = keysweep_backends::retire(Some(retire)).map_err(|e| value_error(e.to_string()))?;
    let target = PlannedTarget {
        name: String::new(),
        target: Target {
            store: sref,
            field: self::field(field)?,
            id_field: self::field(id_field)?,
            issuer: iref,
        },
        strategy,
        retire,
    };
    let key = key(fingerprint_key)?;
    check_env(py)?;
    let res = block_on(py, async move {
        keysweep_backends::plan_target(&target, &key)
            .await
            .map(|np| np.plan)
            .map_err(|e| match e {
                PlanError::Store { store, source, .. } => Failure::Backend {
                    message: format!("plan: store {store}: {source}"),
                    class: source.class,
                },
                PlanError::Issuer { kind, source, .. } => Failure::Backend {
                    message: format!("plan: issuer {kind}: {source}"),
                    class: source.class,
                },
                PlanError::Plan { store, source, .. } => Failure::Engine {
                    op: format!("plan {store}"),
                    error: source,
                    rotation_id: None,
                    status: None,
                },
            })
    })?;
    res.map(PyRotationPlan).map_err(|f| f.into_pyerr(py))
}

/// The store and issuer kinds this build supports.
#[pyfunction]
pub fn backends() -> Vec<&'static str> {
    keysweep_backends::built_in()
}

/// Reads a plan file (`keysweep rotate plan -o FILE`, `save_plans`, or a bare
/// plan): its (name, plan) pairs in order.
#[pyfunction]
pub fn load_plans(py: Python<'_>, path: PathBuf) -> PyResult<Vec<(String, PyRotationPlan)>> {
    let text = read_text(py, &path)?;
    let plans = parse_plans(&path.to_string_lossy(), &text)?;
    Ok(plans
        .into_iter()
        .map(|np| (np.name, PyRotationPlan(np.plan)))
        .collect())
}

/// Writes plans as one plan file for `keysweep rotate apply --plan` (atomic).
/// `plans` holds RotationPlans (named by their ids) or (name, plan) pairs.
#[pyfunction]
pub fn save_plans(py: Python<'_>, path: PathBuf, plans: &Bound<'_, PyAny>) -> PyResult<()> {
    let mut out = Vec::new();
    for item in plans.try_iter()? {
        let item = item?;
        let np = if let Ok(p) = item.cast::<PyRotationPlan>() {
            NamedPlan {
                name: p.get().0.id.clone(),
                plan: p.get().0.clone(),
            }
        } else if let Ok((name, p)) = item.extract::<(String, Bound<'_, PyRotationPlan>)>() {
            NamedPlan {
                name,
                plan: p.get().0.clone(),
            }
        } else {
            return Err(PyTypeError::new_err(format!(
                "plans must hold RotationPlan objects or (name, RotationPlan) pairs, not {}",
                item.get_type().name()?
            )));
        };
        out.push(np);
    }
    save_plan_file(py, &path, out)
}

// ---------------------------------------------------------------------------
// RotationPlan

/// A rotation plan: what `apply` will do, checked against the target when it
/// runs. Read-only; holds no secret values. JSON-compatible with `keysweep
/// rotate plan`.
#[pyclass(frozen, module = "keysweep.rotation", name = "RotationPlan")]
pub struct PyRotationPlan(pub RotationPlan);

fn one_plan(origin: &str, text: &str) -> PyResult<RotationPlan> {
    let mut plans = parse_plans(origin, text)?;
    if plans.len() != 1 {
        return Err(value_error(format!(
            "{origin}: holds {} plans, not one; use keysweep.rotation.load_plans()",
            plans.len()
        )));
    }
    Ok(plans.remove(0).plan)
}

#[pymethods]
impl PyRotationPlan {
    /// Parses a plan: the JSON of `to_json()`, or a plan file holding one plan.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<PyRotationPlan> {
        one_plan("<string>", text).map(PyRotationPlan)
    }

    /// Reads a plan file holding one plan (or a bare plan).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyRotationPlan> {
        let text = read_text(py, &path)?;
        one_plan(&path.to_string_lossy(), &text).map(PyRotationPlan)
    }

    /// The plan as JSON (the `plan` object of a plan file).
    #[pyo3(signature = (*, indent = Some(2)), text_signature = "(self, /, *, indent=2)")]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        let Some(n) = indent else {
            return Ok(serde_json::to_string(&self.0).expect("plans serialise"));
        };
        let pad = vec![b' '; n];
        let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
        let mut buf = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        self.0.serialize(&mut ser).expect("plans serialise");
        Ok(String::from_utf8(buf).expect("JSON is UTF-8"))
    }

    /// Writes a plan file (the format of `keysweep rotate plan -o`)
    /// atomically; `name` defaults to the plan's id.
    #[pyo3(signature = (path, *, name = None))]
    fn save(&self, py: Python<'_>, path: PathBuf, name: Option<String>) -> PyResult<()> {
        let np = NamedPlan {
            name: name.unwrap_or_else(|| self.0.id.clone()),
            plan: self.0.clone(),
        };
        save_plan_file(py, &path, vec![np])
    }

    /// The plan as a dict (the JSON document).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0)
    }

    /// The rotation id (`rot-` and 12 hex digits).
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// The idempotency token of every step (not a secret).
    #[getter]
    fn token(&self) -> &str {
        self.0.token.as_str()
    }

    /// When the plan was made (RFC 3339).
    #[getter]
    fn created_at(&self) -> String {
        self.0.created_at.to_string()
    }

    /// `KIND:LOCATOR` of the store.
    #[getter]
    fn store(&self) -> String {
        self.0.target.store.to_string()
    }

    /// `KIND[:PRINCIPAL]` of the issuer.
    #[getter]
    fn issuer(&self) -> String {
        self.0.target.issuer.to_string()
    }

    /// The field holding the credential (None: the whole value).
    #[getter]
    fn field(&self) -> Option<&str> {
        self.0.target.field.as_ref().map(FieldPath::as_str)
    }

    /// What is rotated: store, field, id_field and issuer, with their options.
    #[getter]
    fn target<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0.target)
    }

    /// The strategy: `{"kind": "overlap", "grace_secs": ..., "on_full": ...}`
    /// or `{"kind": "contain_first", "grace_secs": ...}`.
    #[getter]
    fn strategy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0.strategy)
    }

    /// Seconds between deactivation and revocation.
    #[getter]
    fn grace(&self) -> u64 {
        self.0.strategy.grace_secs()
    }

    /// How `finalize` retires the old version (`drop_labels`, `soft_delete`, `destroy`).
    #[getter]
    fn retire(&self) -> String {
        serde_json::to_value(self.0.retire)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The store's current version when planned (the leaked value's).
    #[getter]
    fn old_version(&self) -> &str {
        self.0.old_version.as_str()
    }

    /// The old credential's id, if the issuer identified it.
    #[getter]
    fn old_credential(&self) -> Option<&str> {
        self.0.old_credential.as_ref().map(|c| c.as_str())
    }

    /// Facts `apply` re-checks (versions, fingerprints, credential ids).
    #[getter]
    fn preconditions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0.preconditions)
    }

    /// The ordered steps: `{"step", "operation", "detail"}` dicts.
    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0.steps)
    }

    /// Permissions the rotator needs: `{"action", "resource"}` dicts.
    #[getter]
    fn permissions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0.permissions)
    }

    /// Risks: `{"code", "severity", "message"}` dicts.
    #[getter]
    fn risks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0.risks)
    }

    /// SHA-256 of the plan's contents; `apply` refuses an edited plan.
    #[getter]
    fn plan_hash(&self) -> &str {
        &self.0.plan_hash
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let field = match &self.0.target.field {
            Some(f) => py_repr(py, f.as_str())?,
            None => "None".into(),
        };
        Ok(format!(
            "RotationPlan(id={}, store={}, field={field}, issuer={}, steps={}, risks={})",
            py_repr(py, &self.0.id)?,
            py_repr(py, &self.0.target.store.to_string())?,
            py_repr(py, &self.0.target.issuer.to_string())?,
            self.0.steps.len(),
            self.0.risks.len(),
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyRotationPlan>() {
            Ok(o) => self.0 == o.get().0,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.plan_hash.hash(&mut h);
        h.finish()
    }
}

// ---------------------------------------------------------------------------
// RotationStatus

/// Where a rotation stands, from its journal alone. Holds no secret values.
#[pyclass(frozen, module = "keysweep.rotation", name = "RotationStatus")]
pub struct PyRotationStatus(pub RotationStatus);

fn word(v: impl Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[pymethods]
impl PyRotationStatus {
    /// The rotation id.
    #[getter]
    fn rotation_id(&self) -> &str {
        &self.0.rotation_id
    }

    /// The idempotency token (not a secret).
    #[getter]
    fn token(&self) -> &str {
        self.0.token.as_str()
    }

    /// The state: `PLANNED`, `LOCKED`, `CREATED`, `SET`, `TESTED`,
    /// `PROMOTED`, `CUTOVER`, `OLD_DEACTIVATED`, `OLD_REVOKED`, `DONE`,
    /// `ABORTED` or `ROLLED_BACK`.
    #[getter]
    fn state(&self) -> String {
        self.0.state.to_string()
    }

    /// The sequence being run: `apply`, `finalize`, `abort` or `rollback`.
    #[getter]
    fn mode(&self) -> String {
        word(self.0.mode)
    }

    /// Whether no further step will run (DONE, ABORTED, ROLLED_BACK).
    #[getter]
    fn terminal(&self) -> bool {
        self.0.state.is_terminal()
    }

    /// The last journaled (step, phase).
    #[getter]
    fn last_step(&self) -> Option<(String, String)> {
        self.0.last_step.map(|(s, p)| (s.to_string(), word(p)))
    }

    /// The error class of the last record, if it failed.
    #[getter]
    fn error_class(&self) -> Option<&'static str> {
        self.0.error_class.map(ErrorClass::as_str)
    }

    /// A step that started and never finished (what `resume` replays).
    #[getter]
    fn incomplete(&self) -> Option<String> {
        self.0.incomplete.map(|s| s.to_string())
    }

    /// When the old credential was deactivated (RFC 3339; grace starts here).
    #[getter]
    fn deactivated_at(&self) -> Option<String> {
        self.0.deactivated_at.map(|t| t.to_string())
    }

    /// Manual follow-ups recorded by the issuer (e.g. restart consumers).
    #[getter]
    fn follow_ups(&self) -> Vec<String> {
        self.0.follow_ups.clone()
    }

    /// The new credential's id, once issued.
    #[getter]
    fn new_credential(&self) -> Option<&str> {
        self.0.new_credential.as_ref().map(|c| c.as_str())
    }

    /// The new version's id in the store, once staged.
    #[getter]
    fn new_version(&self) -> Option<&str> {
        self.0.new_version.as_ref().map(|v| v.as_str())
    }

    /// The status as a dict (the `status` object of `keysweep rotate status --format json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, &self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RotationStatus(rotation_id={}, state={}, mode={})",
            py_repr(py, &self.0.rotation_id)?,
            py_repr(py, &self.0.state.to_string())?,
            py_repr(py, &word(self.0.mode))?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyRotationStatus>() {
            Ok(o) => self.0 == o.get().0,
            Err(_) => false,
        }
    }
}

// ---------------------------------------------------------------------------
// Engine

/// Runs rotations and keeps their journals in `state_dir`.
#[pyclass(frozen, module = "keysweep.rotation", name = "Engine")]
pub struct PyEngine {
    inner: Engine,
}

impl PyEngine {
    /// Runs one engine operation on `id` and returns its status, or the
    /// error with the status after it.
    fn run<F, Fut>(&self, py: Python<'_>, op: &str, id: String, f: F) -> PyResult<PyRotationStatus>
    where
        F: FnOnce(Engine, String) -> Fut + Send,
        Fut: Future<Output = keysweep_rotate::Result<RotationStatus>> + Send,
    {
        check_env(py)?;
        let engine = self.inner.clone();
        let res = block_on(py, async move {
            match f(engine.clone(), id.clone()).await {
                Ok(st) => Ok(st),
                Err(error) => Err((error, engine.status(&id).ok().map(Box::new), id)),
            }
        })?;
        res.map(PyRotationStatus).map_err(|(error, status, id)| {
            Failure::Engine {
                op: op.into(),
                error,
                rotation_id: Some(id),
                status,
            }
            .into_pyerr(py)
        })
    }

    fn sync<T: Send>(
        &self,
        py: Python<'_>,
        op: &str,
        id: Option<&str>,
        f: impl FnOnce(&Engine) -> keysweep_rotate::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| f(&self.inner)).map_err(|error| {
            Failure::Engine {
                op: op.into(),
                error,
                rotation_id: id.map(str::to_string),
                status: None,
            }
            .into_pyerr(py)
        })
    }
}

#[pymethods]
impl PyEngine {
    /// An engine keeping journals in `state_dir` (default
    /// `$KEYSWEEP_STATE_DIR`, else `.keysweep/rotations`, made absolute now).
    #[new]
    #[pyo3(signature = (state_dir = None, *, fingerprint_key = None))]
    fn new(
        state_dir: Option<PathBuf>,
        fingerprint_key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let env = std::env::var_os(STATE_DIR_ENV);
        let dir = resolve_state_dir(state_dir.as_deref(), None, env.as_deref());
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let inner = Engine::builder(dir, Arc::new(Backends))
            .key(key(fingerprint_key)?)
            .build();
        Ok(PyEngine { inner })
    }

    /// The journal directory (absolute).
    #[getter]
    fn state_dir(&self) -> String {
        self.inner.dir().to_string_lossy().into_owned()
    }

    /// Re-checks the plan (StalePlanError when the target changed, before
    /// anything is written), journals it and runs its `apply` steps: up to
    /// OLD_DEACTIVATED, or CUTOVER when the issuer cannot deactivate.
    fn apply(
        &self,
        py: Python<'_>,
        plan: &Bound<'_, PyRotationPlan>,
    ) -> PyResult<PyRotationStatus> {
        let plan = plan.get().0.clone();
        let id = plan.id.clone();
        self.run(py, "apply", id, |e, _| async move { e.apply(&plan).await })
    }

    /// Where a rotation stands, from its journal (no network).
    fn status(&self, py: Python<'_>, rotation: &Bound<'_, PyAny>) -> PyResult<PyRotationStatus> {
        let id = rotation_id(rotation)?;
        self.sync(py, "status", Some(&id), |e| e.status(&id))
            .map(PyRotationStatus)
    }

    /// The ids of all rotations journaled in `state_dir`, sorted.
    fn list(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.sync(py, "list", None, Engine::list)
    }

    /// The plan a rotation was applied with, from its journal.
    fn plan_of(&self, py: Python<'_>, rotation: &Bound<'_, PyAny>) -> PyResult<PyRotationPlan> {
        let id = rotation_id(rotation)?;
        self.sync(py, "plan_of", Some(&id), |e| e.plan_of(&id))
            .map(PyRotationPlan)
    }

    /// Continues an interrupted rotation from its journal.
    fn resume(&self, py: Python<'_>, rotation: &Bound<'_, PyAny>) -> PyResult<PyRotationStatus> {
        let id = rotation_id(rotation)?;
        self.run(py, "resume", id, |e, id| async move { e.resume(&id).await })
    }

    /// Undoes a rotation: the old value becomes current again, the old
    /// credential is reactivated, the new one revoked (ABORTED before
    /// promotion, ROLLED_BACK after). Refused once the old one is revoked.
    fn rollback(&self, py: Python<'_>, rotation: &Bound<'_, PyAny>) -> PyResult<PyRotationStatus> {
        let id = rotation_id(rotation)?;
        self.run(
            py,
            "rollback",
            id,
            |e, id| async move { e.rollback(&id).await },
        )
    }

    /// After the grace period (GracePeriodError before it, unless `force`):
    /// revokes the old credential (point of no return), checks it is dead
    /// and retires the old version; ends DONE.
    #[pyo3(signature = (rotation, *, force = false))]
    fn finalize(
        &self,
        py: Python<'_>,
        rotation: &Bound<'_, PyAny>,
        force: bool,
    ) -> PyResult<PyRotationStatus> {
        let id = rotation_id(rotation)?;
        self.run(py, "finalize", id, move |e, id| async move {
            e.finalize(&id, force).await
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Engine(state_dir={})",
            py_repr(py, &self.inner.dir().to_string_lossy())?
        ))
    }
}
