//! Compiling rules: the keyword automaton and the per-rule confirmation regexes.

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex_automata::meta;
use regex_automata::util::syntax;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result, RuleError};
use crate::keywords::Keywords;
use crate::rule::{parse_rule_file, parse_rules, Allow, Rule, SecretGroup};

include!(concat!(env!("OUT_DIR"), "/default_rules.rs"));

/// Upper bound on the compiled NFA of one rule regex.
const NFA_SIZE_LIMIT: usize = 16 * 1024 * 1024;

fn syntax_config() -> syntax::Config {
    // Haystacks are bytes: ASCII classes, and `.` may match any byte.
    syntax::Config::new().unicode(false).utf8(false)
}

/// Checks that `pattern` parses with the syntax keysweep compiles rules with.
pub(crate) fn check_regex(pattern: &str) -> std::result::Result<(), String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| match e {
            regex_syntax::Error::Parse(e) => format!("invalid regex: {}", e.kind()),
            regex_syntax::Error::Translate(e) => format!("invalid regex: {}", e.kind()),
            other => format!("invalid regex: {other}"),
        })
}

/// Compiles one rule regex for byte haystacks.
pub(crate) fn compile_regex(pattern: &str) -> std::result::Result<meta::Regex, String> {
    meta::Regex::builder()
        .syntax(syntax_config())
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                .utf8_empty(false)
                // Searches run in short windows, where the lazy DFA (hybrid)
                // is as good as a full DFA, and capture groups are resolved on
                // the match span alone, where the bounded backtracker is cheap.
                // Both engines cost more to build than they save: a full DFA
                // for every small regex, a one-pass DFA for every capture regex.
                .dfa(false)
                .onepass(false),
        )
        .build(pattern)
        .map_err(|e| {
            let mut msg = format!("regex does not compile: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            msg
        })
}

/// Compiled allow-list and path regexes, shared by every rule of a rule set:
/// the default rules repeat a few dozen allow regexes hundreds of times.
#[derive(Debug, Default)]
pub(crate) struct RegexCache(Mutex<HashMap<String, meta::Regex>>);

impl RegexCache {
    /// The compiled `pattern`, compiled on first use. A `meta::Regex` clone
    /// shares its compiled form.
    fn get(&self, pattern: &str) -> std::result::Result<meta::Regex, String> {
        if let Some(re) = self.lock().get(pattern) {
            return Ok(re.clone());
        }
        // Compiled outside the lock; a concurrent duplicate compile is harmless.
        let re = compile_regex(pattern)?;
        self.lock().insert(pattern.to_string(), re.clone());
        Ok(re)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, meta::Regex>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A rule ready to confirm matches. Its regexes are compiled on first use
/// (or all at build time, see [`RuleSetBuilder::lazy`]).
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) rule: Arc<Rule>,
    /// Bytes before a keyword hit that the regex may start at.
    pub(crate) before: usize,
    /// Whether the rule is a generic (assignment-style) rule, which yields to a
    /// specific rule that found the same secret.
    pub(crate) generic: bool,
    /// `None` once compiling failed (logged; the rule is then disabled).
    matchers: OnceLock<Option<Matchers>>,
    /// Shared with the other rules of the set.
    cache: Arc<RegexCache>,
}

/// The compiled regexes and globs of a rule.
#[derive(Debug)]
pub(crate) struct Matchers {
    pub(crate) regex: meta::Regex,
    /// Which capture group is the secret.
    pub(crate) group: Group,
    pub(crate) allow_regexes: Vec<meta::Regex>,
    pub(crate) allow_paths: Option<GlobSet>,
    pub(crate) allow_path_regexes: Vec<meta::Regex>,
    pub(crate) allow_match_regexes: Vec<meta::Regex>,
    pub(crate) allow_line_regexes: Vec<meta::Regex>,
    /// The rule applies only to paths matching this.
    pub(crate) path: Option<meta::Regex>,
}

impl CompiledRule {
    fn new(rule: Rule, cache: Arc<RegexCache>) -> CompiledRule {
        CompiledRule {
            cache,
            before: rule.window.min(crate::rule::DEFAULT_WINDOW),
            generic: rule.kind.starts_with("generic"),
            rule: Arc::new(rule),
            matchers: OnceLock::new(),
        }
    }

    /// Compiles now; an error names the rule and field.
    fn force(&self) -> Result<()> {
        let mut out = Ok(());
        self.matchers
            .get_or_init(|| match Matchers::compile(&self.rule, &self.cache) {
                Ok(m) => Some(m),
                Err(e) => {
                    out = Err(e);
                    None
                }
            });
        out
    }

    /// The compiled matchers, compiling them on first use. A rule that does
    /// not compile (only possible for limits checked at compile time, such as
    /// the NFA size) is disabled with an error in the log.
    pub(crate) fn matchers(&self) -> Option<&Matchers> {
        self.matchers
            .get_or_init(|| {
                let _span = tracing::debug_span!("compile rule", rule = %self.rule.id).entered();
                match Matchers::compile(&self.rule, &self.cache) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::error!(error = %e, "rule disabled: it does not compile");
                        None
                    }
                }
            })
            .as_ref()
    }
}

impl Matchers {
    fn compile(rule: &Rule, cache: &RegexCache) -> Result<Matchers> {
        let err = |field: &str, message: String| {
            Error::from(RuleError {
                origin: rule
                    .origin
                    .rsplit_once(':')
                    .map_or(rule.origin.clone(), |(o, _)| o.to_string()),
                line: Some(rule.line),
                column: None,
                rule_id: Some(rule.id.clone()),
                field: Some(field.into()),
                message,
            })
        };
        let regex = compile_regex(&rule.regex).map_err(|m| err("regex", m))?;
        let info = regex.group_info();
        let named = info.to_index(regex_automata::PatternID::ZERO, "secret");
        let groups = info.group_len(regex_automata::PatternID::ZERO);
        let group = match rule.secret_group {
            SecretGroup::Named => named.map_or(Group::Whole, Group::Index),
            SecretGroup::Index(0) => Group::Whole,
            SecretGroup::Index(i) if i < groups => Group::Index(i),
            SecretGroup::Index(i) => {
                return Err(err(
                    "secret_group",
                    format!("the regex has no capture group {i} (it has {})", groups - 1),
                ))
            }
            SecretGroup::FirstNonEmpty => named.map_or(Group::FirstNonEmpty, Group::Index),
        };
        let many = |field: &str, list: &[String]| {
            list.iter()
                .map(|p| cache.get(p).map_err(|m| err(field, m)))
                .collect::<Result<Vec<_>>>()
        };
        let allow_paths = if rule.allow.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in &rule.allow.paths {
                b.add(Glob::new(p).map_err(|e| err("allow.paths", e.to_string()))?);
            }
            Some(b.build().map_err(|e| err("allow.paths", e.to_string()))?)
        };
        Ok(Matchers {
            regex,
            group,
            allow_regexes: many("allow.regexes", &rule.allow.regexes)?,
            allow_paths,
            allow_path_regexes: many("allow.path_regexes", &rule.allow.path_regexes)?,
            allow_match_regexes: many("allow.match_regexes", &rule.allow.match_regexes)?,
            allow_line_regexes: many("allow.line_regexes", &rule.allow.line_regexes)?,
            path: rule
                .path
                .as_deref()
                .map(|p| cache.get(p).map_err(|m| err("path", m)))
                .transpose()?,
        })
    }

    /// Whether the rule is to be run on a file at `path` (`None`: unnamed input).
    pub(crate) fn applies_to(&self, path: Option<&Path>) -> bool {
        let Some(p) = path else {
            return self.path.is_none();
        };
        if self.allow_paths.as_ref().is_some_and(|set| set.is_match(p)) {
            return false;
        }
        if self.path.is_none() && self.allow_path_regexes.is_empty() {
            return true;
        }
        let text = p.to_string_lossy();
        let text = text.strip_prefix("./").unwrap_or(&text);
        if self
            .allow_path_regexes
            .iter()
            .any(|re| re.is_match(text.as_bytes()))
        {
            return false;
        }
        self.path
            .as_ref()
            .is_none_or(|re| re.is_match(text.as_bytes()))
    }
}

/// How the secret is taken from a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Whole,
    Index(usize),
    FirstNonEmpty,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) rules: Vec<CompiledRule>,
    /// Rules without keywords: run over every input.
    pub(crate) always: Vec<u32>,
    pub(crate) keywords: Keywords,
    /// For each keyword pattern, the rules it gates in.
    pub(crate) keyword_rules: Vec<Vec<u32>>,
    /// Unique per compiled rule set (never reused, unlike an `Arc`'s
    /// address): a [`crate::ScanScratch`] records the id it was made for.
    pub(crate) id: u64,
}

/// The id of the next compiled rule set.
static NEXT_RULE_SET_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A compiled, immutable set of rules. Cheap to clone (`Arc`), `Send + Sync`.
///
/// Build one with [`RuleSetBuilder`], or take the embedded defaults with
/// [`RuleSet::default_rules`].
#[derive(Clone, Debug)]
pub struct RuleSet(pub(crate) Arc<Inner>);

impl RuleSet {
    /// The embedded default rules.
    pub fn default_rules() -> Result<RuleSet> {
        RuleSetBuilder::new().build()
    }

    /// The rules, in load order.
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Arc<Rule>> + '_ {
        self.0.rules.iter().map(|r| &r.rule)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.0.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.0.rules.is_empty()
    }

    /// Looks a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Arc<Rule>> {
        self.rules().find(|r| r.id == id)
    }

    /// Heap bytes used by the keyword automaton.
    pub fn keyword_automaton_memory(&self) -> usize {
        self.0.keywords.memory_usage()
    }
}

/// Builds a [`RuleSet`] from the embedded defaults and user rule files.
///
/// Defaults: the embedded rules are included (`default_rules(true)`); no extra
/// files. A user rule with the id of a default rule replaces it; two user rules
/// with one id are an error.
///
/// # Example
///
/// ```
/// use keysweep_core::RuleSetBuilder;
///
/// let rules = RuleSetBuilder::new()
///     .default_rules(false)
///     .add_toml("inline", r#"
/// [[rules]]
/// id = "ks.acme.1"
/// name = "ACME token"
/// kind = "acme-token"
/// severity = "high"
/// keywords = ["acme_"]
/// regex = '''\b(?P<secret>acme_[a-z0-9]{20})\b'''
/// examples = ["acme_q8w7e6r5t4y3u2i1o0p9"]
/// negative_examples = ["acme_short"]
/// "#)?
///     .build()?;
/// assert_eq!(rules.len(), 1);
/// # Ok::<(), keysweep_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RuleSetBuilder {
    default_rules: bool,
    lazy: bool,
    extra: Vec<Rule>,
    global_allow: Allow,
}

impl Default for RuleSetBuilder {
    fn default() -> Self {
        RuleSetBuilder::new()
    }
}

impl RuleSetBuilder {
    /// A builder with the embedded default rules enabled.
    pub fn new() -> RuleSetBuilder {
        RuleSetBuilder {
            default_rules: true,
            lazy: false,
            extra: Vec::new(),
            global_allow: Allow::default(),
        }
    }

    /// Whether to include the embedded default rules (default: `true`).
    pub fn default_rules(&mut self, yes: bool) -> &mut Self {
        self.default_rules = yes;
        self
    }

    /// Compile each rule's regexes only when its keywords first hit (default
    /// `false`: compile everything in [`build`](Self::build), which reports
    /// every compile error up front). Lazy compiling makes start-up cost
    /// proportional to the rules an input needs, which is what a pre-commit
    /// hook wants; a rule that then fails to compile is disabled with an error
    /// in the log. Rule syntax is always checked when rule files are read.
    pub fn lazy(&mut self, yes: bool) -> &mut Self {
        self.lazy = yes;
        self
    }

    /// Adds the rules of a TOML text; `origin` names it in errors.
    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<&mut Self> {
        self.extra.extend(parse_rules(origin, text)?);
        Ok(self)
    }

    /// Adds a rule file, or every `*.toml` file of a directory (sorted by name).
    pub fn add_path(&mut self, path: &Path) -> Result<&mut Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
                let p = entry.map_err(|e| Error::io(path, e))?.path();
                if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
                    files.push(p);
                }
            }
            files.sort();
            for f in files {
                self.extra.extend(parse_rule_file(&f)?);
            }
        } else {
            self.extra.extend(parse_rule_file(path)?);
        }
        Ok(self)
    }

    /// Adds already parsed rules (for example translated from another tool's config).
    pub fn add_rules(&mut self, rules: impl IntoIterator<Item = Rule>) -> &mut Self {
        self.extra.extend(rules);
        self
    }

    /// Adds allow-list entries that apply to every rule (default: none).
    pub fn global_allow(&mut self, allow: Allow) -> &mut Self {
        let g = &mut self.global_allow;
        g.stopwords
            .extend(allow.stopwords.into_iter().map(|w| w.to_ascii_lowercase()));
        g.regexes.extend(allow.regexes);
        g.paths.extend(allow.paths);
        g.path_regexes.extend(allow.path_regexes);
        g.match_regexes.extend(allow.match_regexes);
        g.line_regexes.extend(allow.line_regexes);
        self
    }

    /// Validates ids and compiles everything.
    pub fn build(&self) -> Result<RuleSet> {
        let _span = tracing::debug_span!("compile rules").entered();
        let mut rules: Vec<Rule> = Vec::new();
        if self.default_rules {
            for (name, text) in DEFAULT_RULE_FILES {
                // Not parsed twice: the test suite checks the embedded
                // regexes, and an eager build compiles them right below.
                rules.extend(crate::rule::parse_rules_with(name, text, false)?);
            }
        }
        let defaults = rules.len();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            if let Some(prev) = index.insert(r.id.clone(), i) {
                return Err(duplicate(&rules[prev], r));
            }
        }
        for r in &self.extra {
            match index.get(&r.id) {
                Some(&i) if i < defaults => {
                    tracing::debug!(rule = %r.id, "user rule replaces a default rule");
                    rules[i] = r.clone();
                    index.insert(r.id.clone(), usize::MAX); // later duplicates are errors
                }
                Some(_) => {
                    let prev = rules.iter().find(|p| p.id == r.id).unwrap_or(r);
                    return Err(duplicate(prev, r));
                }
                None => {
                    index.insert(r.id.clone(), rules.len());
                    rules.push(r.clone());
                }
            }
        }
        if !self.global_allow.is_empty() {
            for r in &mut rules {
                let g = &self.global_allow;
                r.allow.stopwords.extend(g.stopwords.iter().cloned());
                r.allow.regexes.extend(g.regexes.iter().cloned());
                r.allow.paths.extend(g.paths.iter().cloned());
                r.allow.path_regexes.extend(g.path_regexes.iter().cloned());
                r.allow
                    .match_regexes
                    .extend(g.match_regexes.iter().cloned());
                r.allow.line_regexes.extend(g.line_regexes.iter().cloned());
            }
        }
        let cache = Arc::new(RegexCache::default());
        let compiled: Vec<CompiledRule> = rules
            .into_iter()
            .map(|r| CompiledRule::new(r, Arc::clone(&cache)))
            .collect();
        let always: Vec<u32> = (0..compiled.len() as u32)
            .filter(|&i| compiled[i as usize].rule.keywords.is_empty())
            .collect();
        let mut patterns: Vec<String> = Vec::new();
        let mut by_pattern: HashMap<String, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        for (ri, r) in compiled.iter().enumerate() {
            for k in &r.rule.keywords {
                let k = k.to_ascii_lowercase();
                let pi = *by_pattern.entry(k.clone()).or_insert_with(|| {
                    patterns.push(k);
                    keyword_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if !keyword_rules[pi].contains(&(ri as u32)) {
                    keyword_rules[pi].push(ri as u32);
                }
            }
        }
        let build_keywords = || {
            Keywords::new(&patterns).map_err(|e| {
                Error::from(RuleError {
                    origin: "<rules>".into(),
                    line: None,
                    column: None,
                    rule_id: None,
                    field: Some("keywords".into()),
                    message: format!("keyword automaton does not build: {e}"),
                })
            })
        };
        let keywords = if self.lazy {
            build_keywords()?
        } else {
            let (keywords, forced) = force_all(&compiled, build_keywords);
            forced?;
            keywords?
        };
        tracing::debug!(
            rules = compiled.len(),
            keywords = patterns.len(),
            automaton_bytes = keywords.memory_usage(),
            "compiled rules"
        );
        Ok(RuleSet(Arc::new(Inner {
            rules: compiled,
            always,
            keywords,
            keyword_rules,
            id: NEXT_RULE_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })))
    }
}

/// Rules per compile thread below which an eager build stays on one thread.
const RULES_PER_THREAD: usize = 32;

/// Compiles every rule (on up to `available_parallelism` threads, taking rules
/// from a shared counter) while one thread also runs `side` (the keyword
/// automaton build). Returns `side`'s result and the error of the first rule,
/// in load order, that does not compile: the same error a serial build reports.
fn force_all<T: Send>(rules: &[CompiledRule], side: impl FnOnce() -> T + Send) -> (T, Result<()>) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rules.len() / RULES_PER_THREAD)
        .max(1);
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(rule) = rules.get(i) else { break };
        if let Err(e) = rule.force() {
            let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
            if first.as_ref().is_none_or(|(j, _)| i < *j) {
                *first = Some((i, e));
            }
        }
    };
    let side_out = if threads == 1 {
        work();
        side()
    } else {
        std::thread::scope(|s| {
            let helper = s.spawn(|| {
                let out = side();
                work();
                out
            });
            for _ in 2..threads {
                s.spawn(work);
            }
            work();
            helper
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    };
    let first = first_error.into_inner().unwrap_or_else(|e| e.into_inner());
    (side_out, first.map_or(Ok(()), |(_, e)| Err(e)))
}

fn duplicate(prev: &Rule, r: &Rule) -> Error {
    Error::from(RuleError {
        origin: r
            .origin
            .rsplit_once(':')
            .map_or(r.origin.clone(), |(o, _)| o.to_string()),
        line: Some(r.line),
        column: None,
        rule_id: Some(r.id.clone()),
        field: Some("id".into()),
        message: format!("duplicate rule id (first defined at {})", prev.origin),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compile_with_unique_ids() {
        let set = RuleSet::default_rules().unwrap();
        assert!(set.len() >= 40, "only {} default rules", set.len());
        let mut ids: Vec<_> = set.rules().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), set.len());
    }

    #[test]
    fn duplicate_user_ids_are_rejected() {
        let text = r#"
[[rules]]
id = "ks.dup.1"
name = "a"
kind = "k"
severity = "low"
keywords = ["dup_"]
regex = 'dup_[a-z]{8}'
examples = ["dup_abcdefgh"]
negative_examples = ["dup_"]
"#;
        let err = RuleSetBuilder::new()
            .default_rules(false)
            .add_toml("a.toml", text)
            .unwrap()
            .add_toml("b.toml", text)
            .unwrap()
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("duplicate rule id"), "{err}");
        assert!(err.to_string().contains("ks.dup.1"), "{err}");
    }

    #[test]
    fn lazy_rule_sets_compile_on_first_hit_and_disable_broken_rules() {
        // Parses fine, but is far over the NFA size limit once compiled.
        let huge = r#"
[[rules]]
id = "ks.huge.1"
name = "huge"
kind = "k"
severity = "low"
keywords = ["huge_"]
regex = 'huge_(?:[a-z]{200}){2000}'
examples = ["huge_x"]
negative_examples = ["huge"]
"#;
        let mut b = RuleSetBuilder::new();
        b.default_rules(false).add_toml("h.toml", huge).unwrap();
        let err = b.build().unwrap_err().to_string();
        assert!(err.contains("ks.huge.1") && err.contains("regex"), "{err}");
        let set = b.lazy(true).build().expect("lazy build defers compiling");
        let scanner = crate::Scanner::new(set);
        // No keyword: nothing compiled, nothing found. Keyword: compile fails,
        // the rule is disabled, the scan still completes.
        assert!(scanner.scan_bytes(b"nothing here").is_empty());
        assert!(scanner.scan_bytes(b"huge_abc").is_empty());
        assert!(scanner.rules().0.rules[0].matchers().is_none());
    }

    #[test]
    fn lazy_and_eager_find_the_same() {
        let hay = b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n";
        let eager = crate::Scanner::new(RuleSet::default_rules().unwrap());
        let lazy = crate::Scanner::new(RuleSetBuilder::new().lazy(true).build().unwrap());
        let a: Vec<_> = eager
            .scan_bytes(hay)
            .iter()
            .map(|f| (f.rule.id.clone(), f.span.clone()))
            .collect();
        let b: Vec<_> = lazy
            .scan_bytes(hay)
            .iter()
            .map(|f| (f.rule.id.clone(), f.span.clone()))
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn regex_syntax_errors_are_short() {
        let e = check_regex("(abc").unwrap_err();
        assert!(e.starts_with("invalid regex"), "{e}");
    }
}
