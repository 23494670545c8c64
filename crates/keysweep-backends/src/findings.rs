//! Findings as rotation needs them: which rule matched where, and the keyed
//! fingerprint of the value, read from the scanner's JSON output.
//!
//! Kept small on purpose: a `keysweep-report` record reader will replace
//! the body of [`parse_findings`].

use keysweep_rotate::Fingerprint;
use serde::Serialize;

/// A finding as `[[rotation]]` selection and `locate` need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    /// Rule id.
    pub rule_id: String,
    /// Rule kind.
    pub kind: String,
    /// File.
    pub path: String,
    /// Line.
    pub line: u64,
    /// Fingerprint, 64 lowercase hex digits.
    pub fingerprint: String,
}

/// Why a findings text could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FindingsError {
    /// JSON, but neither findings nor a scan document.
    #[error("not a keysweep findings file")]
    NotFindings,
    /// A JSON Lines line that is not JSON.
    #[error("line {line}: not JSON")]
    Line {
        /// 1-based line number.
        line: usize,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A record with a fingerprint but no valid rule id or fingerprint.
    #[error("finding #{index} has no valid rule_id/fingerprint")]
    Invalid {
        /// 1-based index of the record.
        index: usize,
    },
}

/// Parses what `keysweep scan --format json` writes (the document with its
/// `findings` array, or a bare array) or `--format jsonl` (one record a
/// line). Records without a `fingerprint` are skipped; fingerprints are
/// lowercased.
pub fn parse_findings(text: &str) -> Result<Vec<FindingRef>, FindingsError> {
    use serde_json::Value;
    let values: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => a,
        Ok(Value::Object(mut o)) => match o.remove("findings") {
            Some(Value::Array(a)) => a,
            _ => vec![Value::Object(o)],
        },
        Ok(_) => return Err(FindingsError::NotFindings),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|source| FindingsError::Line {
                    line: i + 1,
                    source,
                })
            })
            .collect::<Result<_, _>>()?,
    };
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.get("fingerprint").is_some())
        .map(|(i, v)| {
            let s = |k: &str| {
                v.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let f = FindingRef {
                rule_id: s("rule_id"),
                kind: s("kind"),
                path: s("path"),
                line: v.get("line").and_then(|x| x.as_u64()).unwrap_or(0),
                fingerprint: s("fingerprint").to_ascii_lowercase(),
            };
            if Fingerprint::from_hex(&f.fingerprint).is_none() || f.rule_id.is_empty() {
                return Err(FindingsError::Invalid { index: i + 1 });
            }
            Ok(f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fp: &str) -> String {
        format!(
            r#"{{"rule_id": "ks.x.1", "kind": "github-pat", "path": "a.rs", "line": 3, "fingerprint": "{fp}"}}"#
        )
    }

    #[test]
    fn documents_arrays_and_json_lines() {
        let fp = "AB".repeat(32);
        let want = FindingRef {
            rule_id: "ks.x.1".into(),
            kind: "github-pat".into(),
            path: "a.rs".into(),
            line: 3,
            fingerprint: "ab".repeat(32),
        };
        let doc = format!(r#"{{"version": 1, "findings": [{}]}}"#, record(&fp));
        assert_eq!(parse_findings(&doc).unwrap(), std::slice::from_ref(&want));
        let arr = format!("[{}, {{\"note\": 1}}]", record(&fp));
        assert_eq!(parse_findings(&arr).unwrap(), std::slice::from_ref(&want));
        let lines = format!("{}\n\n{}\n", record(&fp), record(&fp));
        assert_eq!(
            parse_findings(&lines).unwrap(),
            [want.clone(), want.clone()]
        );
        assert_eq!(parse_findings(&record(&fp)).unwrap(), [want]);
        assert!(parse_findings(r#"{"findings": []}"#).unwrap().is_empty());
    }

    #[test]
    fn bad_findings_are_errors() {
        assert!(matches!(
            parse_findings("42"),
            Err(FindingsError::NotFindings)
        ));
        let e = parse_findings(&format!("{}\nnope\n", record(&"ab".repeat(32)))).unwrap_err();
        assert!(matches!(e, FindingsError::Line { line: 2, .. }), "{e:?}");
        let e = parse_findings(&format!("[{}]", record("abc"))).unwrap_err();
        assert!(matches!(e, FindingsError::Invalid { index: 1 }), "{e:?}");
    }
}
