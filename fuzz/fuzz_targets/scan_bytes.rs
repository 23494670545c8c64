//! Scanning arbitrary bytes with the default rules: no panic, every finding's
//! span lies inside the input, and its line/column/end_line/end_column agree
//! with the span, recomputed here independently of the engine; eagerly and
//! lazily compiled rules agree.
#![no_main]

use keysweep_core::{RuleSetBuilder, ScanScratch, Scanner};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::with_default_rules().expect("default rules compile"))
}

/// The same rules compiled lazily, as the CLI scans.
fn lazy_scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let rules = RuleSetBuilder::new()
            .lazy(true)
            .build()
            .expect("lazy build");
        Scanner::new(rules)
    })
}

/// Characters in `bytes`: a valid UTF-8 sequence is one character, and every
/// byte that does not start one counts as one character of its own.
fn chars(bytes: &[u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < bytes.len() {
        let len = match bytes[i] {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        let ok = i + len <= bytes.len() && std::str::from_utf8(&bytes[i..i + len]).is_ok();
        i += if ok { len } else { 1 };
        n += 1;
    }
    n
}

/// 1-based (line, column) of the byte at `offset`.
fn position(hay: &[u8], offset: usize) -> (usize, usize) {
    let before = &hay[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, chars(&hay[line_start..offset]) + 1)
}

fuzz_target!(|hay: &[u8]| {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Option<ScanScratch>> = const { std::cell::RefCell::new(None) };
    }
    let s = scanner();
    let findings = SCRATCH.with(|cell| {
        let mut cell = cell.borrow_mut();
        let scratch = cell.get_or_insert_with(|| s.scratch());
        s.scan_slice(scratch, hay, None)
    });
    for f in &findings {
        let span = f.span.clone();
        assert!(span.start < span.end, "empty span {span:?}");
        assert!(span.end <= hay.len(), "span {span:?} past {}", hay.len());
        assert_eq!(f.secret.expose(), &hay[span.clone()]);
        assert_eq!((f.line, f.column), position(hay, span.start), "{f:?}");
        // The end column is just after the last byte, on the last byte's line.
        let (end_line, _) = position(hay, span.end - 1);
        let line_start = hay[..span.end - 1]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end_column = chars(&hay[line_start..span.end]) + 1;
        assert_eq!((f.end_line, f.end_column), (end_line, end_column), "{f:?}");
    }
    // A fresh scratch, and lazily compiled rules, find the same.
    let key = |v: &[keysweep_core::Finding]| -> Vec<(std::ops::Range<usize>, String)> {
        v.iter()
            .map(|f| (f.span.clone(), f.rule.id.clone()))
            .collect()
    };
    assert_eq!(key(&s.scan_bytes(hay)), key(&findings));
    assert_eq!(key(&lazy_scanner().scan_bytes(hay)), key(&findings));
});
