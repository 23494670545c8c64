//! Every input path of the engine reports the same findings.
//!
//! A [`ScannerTester`] runs one input through `scan_slice`, `scan_reader` (a
//! `Cursor`, and a reader that hands out 1–7 bytes per call and is sometimes
//! interrupted), `scan_file` (memory-mapped, read, default options, explicit
//! and walked) and `scan_paths`, and asserts that rule, span, line, column,
//! fingerprint, secret and snippet agree everywhere (like ripgrep's
//! `SearcherTester`). Table-driven cases also state the expected findings.

mod common;

use common::*;
use keysweep_core::{
    BinaryDetection, FileOutcome, Finding, FingerprintKey, MmapChoice, ScanEvent, ScanOptions,
    Scanner, DEFAULT_MMAP_THRESHOLD,
};
use proptest::prelude::*;
use std::io::{self, Cursor, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The comparable part of a finding.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    rule: String,
    path: Option<PathBuf>,
    span: Range<usize>,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    fingerprint: String,
    secret: String,
    snippet: String,
    entropy_bits: u64,
}

fn seen(findings: &[Finding]) -> Vec<Seen> {
    findings
        .iter()
        .map(|f| Seen {
            rule: f.rule_id().to_string(),
            path: f.path.as_deref().map(Path::to_path_buf),
            span: f.span.clone(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            fingerprint: f.fingerprint.to_hex(),
            secret: String::from_utf8_lossy(f.secret.expose()).into_owned(),
            snippet: f.snippet.clone(),
            entropy_bits: f.entropy.to_bits(),
        })
        .collect()
}

/// A reader that returns between 1 and 7 bytes per call (pseudo-random, from
/// `seed`) and fails every fifth call with `Interrupted`, which readers must
/// retry.
struct Trickle<'a> {
    data: &'a [u8],
    pos: usize,
    state: u64,
    calls: u64,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8], seed: u64) -> Self {
        Trickle {
            data,
            pos: 0,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            calls: 0,
        }
    }
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(5) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        // xorshift64
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let want = 1 + (self.state % 7) as usize;
        let n = want.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One expected finding: rule id, secret text (found once in the input),
/// 1-based line and character column.
type Want = (&'static str, String, usize, usize);

struct ScannerTester {
    name: String,
    hay: Vec<u8>,
    scanner: Scanner,
}

impl ScannerTester {
    fn new(name: &str, hay: &[u8], scanner: Scanner) -> Self {
        ScannerTester {
            name: name.to_string(),
            hay: hay.to_vec(),
            scanner,
        }
    }

    /// Runs every path, asserts they agree, and returns the findings.
    fn test(&self) -> Vec<Seen> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("input.txt");
        std::fs::write(&file, &self.hay).unwrap();
        let name: Arc<Path> = Arc::from(file.as_path());
        let s = &self.scanner;
        let len = self.hay.len() as u64;
        // One scratch reused across paths (as a walker thread does), plus fresh ones.
        let mut scratch = s.scratch();
        let mut runs: Vec<(String, Vec<Seen>)> = Vec::new();

        runs.push((
            "scan_slice".into(),
            seen(&s.scan_slice(&mut scratch, &self.hay, Some(&name))),
        ));
        runs.push((
            "scan_slice (fresh scratch)".into(),
            seen(&s.scan_slice(&mut s.scratch(), &self.hay, Some(&name))),
        ));
        let f = s
            .scan_reader(&mut scratch, Cursor::new(&self.hay), len, Some(&name))
            .unwrap();
        runs.push(("scan_reader (Cursor)".into(), seen(&f)));
        for seed in 1..=3 {
            let f = s
                .scan_reader(
                    &mut scratch,
                    Trickle::new(&self.hay, seed),
                    u64::MAX,
                    Some(&name),
                )
                .unwrap();
            runs.push((
                format!("scan_reader (1-7 bytes per read, seed {seed})"),
                seen(&f),
            ));
        }
        let binary = memchr::memchr(0, &self.hay).is_some();
        let mut mmap = ScanOptions::new();
        // SAFETY: the test's own temporary file; nothing else changes it.
        mmap.mmap(unsafe { MmapChoice::auto() }).mmap_threshold(0);
        let mut read = ScanOptions::new();
        read.mmap_threshold(0); // without `MmapChoice::auto`, still read
        let default = ScanOptions::new();
        let mut auto = ScanOptions::new();
        // SAFETY: as above.
        auto.mmap(unsafe { MmapChoice::auto() });
        for (label, opts) in [
            ("mmap", &mmap),
            ("read", &read),
            ("default options", &default),
            ("mmap above the default threshold", &auto),
        ] {
            let walked: &[bool] = if binary { &[true] } else { &[true, false] };
            for &explicit in walked {
                let how = if explicit { "explicit" } else { "walked" };
                let mut opts = opts.clone();
                if !explicit {
                    // As the walker treats files it meets.
                    opts.binary_named(BinaryDetection::Skip);
                }
                match s.scan_file(&mut scratch, &file, &opts).unwrap() {
                    FileOutcome::Scanned {
                        bytes, findings, ..
                    } => {
                        assert_eq!(bytes, len, "{}: scan_file ({label}) bytes", self.name);
                        runs.push((format!("scan_file ({label}, {how})"), seen(&findings)));
                    }
                    other => panic!("{}: scan_file ({label}, {how}): {other:?}", self.name),
                }
            }
        }
        let mut one_thread = ScanOptions::new();
        one_thread.threads(1);
        runs.push((
            "scan_paths (explicit file)".into(),
            self.scan_paths(std::slice::from_ref(&file), &one_thread),
        ));
        if !binary {
            runs.push((
                "scan_paths (walked directory)".into(),
                self.scan_paths(&[dir.path().to_path_buf()], &one_thread),
            ));
        }

        let (_, reference) = &runs[0];
        for (label, got) in &runs[1..] {
            assert_eq!(
                got, reference,
                "case {:?}: {label} disagrees with scan_slice",
                self.name
            );
        }
        // Sanity of every finding, whatever the rule set.
        for f in reference {
            assert_eq!(f.path.as_deref(), Some(file.as_path()), "{}", self.name);
            assert_eq!(
                self.hay[f.span.clone()],
                *f.secret.as_bytes(),
                "case {:?}: span does not hold the secret",
                self.name
            );
            assert!(
                !f.snippet.contains('\n') && !f.snippet.ends_with('\r'),
                "case {:?}: snippet {:?}",
                self.name,
                f.snippet
            );
        }
        reference.clone()
    }

    fn scan_paths(&self, paths: &[PathBuf], opts: &ScanOptions) -> Vec<Seen> {
        let out = Mutex::new(Vec::new());
        let stats = self.scanner.scan_paths(paths, opts, |ev| match ev {
            ScanEvent::Scanned { findings, .. } => out.lock().unwrap().extend(seen(&findings)),
            other => panic!("case {:?}: unexpected event {other:?}", self.name),
        });
        assert_eq!(stats.files, 1, "case {:?}", self.name);
        assert_eq!(stats.bytes, self.hay.len() as u64, "case {:?}", self.name);
        out.into_inner().unwrap()
    }

    /// Runs [`Self::test`] and checks the findings against `want`, in order.
    fn expect(&self, want: &[Want]) {
        let got = self.test();
        let summary: Vec<_> = got
            .iter()
            .map(|f| (f.rule.as_str(), f.secret.as_str(), f.line, f.column))
            .collect();
        let want_summary: Vec<_> = want
            .iter()
            .map(|(r, s, l, c)| (*r, s.as_str(), *l, *c))
            .collect();
        assert_eq!(summary, want_summary, "case {:?}", self.name);
        for (f, (rule, secret, line, column)) in got.iter().zip(want) {
            let at = find_unique(&self.hay, secret.as_bytes())
                .unwrap_or_else(|| panic!("case {:?}: {secret} not unique", self.name));
            assert_eq!(f.span, at..at + secret.len(), "case {:?}", self.name);
            assert_eq!(
                (f.end_line, f.end_column),
                (*line, column + secret.chars().count()),
                "case {:?}: end position of {secret}",
                self.name
            );
            assert_eq!(
                f.fingerprint,
                FingerprintKey::default()
                    .fingerprint(rule, secret.as_bytes())
                    .to_hex(),
                "case {:?}",
                self.name
            );
        }
    }
}

fn find_unique(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let mut it = memchr::memmem::find_iter(hay, needle);
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn w(rule: &'static str, secret: &str, line: usize, column: usize) -> Want {
    (rule, secret.to_string(), line, column)
}

/// The table: name, input, expected findings in input order.
fn cases() -> Vec<(&'static str, Vec<u8>, Vec<Want>)> {
    let filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit\n";
    let n = (DEFAULT_MMAP_THRESHOLD as usize / filler.len()) / 2 + 1;
    let large = format!(
        "{AWS_ID_1}\n{}{GH_PAT_1}\n{}end {AWS_ID_3}",
        filler.repeat(n),
        filler.repeat(n)
    );
    assert!(large.len() as u64 > DEFAULT_MMAP_THRESHOLD);
    vec![
        (
            "aws id in an env file",
            format!("AWS_ACCESS_KEY_ID={AWS_ID_1}\n").into_bytes(),
            vec![w("ks.aws.1", AWS_ID_1, 1, 19)],
        ),
        (
            "several secrets of several rules",
            format!(
                "# deploy settings\n\
                 AWS_ACCESS_KEY_ID={AWS_ID_2}\n\
                 aws_secret_access_key = {AWS_SECRET}\n\
                 github:\n  token: {GH_PAT_1}\n  oauth: \"{GH_OAUTH}\"\n\
                 ids = [{AWS_ID_1}, {AWS_ID_3}]\n"
            )
            .into_bytes(),
            vec![
                w("ks.aws.1", AWS_ID_2, 2, 19),
                w("ks.aws.2", AWS_SECRET, 3, 25),
                w("ks.github.1", GH_PAT_1, 5, 10),
                w("ks.github.2", GH_OAUTH, 6, 11),
                w("ks.aws.1", AWS_ID_1, 7, 8),
                w("ks.aws.1", AWS_ID_3, 7, 30),
            ],
        ),
        (
            "CRLF line endings",
            format!("first\r\nGITHUB_TOKEN={GH_PAT_2}\r\nkey: {AWS_ID_1}\r\n\r\n").into_bytes(),
            vec![
                w("ks.github.1", GH_PAT_2, 2, 14),
                w("ks.aws.1", AWS_ID_1, 3, 6),
            ],
        ),
        (
            "invalid UTF-8 around secrets",
            bytes(&[
                b"\xff\xfe",
                AWS_ID_1.as_bytes(),
                b"\xc3\x28 trailing \xe2\x82\nnext ",
                GH_PAT_1.as_bytes(),
                b"\xf0\x9f\n",
            ]),
            vec![
                w("ks.aws.1", AWS_ID_1, 1, 3),
                w("ks.github.1", GH_PAT_1, 2, 6),
            ],
        ),
        (
            "secret at byte 0",
            format!("{AWS_ID_3}\nrest\n").into_bytes(),
            vec![w("ks.aws.1", AWS_ID_3, 1, 1)],
        ),
        (
            "secret at the very end without newline",
            format!("x = 1\ntoken {GH_OAUTH}").into_bytes(),
            vec![w("ks.github.2", GH_OAUTH, 2, 7)],
        ),
        (
            "the whole input is one secret",
            GH_PAT_1.as_bytes().to_vec(),
            vec![w("ks.github.1", GH_PAT_1, 1, 1)],
        ),
        (
            "multibyte characters before secrets (columns count characters)",
            format!("café ☃ 🔑 = {AWS_ID_2} — ✓\n日本語の鍵: {GH_PAT_2}").into_bytes(),
            vec![
                w("ks.aws.1", AWS_ID_2, 1, 12),
                w("ks.github.1", GH_PAT_2, 2, 8),
            ],
        ),
        ("empty input", Vec::new(), vec![]),
        (
            "near misses find nothing",
            format!(
                "{}\nX{AWS_ID_2}\n{}\n{}\n{GH_PAT_BAD_CHECKSUM}\nAKIAIOSFODNN7EXAMPLE\n",
                &AWS_ID_2[..19],
                AWS_ID_2.to_ascii_lowercase(),
                AWS_ID_2.replace('5', "1"),
            )
            .into_bytes(),
            vec![],
        ),
        (
            "keysweep:allow suppresses its line only",
            format!("a = {AWS_ID_1} # keysweep:allow\nb = {AWS_ID_2}\n").into_bytes(),
            vec![w("ks.aws.1", AWS_ID_2, 2, 5)],
        ),
        (
            "secret in the middle of a 6 KB line",
            format!("{} {AWS_ID_1} {}\n", "x".repeat(3000), "y".repeat(3000)).into_bytes(),
            vec![w("ks.aws.1", AWS_ID_1, 1, 3002)],
        ),
        (
            "adjacent secrets on one line",
            format!("{AWS_ID_1},{AWS_ID_2};{GH_PAT_1}").into_bytes(),
            vec![
                w("ks.aws.1", AWS_ID_1, 1, 1),
                w("ks.aws.1", AWS_ID_2, 1, 22),
                w("ks.github.1", GH_PAT_1, 1, 43),
            ],
        ),
        (
            "many keyword hits before one secret",
            format!("{}{GH_PAT_2}\n", "ghp_ ".repeat(100)).into_bytes(),
            vec![w("ks.github.1", GH_PAT_2, 1, 501)],
        ),
        (
            "NUL bytes (binary), scanned because named explicitly",
            bytes(&[b"\0\0bin\n", AWS_ID_3.as_bytes(), b"\0tail"]),
            vec![w("ks.aws.1", AWS_ID_3, 2, 1)],
        ),
        (
            "input above the mmap threshold, secrets at start, middle and end",
            large.into_bytes(),
            vec![
                w("ks.aws.1", AWS_ID_1, 1, 1),
                w("ks.github.1", GH_PAT_1, n + 2, 1),
                w("ks.aws.1", AWS_ID_3, 2 * n + 3, 5),
            ],
        ),
    ]
}

#[test]
fn every_path_agrees_and_finds_the_expected_secrets() {
    let scanner = scanner();
    for (name, hay, want) in cases() {
        ScannerTester::new(name, &hay, scanner.clone()).expect(&want);
    }
}

/// The same inputs through the embedded default rules (whatever they are
/// today): the paths must still agree, and the pinned secrets still be found.
#[test]
fn every_path_agrees_with_the_default_rules() {
    let scanner = Scanner::with_default_rules()
        .unwrap()
        .with_fingerprint_key(FingerprintKey::default());
    for (name, hay, want) in cases() {
        let got = ScannerTester::new(name, &hay, scanner.clone()).test();
        for (rule, secret, line, column) in &want {
            assert!(
                got.iter().any(|f| f.rule == *rule
                    && f.secret == *secret
                    && (f.line, f.column) == (*line, *column)),
                "case {name:?}: default rules miss {rule} {secret}: {got:#?}"
            );
        }
    }
}

/// `char_count` documents "invalid UTF-8 counts one column per byte", and
/// `Finding::column` promises characters. Stray continuation bytes (0x80..=0xBF
/// with no lead byte) are invalid UTF-8 but count zero columns, so SARIF
/// `startColumn` points before the secret.
#[test]
fn stray_continuation_bytes_count_one_column_each() {
    let hay = bytes(&[b"\x80\x80= ", AWS_ID_1.as_bytes(), b"\n"]);
    ScannerTester::new("stray continuation bytes", &hay, scanner())
        .expect(&[w("ks.aws.1", AWS_ID_1, 1, 5)]);
}

/// A secret line: the secret and the column it starts at.
fn secret_line() -> impl Strategy<Value = (String, &'static str, usize)> {
    prop_oneof![
        Just((format!("AWS_ACCESS_KEY_ID={AWS_ID_1}"), "ks.aws.1", 19)),
        Just((format!("token: \"{GH_PAT_2}\""), "ks.github.1", 9)),
        Just((GH_OAUTH.to_string(), "ks.github.2", 1)),
        Just((
            format!("aws_secret_access_key={AWS_SECRET}"),
            "ks.aws.2",
            23
        )),
    ]
}

fn secret_of(rule: &str) -> &'static str {
    match rule {
        "ks.aws.1" => AWS_ID_1,
        "ks.github.1" => GH_PAT_2,
        "ks.github.2" => GH_OAUTH,
        "ks.aws.2" => AWS_SECRET,
        _ => unreachable!(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A secret on its own line, inserted anywhere in random printable text,
    /// is found exactly once, with the right span, line and column, and the
    /// byte-by-byte reader agrees.
    #[test]
    fn planted_secret_is_found_anywhere(
        text in "[ -~\n]{0,600}",
        at in any::<prop::sample::Index>(),
        (line_text, rule, column) in secret_line(),
        seed in 1u64..1000,
    ) {
        let s = scanner();
        let at = at.index(text.len() + 1);
        let hay = format!("{}\n{line_text}\n{}", &text[..at], &text[at..]);
        let secret = secret_of(rule);
        let found = s.scan_bytes(hay.as_bytes());
        prop_assert_eq!(found.len(), 1, "{:?}", found);
        let f = &found[0];
        let start = at + 1 + column - 1;
        prop_assert_eq!(f.rule_id(), rule);
        prop_assert_eq!(f.span.clone(), start..start + secret.len());
        prop_assert_eq!(f.line, text[..at].matches('\n').count() + 2);
        prop_assert_eq!(f.column, column);
        let mut scratch = s.scratch();
        let trickled = s
            .scan_reader(&mut scratch, Trickle::new(hay.as_bytes(), seed), u64::MAX, None)
            .unwrap();
        prop_assert_eq!(seen(&trickled), seen(&found));
    }

    /// Prefixing random lines shifts spans and lines, but rule, fingerprint,
    /// column, secret and snippet stay the same.
    #[test]
    fn findings_do_not_depend_on_preceding_lines(
        lines in prop::collection::vec("[ -~]{0,120}", 0..40),
    ) {
        let s = scanner();
        let base = format!(
            "AWS_ACCESS_KEY_ID={AWS_ID_2}\naws_secret_access_key = {AWS_SECRET}\n\
             x {GH_PAT_1} y {GH_OAUTH}\ncafé={AWS_ID_3}"
        );
        let prefix: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let shifted = format!("{prefix}{base}");
        let before = seen(&s.scan_bytes(base.as_bytes()));
        let after = seen(&s.scan_bytes(shifted.as_bytes()));
        prop_assert_eq!(before.len(), 5);
        prop_assert_eq!(after.len(), before.len());
        for (b, a) in before.iter().zip(&after) {
            prop_assert_eq!(&a.rule, &b.rule);
            prop_assert_eq!(&a.fingerprint, &b.fingerprint);
            prop_assert_eq!(&a.secret, &b.secret);
            prop_assert_eq!(&a.snippet, &b.snippet);
            prop_assert_eq!(a.span.clone(), b.span.start + prefix.len()..b.span.end + prefix.len());
            prop_assert_eq!(a.line, b.line + lines.len());
            prop_assert_eq!((a.column, a.end_column), (b.column, b.end_column));
        }
    }
}
