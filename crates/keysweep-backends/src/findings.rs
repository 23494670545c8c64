//! Findings as rotation needs them: which rule matched where, and the keyed
//! fingerprint of the value, read from the scanner's JSON output with
//! `keysweep-report`'s record reader (the one the bindings use too).

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
    /// Not JSON of a findings file (`keysweep_report::read_records`).
    #[error(transparent)]
    Read(#[from] keysweep_report::Error),
    /// A record with an empty rule id or an invalid fingerprint.
    #[error("finding #{index} has no valid rule_id/fingerprint")]
    Invalid {
        /// 1-based index of the record.
        index: usize,
    },
}

/// Parses what `keysweep scan --format json` writes (the document with its
/// `findings` array, or a bare array) or `--format jsonl` (one record a
/// line), with [`keysweep_report::read_records`]. Records without a
/// `fingerprint` are skipped; fingerprints are lowercased.
pub fn parse_findings(text: &str) -> Result<Vec<FindingRef>, FindingsError> {
    keysweep_report::read_records("", text)?
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let fingerprint = match r.parsed_fingerprint() {
                Ok(fp) if !r.rule_id.is_empty() => fp.to_hex(),
                _ => return Err(FindingsError::Invalid { index: i + 1 }),
            };
            Ok(FindingRef {
                rule_id: r.rule_id,
                kind: r.kind,
                path: r.path,
                line: r.line as u64,
                fingerprint,
            })
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
        let e = parse_findings("42").unwrap_err();
        assert!(
            e.to_string().contains("not a keysweep findings file"),
            "{e}"
        );
        let e = parse_findings(&format!("{}\nnope\n", record(&"ab".repeat(32)))).unwrap_err();
        assert!(e.to_string().starts_with("line 2: "), "{e}");
        let e = parse_findings(&format!("[{}]", record("abc"))).unwrap_err();
        assert!(matches!(e, FindingsError::Invalid { index: 1 }), "{e:?}");
    }
}
