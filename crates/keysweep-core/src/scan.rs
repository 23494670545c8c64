//! The scanning engine: keyword prefilter, windowed regex confirmation, filters.

use regex_automata::util::captures::Captures;
use regex_automata::{meta, Input};
use std::path::Path;
use std::sync::Arc;

use crate::compile::{Group, Matchers, RuleSet};
use crate::entropy::shannon_entropy;
use crate::finding::Finding;
use crate::fingerprint::FingerprintKey;
use crate::placeholder::{is_placeholder, line_is_suppressed};
use crate::secret::{redact, Secret};

/// How far a confirmation window may grow to reach the start or end of a line.
const LINE_EXTEND: usize = 1024;
/// Longest snippet, in bytes, shown around a secret.
const SNIPPET_MAX: usize = 160;

/// An immutable scanner: compiled rules plus the fingerprint key.
/// Cheap to clone and `Send + Sync`; give each thread its own [`ScanScratch`].
///
/// # Example
///
/// ```
/// use keysweep_core::Scanner;
///
/// let scanner = Scanner::with_default_rules()?;
/// let text = b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n";
/// let findings = scanner.scan_bytes(text);
/// assert_eq!(findings[0].rule.kind, "aws-access-key-id");
/// assert_eq!(findings[0].line, 1);
/// assert_eq!(findings[0].secret.to_string(), "AKIA*****"); // redacted
/// # Ok::<(), keysweep_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Scanner {
    pub(crate) rules: RuleSet,
    pub(crate) key: FingerprintKey,
    /// How many decodings deep secrets are looked for (0: none).
    pub(crate) decode_depth: usize,
}

/// Per-thread mutable state for scanning: regex caches, hit windows and a
/// reusable read buffer. Create one per thread with [`Scanner::scratch`].
///
/// A scratch belongs to the compiled [`RuleSet`] of the scanner that made it
/// (and to every clone of that scanner or rule set). Its regex caches are only
/// valid for that rule set's regexes: regex-automata documents that a `Cache`
/// used with another regex may panic or give wrong results. So each scan
/// checks (one integer comparison) that the scratch was made for the
/// scanner's rule set, and if not, re-creates it for that rule set before
/// scanning, keeping only its read buffer. Passing a scratch of another
/// scanner is therefore correct, only slower than keeping one per scanner.
#[derive(Debug)]
pub struct ScanScratch {
    /// The id of the compiled rule set the caches below belong to.
    rules_id: u64,
    caches: Vec<Option<meta::Cache>>,
    caps: Vec<Option<Captures>>,
    windows: Vec<Vec<(usize, usize)>>,
    active: Vec<u32>,
    /// Keyword hits of the interleaved search, before ordering.
    hits: Vec<(usize, u32)>,
    pub(crate) buf: Vec<u8>,
}

struct Candidate {
    rule: u32,
    /// The secret.
    start: usize,
    end: usize,
    /// The whole regex match.
    match_start: usize,
    match_end: usize,
}

impl Scanner {
    /// A scanner over `rules`, fingerprinting with the built-in key
    /// ([`FingerprintKey::default`]). The library reads no environment: a
    /// program that honours `KEYSWEEP_FINGERPRINT_KEY` (as the command line
    /// and the Python bindings do) passes [`FingerprintKey::from_env`] to
    /// [`Scanner::with_fingerprint_key`].
    pub fn new(rules: RuleSet) -> Scanner {
        Scanner {
            rules,
            key: FingerprintKey::default(),
            decode_depth: crate::decode::DEFAULT_DECODE_DEPTH,
        }
    }

    /// A scanner over the embedded default rules.
    pub fn with_default_rules() -> crate::Result<Scanner> {
        Ok(Scanner::new(RuleSet::default_rules()?))
    }

    /// Replaces the fingerprint key.
    pub fn with_fingerprint_key(mut self, key: FingerprintKey) -> Scanner {
        self.key = key;
        self
    }

    /// Looks for secrets under up to `depth` nested encodings (base64, hex,
    /// percent-encoding, `\uXXXX`/`\xNN` escapes, HTML entities; see
    /// [`Encoding`](crate::Encoding)); 0 turns decoding off. Default
    /// [`DEFAULT_DECODE_DEPTH`](crate::DEFAULT_DECODE_DEPTH) (2).
    pub fn with_decode_depth(mut self, depth: usize) -> Scanner {
        self.decode_depth = depth;
        self
    }

    /// The decode depth ([`Scanner::with_decode_depth`]).
    pub fn decode_depth(&self) -> usize {
        self.decode_depth
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The fingerprint key.
    pub fn fingerprint_key(&self) -> &FingerprintKey {
        &self.key
    }

    /// Fresh per-thread state for this scanner.
    pub fn scratch(&self) -> ScanScratch {
        let n = self.rules.len();
        ScanScratch {
            rules_id: self.rules.0.id,
            caches: (0..n).map(|_| None).collect(),
            caps: (0..n).map(|_| None).collect(),
            windows: vec![Vec::new(); n],
            active: Vec::new(),
            hits: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Scans a byte slice with a temporary scratch.
    pub fn scan_bytes(&self, hay: &[u8]) -> Vec<Finding> {
        self.scan_slice(&mut self.scratch(), hay, None)
    }

    /// Scans a byte slice; `path` (if any) is attached to findings and checked
    /// against rules' path allow-lists.
    ///
    /// UTF-16 text (a byte-order mark, or the NUL pattern of UTF-16 without
    /// one) is transcoded to UTF-8 first; its findings' spans are offsets
    /// into the transcoded text, their lines and columns those of the text.
    ///
    /// Encoded spans (base64, hex, percent-encoding, escapes, HTML entities)
    /// are decoded and scanned too, up to [`Scanner::decode_depth`]; a
    /// finding in decoded text is reported at the encoded span, with
    /// [`Finding::decoded`] naming the decodings. Its fingerprint is that
    /// of the secret itself, so the same secret plain or encoded is one
    /// baseline entry.
    pub fn scan_slice(
        &self,
        scratch: &mut ScanScratch,
        hay: &[u8],
        path: Option<&Arc<Path>>,
    ) -> Vec<Finding> {
        match crate::text_encoding::transcode(hay) {
            Some(text) => self.scan_layers(scratch, text.as_bytes(), path, self.decode_depth),
            None => self.scan_layers(scratch, hay, path, self.decode_depth),
        }
    }

    /// Scans `hay`, then what its encoded spans decode to (`depth` levels).
    fn scan_layers(
        &self,
        scratch: &mut ScanScratch,
        hay: &[u8],
        path: Option<&Arc<Path>>,
        depth: usize,
    ) -> Vec<Finding> {
        let mut found = self.scan_bytes_as_is(scratch, hay, path);
        if depth == 0 {
            return found;
        }
        let cands = crate::decode::candidates(hay);
        if cands.is_empty() {
            return found;
        }
        let mut lines = LineCounter::new(hay);
        let plain = found.len();
        for c in cands {
            let inner = self.scan_layers(scratch, &c.decoded, path, depth - 1);
            if inner.is_empty() {
                continue;
            }
            let (line, column) = lines.position(c.start);
            let (end_line, end_column) = lines.position_after(c.end);
            let mut spans: Vec<(usize, usize)> = found[..plain]
                .iter()
                .map(|f| (f.span.start, f.span.end))
                .collect();
            spans.push((c.start, c.end));
            let snip = snippet(hay, c.start, c.end, &spans);
            for mut f in inner {
                // Already reported here: plain (a percent-encoded URL around a
                // plain token) or under another decoding of the same span.
                if found.iter().any(|g| {
                    g.rule.id == f.rule.id
                        && g.secret == f.secret
                        && g.span.start < c.end
                        && c.start < g.span.end
                }) {
                    continue;
                }
                f.span = c.start..c.end;
                (f.line, f.column, f.end_line, f.end_column) = (line, column, end_line, end_column);
                f.snippet = snip.clone();
                f.decoded.insert(0, c.encoding);
                found.push(f);
            }
        }
        if found.len() > plain {
            // A plain finding of the encoded text itself (a generic rule, or
            // one for opaque values such as Kubernetes `data:`) yields to
            // what a rule found in its decoding.
            let decoded: Vec<(usize, usize)> = found[plain..]
                .iter()
                .map(|f| (f.span.start, f.span.end))
                .collect();
            let mut i = 0;
            found.retain(|f| {
                i += 1;
                let (fs, fe) = (f.span.start, f.span.end);
                i > plain
                    || !decoded
                        .iter()
                        .any(|&(s, e)| s <= fs && fe <= e && (fe - fs) * 10 >= (e - s) * 9)
            });
            found.sort_by_key(|f| (f.span.start, f.span.end));
        }
        found
    }

    fn scan_bytes_as_is(
        &self,
        scratch: &mut ScanScratch,
        hay: &[u8],
        path: Option<&Arc<Path>>,
    ) -> Vec<Finding> {
        if scratch.rules_id != self.rules.0.id {
            // A scratch of another rule set: its caches would be used with
            // regexes they were not made for (see `ScanScratch`).
            let buf = std::mem::take(&mut scratch.buf);
            *scratch = self.scratch();
            scratch.buf = buf;
        }
        let inner = &*self.rules.0;
        self.collect_windows(scratch, hay);
        let mut candidates = Vec::new();
        let mut active = std::mem::take(&mut scratch.active);
        active.sort_unstable();
        for &ri in &active {
            let mut windows = std::mem::take(&mut scratch.windows[ri as usize]);
            let matchers = inner.rules[ri as usize].matchers();
            if let Some(m) = matchers.filter(|m| m.applies_to(path.map(|p| &**p))) {
                merge_line_windows(hay, &mut windows);
                self.confirm(scratch, ri, m, hay, &windows, &mut candidates);
            }
            windows.clear();
            scratch.windows[ri as usize] = windows;
        }
        active.clear();
        scratch.active = active;
        self.finish(hay, path, candidates)
    }

    /// Runs the keyword automaton and records, per rule, the byte windows the
    /// rule's regex must be run in.
    fn collect_windows(&self, scratch: &mut ScanScratch, hay: &[u8]) {
        let inner = &*self.rules.0;
        for &ri in &inner.always {
            scratch.active.push(ri);
            scratch.windows[ri as usize].push((0, hay.len()));
        }
        let ScanScratch {
            windows,
            active,
            hits,
            ..
        } = scratch;
        inner
            .keywords
            .for_each_hit(hay, hits, |pattern, start, end| {
                for &ri in &inner.keyword_rules[pattern] {
                    let rule = &inner.rules[ri as usize];
                    let lo = start.saturating_sub(rule.before);
                    let hi = (end + rule.rule.window).min(hay.len());
                    let ws = &mut windows[ri as usize];
                    match ws.last_mut() {
                        None => {
                            active.push(ri);
                            ws.push((lo, hi));
                        }
                        Some(last) if lo <= last.1 => {
                            last.0 = last.0.min(lo);
                            last.1 = last.1.max(hi);
                        }
                        Some(_) => ws.push((lo, hi)),
                    }
                }
            });
    }

    fn confirm(
        &self,
        scratch: &mut ScanScratch,
        ri: u32,
        rule: &Matchers,
        hay: &[u8],
        windows: &[(usize, usize)],
        out: &mut Vec<Candidate>,
    ) {
        let cache = scratch.caches[ri as usize].get_or_insert_with(|| rule.regex.create_cache());
        let caps = scratch.caps[ri as usize].get_or_insert_with(|| rule.regex.create_captures());
        for &(lo, hi) in windows {
            let mut input = Input::new(hay).range(lo..hi);
            loop {
                rule.regex.search_captures_with(cache, &input, caps);
                let Some(m) = caps.get_match() else { break };
                let span = match rule.group {
                    Group::Whole => Some(m.span()),
                    Group::Index(g) => caps.get_group(g),
                    Group::FirstNonEmpty => (1..caps.group_len())
                        .filter_map(|g| caps.get_group(g))
                        .find(|s| s.start < s.end)
                        .or(Some(m.span())),
                };
                if let Some(span) = span.filter(|s| s.start < s.end) {
                    out.push(Candidate {
                        rule: ri,
                        start: span.start,
                        end: span.end,
                        match_start: m.start(),
                        match_end: m.end(),
                    });
                }
                let next = if m.end() > m.start() {
                    m.end()
                } else {
                    m.end() + 1
                };
                if next > hi {
                    break;
                }
                input.set_start(next);
            }
        }
    }

    /// Filters candidates, removes duplicates, and builds findings with
    /// positions, fingerprints and redacted snippets.
    fn finish(&self, hay: &[u8], path: Option<&Arc<Path>>, cands: Vec<Candidate>) -> Vec<Finding> {
        let inner = &*self.rules.0;
        let mut kept: Vec<(Candidate, f64)> = Vec::with_capacity(cands.len());
        for c in cands {
            let compiled = &inner.rules[c.rule as usize];
            let Some(rule) = compiled.matchers() else {
                continue;
            };
            let secret = &hay[c.start..c.end];
            let Some(entropy) = passes_filters(&compiled.rule, rule, secret) else {
                continue;
            };
            if !rule.allow_match_regexes.is_empty()
                && rule
                    .allow_match_regexes
                    .iter()
                    .any(|re| re.is_match(&hay[c.match_start..c.match_end]))
            {
                continue;
            }
            if !rule.allow_line_regexes.is_empty() {
                let ls = memchr::memrchr(b'\n', &hay[..c.start]).map_or(0, |i| i + 1);
                let le = memchr::memchr(b'\n', &hay[c.end..]).map_or(hay.len(), |i| c.end + i);
                if rule
                    .allow_line_regexes
                    .iter()
                    .any(|re| re.is_match(&hay[ls..le]))
                {
                    continue;
                }
            }
            if line_is_suppressed(hay, c.start, c.end) {
                continue;
            }
            kept.push((c, entropy));
        }
        // One finding per secret span: when two rules find exactly the same
        // secret, a specific rule wins over a generic one, then the rule loaded
        // first (embedded files are loaded in name order).
        kept.sort_by_key(|(c, _)| (c.start, c.end, inner.rules[c.rule as usize].generic, c.rule));
        kept.dedup_by_key(|(c, _)| (c.start, c.end));
        kept.sort_by_key(|(c, _)| (c.start, c.end, c.rule));
        // A generic rule yields to a specific rule that found an overlapping secret.
        let specific: Vec<(usize, usize)> = kept
            .iter()
            .filter(|(c, _)| !inner.rules[c.rule as usize].generic)
            .map(|(c, _)| (c.start, c.end))
            .collect();
        kept.retain(|(c, _)| {
            !inner.rules[c.rule as usize].generic
                || !specific.iter().any(|&(s, e)| s < c.end && c.start < e)
        });
        let spans: Vec<(usize, usize)> = kept.iter().map(|(c, _)| (c.start, c.end)).collect();
        let mut lines = LineCounter::new(hay);
        kept.into_iter()
            .map(|(c, entropy)| {
                let rule = &inner.rules[c.rule as usize];
                let secret = &hay[c.start..c.end];
                let (line, column) = lines.position(c.start);
                let (end_line, end_column) = lines.position_after(c.end);
                Finding {
                    rule: Arc::clone(&rule.rule),
                    path: path.cloned(),
                    secret: Secret::new(secret.to_vec()),
                    span: c.start..c.end,
                    line,
                    column,
                    end_line,
                    end_column,
                    entropy,
                    fingerprint: self.key.fingerprint(&rule.rule.id, secret),
                    snippet: snippet(hay, c.start, c.end, &spans),
                    decoded: Vec::new(),
                }
            })
            .collect()
    }
}

/// Applies a rule's filters to a candidate; returns its entropy when it passes.
fn passes_filters(r: &crate::Rule, rule: &Matchers, secret: &[u8]) -> Option<f64> {
    if let Some(check) = r.checksum {
        if !check.is_valid(secret) {
            return None;
        }
    }
    let entropy = shannon_entropy(secret);
    if r.min_entropy.is_some_and(|min| entropy < min) {
        return None;
    }
    if is_placeholder(secret) {
        return None;
    }
    if !r.allow.stopwords.is_empty() {
        let lower = secret.to_ascii_lowercase();
        if r.allow
            .stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
        {
            return None;
        }
    }
    if rule.allow_regexes.iter().any(|re| re.is_match(secret)) {
        return None;
    }
    Some(entropy)
}

/// Grows each window to whole lines (bounded) and merges overlapping windows.
fn merge_line_windows(hay: &[u8], windows: &mut Vec<(usize, usize)>) {
    for w in windows.iter_mut() {
        let floor = w.0.saturating_sub(LINE_EXTEND);
        w.0 = memchr::memrchr(b'\n', &hay[floor..w.0]).map_or(floor, |i| floor + i + 1);
        // Include the line's newline, so a regex may end by consuming it.
        let ceil = (w.1 + LINE_EXTEND).min(hay.len());
        w.1 = memchr::memchr(b'\n', &hay[w.1..ceil]).map_or(ceil, |i| w.1 + i + 1);
    }
    windows.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(windows.len());
    for &(lo, hi) in windows.iter() {
        match out.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    *windows = out;
}

/// Turns byte offsets into 1-based line and character columns, for offsets
/// asked in (mostly) increasing order.
struct LineCounter<'h> {
    hay: &'h [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'h> LineCounter<'h> {
    fn new(hay: &'h [u8]) -> Self {
        LineCounter {
            hay,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    fn position(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.pos {
            *self = LineCounter::new(self.hay);
        }
        let seg = &self.hay[self.pos..offset];
        self.line += memchr::memchr_iter(b'\n', seg).count();
        if let Some(i) = memchr::memrchr(b'\n', seg) {
            self.line_start = self.pos + i + 1;
        }
        self.pos = offset;
        (
            self.line,
            char_count(&self.hay[self.line_start..offset]) + 1,
        )
    }

    /// Line and (exclusive) end column of a span ending at `end` (exclusive).
    fn position_after(&mut self, end: usize) -> (usize, usize) {
        let (line, _) = self.position(end - 1);
        (line, char_count(&self.hay[self.line_start..end]) + 1)
    }
}

/// Number of characters in `bytes`; each byte of invalid UTF-8 counts as one.
fn char_count(bytes: &[u8]) -> usize {
    bytes
        .utf8_chunks()
        .map(|c| c.valid().chars().count() + c.invalid().len())
        .sum()
}

/// The line around `start..end`, every secret in `spans` on it redacted.
fn snippet(hay: &[u8], start: usize, end: usize, spans: &[(usize, usize)]) -> String {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[start..]).map_or(hay.len(), |i| start + i);
    // Show at most SNIPPET_MAX bytes of context around the secret's start.
    let lo = line_start.max(start.saturating_sub(SNIPPET_MAX / 2));
    let hi = line_end.min(lo + SNIPPET_MAX).max(start.min(line_end));
    let mut out = String::new();
    if lo > line_start {
        out.push('…');
    }
    let mut pos = lo;
    let mut on_line: Vec<(usize, usize)> = spans
        .iter()
        .copied()
        .filter(|&(s, e)| s < hi.max(end) && e > lo)
        .collect();
    on_line.sort_unstable();
    for (s, e) in on_line {
        if s < pos {
            // Overlaps a secret already redacted: extend the redaction.
            pos = pos.max(e.min(hi));
            continue;
        }
        if s >= hi {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&hay[pos..s]));
        out.push_str(&redact(&hay[s..e]));
        pos = e.min(hi).max(s);
        if e > hi {
            pos = hi;
        }
    }
    if pos < hi {
        out.push_str(&String::from_utf8_lossy(&hay[pos..hi]));
    }
    if hi < line_end {
        out.push('…');
    }
    out.trim_end_matches('\r').trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSetBuilder;

    fn scanner(toml: &str) -> Scanner {
        let rules = RuleSetBuilder::new()
            .default_rules(false)
            .add_toml("test.toml", toml)
            .unwrap()
            .build()
            .unwrap();
        Scanner::new(rules).with_fingerprint_key(FingerprintKey::default())
    }

    const TOKEN_RULE: &str = r#"
[[rules]]
id = "ks.t.1"
name = "T token"
kind = "t-token"
severity = "high"
keywords = ["tkn_"]
regex = '''\b(?P<secret>tkn_[A-Za-z0-9]{20})\b'''
min_entropy = 3.0
examples = ["tkn_Q8w7E6r5T4y3U2i1O0p9"]
negative_examples = ["tkn_aaaaaaaaaaaaaaaaaaaa"]
"#;

    #[test]
    fn scratch_of_another_rule_set_is_recreated() {
        // Same number of rules, different regexes: a scratch sized for one
        // would pass a length check on the other.
        let a = scanner(TOKEN_RULE);
        let b = scanner(&TOKEN_RULE.replace("tkn_", "zzz_").replace("{20}", "{24}"));
        let hay_a = b"x = tkn_Q8w7E6r5T4y3U2i1O0p9\n";
        let hay_b = b"x = zzz_Q8w7E6r5T4y3U2i1O0p9AbCd\n";
        let mut scratch = a.scratch();
        assert_eq!(a.scan_slice(&mut scratch, hay_a, None).len(), 1);
        scratch.buf.extend_from_slice(b"kept");
        let found = b.scan_slice(&mut scratch, hay_b, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].secret.expose(), b"zzz_Q8w7E6r5T4y3U2i1O0p9AbCd");
        assert_eq!(scratch.rules_id, b.rules.0.id, "re-made for b");
        assert_eq!(scratch.buf, b"kept", "the read buffer is kept");
        assert!(b.scan_slice(&mut scratch, hay_a, None).is_empty());
        // A clone shares the compiled rule set, and so the scratch.
        let a2 = a.clone();
        let mut scratch = a.scratch();
        assert_eq!(a2.scan_slice(&mut scratch, hay_a, None).len(), 1);
        assert_eq!(scratch.rules_id, a.rules.0.id);
        // Two builds of the same rules are different rule sets.
        assert_ne!(scanner(TOKEN_RULE).rules.0.id, a.rules.0.id);
    }

    #[test]
    fn finds_with_positions() {
        let s = scanner(TOKEN_RULE);
        let hay = "first line\n  é key = tkn_Q8w7E6r5T4y3U2i1O0p9 end\n";
        let f = s.scan_bytes(hay.as_bytes());
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!((f.line, f.column), (2, 11));
        assert_eq!((f.end_line, f.end_column), (2, 35));
        assert_eq!(&hay.as_bytes()[f.span.clone()], b"tkn_Q8w7E6r5T4y3U2i1O0p9");
        assert_eq!(f.snippet, "é key = tkn_***** end");
        assert!(!format!("{f:?}").contains("Q8w7E6r5"));
    }

    #[test]
    fn keyword_is_case_insensitive_but_regex_decides() {
        let s = scanner(TOKEN_RULE);
        assert!(s.scan_bytes(b"TKN_Q8w7E6r5T4y3U2i1O0p9").is_empty());
        assert_eq!(s.scan_bytes(b"xx tkn_Q8w7E6r5T4y3U2i1O0p9 yy").len(), 1);
    }

    #[test]
    fn word_boundary_context_is_kept_outside_the_window() {
        // The `\b` before the token depends on the byte before the window.
        let s = scanner(TOKEN_RULE);
        let hay = format!("{}Xtkn_Q8w7E6r5T4y3U2i1O0p9", "a".repeat(400));
        assert!(s.scan_bytes(hay.as_bytes()).is_empty());
    }

    #[test]
    fn entropy_floor_and_placeholders() {
        let s = scanner(TOKEN_RULE);
        assert!(s.scan_bytes(b"tkn_aaaaaaaaaaaaaaaaaaaa").is_empty());
        assert!(s.scan_bytes(b"tkn_EXAMPLEq8w7E6r5T4y3U").is_empty());
    }

    #[test]
    fn inline_allow_comment_suppresses() {
        let s = scanner(TOKEN_RULE);
        assert!(s
            .scan_bytes(b"t = tkn_Q8w7E6r5T4y3U2i1O0p9 # keysweep:allow")
            .is_empty());
        assert!(s
            .scan_bytes(b"t = tkn_Q8w7E6r5T4y3U2i1O0p9 # gitleaks:allow")
            .is_empty());
        assert!(s
            .scan_bytes(b"t = tkn_Q8w7E6r5T4y3U2i1O0p9 # pragma: allowlist secret")
            .is_empty());
    }

    #[test]
    fn repeated_keywords_give_one_finding_per_secret() {
        let s = scanner(TOKEN_RULE);
        let hay = b"tkn_ tkn_ tkn_Q8w7E6r5T4y3U2i1O0p9 tkn_ and tkn_Z8w7E6r5T4y3U2i1O0p1";
        let f = s.scan_bytes(hay);
        assert_eq!(f.len(), 2);
        assert_ne!(f[0].fingerprint, f[1].fingerprint);
    }

    #[test]
    fn snippet_redacts_every_secret_on_the_line() {
        let s = scanner(TOKEN_RULE);
        let hay = b"a=tkn_Q8w7E6r5T4y3U2i1O0p9 b=tkn_Z8w7E6r5T4y3U2i1O0p1";
        let f = s.scan_bytes(hay);
        assert_eq!(f.len(), 2);
        for x in &f {
            assert_eq!(x.snippet, "a=tkn_***** b=tkn_*****");
        }
    }

    #[test]
    fn long_lines_are_shortened() {
        let s = scanner(TOKEN_RULE);
        let hay = format!(
            "{} tkn_Q8w7E6r5T4y3U2i1O0p9 {}",
            "x".repeat(5000),
            "y".repeat(5000)
        );
        let f = s.scan_bytes(hay.as_bytes());
        assert_eq!(f.len(), 1);
        assert!(f[0].snippet.len() < 400, "{}", f[0].snippet.len());
        assert!(f[0].snippet.starts_with('…'));
        assert!(f[0].snippet.contains("tkn_*****"));
    }

    #[test]
    fn generic_rule_yields_to_specific() {
        let generic = r#"
[[rules]]
id = "ks.g.1"
name = "generic"
kind = "generic-secret"
severity = "low"
keywords = ["token"]
regex = '''token\s*=\s*(?P<secret>\S{12,})'''
examples = ["token = abcdefghijklmnop"]
negative_examples = ["token = x"]
"#;
        let s = scanner(&format!("{TOKEN_RULE}\n{generic}"));
        let f = s.scan_bytes(b"token = tkn_Q8w7E6r5T4y3U2i1O0p9\ntoken = qwertyuiopasdfgh\n");
        let ids: Vec<_> = f.iter().map(|f| f.rule.id.as_str()).collect();
        assert_eq!(ids, ["ks.t.1", "ks.g.1"]);
    }

    #[test]
    fn char_counting() {
        assert_eq!(char_count("héllo".as_bytes()), 5);
        assert_eq!(char_count(&[0xff, 0xfe]), 2);
        assert_eq!(char_count(&[0x80, 0x80, b'=']), 3);
    }
}
