//! Python bindings for keysweep: the `keysweep._keysweep` extension module,
//! re-exported by the pure-Python `keysweep` package.
//!
//! Modules mirror the core: `rules` (Rule, RuleSet), `scan` (Scanner and the
//! streaming iterator), `git` (history and staged scans, Commit), `finding`
//! (Finding, Secret), `baseline` (Baseline, BaselineEntry), `rotation`
//! (plan, RotationPlan, Engine, RotationStatus; re-exported as
//! `keysweep.rotation`), `rotate_config` (locate, LocateResult,
//! plan_from_config: the config-driven `keysweep rotate` commands), `errors` (the exception hierarchy) and `logging`
//! (`KEYSWEEP_LOG`).

mod baseline;
mod errors;
mod finding;
mod git;
mod logging;
mod rotate_config;
mod rotation;
mod rules;
mod scan;

use pyo3::prelude::*;

/// The keysweep engine (compiled).
#[pymodule(gil_used = false)]
fn _keysweep(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::init();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<rules::PyRule>()?;
    m.add_class::<rules::PyRuleSet>()?;
    m.add_class::<rules::PyCheckFailure>()?;
    m.add_class::<finding::PySecret>()?;
    m.add_class::<finding::PyFinding>()?;
    m.add_class::<git::PyCommit>()?;
    m.add_class::<baseline::PyBaseline>()?;
    m.add_class::<baseline::PyBaselineEntry>()?;
    m.add_class::<scan::PyScanner>()?;
    m.add_class::<scan::PyScanIterator>()?;
    m.add_class::<rotation::PyRotationPlan>()?;
    m.add_class::<rotation::PyRotationStatus>()?;
    m.add_class::<rotation::PyEngine>()?;
    m.add_function(wrap_pyfunction!(rotation::plan, m)?)?;
    m.add_function(wrap_pyfunction!(rotation::load_plans, m)?)?;
    m.add_function(wrap_pyfunction!(rotation::save_plans, m)?)?;
    m.add_function(wrap_pyfunction!(rotation::backends, m)?)?;
    m.add_class::<rotate_config::PyLocateResult>()?;
    m.add_function(wrap_pyfunction!(rotate_config::locate, m)?)?;
    m.add_function(wrap_pyfunction!(rotate_config::plan_from_config, m)?)?;
    Ok(())
}
