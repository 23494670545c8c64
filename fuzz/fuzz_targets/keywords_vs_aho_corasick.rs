//! Differential: keysweep's keyword automaton (the flat transition table every
//! scan runs, including its interleaved multi-lane search for long inputs)
//! reports exactly the matches of aho-corasick's own ASCII case-insensitive,
//! overlapping (`MatchKind::Standard`) search, for fuzzer-chosen keywords and
//! haystack.
//!
//! Input: byte 0 is the number of keywords (mod 17); then each keyword is a
//! length byte (mod 24) and that many bytes (lowercased, as rule sets do; the
//! bytes become a string lossily); the rest is the haystack, repeated
//! `1 + byte 1 % 8` times so that short inputs reach the multi-lane path
//! (512 bytes and up).
#![no_main]

use aho_corasick::{AhoCorasick, MatchKind};
use keysweep_core::__fuzz::Keywords;
use libfuzzer_sys::fuzz_target;

fn parse(data: &[u8]) -> Option<(Vec<String>, Vec<u8>)> {
    let (&n, mut rest) = data.split_first()?;
    let (&reps, r) = rest.split_first()?;
    rest = r;
    let mut patterns = Vec::new();
    for _ in 0..n % 17 {
        let (&len, r) = rest.split_first()?;
        let len = (len % 24) as usize;
        if r.len() < len {
            return None;
        }
        let p = String::from_utf8_lossy(&r[..len]).to_ascii_lowercase();
        patterns.push(p);
        rest = &r[len..];
    }
    let hay = rest.repeat(1 + (reps % 8) as usize);
    Some((patterns, hay))
}

fuzz_target!(|data: &[u8]| {
    let Some((patterns, hay)) = parse(data) else {
        return;
    };
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(&patterns)
        .expect("aho-corasick builds small pattern sets");
    let kw = Keywords::new(&patterns).expect("the keyword automaton builds what aho-corasick does");
    let mut want: Vec<(usize, usize, usize)> = ac
        .find_overlapping_iter(&hay)
        .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
        .collect();
    let mut got = Vec::new();
    kw.for_each_hit(&hay, |p, s, e| got.push((p, s, e)));
    // Every hit is a real occurrence of its keyword.
    for &(p, s, e) in &got {
        assert!(
            s <= e && e <= hay.len(),
            "hit {p} {s}..{e} outside {}",
            hay.len()
        );
        assert!(
            hay[s..e].eq_ignore_ascii_case(patterns[p].as_bytes()),
            "hit {p} {s}..{e} is not keyword {:?}",
            patterns[p]
        );
    }
    // The same (pattern, start, end) set, and in the same order by end.
    let ends = |v: &[(usize, usize, usize)]| v.iter().map(|h| h.2).collect::<Vec<_>>();
    assert_eq!(
        ends(&got),
        ends(&want),
        "match ends differ for {patterns:?}"
    );
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "matches differ for {patterns:?}");
});
