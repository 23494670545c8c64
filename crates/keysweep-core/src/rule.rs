//! Rule definitions: the TOML schema of `patterns/*.toml` and its validation.
//!
//! A rule file holds `[[rules]]` tables:
//!
//! ```toml
//! [[rules]]
//! id = "ks.example.1"                 # stable, unique
//! name = "Example API token"
//! description = "What it is and why it matters."
//! kind = "example-api-token"          # what the rotation crates key on
//! severity = "high"                   # critical | high | medium | low | info
//! keywords = ["exk_"]                 # literal anchors, ASCII case-insensitive
//! regex = '''\b(?P<secret>exk_[A-Za-z0-9]{32})\b'''
//! min_entropy = 3.5                   # optional, bits per byte of the secret
//! checksum = "github-crc32"           # optional, see `Checksum::NAMES`
//! window = 256                        # optional, bytes searched after a keyword (default 256)
//! references = ["https://provider.example/docs/tokens"]
//! examples = ["token = exk_..."]      # each must be found by this rule
//! negative_examples = ["exk_short"]   # none may be found by this rule
//! [rules.allow]                       # optional
//! stopwords = ["sample"]              # secret containing one (case-insensitive) is dropped
//! regexes = ['''^exk_0+$''']          # secret matching one is dropped
//! paths = ["**/fixtures/**"]          # findings in matching paths are dropped
//! path_regexes = ['^vendor/']         # same, as regexes on the path
//! match_regexes = ['^token = ']       # dropped when the whole regex match matches
//! line_regexes = ['^\s*#']            # dropped when the line holding the secret matches
//! ```
//!
//! Two more optional fields: `path = '\.env$'` restricts a rule to paths
//! matching a regex, and `secret_group = 2` names the secret's capture group by
//! number instead of `(?P<secret>...)`.

use serde::Deserialize;
use std::fmt;
use std::path::Path;

use crate::checksum::Checksum;
use crate::error::{Error, Result, RuleError};

/// How bad a leak of this kind is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical: direct access to production systems or money.
    Critical,
}

impl Severity {
    /// The lowercase name used in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = UnknownSeverity;

    /// Parses the lowercase names of [`Severity::as_str`].
    fn from_str(s: &str) -> std::result::Result<Severity, UnknownSeverity> {
        Ok(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return Err(UnknownSeverity(s.to_string())),
        })
    }
}

/// A severity name that is not one of `info`, `low`, `medium`, `high`, `critical`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?} (expected info, low, medium, high or critical)")]
pub struct UnknownSeverity(pub String);

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule lets through even when its regex matches.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Allow {
    /// Secrets containing one of these (ASCII case-insensitive) are dropped.
    pub stopwords: Vec<String>,
    /// Secrets matching one of these regexes are dropped.
    pub regexes: Vec<String>,
    /// Findings in paths matching one of these globs are dropped.
    pub paths: Vec<String>,
    /// Findings in paths matching one of these regexes are dropped.
    pub path_regexes: Vec<String>,
    /// Findings whose whole regex match matches one of these are dropped.
    pub match_regexes: Vec<String>,
    /// Findings whose line matches one of these are dropped.
    pub line_regexes: Vec<String>,
}

impl Allow {
    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.stopwords.is_empty()
            && self.regexes.is_empty()
            && self.paths.is_empty()
            && self.path_regexes.is_empty()
            && self.match_regexes.is_empty()
            && self.line_regexes.is_empty()
    }
}

/// Which part of a regex match is the secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretGroup {
    /// The group named `secret`, else the whole match (default).
    #[default]
    Named,
    /// The capture group with this number.
    Index(usize),
    /// The first capture group that matched something, else the whole match
    /// (gitleaks' behaviour when `secretGroup` is unset).
    FirstNonEmpty,
}

/// One validated rule definition (not yet compiled).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Rule {
    /// Stable unique id, e.g. `ks.github.1`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// What the credential is.
    pub description: String,
    /// The credential kind the rotation crates use (e.g. `aws-access-key`).
    pub kind: String,
    /// Severity of a leak.
    pub severity: Severity,
    /// Literal anchors; the regex is only run near one of them. Rules from
    /// rule files always have some; a rule without any (imported from another
    /// tool) runs its regex over every input.
    pub keywords: Vec<String>,
    /// The regex; the secret is its `secret` group, or the whole match.
    pub regex: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub min_entropy: Option<f64>,
    /// Structural validator the secret must pass.
    pub checksum: Option<Checksum>,
    /// Which capture group is the secret.
    pub secret_group: SecretGroup,
    /// The rule only applies to paths matching this regex.
    pub path: Option<String>,
    /// How many bytes after a keyword hit the regex may reach (default 256).
    pub window: usize,
    /// Allow-lists.
    pub allow: Allow,
    /// Documentation links.
    pub references: Vec<String>,
    /// Texts this rule must find.
    pub examples: Vec<String>,
    /// Texts this rule must not find.
    pub negative_examples: Vec<String>,
    /// Where the rule was defined (file name and line).
    pub origin: String,
    /// 1-based line of the rule's table in `origin`.
    pub line: usize,
}

impl Rule {
    /// A rule known only by what a report says of it: its id, name, kind and
    /// severity, with no regex or keywords (it matches nothing). Findings
    /// read back from a report (`keysweep-report`) carry one of these.
    pub fn described(id: &str, name: &str, kind: &str, severity: Severity) -> Rule {
        Rule {
            id: id.to_string(),
            name: name.to_string(),
            description: String::new(),
            kind: kind.to_string(),
            severity,
            keywords: Vec::new(),
            regex: String::new(),
            min_entropy: None,
            checksum: None,
            secret_group: SecretGroup::default(),
            path: None,
            window: DEFAULT_WINDOW,
            allow: Allow::default(),
            references: Vec::new(),
            examples: Vec::new(),
            negative_examples: Vec::new(),
            origin: "<report>".to_string(),
            line: 0,
        }
    }
}

/// Default number of bytes after a keyword hit the regex may reach.
pub const DEFAULT_WINDOW: usize = 256;
/// Largest window a rule may ask for.
pub const MAX_WINDOW: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rules: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    kind: String,
    severity: Severity,
    keywords: toml::Spanned<Vec<String>>,
    regex: toml::Spanned<String>,
    min_entropy: Option<toml::Spanned<f64>>,
    checksum: Option<toml::Spanned<String>>,
    window: Option<toml::Spanned<usize>>,
    secret_group: Option<toml::Spanned<usize>>,
    path: Option<toml::Spanned<String>>,
    #[serde(default)]
    allow: RawAllow,
    #[serde(default)]
    references: Vec<String>,
    examples: toml::Spanned<Vec<String>>,
    negative_examples: toml::Spanned<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    regexes: Vec<toml::Spanned<String>>,
    #[serde(default)]
    paths: Vec<toml::Spanned<String>>,
    #[serde(default)]
    path_regexes: Vec<toml::Spanned<String>>,
    #[serde(default)]
    match_regexes: Vec<toml::Spanned<String>>,
    #[serde(default)]
    line_regexes: Vec<toml::Spanned<String>>,
}

/// Only the ids and positions of rule tables, read when the full parse fails
/// so that its error can name the rule it happened in.
#[derive(Deserialize)]
struct IdFile {
    #[serde(default)]
    rules: Vec<toml::Spanned<IdOnly>>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

/// Maps byte offsets of a text to 1-based (line, column).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let column = text[line_start..]
        .char_indices()
        .take_while(|(i, _)| line_start + i < offset)
        .count()
        + 1;
    (line, column)
}

/// The key (field) name assigned on the line containing `offset`, if any.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..];
    let line = line.split('\n').next().unwrap_or("");
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'))
    .then(|| key.to_string())
}

/// Parses and validates the rules of one TOML text. `origin` names it in errors.
pub fn parse_rules(origin: &str, text: &str) -> Result<Vec<Rule>> {
    parse_rules_with(origin, text, true)
}

/// Parses rules; `check_syntax = false` skips parsing their regexes, for the
/// embedded default rules, which the test suite compiles and checks (this
/// keeps start-up short for hooks when rules compile lazily, and an eager
/// build compiles them right away, which would report a bad regex anyway).
pub(crate) fn parse_rules_with(origin: &str, text: &str, check_syntax: bool) -> Result<Vec<Rule>> {
    let file: RawFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => return Err(Error::from(toml_error(origin, text, &e))),
    };
    let mut rules = Vec::with_capacity(file.rules.len());
    for spanned in file.rules {
        let (line, _) = line_col(text, spanned.span().start);
        let raw = spanned.into_inner();
        rules.push(validate(origin, text, line, raw, check_syntax)?);
    }
    Ok(rules)
}

/// Reads and parses one rule file.
pub fn parse_rule_file(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(text).map_err(|e| {
        let (line, column) = {
            let valid = std::str::from_utf8(&e.as_bytes()[..e.utf8_error().valid_up_to()])
                .unwrap_or_default();
            line_col(valid, valid.len())
        };
        Error::from(RuleError {
            origin: path.display().to_string(),
            line: Some(line),
            column: Some(column),
            rule_id: None,
            field: None,
            message: "rule file is not valid UTF-8".into(),
        })
    })?;
    parse_rules(&path.display().to_string(), &text)
}

fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> RuleError {
    let span = e.span();
    let (line, column) = span
        .as_ref()
        .map(|s| line_col(text, s.start))
        .map_or((None, None), |(l, c)| (Some(l), Some(c)));
    // Name the rule the error sits in, when the file is at least valid TOML.
    let rule_id = span.as_ref().and_then(|s| {
        let ids: IdFile = toml::from_str(text).ok()?;
        ids.rules
            .iter()
            .find(|r| r.span().start <= s.start && s.start < r.span().end)
            .and_then(|r| r.get_ref().id.clone())
    });
    let message = e.message().trim().to_string();
    let field = span
        .as_ref()
        .and_then(|s| {
            // serde names missing/unknown fields in the message itself.
            field_in_message(&message).or_else(|| key_at(text, s.start))
        })
        .filter(|f| f != "rules");
    RuleError {
        origin: origin.to_string(),
        line,
        column,
        rule_id,
        field,
        message,
    }
}

fn field_in_message(message: &str) -> Option<String> {
    for lead in ["missing field `", "unknown field `", "duplicate key `"] {
        if let Some(rest) = message.split(lead).nth(1) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    None
}

fn validate(
    origin: &str,
    text: &str,
    line: usize,
    raw: RawRule,
    check_syntax: bool,
) -> Result<Rule> {
    let check_regex = |re: &str| {
        if check_syntax {
            crate::compile::check_regex(re)
        } else {
            Ok(())
        }
    };
    let err = |field: &str, span: Option<std::ops::Range<usize>>, message: String| {
        let (l, c) = span.map_or((line, None), |s| {
            let (l, c) = line_col(text, s.start);
            (l, Some(c))
        });
        Error::from(RuleError {
            origin: origin.to_string(),
            line: Some(l),
            column: c,
            rule_id: Some(raw.id.clone()),
            field: Some(field.to_string()),
            message,
        })
    };
    if raw.id.trim().is_empty() || raw.id.chars().any(|c| c.is_whitespace()) {
        return Err(err(
            "id",
            None,
            "must be non-empty and contain no spaces".into(),
        ));
    }
    if raw.keywords.get_ref().is_empty() {
        return Err(err(
            "keywords",
            Some(raw.keywords.span()),
            "at least one keyword is required (the prefilter needs an anchor)".into(),
        ));
    }
    if let Some(k) = raw.keywords.get_ref().iter().find(|k| k.len() < 2) {
        return Err(err(
            "keywords",
            Some(raw.keywords.span()),
            format!("keyword {k:?} is shorter than 2 bytes"),
        ));
    }
    check_regex(raw.regex.get_ref()).map_err(|m| err("regex", Some(raw.regex.span()), m))?;
    if raw.examples.get_ref().is_empty() {
        return Err(err(
            "examples",
            Some(raw.examples.span()),
            "at least one example is required".into(),
        ));
    }
    if raw.negative_examples.get_ref().is_empty() {
        return Err(err(
            "negative_examples",
            Some(raw.negative_examples.span()),
            "at least one negative example is required".into(),
        ));
    }
    let min_entropy = match raw.min_entropy {
        Some(v) if !(0.0..=8.0).contains(v.get_ref()) => {
            return Err(err(
                "min_entropy",
                Some(v.span()),
                "must be between 0 and 8 bits per byte".into(),
            ))
        }
        v => v.map(|v| v.into_inner()),
    };
    let checksum = match raw.checksum {
        None => None,
        Some(name) => Some(Checksum::from_name(name.get_ref()).ok_or_else(|| {
            err(
                "checksum",
                Some(name.span()),
                format!(
                    "unknown checksum {:?} (known: {})",
                    name.get_ref(),
                    Checksum::NAMES.join(", ")
                ),
            )
        })?),
    };
    let window = match raw.window {
        None => DEFAULT_WINDOW,
        Some(w) if *w.get_ref() == 0 || *w.get_ref() > MAX_WINDOW => {
            return Err(err(
                "window",
                Some(w.span()),
                format!("must be between 1 and {MAX_WINDOW}"),
            ))
        }
        Some(w) => w.into_inner(),
    };
    let mut allow = Allow {
        stopwords: raw
            .allow
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        ..Allow::default()
    };
    for r in raw.allow.regexes {
        check_regex(r.get_ref()).map_err(|m| err("allow.regexes", Some(r.span()), m))?;
        allow.regexes.push(r.into_inner());
    }
    for p in raw.allow.paths {
        globset::Glob::new(p.get_ref())
            .map_err(|e| err("allow.paths", Some(p.span()), e.kind().to_string()))?;
        allow.paths.push(p.into_inner());
    }
    for (field, list, target) in [
        (
            "allow.path_regexes",
            raw.allow.path_regexes,
            &mut allow.path_regexes,
        ),
        (
            "allow.match_regexes",
            raw.allow.match_regexes,
            &mut allow.match_regexes,
        ),
        (
            "allow.line_regexes",
            raw.allow.line_regexes,
            &mut allow.line_regexes,
        ),
    ] {
        for r in list {
            check_regex(r.get_ref()).map_err(|m| err(field, Some(r.span()), m))?;
            target.push(r.into_inner());
        }
    }
    if let Some(p) = &raw.path {
        check_regex(p.get_ref()).map_err(|m| err("path", Some(p.span()), m))?;
    }
    let secret_group = match raw.secret_group {
        None => SecretGroup::Named,
        Some(g) => SecretGroup::Index(g.into_inner()),
    };
    Ok(Rule {
        id: raw.id.clone(),
        name: raw.name,
        description: raw.description,
        kind: raw.kind,
        severity: raw.severity,
        keywords: raw.keywords.into_inner(),
        regex: raw.regex.into_inner(),
        min_entropy,
        checksum,
        secret_group,
        path: raw.path.map(|p| p.into_inner()),
        window,
        allow,
        references: raw.references,
        examples: raw.examples.into_inner(),
        negative_examples: raw.negative_examples.into_inner(),
        origin: format!("{origin}:{line}"),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rules]]
id = "ks.test.1"
name = "Test token"
kind = "test-token"
severity = "high"
keywords = ["tst_"]
regex = '''\b(?P<secret>tst_[a-z0-9]{16})\b'''
examples = ["tst_abcdefgh12345678"]
negative_examples = ["tst_short"]
"#;

    fn rule_err(text: &str) -> RuleError {
        match parse_rules("rules.toml", text) {
            Err(Error::Rule(e)) => *e,
            other => panic!("expected a rule error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_good_rule() {
        let rules = parse_rules("rules.toml", GOOD).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].id, "ks.test.1");
        assert_eq!(rules[0].line, 2);
        assert_eq!(rules[0].window, DEFAULT_WINDOW);
        assert_eq!(rules[0].severity, Severity::High);
    }

    #[test]
    fn invalid_regex_names_rule_field_and_line() {
        let text = GOOD.replace(r"[a-z0-9]{16})", r"[a-z0-9]{16}");
        let e = rule_err(&text);
        assert_eq!(e.rule_id.as_deref(), Some("ks.test.1"));
        assert_eq!(e.field.as_deref(), Some("regex"));
        assert_eq!(e.line, Some(8));
        assert!(e.to_string().starts_with("rules.toml:8:"), "{e}");
    }

    #[test]
    fn missing_field_names_rule_and_field() {
        let text = GOOD.replace("kind = \"test-token\"\n", "");
        let e = rule_err(&text);
        assert_eq!(e.rule_id.as_deref(), Some("ks.test.1"));
        assert_eq!(e.field.as_deref(), Some("kind"));
        assert!(e.line.is_some());
    }

    #[test]
    fn wrong_type_names_field_and_line() {
        let text = GOOD.replace("keywords = [\"tst_\"]", "keywords = 3");
        let e = rule_err(&text);
        assert_eq!(e.rule_id.as_deref(), Some("ks.test.1"));
        assert_eq!(e.field.as_deref(), Some("keywords"));
        assert_eq!(e.line, Some(7));
    }

    #[test]
    fn syntax_error_has_position() {
        let e = rule_err("[[rules]\nid = 1");
        assert_eq!(e.line, Some(1));
        assert!(e.rule_id.is_none());
    }

    #[test]
    fn unknown_checksum_and_severity() {
        let e = rule_err(&GOOD.replace("severity = \"high\"", "severity = \"hgh\""));
        assert_eq!(e.field.as_deref(), Some("severity"));
        let text = GOOD.replace("\nexamples = [", "\nchecksum = \"nope\"\nexamples = [");
        let e = rule_err(&text);
        assert_eq!(e.field.as_deref(), Some("checksum"));
        assert!(e.message.contains("github-crc32"));
    }

    #[test]
    fn empty_examples_rejected() {
        let e = rule_err(&GOOD.replace("examples = [\"tst_abcdefgh12345678\"]", "examples = []"));
        assert_eq!(e.field.as_deref(), Some("examples"));
        let e = rule_err(&GOOD.replace("keywords = [\"tst_\"]", "keywords = []"));
        assert_eq!(e.field.as_deref(), Some("keywords"));
    }

    #[test]
    fn unknown_field_rejected() {
        let e = rule_err(&GOOD.replace("kind =", "kindd = \"x\"\nkind ="));
        assert_eq!(e.field.as_deref(), Some("kindd"));
        assert_eq!(e.rule_id.as_deref(), Some("ks.test.1"));
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("x", 0), (1, 1));
    }
}
