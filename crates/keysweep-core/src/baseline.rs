//! Baselines: the set of known findings a team has accepted, by fingerprint.
//!
//! A baseline file (`.keysweep-baseline.json`) is deterministic: entries sorted
//! by fingerprint, no timestamps, no line numbers. Identity is the keyed
//! fingerprint of (rule id, secret) only, so it survives line moves, renames,
//! rebases, squashes and cherry-picks, while a *changed* secret is new. The
//! `path` of each entry is informational (where it was first seen).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result, RuleError};
use crate::finding::Finding;
use crate::fingerprint::FingerprintKey;

/// Default baseline file name.
pub const BASELINE_FILE: &str = ".keysweep-baseline.json";

/// One accepted finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// Keyed fingerprint (64 hex digits).
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// Where it was first seen (informational).
    pub path: String,
}

/// A set of accepted findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<String, BaselineEntry>,
    custom_key: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    fingerprint_key: String,
    findings: Vec<BaselineEntry>,
}

impl Baseline {
    /// A baseline of `findings`, for fingerprints made with `key`.
    pub fn from_findings<'a>(
        findings: impl IntoIterator<Item = &'a Finding>,
        key: &FingerprintKey,
    ) -> Baseline {
        let mut b = Baseline {
            entries: BTreeMap::new(),
            custom_key: !key.is_default(),
        };
        b.add(findings);
        b
    }

    /// Adds findings not already present; returns how many were new.
    pub fn add<'a>(&mut self, findings: impl IntoIterator<Item = &'a Finding>) -> usize {
        let mut new = 0;
        for f in findings {
            let fp = f.fingerprint.to_hex();
            let path = f
                .path
                .as_deref()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let path = path.strip_prefix("./").unwrap_or(&path).to_string();
            match self.entries.get_mut(&fp) {
                Some(e) if path < e.path && !path.is_empty() => e.path = path,
                Some(_) => {}
                None => {
                    new += 1;
                    self.entries.insert(
                        fp.clone(),
                        BaselineEntry {
                            fingerprint: fp,
                            rule_id: f.rule.id.clone(),
                            path,
                        },
                    );
                }
            }
        }
        new
    }

    /// Keeps only entries whose fingerprint is in `present`; returns how many were dropped.
    pub fn retain_present<'a>(&mut self, present: impl IntoIterator<Item = &'a Finding>) -> usize {
        let keep: std::collections::HashSet<String> = present
            .into_iter()
            .map(|f| f.fingerprint.to_hex())
            .collect();
        let before = self.entries.len();
        self.entries.retain(|fp, _| keep.contains(fp));
        before - self.entries.len()
    }

    /// Whether a finding is in the baseline.
    pub fn contains(&self, f: &Finding) -> bool {
        self.entries.contains_key(&f.fingerprint.to_hex())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, sorted by fingerprint.
    pub fn entries(&self) -> impl Iterator<Item = &BaselineEntry> {
        self.entries.values()
    }

    /// The deterministic JSON text of this baseline.
    pub fn to_json(&self) -> String {
        let file = BaselineFile {
            version: 1,
            fingerprint_key: if self.custom_key { "custom" } else { "default" }.into(),
            findings: self.entries.values().cloned().collect(),
        };
        let mut s = serde_json::to_string_pretty(&file).expect("baseline serialises");
        s.push('\n');
        s
    }

    /// Parses a baseline; `origin` names it in errors (with line and column).
    pub fn from_json(origin: &str, text: &str) -> Result<Baseline> {
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| {
            Error::from(RuleError {
                origin: origin.into(),
                line: Some(e.line()),
                column: Some(e.column()),
                rule_id: None,
                field: None,
                message: format!("malformed baseline: {}", hide_strings(&e.to_string())),
            })
        })?;
        let bad = |message: String| {
            Error::from(RuleError {
                origin: origin.into(),
                line: None,
                column: None,
                rule_id: None,
                field: None,
                message,
            })
        };
        if file.version != 1 {
            return Err(bad(format!(
                "unsupported baseline version {}",
                file.version
            )));
        }
        let mut entries = BTreeMap::new();
        for (i, e) in file.findings.into_iter().enumerate() {
            if crate::Fingerprint::from_hex(&e.fingerprint).is_none() {
                // The value is not echoed: it might be anything, even a secret.
                return Err(bad(format!(
                    "finding #{} (rule {}): invalid fingerprint (expected 64 hex digits)",
                    i + 1,
                    e.rule_id
                )));
            }
            entries.insert(e.fingerprint.clone(), e);
        }
        Ok(Baseline {
            entries,
            custom_key: file.fingerprint_key == "custom",
        })
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Baseline::from_json(&path.display().to_string(), &text)
    }

    /// Whether the file was made with a custom fingerprint key.
    pub fn custom_key(&self) -> bool {
        self.custom_key
    }
}

/// Replaces the string values serde_json quotes in its errors (`invalid
/// type: string "…", expected …`) so that a mistaken file's content, which
/// might be a secret, is not echoed.
fn hide_strings(msg: &str) -> String {
    const TAG: &str = "string \"";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(TAG) {
        out.push_str(&rest[..i]);
        out.push_str("a string");
        let value = &rest[i + TAG.len()..];
        let mut escaped = false;
        let end = value.char_indices().find_map(|(j, c)| match c {
            _ if escaped => {
                escaped = false;
                None
            }
            '\\' => {
                escaped = true;
                None
            }
            '"' => Some(j + 1),
            _ => None,
        });
        rest = &value[end.unwrap_or(value.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scanner;

    #[test]
    fn deterministic_round_trip_and_membership() {
        let s = Scanner::with_default_rules()
            .unwrap()
            .with_fingerprint_key(FingerprintKey::default());
        let a = s.scan_bytes(b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n");
        let b = s.scan_bytes(b"\n\n   id: AKIAQYLPMN5HHHFPZAM2\n");
        let c = s.scan_bytes(b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM3\n");
        let base = Baseline::from_findings(&a, s.fingerprint_key());
        // Same secret on another line and in other text: still baselined.
        assert!(base.contains(&b[0]));
        // A changed secret is new.
        assert!(!base.contains(&c[0]));
        let json = base.to_json();
        assert!(!json.contains("QYLPMN5"));
        let again = Baseline::from_json("b.json", &json).unwrap();
        assert_eq!(again, base);
        assert_eq!(again.to_json(), json);
    }

    #[test]
    fn errors_do_not_echo_values() {
        let err = Baseline::from_json(
            "x.json",
            r#"{"version": "hunter2-\"quoted\"-s3cr3t", "x": 1}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(err.starts_with("x.json:1:"), "{err}");
        assert!(
            err.contains("invalid type: a string, expected u32"),
            "{err}"
        );
        let json = r#"{"version": 1, "fingerprint_key": "default", "findings": [{"fingerprint": "s3cr3t", "rule_id": "ks.x.1", "path": ""}]}"#;
        let err = Baseline::from_json("y.json", json).unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(
            err.contains("finding #1 (rule ks.x.1): invalid fingerprint"),
            "{err}"
        );
        assert_eq!(
            hide_strings(r#"a string "x\"y" b string "z""#),
            "a a string b a string"
        );
    }

    #[test]
    fn malformed_names_position() {
        let err = Baseline::from_json("x.json", "{\n \"version\": 1,\n \"oops\"").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.json:3:"), "{msg}");
    }
}
