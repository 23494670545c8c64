//! The keyword prefilter: an ASCII case-insensitive, overlapping (`Standard`)
//! Aho-Corasick DFA, re-encoded into a flat transition table searched by a
//! tight loop.
//!
//! aho-corasick's own overlapping search costs about 19 instructions per byte
//! here (its loop keeps the position in the `OverlappingState` and re-reads
//! the automaton's tables after every step). The table below does the same
//! transitions in a handful: one class lookup, one transition load and one
//! comparison per byte. Match states are numbered first, so "is this a match
//! state" is `state < match_limit`, and each keeps aho-corasick's list of
//! the keywords ending there. The table is read off aho-corasick's
//! noncontiguous NFA (the automaton its DFA would be built from), which is
//! then dropped.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::noncontiguous;
use aho_corasick::{Anchored, MatchKind};

/// Independent searches interleaved over one haystack (see `Keywords::lanes`).
const LANES: usize = 4;
/// Haystacks shorter than `LANES` times this run on one lane.
const LANE_MIN: usize = 128;

/// The transition of state `s` on byte `b`.
///
/// # Safety
///
/// `s` must be a state of the table `trans` was built as, for the `classes`
/// it was built with: the start state or an entry of `trans`. `Keywords::new`
/// checks (`check_table`) that every such state is a multiple of the stride
/// below `trans.len()`, that `trans.len()` is a multiple of the stride and
/// that every class is below the stride; so `s + classes[b]` indexes the
/// row of `s`, inside `trans`. Every state the search loops hold is the start
/// state or a value read from `trans`, so passing them back is sound.
///
/// This is the hot loop of a scan: a bounds check here costs a quarter of its
/// instructions, which is why the read is unchecked. Debug builds (and so the
/// test suite and the fuzz targets) still check the bound.
#[inline(always)]
unsafe fn next(trans: &[u32], classes: &[u32; 256], s: u32, b: u8) -> u32 {
    let i = (s + classes[b as usize]) as usize;
    debug_assert!(
        i < trans.len(),
        "keyword state {s} + class {} is outside the table of {} entries",
        classes[b as usize],
        trans.len()
    );
    // SAFETY: `i < trans.len()` by this function's contract (see `# Safety`).
    unsafe { *trans.get_unchecked(i) }
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Keywords {
    /// Byte -> column of the transition table.
    classes: [u32; 256],
    /// Transitions, premultiplied: the next state of `s` on byte `b` is
    /// `trans[s + classes[b]]`, and `s` is a multiple of the stride.
    trans: Vec<u32>,
    start: u32,
    /// States below this are match states.
    match_limit: u32,
    stride: u32,
    /// The keywords (pattern, length) ending at each match state
    /// (`state / stride`), in aho-corasick's order.
    matches: Vec<Box<[(u32, u32)]>>,
    max_pattern_len: usize,
}

impl Keywords {
    /// Builds the automaton for lowercase `patterns`.
    pub(crate) fn new(patterns: &[String]) -> Result<Keywords, aho_corasick::BuildError> {
        let nfa = noncontiguous::NFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)?;
        // Columns: one per byte occurring in a keyword (both ASCII cases
        // share one, as the automaton is case-insensitive), and column 0 for
        // every other byte: on those, every state goes back to the start.
        const UNSET: u32 = u32::MAX;
        let mut classes = [UNSET; 256];
        let mut reps: Vec<u8> = vec![0];
        for p in patterns {
            for &b in p.as_bytes() {
                let b = b.to_ascii_lowercase();
                if classes[b as usize] == UNSET {
                    classes[b as usize] = reps.len() as u32;
                    classes[b.to_ascii_uppercase() as usize] = reps.len() as u32;
                    reps.push(b);
                }
            }
        }
        // Column 0's representative: any byte no keyword uses (if every byte
        // is used, column 0 is never looked up).
        if let Some(b) = (0..=255u8).find(|&b| classes[b as usize] == UNSET) {
            reps[0] = b;
        }
        for c in classes.iter_mut().filter(|c| **c == UNSET) {
            *c = 0;
        }
        let stride = reps.len() as u32;
        let start_sid = nfa
            .start_state(Anchored::No)
            .expect("an unanchored DFA has an unanchored start state");
        // Discover the reachable states (breadth-first from the start).
        let mut index: Vec<u32> = Vec::new(); // aho-corasick state -> order + 1
        let mut order: Vec<StateID> = vec![start_sid];
        let seen = |index: &mut Vec<u32>, sid: StateID, n: usize| -> bool {
            let i = sid.as_usize();
            if i >= index.len() {
                index.resize(i + 1, 0);
            }
            if index[i] != 0 {
                return true;
            }
            index[i] = n as u32 + 1;
            false
        };
        seen(&mut index, start_sid, 0);
        let mut q = 0;
        while q < order.len() {
            let sid = order[q];
            q += 1;
            for &b in &reps {
                let next = nfa.next_state(Anchored::No, sid, b);
                if !seen(&mut index, next, order.len()) {
                    order.push(next);
                }
            }
        }
        // Number match states first.
        let mut number = vec![0u32; order.len()];
        let mut matches: Vec<Box<[(u32, u32)]>> = Vec::new();
        for (i, &sid) in order.iter().enumerate() {
            if nfa.is_match(sid) {
                number[i] = matches.len() as u32;
                matches.push(
                    (0..nfa.match_len(sid))
                        .map(|k| {
                            let pid = nfa.match_pattern(sid, k);
                            (pid.as_u32(), nfa.pattern_len(pid) as u32)
                        })
                        .collect(),
                );
            }
        }
        let mut n = matches.len() as u32;
        for (i, &sid) in order.iter().enumerate() {
            if !nfa.is_match(sid) {
                number[i] = n;
                n += 1;
            }
        }
        let id = |sid: StateID| number[index[sid.as_usize()] as usize - 1] * stride;
        let mut trans = vec![0u32; order.len() * stride as usize];
        for &sid in &order {
            let from = id(sid) as usize;
            for (c, &b) in reps.iter().enumerate() {
                trans[from + c] = id(nfa.next_state(Anchored::No, sid, b));
            }
        }
        let kw = Keywords {
            max_pattern_len: patterns.iter().map(String::len).max().unwrap_or(0),
            start: id(start_sid),
            match_limit: matches.len() as u32 * stride,
            stride,
            classes,
            trans,
            matches,
        };
        kw.check_table();
        Ok(kw)
    }

    /// Heap bytes used.
    pub(crate) fn memory_usage(&self) -> usize {
        self.trans.len() * std::mem::size_of::<u32>()
            + self
                .matches
                .iter()
                .map(|m| std::mem::size_of_val(m) + std::mem::size_of_val(&**m))
                .sum::<usize>()
    }

    /// Calls `hit(pattern, start, end)` for every keyword occurrence in `hay`,
    /// overlapping ones included, in the order of aho-corasick's
    /// `find_overlapping_iter`. `buf` is scratch space.
    #[inline]
    pub(crate) fn for_each_hit(
        &self,
        hay: &[u8],
        buf: &mut Vec<(usize, u32)>,
        mut hit: impl FnMut(usize, usize, usize),
    ) {
        if self.start < self.match_limit {
            self.report(self.start, 0, &mut hit);
        }
        let warm = self.max_pattern_len.saturating_sub(1);
        if hay.len() < LANES * LANE_MIN.max(4 * warm) {
            let mut at = 0;
            let mut s = self.start;
            // SAFETY: `s` is `self.start`, then a state `step_to_match` returned.
            while let Some((end, next)) = unsafe { self.step_to_match(hay, at, s) } {
                self.report(next, end, &mut hit);
                at = end;
                s = next;
            }
            return;
        }
        buf.clear();
        self.lanes(hay, warm, buf);
        buf.sort_unstable_by_key(|&(end, _)| end);
        for &(end, s) in buf.iter() {
            self.report(s, end, &mut hit);
        }
    }

    /// Runs from `hay[at..]` in state `s` to the next match state: returns
    /// the end of the matches and that state, or `None` at the end of `hay`.
    ///
    /// # Safety
    ///
    /// `s` must be a state of this automaton: `self.start`, or a state this
    /// function or [`Keywords::lanes`] returned (an entry of `self.trans`).
    #[inline]
    unsafe fn step_to_match(&self, hay: &[u8], at: usize, mut s: u32) -> Option<(usize, u32)> {
        let trans = &self.trans[..];
        let classes = &self.classes;
        for (i, &b) in hay[at..].iter().enumerate() {
            // SAFETY: `s` is a state of this automaton (this function's
            // contract, and afterwards a value read from `trans`), and
            // `trans`/`classes` are its table, checked by `check_table`.
            s = unsafe { next(trans, classes, s, b) };
            if s < self.match_limit {
                return Some((at + i + 1, s));
            }
        }
        None
    }

    /// The DFA is bound by the latency of its dependent loads (one
    /// transition per byte), not by instructions; running `LANES`
    /// independent searches over consecutive chunks in one loop overlaps
    /// them. Lane `k > 0` starts `warm` bytes before its chunk (the longest
    /// keyword minus one), so it is in the same match state as a search from
    /// the start would be for every end inside its chunk; hits it sees
    /// before its chunk belong to lane `k - 1` and are dropped. Pushes
    /// `(end, match state)` of every hit to `out`, unordered.
    // `i` steps every lane in lockstep; indexing reads best here.
    #[allow(clippy::needless_range_loop)]
    #[inline(never)]
    fn lanes(&self, hay: &[u8], warm: usize, out: &mut Vec<(usize, u32)>) {
        let trans = &self.trans[..];
        let classes = &self.classes;
        let limit = self.match_limit;
        let chunk = hay.len() / LANES;
        // Lane k: searches hay[from[k]..to[k]], reports ends > lo[k].
        let lo: [usize; LANES] = std::array::from_fn(|k| k * chunk);
        let from: [usize; LANES] = std::array::from_fn(|k| lo[k].saturating_sub(warm));
        let to: [usize; LANES] =
            std::array::from_fn(|k| if k + 1 == LANES { hay.len() } else { lo[k + 1] });
        let n = (0..LANES).map(|k| to[k] - from[k]).min().unwrap_or(0);
        let lane: [&[u8]; LANES] = std::array::from_fn(|k| &hay[from[k]..from[k] + n]);
        let mut s = [self.start; LANES];
        for i in 0..n {
            for k in 0..LANES {
                // SAFETY: `s[k]` starts as `self.start` and is only ever set
                // to a value read from `trans`, and `trans`/`classes` are
                // this automaton's, checked by `check_table` when built.
                s[k] = unsafe { next(trans, classes, s[k], lane[k][i]) };
                if s[k] < limit {
                    let end = from[k] + i + 1;
                    if end > lo[k] {
                        out.push((end, s[k]));
                    }
                }
            }
        }
        for k in 0..LANES {
            let mut at = from[k] + n;
            let mut st = s[k];
            // SAFETY: `st` is `s[k]` (a state, see above), then a state
            // `step_to_match` returned.
            while let Some((end, next)) = unsafe { self.step_to_match(&hay[..to[k]], at, st) } {
                if end > lo[k] {
                    out.push((end, next));
                }
                at = end;
                st = next;
            }
        }
    }

    /// Checks the invariant [`next`] relies on. Runs in release builds too:
    /// it is once per rule set, and the unchecked reads depend on it.
    fn check_table(&self) {
        let stride = self.stride as usize;
        assert!(
            self.trans.len().is_multiple_of(stride)
                && self.classes.iter().all(|&c| c < self.stride)
        );
        assert!(std::iter::once(&self.start)
            .chain(&self.trans)
            .all(|&s| (s as usize).is_multiple_of(stride) && (s as usize) < self.trans.len()));
    }

    #[cold]
    #[inline(never)]
    fn report(&self, s: u32, end: usize, hit: &mut impl FnMut(usize, usize, usize)) {
        for &(pattern, len) in self.matches[(s / self.stride) as usize].iter() {
            hit(pattern as usize, end - len as usize, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;

    fn both(patterns: &[&str], hay: &[u8]) {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .unwrap();
        let want: Vec<(usize, usize, usize)> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        let kw = Keywords::new(&patterns).unwrap();
        let mut got = Vec::new();
        kw.for_each_hit(hay, &mut Vec::new(), |p, s, e| got.push((p, s, e)));
        assert_eq!(got, want, "patterns {patterns:?}");
    }

    #[test]
    fn same_hits_as_aho_corasick() {
        let pats = [
            "key", "api_key", "secret", "AKIA", "ghp_", "token", "x", "a\0b",
        ];
        both(&pats, b"");
        both(
            &pats,
            b"API_KEY=AKIAxx secret_token ghp_ KEY key Key a\0b A\0B \xff\x00x",
        );
        both(&["aa", "aaa", "a"], b"aaaaAAAa");
        both(&[""], b"abc");
        both(&["", "ab"], b"xabx");
    }

    #[test]
    fn lanes_give_the_same_hits() {
        let pats = ["key", "api_key", "secret_access_key", "AKIA", "a", "aa"];
        for len in [
            0, 1, 200, 511, 512, 513, 700, 4095, 4096, 4097, 10_000, 65_537,
        ] {
            let hay: Vec<u8> = (0..len)
                .map(|i: usize| b"xAPI_KEY=akia secret_access_key aa\n"[(i * 7 + i / 13) % 35])
                .collect();
            both(&pats, &hay);
        }
        // Keywords straddling every chunk boundary.
        let mut hay = b"secret_access_key ".repeat(1000);
        hay.extend_from_slice(b"aaaa");
        for cut in 0..20 {
            both(&pats, &hay[cut..]);
        }
    }

    #[test]
    fn embedded_rule_files() {
        let set = crate::RuleSet::default_rules().unwrap();
        let pats = default_keywords(&set);
        let refs: Vec<&str> = pats.iter().map(String::as_str).collect();
        for (_, text) in crate::compile::DEFAULT_RULE_FILES {
            both(&refs, text.as_bytes());
        }
        let all: String = crate::compile::DEFAULT_RULE_FILES
            .iter()
            .map(|(_, t)| *t)
            .collect();
        both(&refs, all.as_bytes());
    }

    fn default_keywords(set: &crate::RuleSet) -> Vec<String> {
        let mut pats: Vec<String> = Vec::new();
        for r in set.rules() {
            for k in &r.keywords {
                let k = k.to_ascii_lowercase();
                if !pats.contains(&k) {
                    pats.push(k);
                }
            }
        }
        pats
    }

    #[test]
    fn every_byte_used() {
        let all: Vec<String> = (0..=255u8)
            .map(|b| String::from_utf8_lossy(&[b, b'z']).into_owned())
            .collect();
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let hay: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 256) as u8).collect();
        both(&refs, &hay);
    }

    #[test]
    fn same_hits_on_default_keywords() {
        let set = crate::RuleSet::default_rules().unwrap();
        let pats = default_keywords(&set);
        let refs: Vec<&str> = pats.iter().map(String::as_str).collect();
        let mut hay = Vec::new();
        for (i, p) in pats.iter().enumerate() {
            hay.extend_from_slice(if i % 2 == 0 { p.as_bytes() } else { b" x=" });
            hay.extend_from_slice(p.to_ascii_uppercase().as_bytes());
            hay.push((i * 37 % 256) as u8);
        }
        both(&refs, &hay);
    }
}
