//! Importing gitleaks configuration files (`.gitleaks.toml`).
//!
//! Translates gitleaks' `[[rules]]` (`id`, `description`, `regex`,
//! `secretGroup`, `entropy`, `keywords`, `path`, `tags`, `[rules.allowlist]` /
//! `[[rules.allowlists]]`) and the global `[allowlist]` / `[[allowlists]]` into
//! keysweep [`Rule`]s and an [`Allow`] list, so a team can switch without
//! rewriting its custom rules. Anything that cannot be translated exactly
//! produces a warning naming the rule; nothing is dropped silently.

use std::path::Path;
use toml::Value;

use crate::error::{Error, Result, RuleError};
use crate::rule::{line_col, Allow, Rule, SecretGroup, Severity, DEFAULT_WINDOW};

/// The result of importing a gitleaks config.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GitleaksImport {
    /// The translated rules.
    pub rules: Vec<Rule>,
    /// The global allow-list, for every rule.
    pub global_allow: Allow,
    /// Everything that was not translated exactly, one message each.
    pub warnings: Vec<String>,
    /// `[extend] useDefault = true` was set.
    pub use_default: bool,
}

/// Imports a gitleaks config file, following `[extend] path`.
pub fn import_gitleaks_file(path: &Path) -> Result<GitleaksImport> {
    import_file(path, 0)
}

fn import_file(path: &Path, depth: usize) -> Result<GitleaksImport> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = import_gitleaks(&path.display().to_string(), &text)?;
    if let Some(ext) = extend_path(&text) {
        let base = path.parent().unwrap_or(Path::new("."));
        let target = base.join(&ext);
        if depth >= 2 {
            out.warnings.push(format!(
                "[extend] path {ext:?}: nested too deeply, not followed"
            ));
        } else {
            let mut parent = import_file(&target, depth + 1)?;
            // The extending file's rules win over the extended one's.
            let ids: Vec<String> = out.rules.iter().map(|r| r.id.clone()).collect();
            parent.rules.retain(|r| !ids.contains(&r.id));
            parent.rules.append(&mut out.rules);
            out.rules = parent.rules;
            merge_allow(&mut out.global_allow, parent.global_allow);
            out.warnings.append(&mut parent.warnings);
            out.use_default |= parent.use_default;
        }
    }
    Ok(out)
}

fn extend_path(text: &str) -> Option<String> {
    let v: Value = toml::from_str(text).ok()?;
    v.get("extend")?.get("path")?.as_str().map(str::to_string)
}

fn merge_allow(into: &mut Allow, from: Allow) {
    into.stopwords.extend(from.stopwords);
    into.regexes.extend(from.regexes);
    into.paths.extend(from.paths);
    into.path_regexes.extend(from.path_regexes);
    into.match_regexes.extend(from.match_regexes);
    into.line_regexes.extend(from.line_regexes);
}

/// Imports a gitleaks config from its text; `origin` names it in errors.
pub fn import_gitleaks(origin: &str, text: &str) -> Result<GitleaksImport> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| line_col(text, s.start))
            .map_or((None, None), |(l, c)| (Some(l), Some(c)));
        Error::from(RuleError {
            origin: origin.into(),
            line,
            column,
            rule_id: None,
            field: None,
            message: format!("malformed gitleaks config: {}", e.message()),
        })
    })?;
    let mut out = GitleaksImport::default();
    for (key, value) in &doc {
        match key.as_str() {
            "title" | "description" | "minVersion" => {}
            "extend" => {
                if let Some(t) = value.as_table() {
                    for (k, v) in t {
                        match k.as_str() {
                            "useDefault" => out.use_default = v.as_bool().unwrap_or(false),
                            "path" => {}
                            "disabledRules" => out.warnings.push(
                                "[extend] disabledRules names gitleaks' built-in rules, which keysweep does not ship; ignored".into(),
                            ),
                            other => out.warnings.push(format!("[extend] {other}: not supported, ignored")),
                        }
                    }
                }
            }
            "rules" => {
                let Some(rules) = value.as_array() else {
                    return Err(bad(
                        origin,
                        None,
                        None,
                        "`rules` must be an array of tables",
                    ));
                };
                for (i, r) in rules.iter().enumerate() {
                    let Some(t) = r.as_table() else {
                        return Err(bad(
                            origin,
                            None,
                            None,
                            &format!("rules[{i}] is not a table"),
                        ));
                    };
                    if let Some(rule) = translate_rule(origin, text, i, t, &mut out.warnings)? {
                        out.rules.push(rule);
                    }
                }
            }
            "allowlist" => {
                if let Some(t) = value.as_table() {
                    let a = translate_allow("global [allowlist]", t, &mut out.warnings, origin)?;
                    merge_allow(&mut out.global_allow, a);
                }
            }
            "allowlists" => {
                for (i, t) in value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_table)
                    .enumerate()
                {
                    let what = format!("global [[allowlists]] #{}", i + 1);
                    let targets: Vec<String> = t
                        .get("targetRules")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let a = translate_allow(&what, t, &mut out.warnings, origin)?;
                    if targets.is_empty() {
                        merge_allow(&mut out.global_allow, a);
                    } else {
                        for r in out.rules.iter_mut().filter(|r| targets.contains(&r.id)) {
                            merge_allow(&mut r.allow, a.clone());
                        }
                    }
                }
            }
            other => out
                .warnings
                .push(format!("top-level key `{other}`: not supported, ignored")),
        }
    }
    Ok(out)
}

fn bad(origin: &str, line: Option<usize>, rule: Option<&str>, msg: &str) -> Error {
    Error::from(RuleError {
        origin: origin.into(),
        line,
        column: None,
        rule_id: rule.map(str::to_string),
        field: None,
        message: msg.into(),
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Finds the line of the `n`th `[[rules]]` header, for error messages.
fn rule_line(text: &str, n: usize) -> Option<usize> {
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("[[rules]]") {
            if count == n {
                return Some(i + 1);
            }
            count += 1;
        }
    }
    None
}

fn translate_rule(
    origin: &str,
    text: &str,
    index: usize,
    t: &toml::Table,
    warnings: &mut Vec<String>,
) -> Result<Option<Rule>> {
    let line = rule_line(text, index);
    let id = t
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(origin, line, None, "rule without an `id`"))?
        .to_string();
    let err = |field: &str, msg: String| {
        Error::from(RuleError {
            origin: origin.into(),
            line,
            column: None,
            rule_id: Some(id.clone()),
            field: Some(field.into()),
            message: msg,
        })
    };
    let mut rule = Rule {
        id: id.clone(),
        name: String::new(),
        description: String::new(),
        kind: "custom".into(),
        severity: Severity::Medium,
        keywords: Vec::new(),
        regex: String::new(),
        min_entropy: None,
        checksum: None,
        secret_group: SecretGroup::FirstNonEmpty,
        path: None,
        window: DEFAULT_WINDOW,
        allow: Allow::default(),
        references: Vec::new(),
        examples: Vec::new(),
        negative_examples: Vec::new(),
        origin: format!("{origin}:{}", line.unwrap_or(0)),
        line: line.unwrap_or(0),
    };
    for (k, v) in t {
        match k.as_str() {
            "id" => {}
            "description" => rule.description = v.as_str().unwrap_or_default().to_string(),
            "regex" => {
                rule.regex = v
                    .as_str()
                    .ok_or_else(|| err("regex", "must be a string".into()))?
                    .to_string()
            }
            "secretGroup" => {
                let g = v
                    .as_integer()
                    .filter(|g| *g >= 0)
                    .ok_or_else(|| err("secretGroup", "must be a non-negative integer".into()))?;
                rule.secret_group = if g == 0 {
                    SecretGroup::FirstNonEmpty
                } else {
                    SecretGroup::Index(g as usize)
                };
            }
            "entropy" => {
                rule.min_entropy = v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
            }
            "keywords" => {
                rule.keywords = strings(Some(v))
                    .into_iter()
                    .map(|k| k.to_ascii_lowercase())
                    .collect()
            }
            "path" => {
                rule.path = Some(
                    v.as_str()
                        .ok_or_else(|| err("path", "must be a string".into()))?
                        .to_string(),
                )
            }
            "tags" => rule
                .references
                .extend(strings(Some(v)).into_iter().map(|t| format!("tag:{t}"))),
            "allowlist" => {
                if let Some(a) = v.as_table() {
                    let a = translate_allow(&format!("rule {id} allowlist"), a, warnings, origin)?;
                    merge_allow(&mut rule.allow, a);
                }
            }
            "allowlists" => {
                for a in v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_table)
                {
                    let a = translate_allow(&format!("rule {id} allowlists"), a, warnings, origin)?;
                    merge_allow(&mut rule.allow, a);
                }
            }
            other => warnings.push(format!(
                "rule {id}: field `{other}` is not supported and was ignored"
            )),
        }
    }
    if rule.regex.is_empty() {
        if rule.path.is_some() {
            warnings.push(format!(
                "rule {id}: path-only rules (flagging files by name) are not supported; the rule was not imported"
            ));
            return Ok(None);
        }
        return Err(err("regex", "a rule needs a `regex`".into()));
    }
    crate::compile::check_regex(&rule.regex).map_err(|m| err("regex", m))?;
    if let Some(p) = &rule.path {
        crate::compile::check_regex(p).map_err(|m| err("path", m))?;
    }
    if rule.keywords.is_empty() {
        tracing::debug!(rule = %id, "gitleaks rule without keywords runs on every input");
    }
    rule.name = if rule.description.is_empty() {
        id.clone()
    } else {
        rule.description.clone()
    };
    if rule.keywords.iter().any(|k| k.len() < 2) {
        warnings.push(format!(
            "rule {id}: keywords shorter than 2 bytes were dropped"
        ));
        rule.keywords.retain(|k| k.len() >= 2);
    }
    Ok(Some(rule))
}

fn translate_allow(
    what: &str,
    t: &toml::Table,
    warnings: &mut Vec<String>,
    origin: &str,
) -> Result<Allow> {
    let mut a = Allow::default();
    let target = t
        .get("regexTarget")
        .and_then(Value::as_str)
        .unwrap_or("secret");
    let regexes = strings(t.get("regexes"));
    for r in &regexes {
        crate::compile::check_regex(r)
            .map_err(|m| bad(origin, None, None, &format!("{what}: {m}")))?;
    }
    match target {
        "secret" => a.regexes = regexes,
        "match" => a.match_regexes = regexes,
        "line" => a.line_regexes = regexes,
        other => {
            warnings.push(format!(
                "{what}: regexTarget {other:?} is unknown; treated as \"secret\""
            ));
            a.regexes = regexes;
        }
    }
    a.path_regexes = strings(t.get("paths"));
    for r in &a.path_regexes {
        crate::compile::check_regex(r)
            .map_err(|m| bad(origin, None, None, &format!("{what}: path {m}")))?;
    }
    a.stopwords = strings(t.get("stopwords"))
        .into_iter()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let kinds = [
        !a.regexes.is_empty() || !a.match_regexes.is_empty() || !a.line_regexes.is_empty(),
        !a.path_regexes.is_empty(),
        !a.stopwords.is_empty(),
    ];
    for (k, v) in t {
        match k.as_str() {
            "description" | "regexTarget" | "regexes" | "paths" | "stopwords" | "targetRules" => {}
            "condition" => {
                let cond = v.as_str().unwrap_or("OR");
                if cond.eq_ignore_ascii_case("AND") && kinds.iter().filter(|k| **k).count() > 1 {
                    warnings.push(format!(
                        "{what}: condition = \"AND\" is applied as \"OR\" (each criterion alone allows a finding)"
                    ));
                }
            }
            "commits" => warnings.push(format!(
                "{what}: `commits` allow-lists are not supported; use a keysweep baseline instead"
            )),
            other => warnings.push(format!(
                "{what}: field `{other}` is not supported and was ignored"
            )),
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RuleSetBuilder, Scanner};

    const CONFIG: &str = r#"
title = "team rules"

[extend]
useDefault = true

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''acme_key\s*=\s*"([a-z0-9]{24})"'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_key"]
tags = ["acme"]

[[rules.allowlists]]
regexTarget = "line"
regexes = ['''# test fixture''']

[[rules]]
id = "internal-token"
regex = '''itk-[A-Z0-9]{16}'''
path = '''\.cfg$'''

[[rules]]
id = "secret-file"
path = '''\.p12$'''

[allowlist]
description = "global"
paths = ['''^vendor/''']
stopwords = ["notreal"]
commits = ["abc123"]
"#;

    #[test]
    fn translates_rules_and_warns() {
        let imp = import_gitleaks("gl.toml", CONFIG).unwrap();
        assert!(imp.use_default);
        let ids: Vec<_> = imp.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["acme-api-key", "internal-token"]);
        assert_eq!(imp.rules[0].secret_group, SecretGroup::Index(1));
        assert_eq!(imp.rules[0].min_entropy, Some(3.0));
        assert_eq!(imp.rules[1].path.as_deref(), Some(r"\.cfg$"));
        assert!(imp.rules[1].keywords.is_empty());
        assert_eq!(imp.global_allow.path_regexes, ["^vendor/"]);
        let w = imp.warnings.join("\n");
        assert!(w.contains("secret-file") && w.contains("path-only"), "{w}");
        assert!(w.contains("commits"), "{w}");
    }

    #[test]
    fn imported_rules_scan() {
        let imp = import_gitleaks("gl.toml", CONFIG).unwrap();
        let set = RuleSetBuilder::new()
            .default_rules(false)
            .add_rules(imp.rules)
            .global_allow(imp.global_allow)
            .build()
            .unwrap();
        let s = Scanner::new(set);
        let f = s.scan_bytes(b"acme_key = \"q8w7e6r5t4y3u2i1o0p9a8s7\"\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].secret.expose(), b"q8w7e6r5t4y3u2i1o0p9a8s7");
        // Line allow-list.
        assert!(s
            .scan_bytes(b"acme_key = \"q8w7e6r5t4y3u2i1o0p9a8s7\" # test fixture\n")
            .is_empty());
        // Path-restricted keyword-less rule: only in .cfg files.
        let mut scratch = s.scratch();
        let hay = b"x = itk-Q8W7E6R5T4Y3U2I1\n";
        let cfg: std::sync::Arc<Path> = std::sync::Arc::from(Path::new("app.cfg"));
        let txt: std::sync::Arc<Path> = std::sync::Arc::from(Path::new("app.txt"));
        assert_eq!(s.scan_slice(&mut scratch, hay, Some(&cfg)).len(), 1);
        assert!(s.scan_slice(&mut scratch, hay, Some(&txt)).is_empty());
        // Global path allow-list (regex) and stopword.
        let vendored: std::sync::Arc<Path> = std::sync::Arc::from(Path::new("vendor/app.cfg"));
        assert!(s.scan_slice(&mut scratch, hay, Some(&vendored)).is_empty());
        assert!(s
            .scan_bytes(b"acme_key = \"notrealq8w7e6r5t4y3u2i1o\"\n")
            .is_empty());
    }

    #[test]
    fn errors_name_rule_and_field() {
        let e =
            import_gitleaks("gl.toml", "[[rules]]\nid = \"x\"\nregex = '(unclosed'\n").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("gl.toml:1") && msg.contains("rule x") && msg.contains("regex"),
            "{msg}"
        );
        let e = import_gitleaks("gl.toml", "[[rules]\n").unwrap_err();
        assert!(e.to_string().starts_with("gl.toml:1:"), "{e}");
    }
}
