//! Property tests of the engine's invariants with the *default* rules (issue 8):
//!
//! * findings do not depend on how a reader splits the input into chunks (any
//!   chunk sizes, with `Interrupted` errors in between), nor on whether the
//!   rules were compiled eagerly or lazily;
//! * a secret inserted at any byte position of random text is found, with the
//!   exact span, line and column;
//! * parsing mutated copies of the real rule files never panics, and errors
//!   name the file.
//!
//! Every secret here is fake (random bodies; GitHub checksums from
//! `scripts/gen-token.py`).

use keysweep_core::{parse_rules, Finding, FingerprintKey, RuleSetBuilder, Scanner};
use proptest::prelude::*;
use std::io::{self, Read};
use std::sync::OnceLock;

/// (rule id, text inserted, offset of the secret in it, the secret).
const PLANTS: &[(&str, &str, usize, &str)] = &[
    (
        "ks.aws.1",
        "AKIAQLLJPEVG4MTWIQ2K",
        0,
        "AKIAQLLJPEVG4MTWIQ2K",
    ),
    (
        "ks.github.1",
        "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",
        0,
        "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",
    ),
    (
        "ks.postgres.1",
        "postgres://app:Zq8mP3xL9vR2kT7wQ4@db.internal:5432/app",
        15,
        "Zq8mP3xL9vR2kT7wQ4",
    ),
    (
        "ks.aws.2",
        "aws_secret_access_key = 6wkyMt5lmKbDsxUHLb+hJRH7cNmjz19r2Fqu4f5I",
        24,
        "6wkyMt5lmKbDsxUHLb+hJRH7cNmjz19r2Fqu4f5I",
    ),
    (
        "ks.slack.1",
        "xoxb-2849103745-2849103745123-Qz8mP3xL9vR2kT7wQ4nBcY6d",
        0,
        "xoxb-2849103745-2849103745123-Qz8mP3xL9vR2kT7wQ4nBcY6d",
    ),
];

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        Scanner::with_default_rules()
            .expect("default rules compile")
            .with_fingerprint_key(FingerprintKey::default())
    })
}

/// The default rules compiled lazily (as the CLI scans): a rule's regex is
/// built when its keyword first hits.
fn lazy_scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let rules = RuleSetBuilder::new()
            .lazy(true)
            .build()
            .expect("lazy build");
        Scanner::new(rules).with_fingerprint_key(FingerprintKey::default())
    })
}

/// Everything a finding reports, comparably.
fn view(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {}:{}-{}:{} {} {:?} {}",
                f.rule.id,
                f.span,
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                f.fingerprint,
                f.snippet,
                f.entropy
            )
        })
        .collect()
}

/// A reader that hands out the input in the given chunk sizes (cycled), and
/// fails with `Interrupted` before a read when the matching flag says so
/// (`read_to_end` must retry those).
struct Chunked<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    interrupts: Vec<bool>,
    calls: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let i = self.calls;
        self.calls += 1;
        let k = i % self.interrupts.len();
        if self.interrupts[k] {
            self.interrupts[k] = false;
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = self.sizes[i % self.sizes.len()]
            .min(buf.len())
            .min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Random text with planted secrets and some non-ASCII and invalid UTF-8 bytes.
fn haystack() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => "[ -~\n]{0,80}".prop_map(String::into_bytes),
        2 => (0..PLANTS.len()).prop_map(|i| format!(" {} ", PLANTS[i].1).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..16),
        1 => Just("é ü → \r\n".as_bytes().to_vec()),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// Mutations of a rule file's text.
#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    Truncate(usize),
    ReplaceByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bits = "[\\[\\]{}\"'=,.#\\\\\n a-z0-9_]{1,12}|\\[\\[rules\\]\\]|regex = '''|keywords = \\[|'''|\\(\\?P<secret>";
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), bits).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::ReplaceByte(a, b)),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    let len = text.len();
    let at = |a: usize| if len == 0 { 0 } else { a % (len + 1) };
    match m {
        Mutation::Delete(a, n) => {
            let a = at(*a);
            text.drain(a..(a + n).min(len));
        }
        Mutation::Insert(a, s) => {
            let a = at(*a);
            text.splice(a..a, s.bytes());
        }
        Mutation::Duplicate(a, n) => {
            let a = at(*a);
            let copy = text[a..(a + n).min(len)].to_vec();
            text.splice(a..a, copy);
        }
        Mutation::Truncate(a) => text.truncate(at(*a)),
        Mutation::ReplaceByte(a, b) if len > 0 => text[a % len] = *b,
        Mutation::ReplaceByte(..) => {}
    }
}

/// The repository's rule files (name, text).
fn rule_files() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../patterns");
        let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        v.sort();
        assert!(v.len() > 10, "rule files not found in {}", dir.display());
        v
    })
}

#[test]
fn plants_are_found_alone() {
    for (rule, text, off, secret) in PLANTS {
        let f = scanner().scan_bytes(text.as_bytes());
        assert_eq!(f.len(), 1, "{rule}: {f:?}");
        assert_eq!(f[0].rule.id, *rule);
        assert_eq!(f[0].span, *off..off + secret.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Reading the input in any chunk sizes (with interruptions) finds exactly
    /// what scanning the whole slice finds.
    #[test]
    fn findings_do_not_depend_on_chunking(
        hay in haystack(),
        sizes in prop::collection::vec(1usize..300, 1..12),
        interrupts in prop::collection::vec(prop::bool::weighted(0.2), 1..8),
    ) {
        let s = scanner();
        let whole = view(&s.scan_bytes(&hay));
        let mut scratch = s.scratch();
        let reader = Chunked { data: &hay, sizes, interrupts, calls: 0 };
        let chunked = s.scan_reader(&mut scratch, reader, u64::MAX, None).unwrap();
        prop_assert_eq!(view(&chunked), whole.clone());
        // The same scratch, reused for a second read, agrees too.
        let again = s
            .scan_reader(&mut scratch, Chunked { data: &hay, sizes: vec![7], interrupts: vec![false], calls: 0 }, u64::MAX, None)
            .unwrap();
        prop_assert_eq!(view(&again), whole.clone());
        // Lazily compiled rules (as the CLI uses them) find the same.
        prop_assert_eq!(view(&lazy_scanner().scan_bytes(&hay)), whole);
    }

    /// A secret inserted (between spaces) at any byte position of random text
    /// is found with its exact span, line and column.
    #[test]
    fn inserted_secret_is_found_anywhere(
        text in "[ -~\n\t]{0,400}|[a-z =:\"\n]{0,400}",
        at in any::<prop::sample::Index>(),
        which in 0..PLANTS.len(),
    ) {
        let (rule, plant, off, secret) = PLANTS[which];
        let at = at.index(text.len() + 1);
        let hay = format!("{} {plant} {}", &text[..at], &text[at..]);
        let start = at + 1 + off;
        let found = scanner().scan_bytes(hay.as_bytes());
        let f = found.iter().find(|f| f.span == (start..start + secret.len()));
        prop_assert!(f.is_some(), "{} not found at {} in {:?}: {:?}", rule, start, hay, found);
        let f = f.unwrap();
        prop_assert_eq!(&f.rule.id, rule);
        prop_assert_eq!(f.secret.expose(), secret.as_bytes());
        let line_start = hay[..start].rfind('\n').map_or(0, |i| i + 1);
        prop_assert_eq!(f.line, hay[..start].matches('\n').count() + 1);
        prop_assert_eq!(f.column, start - line_start + 1);
        prop_assert!(!f.snippet.contains(&secret[4..]), "{}", f.snippet);
    }

    /// Mutated copies of the real rule files parse or fail with an error
    /// naming the file; nothing panics, and what parses also compiles or
    /// fails cleanly.
    #[test]
    fn mutated_rule_files_never_panic(
        file in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let files = rule_files();
        let (name, text) = &files[file.index(files.len())];
        let mut bytes = text.clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let text = String::from_utf8_lossy(&bytes);
        match parse_rules(name, &text) {
            Ok(rules) => {
                let _ = RuleSetBuilder::new().default_rules(false).add_rules(rules).build();
            }
            Err(e) => prop_assert!(e.to_string().starts_with(name.as_str()), "{}", e),
        }
    }
}
