//! What a scan reports.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::fingerprint::Fingerprint;
use crate::rule::Rule;
use crate::secret::Secret;

/// One detected secret.
///
/// `Debug` is safe to log: the secret prints redacted and the snippet is
/// already redacted.
#[derive(Clone)]
#[non_exhaustive]
pub struct Finding {
    /// The rule that found it.
    pub rule: Arc<Rule>,
    /// The file it is in (`None` for bytes scanned without a name).
    pub path: Option<Arc<Path>>,
    /// The secret itself, redacted unless explicitly exposed.
    pub secret: Secret,
    /// Byte range of the secret in the scanned input.
    pub span: Range<usize>,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column (in characters) of the secret's first byte.
    pub column: usize,
    /// 1-based line of the secret's last byte.
    pub end_line: usize,
    /// 1-based column (in characters) just after the secret's last byte.
    pub end_column: usize,
    /// Shannon entropy of the secret, in bits per byte.
    pub entropy: f64,
    /// Keyed fingerprint of (rule id, secret).
    pub fingerprint: Fingerprint,
    /// The line holding the secret, with every secret found on it redacted and
    /// long lines shortened around the secret.
    pub snippet: String,
    /// The decodings the secret was found under, outermost first (empty for
    /// a plain secret); the position is then that of the encoded span.
    pub decoded: Vec<crate::decode::Encoding>,
}

impl Finding {
    /// A finding rebuilt from its parts, e.g. read back from a report
    /// (`keysweep-report`); the entropy is computed from the secret. `start`
    /// and `end` are (line, column) pairs as in [`Finding::line`] and
    /// friends.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        rule: Arc<Rule>,
        path: Option<Arc<Path>>,
        secret: Secret,
        span: Range<usize>,
        start: (usize, usize),
        end: (usize, usize),
        fingerprint: Fingerprint,
        snippet: String,
    ) -> Finding {
        Finding {
            entropy: crate::entropy::shannon_entropy(secret.expose()),
            rule,
            path,
            secret,
            span,
            line: start.0,
            column: start.1,
            end_line: end.0,
            end_column: end.1,
            fingerprint,
            snippet,
            decoded: Vec::new(),
        }
    }

    /// The rule id.
    pub fn rule_id(&self) -> &str {
        &self.rule.id
    }
}

impl std::fmt::Debug for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finding")
            .field("rule", &self.rule.id)
            .field("path", &self.path)
            .field("secret", &self.secret)
            .field("span", &self.span)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("entropy", &self.entropy)
            .field("fingerprint", &self.fingerprint)
            .field("snippet", &self.snippet)
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}
