//! Totals of a scan and the summary reports end with.

use serde::Serialize;
use std::time::Duration;

/// Totals of any kind of scan (files, history, staged changes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Files (or blobs) scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files (or blobs) skipped.
    pub skipped: u64,
    /// Files that could not be read.
    pub errors: u64,
    /// Commits walked (history scans only).
    pub commits: Option<u64>,
    /// Findings left out because the baseline has them.
    pub baselined: u64,
}

/// The `summary` object of a JSON report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files (or blobs) scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Files (or blobs) skipped.
    pub skipped: u64,
    /// Files that could not be read.
    pub errors: u64,
    /// Findings reported.
    pub findings: u64,
    /// Findings left out because the baseline has them.
    pub baselined: u64,
    /// Commits walked (history scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// Wall time of the scan.
    pub duration_ms: u64,
}

impl Summary {
    /// The summary of a scan with these totals and `findings` reported.
    pub fn new(t: &Totals, findings: u64, elapsed: Duration) -> Summary {
        Summary {
            files: t.files,
            bytes: t.bytes,
            skipped: t.skipped,
            errors: t.errors,
            findings,
            baselined: t.baselined,
            commits: t.commits,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        }
    }
}
