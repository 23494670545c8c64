//! The serialisable form of findings shared by the JSON, JSONL and SARIF outputs.

use keysweep_core::{Finding, ScanStats};
use serde::Serialize;
use std::path::Path;

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
}

impl FindingRecord {
    pub fn new(f: &Finding, reveal: bool) -> FindingRecord {
        FindingRecord {
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
    pub duration_ms: u64,
}

impl Summary {
    pub fn new(stats: &ScanStats, findings: u64, elapsed: std::time::Duration) -> Summary {
        Summary {
            files: stats.files,
            bytes: stats.bytes,
            skipped: stats.skipped,
            errors: stats.errors,
            findings,
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
