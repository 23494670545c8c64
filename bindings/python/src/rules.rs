//! `Rule`, `RuleSet` and `CheckFailure`: rules as data, compiled.

use keysweep_core::{CheckFailure, Rule, RuleSet, RuleSetBuilder};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyString};
use std::path::PathBuf;
use std::sync::Arc;

use crate::errors::to_pyerr;

/// One rule definition (read-only).
#[pyclass(frozen, module = "keysweep", name = "Rule")]
pub struct PyRule(pub Arc<Rule>);

#[pymethods]
impl PyRule {
    /// Stable unique id, e.g. `ks.github.1`.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// Human name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// The credential kind, e.g. `github-pat`.
    #[getter]
    fn kind(&self) -> &str {
        &self.0.kind
    }
    /// `critical`, `high`, `medium`, `low` or `info`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.0.severity.as_str()
    }
    /// The literal anchors of the keyword prefilter.
    #[getter]
    fn keywords(&self) -> Vec<String> {
        self.0.keywords.clone()
    }
    /// What the credential is.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }
    /// Documentation links.
    #[getter]
    fn references(&self) -> Vec<String> {
        self.0.references.clone()
    }
    /// Texts the rule must find.
    #[getter]
    fn examples(&self) -> Vec<String> {
        self.0.examples.clone()
    }
    /// Texts the rule must not find.
    #[getter]
    fn negative_examples(&self) -> Vec<String> {
        self.0.negative_examples.clone()
    }
    /// The confirmation regex.
    #[getter]
    fn regex(&self) -> &str {
        &self.0.regex
    }
    /// Minimum Shannon entropy of the secret, if any.
    #[getter]
    fn min_entropy(&self) -> Option<f64> {
        self.0.min_entropy
    }
    /// Where the rule was defined.
    #[getter]
    fn origin(&self) -> &str {
        &self.0.origin
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Rule(id={}, kind={}, severity={})",
            py_repr(py, &self.0.id)?,
            py_repr(py, &self.0.kind)?,
            py_repr(py, self.0.severity.as_str())?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyRule>() {
            Ok(o) => *self.0 == *o.get().0,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.id.hash(&mut h);
        self.0.regex.hash(&mut h);
        h.finish()
    }
}

/// Python's `repr()` of a string.
pub fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

/// A compiled, immutable set of rules.
#[pyclass(frozen, module = "keysweep", name = "RuleSet")]
#[derive(Clone)]
pub struct PyRuleSet(pub RuleSet);

/// One way a rule failed its self-check (`RuleSet.check()`).
#[pyclass(frozen, module = "keysweep", name = "CheckFailure")]
pub struct PyCheckFailure {
    /// The rule at fault.
    #[pyo3(get)]
    rule_id: String,
    /// Where the rule is defined.
    #[pyo3(get)]
    origin: String,
    /// `example-missed`, `negative-matched` or `example-lacks-keyword`.
    #[pyo3(get)]
    kind: &'static str,
    /// 0-based index into the rule's `examples` or `negative_examples`.
    #[pyo3(get)]
    index: usize,
    /// A readable description.
    #[pyo3(get)]
    message: String,
}

#[pymethods]
impl PyCheckFailure {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "CheckFailure(rule_id={}, kind={}, index={}, message={})",
            py_repr(py, &self.rule_id)?,
            py_repr(py, self.kind)?,
            self.index,
            py_repr(py, &self.message)?,
        ))
    }

    fn __str__(&self) -> String {
        format!("{} ({}): {}", self.rule_id, self.origin, self.message)
    }
}

#[pymethods]
impl PyRuleSet {
    /// Compiles the rules of a TOML text. `origin` names the text in errors
    /// (default `<inline>`).
    #[staticmethod]
    #[pyo3(signature = (text, *, origin = None, default_rules = false))]
    fn from_toml(
        py: Python<'_>,
        text: String,
        origin: Option<String>,
        default_rules: bool,
    ) -> PyResult<Self> {
        let origin = origin.unwrap_or_else(|| "<inline>".to_string());
        py.detach(move || {
            let mut b = RuleSetBuilder::new();
            b.default_rules(default_rules);
            b.add_toml(&origin, &text)?;
            b.build()
        })
        .map(PyRuleSet)
        .map_err(|e| to_pyerr(py, e))
    }

    /// Compiles a rule file, or every `*.toml` file of a directory.
    #[staticmethod]
    #[pyo3(signature = (path, *, default_rules = false))]
    fn from_path(py: Python<'_>, path: PathBuf, default_rules: bool) -> PyResult<Self> {
        py.detach(move || {
            let mut b = RuleSetBuilder::new();
            b.default_rules(default_rules);
            b.add_path(&path)?;
            b.build()
        })
        .map(PyRuleSet)
        .map_err(|e| to_pyerr(py, e))
    }

    /// The embedded default rules.
    #[staticmethod]
    fn default(py: Python<'_>) -> PyResult<Self> {
        py.detach(RuleSet::default_rules)
            .map(PyRuleSet)
            .map_err(|e| to_pyerr(py, e))
    }

    /// The rule with this id, or None.
    fn get(&self, id: &str) -> Option<PyRule> {
        self.0.get(id).cloned().map(PyRule)
    }

    /// The rule ids, in load order.
    fn ids(&self) -> Vec<String> {
        self.0.rules().map(|r| r.id.clone()).collect()
    }

    /// Runs every rule's examples and negative examples through the engine;
    /// returns the failures (an empty list when every rule passes).
    fn check(&self, py: Python<'_>) -> Vec<PyCheckFailure> {
        let set = self.0.clone();
        py.detach(move || {
            let mut out = Vec::new();
            for c in set.check_examples() {
                for f in &c.failures {
                    let (kind, index) = match f {
                        CheckFailure::ExampleMissed { index } => ("example-missed", *index),
                        CheckFailure::NegativeMatched { index } => ("negative-matched", *index),
                        CheckFailure::ExampleLacksKeyword { index } => {
                            ("example-lacks-keyword", *index)
                        }
                        _ => ("other", 0),
                    };
                    out.push(PyCheckFailure {
                        rule_id: c.rule_id.clone(),
                        origin: c.origin.clone(),
                        kind,
                        index,
                        message: f.to_string(),
                    });
                }
            }
            out
        })
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __contains__(&self, id: &Bound<'_, PyAny>) -> bool {
        match id.cast::<PyString>() {
            Ok(s) => s.to_cow().is_ok_and(|s| self.0.get(&s).is_some()),
            Err(_) => match id.cast::<PyRule>() {
                Ok(r) => self.0.get(&r.get().0.id).is_some_and(|x| **x == *r.get().0),
                Err(_) => false,
            },
        }
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        let rules: Vec<PyRule> = self.0.rules().cloned().map(PyRule).collect();
        PyList::new(py, rules)?.try_iter()
    }

    fn __repr__(&self) -> String {
        format!("RuleSet(<{} rules>)", self.0.len())
    }
}

/// Where the rules of a `Scanner` come from.
pub enum RuleSource {
    Path(PathBuf),
    Set(RuleSet),
}

/// The `rules` argument of `Scanner(...)`, read.
pub enum RuleSources {
    /// None: only the defaults (if enabled).
    Defaults,
    /// A lone RuleSet, used exactly as compiled.
    Exact(RuleSet),
    /// Paths and RuleSets merged onto the defaults (if enabled).
    Merge(Vec<RuleSource>),
}

/// Reads the `rules` argument of `Scanner(...)`: None, a RuleSet, a path, or
/// an iterable of paths and RuleSets.
pub fn extract_sources(rules: Option<&Bound<'_, PyAny>>) -> PyResult<RuleSources> {
    let Some(rules) = rules else {
        return Ok(RuleSources::Defaults);
    };
    if rules.is_none() {
        return Ok(RuleSources::Defaults);
    }
    if let Ok(set) = rules.cast::<PyRuleSet>() {
        return Ok(RuleSources::Exact(set.get().0.clone()));
    }
    if let Some(p) = one_path(rules)? {
        return Ok(RuleSources::Merge(vec![RuleSource::Path(p)]));
    }
    let iter = rules.try_iter().map_err(|_| {
        PyTypeError::new_err(
            "rules must be a RuleSet, a path, or an iterable of paths and RuleSets",
        )
    })?;
    let mut out = Vec::new();
    for item in iter {
        let item = item?;
        if let Ok(set) = item.cast::<PyRuleSet>() {
            out.push(RuleSource::Set(set.get().0.clone()));
        } else if let Some(p) = one_path(&item)? {
            out.push(RuleSource::Path(p));
        } else {
            return Err(PyTypeError::new_err(format!(
                "rules entries must be paths or RuleSets, not {}",
                item.get_type().name()?
            )));
        }
    }
    Ok(RuleSources::Merge(out))
}

/// A `str` or `os.PathLike` as a path; None for anything else.
pub fn one_path(obj: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        return Ok(Some(obj.extract::<PathBuf>()?));
    }
    Ok(None)
}

/// Builds the rule set for a scanner (call without the GIL).
///
/// A lone RuleSet is used exactly as compiled. Otherwise the embedded defaults
/// (when `default_rules`) are combined with every path's rules and every given
/// RuleSet's rules; a rule with a default rule's id replaces it.
pub fn build_rules(sources: RuleSources, default_rules: bool) -> keysweep_core::Result<RuleSet> {
    let sources = match sources {
        RuleSources::Exact(set) => return Ok(set),
        RuleSources::Merge(s) => s,
        RuleSources::Defaults => Vec::new(),
    };
    let mut b = RuleSetBuilder::new();
    b.default_rules(default_rules);
    for s in sources {
        match s {
            RuleSource::Path(p) => {
                b.add_path(&p)?;
            }
            RuleSource::Set(set) => {
                b.add_rules(set.rules().map(|r| (**r).clone()));
            }
        }
    }
    b.build()
}
