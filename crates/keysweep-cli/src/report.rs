//! The serialisable form of findings shared by the JSON, JSONL and SARIF outputs.

use keysweep_core::Finding;
use serde::Serialize;
use std::path::Path;

/// A finding plus, for history scans, where it came from.
#[derive(Debug)]
pub struct Item {
    pub finding: Finding,
    pub git: Option<GitContext>,
}

/// Git provenance of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct GitContext {
    pub blob: String,
    pub provenance: Vec<ProvenanceRecord>,
    /// Whether every introducing commit was asked for (`--all-provenance`).
    #[serde(skip)]
    pub all: bool,
}

/// A commit and the path of the secret in it.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceRecord {
    pub commit: String,
    pub author: String,
    pub email: String,
    pub date: String,
    pub summary: String,
    pub path: String,
}

impl From<&keysweep_git::Provenance> for ProvenanceRecord {
    fn from(p: &keysweep_git::Provenance) -> Self {
        ProvenanceRecord {
            commit: p.commit.id.clone(),
            author: p.commit.author.clone(),
            email: p.commit.email.clone(),
            date: p.commit.date.clone(),
            summary: p.commit.summary.clone(),
            path: p.path.clone(),
        }
    }
}

impl Item {
    pub fn plain(finding: Finding) -> Item {
        Item { finding, git: None }
    }

    pub fn from_history(hf: keysweep_git::HistoryFinding, all: bool) -> Item {
        Item {
            git: Some(GitContext {
                blob: hf.blob,
                provenance: hf.provenance.iter().map(ProvenanceRecord::from).collect(),
                all,
            }),
            finding: hf.finding,
        }
    }

    /// The path shown for this item.
    pub fn path(&self) -> String {
        self.finding
            .path
            .as_deref()
            .map(display_path)
            .unwrap_or_default()
    }
}

/// One finding as written in JSON and JSON Lines.
#[derive(Debug, Serialize)]
pub struct FindingRecord {
    pub rule_id: String,
    pub rule_name: String,
    pub kind: String,
    pub severity: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    pub fingerprint: String,
    pub entropy: f64,
    pub secret_redacted: String,
    /// The raw secret, only with `--reveal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub snippet: String,
    /// History scans: the commit that first introduced the secret (and its path there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<ProvenanceRecord>,
    /// History scans: the blob holding the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// With `--all-provenance`: every commit that introduced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Vec<ProvenanceRecord>>,
}

impl FindingRecord {
    pub fn from_item(item: &Item, reveal: bool) -> FindingRecord {
        let mut r = FindingRecord::new(&item.finding, reveal);
        if let Some(g) = &item.git {
            r.commit = g.provenance.first().cloned();
            r.blob = Some(g.blob.clone());
            if g.all {
                r.provenance = Some(g.provenance.clone());
            }
        }
        r
    }

    pub fn new(f: &Finding, reveal: bool) -> FindingRecord {
        FindingRecord {
            commit: None,
            blob: None,
            provenance: None,
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
        }
    }
}

/// Totals written at the end of reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub skipped: u64,
    pub errors: u64,
    pub findings: u64,
    /// Findings left out because the baseline has them.
    pub baselined: u64,
    /// Commits walked (history scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    pub duration_ms: u64,
}

/// Totals of any kind of scan, for summaries.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Files (or blobs) scanned.
    pub files: u64,
    pub bytes: u64,
    pub skipped: u64,
    pub errors: u64,
    /// Commits walked (history scans).
    pub commits: Option<u64>,
    /// Findings hidden because they are in the baseline.
    pub baselined: u64,
}

impl Summary {
    pub fn new(t: &Totals, findings: u64, elapsed: std::time::Duration) -> Summary {
        Summary {
            files: t.files,
            bytes: t.bytes,
            skipped: t.skipped,
            errors: t.errors,
            findings,
            baselined: t.baselined,
            commits: t.commits,
            duration_ms: elapsed.as_millis() as u64,
        }
    }
}

/// A path as shown to users: without a leading `./`, with `/` separators.
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_dot_slash() {
        assert_eq!(display_path(Path::new("./a/b.txt")), "a/b.txt");
        assert_eq!(display_path(Path::new("/abs/c")), "/abs/c");
    }

    #[test]
    fn record_hides_secret_unless_revealed() {
        let s = keysweep_core::Scanner::with_default_rules().unwrap();
        let f = &s.scan_bytes(b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2")[0];
        let hidden = serde_json::to_string(&FindingRecord::new(f, false)).unwrap();
        assert!(!hidden.contains("QYLPMN5"), "{hidden}");
        assert!(!hidden.contains("\"secret\""));
        let shown = serde_json::to_string(&FindingRecord::new(f, true)).unwrap();
        assert!(shown.contains("\"secret\":\"AKIAQYLPMN5HHHFPZAM2\""));
    }
}
