//! The exception hierarchy and the mapping from `keysweep_core::Error`.
//!
//! ```text
//! KeysweepError(Exception)
//! ├── RuleError(KeysweepError, ValueError)   bad rule TOML, regex, duplicate id
//! ├── ScanError(KeysweepError, OSError)      a path (or git repository) that cannot be scanned
//! └── RotationError(KeysweepError)           rotating a credential failed
//!     ├── StalePlanError                     the target changed since planning (or the plan was edited)
//!     ├── RotationAbortedError               a step failed before promotion; compensated, ABORTED
//!     └── GracePeriodError                   finalize() before the grace period ended
//! ScanWarning(UserWarning)                   a path skipped or unreadable mid-walk
//! ```
//!
//! The classes are defined by a few lines of Python run at import (in a
//! namespace whose `__name__` is `keysweep`): `ScanError` has two bases, its
//! `str()` must read well with and without an errno, and the attributes the
//! errors carry exist on the classes with a `None` default (which is what
//! `mypy.stubtest` checks the stubs against).

use keysweep_core::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

const SOURCE: &std::ffi::CStr = cr#"
class KeysweepError(Exception):
    """Base class of every error keysweep raises."""


class RuleError(KeysweepError, ValueError):
    """A rule definition is invalid.

    ``origin``, ``line``, ``column``, ``rule_id``, ``field`` and ``message``
    say where and what (each may be None).
    """

    origin = None
    line = None
    column = None
    rule_id = None
    field = None
    message = None


class ScanError(KeysweepError, OSError):
    """A path could not be scanned.

    As an OSError it carries ``errno``, ``strerror`` and ``filename`` where
    they are known.
    """

    def __str__(self):
        if self.errno is None and len(self.args) == 1:
            return str(self.args[0])
        return OSError.__str__(self)


class RotationError(KeysweepError):
    """Rotating a leaked credential failed.

    ``error_class`` is the engine's class of the failure (``"stale"``,
    ``"conflict"``, ``"locked"``, ``"not_found"``, ``"denied"``,
    ``"unsupported"``, ``"invalid"``, ``"transient"``, ``"test_failed"``,
    ``"limit_exceeded"``, ``"other"``), ``rotation_id`` the rotation,
    ``step`` the step that failed, and ``status`` the rotation's
    RotationStatus after the failure (None without a journal). Messages name
    ids, never secret values.
    """

    error_class = None
    rotation_id = None
    step = None
    status = None


class StalePlanError(RotationError):
    """The plan no longer matches its target (it changed since planning, or
    the plan was edited). Nothing was changed; plan again. ``reasons`` says
    what differs."""

    reasons = ()


class RotationAbortedError(RotationError):
    """A step failed before the new value was promoted; the rotation was
    compensated (nothing is left changed) and is ABORTED."""


class GracePeriodError(RotationError):
    """finalize() was called before the grace period ended; ``remaining``
    seconds are left (``force=True`` skips the wait)."""

    remaining = None


class ScanWarning(UserWarning):
    """A file or directory met while walking was skipped or could not be read."""
"#;

struct Types {
    base: Py<PyType>,
    rule: Py<PyType>,
    scan: Py<PyType>,
    rotation: Py<PyType>,
    stale: Py<PyType>,
    aborted: Py<PyType>,
    grace: Py<PyType>,
    warning: Py<PyType>,
}

static TYPES: PyOnceLock<Types> = PyOnceLock::new();

fn types(py: Python<'_>) -> PyResult<&Types> {
    TYPES.get_or_try_init(py, || {
        let ns = PyDict::new(py);
        ns.set_item("__name__", "keysweep")?;
        py.run(SOURCE, Some(&ns), None)?;
        let get = |name: &str| -> PyResult<Py<PyType>> {
            let item = ns
                .get_item(name)?
                .ok_or_else(|| pyo3::exceptions::PySystemError::new_err(name.to_string()))?;
            Ok(item.cast_into::<PyType>()?.unbind())
        };
        Ok::<_, PyErr>(Types {
            base: get("KeysweepError")?,
            rule: get("RuleError")?,
            scan: get("ScanError")?,
            rotation: get("RotationError")?,
            stale: get("StalePlanError")?,
            aborted: get("RotationAbortedError")?,
            grace: get("GracePeriodError")?,
            warning: get("ScanWarning")?,
        })
    })
}

/// Adds the exception and warning classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let t = types(py)?;
    m.add("KeysweepError", t.base.bind(py))?;
    m.add("RuleError", t.rule.bind(py))?;
    m.add("ScanError", t.scan.bind(py))?;
    m.add("RotationError", t.rotation.bind(py))?;
    m.add("StalePlanError", t.stale.bind(py))?;
    m.add("RotationAbortedError", t.aborted.bind(py))?;
    m.add("GracePeriodError", t.grace.bind(py))?;
    m.add("ScanWarning", t.warning.bind(py))?;
    Ok(())
}

fn build<'py>(
    py: Python<'py>,
    ty: &Py<PyType>,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<PyErr> {
    let value = ty.bind(py).call1(args)?;
    Ok(PyErr::from_value(value))
}

/// A `ScanError` from a message alone (no errno).
pub fn scan_error(py: Python<'_>, message: &str, filename: Option<&str>) -> PyErr {
    let res = (|| {
        let t = types(py)?;
        let err = build(py, &t.scan, (message,))?;
        if let Some(f) = filename {
            err.value(py).setattr("filename", f)?;
        }
        Ok::<_, PyErr>(err)
    })();
    res.unwrap_or_else(|e| e)
}

/// A `ScanError` like the OSError the OS would raise: `[Errno N] strerror: 'path'`.
pub fn scan_os_error(py: Python<'_>, errno: i32, filename: &str) -> PyErr {
    let res = (|| {
        let t = types(py)?;
        build(py, &t.scan, (errno, strerror(errno), filename))
    })();
    res.unwrap_or_else(|e| e)
}

/// The text of an errno without Rust's ` (os error N)` suffix.
fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A `KeysweepError` from a message.
pub fn keysweep_error(py: Python<'_>, message: &str) -> PyErr {
    types(py)
        .and_then(|t| build(py, &t.base, (message,)))
        .unwrap_or_else(|e| e)
}

/// Which `RotationError` class to raise.
#[derive(Clone, Copy, Debug)]
pub enum RotationKind {
    /// `RotationError` itself.
    Other,
    /// `StalePlanError`.
    Stale,
    /// `RotationAbortedError`.
    Aborted,
    /// `GracePeriodError`.
    Grace,
}

/// A `RotationError` (or subclass) from a message; the caller sets the
/// attributes on `err.value(py)`.
pub fn rotation_error(py: Python<'_>, kind: RotationKind, message: &str) -> PyResult<PyErr> {
    let t = types(py)?;
    let ty = match kind {
        RotationKind::Other => &t.rotation,
        RotationKind::Stale => &t.stale,
        RotationKind::Aborted => &t.aborted,
        RotationKind::Grace => &t.grace,
    };
    build(py, ty, (message,))
}

/// Emits a `ScanWarning` (which raises if warnings are turned into errors).
pub fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let t = types(py)?;
    let cmsg =
        std::ffi::CString::new(message.replace('\0', "\\0")).expect("NUL bytes were replaced");
    PyErr::warn(py, t.warning.bind(py), &cmsg, 2)
}

/// Maps a core error to the Python exception hierarchy. Core errors never
/// contain secret values (only paths, rule ids and messages).
pub fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Rule(r) => {
            let res = (|| {
                let t = types(py)?;
                let e = build(py, &t.rule, (r.to_string(),))?;
                let v = e.value(py);
                v.setattr("origin", &r.origin)?;
                v.setattr("line", r.line)?;
                v.setattr("column", r.column)?;
                v.setattr("rule_id", &r.rule_id)?;
                v.setattr("field", &r.field)?;
                v.setattr("message", &r.message)?;
                Ok::<_, PyErr>(e)
            })();
            res.unwrap_or_else(|e| e)
        }
        Error::NotFound { path } => scan_os_error(py, 2, &path.to_string_lossy()),
        Error::Io { path, error, .. } => match error.raw_os_error() {
            Some(code) => scan_os_error(py, code, &path.to_string_lossy()),
            None => scan_error(
                py,
                &format!("{}: {error}", path.display()),
                Some(&path.to_string_lossy()),
            ),
        },
        Error::NotRegularFile { ref path } => {
            scan_error(py, &err.to_string(), Some(&path.to_string_lossy()))
        }
        Error::Walk { .. } => scan_error(py, &keysweep_core::error_chain(&err), None),
        other => keysweep_error(py, &keysweep_core::error_chain(&other)),
    }
}
