//! Finding where a leaked value lives: [`Locator`].
//!
//! `keysweep scan` reports each finding with a keyed fingerprint
//! (`HMAC-SHA256(key, rule_id ‖ 0 ‖ secret)`), never the value. To find which
//! store entry holds a leaked credential, a provider crate reads candidate
//! values (AWS `AWSCURRENT`/`AWSPREVIOUS`, every retained Vault KV version)
//! and asks the [`Locator`] whether any piece of them — the whole value, a
//! JSON string field, the password inside a connection URL — has the same
//! fingerprint under the same rule id. Nothing but fingerprints is compared
//! or reported.

use crate::json_field::FieldPath;
use crate::url_field::password_span;
use crate::value::SecretValue;
use keysweep_core::{Fingerprint, FingerprintKey};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// A finding to look for: the rule that found it and its keyed fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Wanted {
    /// The rule id (`ks.postgres.1`): part of the fingerprint.
    pub rule_id: String,
    /// The finding's fingerprint.
    pub fingerprint: Fingerprint,
}

/// One piece of a stored value that matches a [`Wanted`] finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedField {
    /// The finding it matches.
    pub wanted: Wanted,
    /// Where in the value: `None` for the whole value, else a JSON field
    /// and/or a URL password (`dsn#password`), usable as the plan's field.
    pub field: Option<FieldPath>,
}

/// Matches stored values against findings by keyed fingerprint.
#[derive(Clone, Debug)]
pub struct Locator {
    key: FingerprintKey,
    rules: BTreeSet<String>,
    wanted: HashMap<(String, Fingerprint), Wanted>,
}

impl Locator {
    /// A locator for `wanted`, fingerprinting with `key` (the scanner's key).
    pub fn new(key: FingerprintKey, wanted: impl IntoIterator<Item = Wanted>) -> Locator {
        let mut rules = BTreeSet::new();
        let mut map = HashMap::new();
        for w in wanted {
            rules.insert(w.rule_id.clone());
            map.insert((w.rule_id.clone(), w.fingerprint), w);
        }
        Locator {
            key,
            rules,
            wanted: map,
        }
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.wanted.is_empty()
    }

    /// Every piece of `value` matching a wanted finding.
    pub fn matches(&self, value: &SecretValue) -> Vec<LocatedField> {
        let mut out = Vec::new();
        if self.wanted.is_empty() {
            return out;
        }
        let mut check = |piece: &[u8], field: Option<String>| {
            for rule in &self.rules {
                let fp = self.key.fingerprint(rule, piece);
                if let Some(w) = self.wanted.get(&(rule.clone(), fp)) {
                    out.push(LocatedField {
                        wanted: w.clone(),
                        field: field.as_deref().and_then(|f| FieldPath::new(f).ok()),
                    });
                }
            }
        };
        let bytes = value.expose();
        check(bytes, None);
        let Some(text) = value.expose_str() else {
            return out;
        };
        if let Some(span) = password_span(text) {
            check(text[span].as_bytes(), Some("#password".into()));
        }
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
            let mut stack: Vec<(String, &Value)> =
                map.iter().map(|(k, v)| (k.clone(), v)).collect();
            stack.reverse();
            while let Some((path, v)) = stack.pop() {
                match v {
                    Value::String(s) => {
                        check(s.as_bytes(), Some(path.clone()));
                        if let Some(span) = password_span(s) {
                            check(s[span].as_bytes(), Some(format!("{path}#password")));
                        }
                    }
                    Value::Object(m) => {
                        for (k, v) in m.iter().rev() {
                            stack.push((format!("{path}.{k}"), v));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(key: &FingerprintKey, rule: &str, secret: &str) -> Wanted {
        Wanted {
            rule_id: rule.into(),
            fingerprint: key.fingerprint(rule, secret.as_bytes()),
        }
    }

    #[test]
    fn finds_whole_values_fields_and_url_passwords() {
        let key = FingerprintKey::new(b"test-key".to_vec());
        let l = Locator::new(
            key.clone(),
            [
                wanted(&key, "ks.aws.2", "wJalrXUtnFEMI0K7MDENG0bPxRfiCYEXAMPLEKEY"),
                wanted(&key, "ks.postgres.1", "pa%24%24word-77"),
                wanted(&key, "ks.generic.1", "whole-value-secret-1"),
            ],
        );
        let fields = |doc: &str| -> Vec<String> {
            l.matches(&SecretValue::from(doc))
                .into_iter()
                .map(|m| m.field.map(|f| f.to_string()).unwrap_or_default())
                .collect()
        };
        assert_eq!(fields("whole-value-secret-1"), [""]);
        assert_eq!(
            fields("postgres://app:pa%24%24word-77@db:5432/prod"),
            ["#password"]
        );
        assert_eq!(
            fields(
                r#"{"creds": {"aws_secret_access_key": "wJalrXUtnFEMI0K7MDENG0bPxRfiCYEXAMPLEKEY"},
                   "dsn": "postgresql://app:pa%24%24word-77@db/prod", "n": 1}"#
            ),
            ["creds.aws_secret_access_key", "dsn#password"]
        );
        // Same secret under another rule id, or another key: no match.
        assert!(fields("other").is_empty());
        let other = Locator::new(
            FingerprintKey::default(),
            [wanted(&key, "ks.generic.1", "whole-value-secret-1")],
        );
        assert!(other
            .matches(&SecretValue::from("whole-value-secret-1"))
            .is_empty());
        assert!(Locator::new(key, []).is_empty());
    }
}
