//! [`Record`]: one finding as JSON and JSON Lines reports write it, and as
//! the Python bindings' `Finding.to_dict()` returns it.

use keysweep_core::{Fingerprint, Rule, Secret, Severity};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::item::{display_path, Item};
use crate::origin::{Commit, GitOrigin, Origin};

/// One finding as written in JSON and JSON Lines. The raw secret is present
/// only when revealed; `Debug` never shows it.
///
/// Readers ([`crate::read_records`]) accept records with only some fields:
/// `rule_id` and `fingerprint` are required, the others default to empty
/// or zero.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The rule's id, e.g. `ks.aws.1`.
    pub rule_id: String,
    /// The rule's name.
    #[serde(default)]
    pub rule_name: String,
    /// The rule's kind, e.g. `aws-access-key-id`.
    #[serde(default)]
    pub kind: String,
    /// `info`, `low`, `medium`, `high` or `critical`.
    #[serde(default)]
    pub severity: String,
    /// The displayed path ([`display_path`]); empty for unnamed input.
    #[serde(default)]
    pub path: String,
    /// 1-based line of the secret's first byte.
    #[serde(default)]
    pub line: usize,
    /// 1-based column (characters) of the secret's first byte.
    #[serde(default)]
    pub column: usize,
    /// 1-based line of the secret's last byte.
    #[serde(default)]
    pub end_line: usize,
    /// 1-based column just after the secret's last byte.
    #[serde(default)]
    pub end_column: usize,
    /// Byte offset of the secret.
    #[serde(default)]
    pub byte_start: usize,
    /// Byte offset just after the secret.
    #[serde(default)]
    pub byte_end: usize,
    /// The keyed fingerprint, 64 hex digits.
    pub fingerprint: String,
    /// Shannon entropy of the secret (bits per byte, rounded to 3 places).
    #[serde(default)]
    pub entropy: f64,
    /// The redacted secret, e.g. `AKIA*****`.
    #[serde(default)]
    pub secret_redacted: String,
    /// The raw secret, only when revealed (`--reveal`, `reveal=True`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The line holding the secret, redacted.
    #[serde(default)]
    pub snippet: String,
    /// The decodings the secret was found under, outermost first (`base64`,
    /// `hex`, `percent`, `escape`, `html`); absent for a plain secret. The
    /// position is then that of the encoded span.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<String>,
    /// History findings: the commit that first introduced the secret (and its
    /// path there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
    /// History findings: the blob holding the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// History findings with every introducing commit asked for: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Vec<Commit>>,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("rule_id", &self.rule_id)
            .field("path", &self.path)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("fingerprint", &self.fingerprint)
            .field("secret", &self.secret_redacted)
            .field("decoded", &self.decoded)
            .field("blob", &self.blob)
            .finish_non_exhaustive()
    }
}

impl Record {
    /// The record of `item`; the raw secret is included only with `reveal`.
    pub fn new(item: &Item, reveal: bool) -> Record {
        let f = &item.finding;
        let mut r = Record {
            rule_id: f.rule.id.clone(),
            rule_name: f.rule.name.clone(),
            kind: f.rule.kind.clone(),
            severity: f.rule.severity.to_string(),
            path: f.path.as_deref().map(display_path).unwrap_or_default(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            byte_start: f.span.start,
            byte_end: f.span.end,
            fingerprint: f.fingerprint.to_hex(),
            entropy: (f.entropy * 1000.0).round() / 1000.0,
            secret_redacted: f.secret.redacted(),
            secret: reveal.then(|| String::from_utf8_lossy(f.secret.expose()).into_owned()),
            snippet: f.snippet.clone(),
            decoded: f.decoded.iter().map(|e| e.as_str().to_string()).collect(),
            commit: None,
            blob: None,
            provenance: None,
        };
        if let Some(g) = item.git() {
            r.commit = g.provenance.first().cloned();
            r.blob = Some(g.blob.clone());
            if g.all {
                r.provenance = Some(g.provenance.clone());
            }
        }
        r
    }

    /// The origin the record describes: git when it names a blob.
    pub fn origin(&self) -> Result<Origin> {
        let Some(blob) = &self.blob else {
            if self.commit.is_some() || self.provenance.is_some() {
                return Err(Error::record("a commit or provenance without a blob"));
            }
            return Ok(Origin::Input);
        };
        let (provenance, all) = match (&self.provenance, &self.commit) {
            (Some(all), _) => (all.clone(), true),
            (None, Some(first)) => (vec![first.clone()], false),
            (None, None) => (Vec::new(), false),
        };
        Ok(Origin::Git(GitOrigin {
            blob: blob.clone(),
            provenance,
            all,
        }))
    }

    /// The fingerprint, checked (64 hex digits, any case).
    pub fn parsed_fingerprint(&self) -> Result<Fingerprint> {
        Fingerprint::from_hex(&self.fingerprint.to_ascii_lowercase())
            .ok_or_else(|| Error::record("fingerprint is not 64 hex digits"))
    }

    /// Rebuilds the item: needs the raw secret (a record written revealed),
    /// whose length must match `byte_end - byte_start` unless it was found
    /// decoded. The rule is known
    /// only by its id, name, kind and severity ([`Rule::described`]); the
    /// entropy is recomputed from the secret.
    pub fn to_item(&self) -> Result<Item> {
        let secret = self.secret.as_deref().ok_or_else(|| {
            Error::record("no raw secret (a record written with the secret revealed is needed)")
        })?;
        // A decoded secret's span is that of its encoded form.
        if self.decoded.is_empty()
            && self.byte_end.checked_sub(self.byte_start) != Some(secret.len())
        {
            return Err(Error::record(
                "byte_end - byte_start does not match the length of the secret",
            ));
        }
        let severity: Severity = self
            .severity
            .parse()
            .map_err(|e: keysweep_core::UnknownSeverity| Error::record(e.to_string()))?;
        let rule = Rule::described(&self.rule_id, &self.rule_name, &self.kind, severity);
        let path = (!self.path.is_empty()).then(|| Arc::<Path>::from(Path::new(&self.path)));
        let decoded = self
            .decoded
            .iter()
            .map(|d| d.parse::<keysweep_core::Encoding>().map_err(Error::record))
            .collect::<Result<Vec<_>>>()?;
        let mut finding = keysweep_core::Finding::from_parts(
            Arc::new(rule),
            path,
            Secret::new(secret.as_bytes().to_vec()),
            self.byte_start..self.byte_end,
            (self.line, self.column),
            (self.end_line, self.end_column),
            self.parsed_fingerprint()?,
            self.snippet.clone(),
        );
        finding.decoded = decoded;
        Ok(Item {
            finding,
            origin: self.origin()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        let s = keysweep_core::Scanner::with_default_rules().unwrap();
        let p: Arc<Path> = Path::new("./conf/.env").into();
        let f = s
            .scan_slice(
                &mut s.scratch(),
                b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n",
                Some(&p),
            )
            .remove(0);
        Item::plain(f)
    }

    #[test]
    fn record_hides_secret_unless_revealed() {
        let it = item();
        let hidden = serde_json::to_string(&Record::new(&it, false)).unwrap();
        assert!(!hidden.contains("QYLPMN5"), "{hidden}");
        assert!(!hidden.contains("\"secret\""));
        assert!(hidden.contains("\"path\":\"conf/.env\""));
        let shown = Record::new(&it, true);
        assert!(serde_json::to_string(&shown)
            .unwrap()
            .contains("\"secret\":\"AKIAQYLPMN5HHHFPZAM2\""));
        assert!(!format!("{shown:?}").contains("QYLPMN5"));
    }

    #[test]
    fn revealed_records_round_trip() {
        let it = item();
        let r = Record::new(&it, true);
        let back = r.to_item().unwrap();
        assert_eq!(Record::new(&back, true), r);
        assert_eq!(back.finding.fingerprint, it.finding.fingerprint);
        assert_eq!(back.finding.entropy.to_bits(), it.finding.entropy.to_bits());
    }

    #[test]
    fn git_records_round_trip() {
        let mut it = item();
        let c = Commit {
            commit: "a".repeat(40),
            author: "A".into(),
            email: "a@example.com".into(),
            date: "2026-01-01T00:00:00+00:00".into(),
            summary: "s".into(),
            path: "conf/.env".into(),
        };
        for all in [false, true] {
            it.origin = Origin::Git(GitOrigin {
                blob: "b".repeat(40),
                provenance: vec![c.clone()],
                all,
            });
            let r = Record::new(&it, true);
            assert_eq!(r.provenance.is_some(), all);
            assert_eq!(r.to_item().unwrap().origin, it.origin);
        }
    }

    #[test]
    fn bad_records_are_refused() {
        let r = Record::new(&item(), false);
        assert!(r.to_item().unwrap_err().to_string().contains("raw secret"));
        let mut r = Record::new(&item(), true);
        r.byte_end += 1;
        assert!(r.to_item().is_err());
        let mut r = Record::new(&item(), true);
        r.severity = "dire".into();
        assert!(r.to_item().unwrap_err().to_string().contains("dire"));
        let mut r = Record::new(&item(), true);
        r.fingerprint = "zz".into();
        assert!(r.to_item().is_err());
    }
}
