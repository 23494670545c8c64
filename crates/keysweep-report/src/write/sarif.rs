//! SARIF 2.1.0 output, as GitHub code scanning accepts it.

use keysweep_core::{Rule, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::item::Item;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0–10.0) for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A SARIF artifact URI for a path: relative paths stay relative (resolved
/// against the checkout by code scanning), absolute ones become `file://` URIs.
fn uri(path: &str) -> String {
    let encoded: String = path
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// Builds the SARIF log of `items` (in report order), describing every rule
/// that produced a finding (from the findings' own rules).
pub fn render(items: &[Item], reveal: bool) -> Value {
    // Describe the rules that fired, in id order, and remember their index.
    let mut by_id: BTreeMap<&str, &Rule> = BTreeMap::new();
    for i in items {
        by_id.entry(&i.finding.rule.id).or_insert(&i.finding.rule);
    }
    let fired: BTreeMap<&str, usize> = by_id.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rule_objs: Vec<Value> = by_id
        .values()
        .map(|r| {
            let mut obj = json!({
                "id": r.id,
                "name": pascal(&r.name),
                "shortDescription": { "text": r.name },
                "fullDescription": { "text": if r.description.is_empty() { &r.name } else { &r.description } },
                "defaultConfiguration": { "level": level(r.severity) },
                "help": { "text": format!("{} Remove the secret from the code, rotate it (keysweep rotate plan), and mark false positives with a `keysweep:allow` comment.", r.description) },
                "properties": {
                    "tags": ["security", "secret", r.kind.as_str()],
                    "security-severity": security_severity(r.severity),
                    "precision": "high"
                }
            });
            if let Some(url) = r.references.first() {
                obj["helpUri"] = json!(url);
            }
            obj
        })
        .collect();
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let f = &item.finding;
            let path = item.path();
            let shown = if reveal {
                String::from_utf8_lossy(f.secret.expose()).into_owned()
            } else {
                f.secret.redacted()
            };
            let mut result = json!({
                "ruleId": f.rule.id,
                "ruleIndex": fired[f.rule.id.as_str()],
                "level": level(f.rule.severity),
                "message": { "text": format!("{} found: {shown}", f.rule.name) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&path) },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                            "snippet": { "text": f.snippet }
                        }
                    }
                }],
                "partialFingerprints": { "keysweep/v1": f.fingerprint.to_hex() }
            });
            if let Some(git) = item.git() {
                result["properties"] = json!({ "blob": git.blob, "provenance": git.provenance });
            }
            if !f.decoded.is_empty() {
                let chain: Vec<&str> = f.decoded.iter().map(|e| e.as_str()).collect();
                result["properties"]["decoded"] = json!(chain);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keysweep",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/keysweep",
                "rules": rule_objs
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    })
}

/// `AWS access key ID` → `AwsAccessKeyId` (SARIF rule names are identifiers).
fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            let first = cs
                .next()
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_default();
            let rest: String = cs.map(|c| c.to_ascii_lowercase()).collect();
            format!("{first}{rest}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal("AWS access key ID"), "AwsAccessKeyId");
        assert_eq!(uri("src/a b.rs"), "src/a%20b.rs");
        assert_eq!(uri("/tmp/x"), "file:///tmp/x");
    }

    #[test]
    fn one_result_per_finding_with_fingerprint() {
        let s = keysweep_core::Scanner::with_default_rules().unwrap();
        let f = s.scan_bytes(b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n");
        let fp = f[0].fingerprint.to_hex();
        let items: Vec<Item> = f.into_iter().map(Item::plain).collect();
        let log = render(&items, false);
        let run = &log["runs"][0];
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(run["results"].as_array().unwrap().len(), 1);
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "ks.aws.1");
        assert_eq!(run["results"][0]["ruleIndex"], 0);
        assert_eq!(run["results"][0]["partialFingerprints"]["keysweep/v1"], fp);
        assert!(!log.to_string().contains("QYLPMN5"));
    }
}
