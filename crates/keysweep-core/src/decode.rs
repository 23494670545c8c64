//! Decoding layers: secrets written base64, hex, percent-encoded, as
//! `\uXXXX` / `\xNN` escapes or as HTML entities.
//!
//! After the plain scan of an input, [`candidates`] finds spans that look
//! encoded; each is decoded and its decoded text scanned with the same rules
//! (nested up to the scanner's decode depth). A finding in decoded text is
//! reported at the encoded span of the input, with the chain of decodings
//! ([`crate::Finding::decoded`]), outermost first.
//!
//! The search is built to cost little when there is nothing to decode:
//! base64 and hex runs are found 16 bytes at a time (a block is looked at
//! byte by byte only when all of it is in the alphabet, which the compiler
//! vectorises), escapes and entities through `memchr`/`memmem` for their
//! first byte. A decoded span is scanned only when it decodes to text.

use std::borrow::Cow;

/// An encoding a secret was found under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Encoding {
    /// Base64, standard or URL-safe, padded or not, possibly line-wrapped.
    Base64,
    /// Hexadecimal digits, two per byte.
    Hex,
    /// Percent-encoding (`%5F`).
    Percent,
    /// Backslash escapes: `\uXXXX` (with surrogate pairs), `\xNN`.
    Escape,
    /// HTML character references: numeric (`&#95;`, `&#x5f;`), and named
    /// ones (`&lowbar;`) in a token that has a numeric one.
    Html,
}

impl Encoding {
    /// The lowercase name used in reports: `base64`, `hex`, `percent`,
    /// `escape`, `html`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
            Encoding::Html => "html",
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Encoding, String> {
        Ok(match s {
            "base64" => Encoding::Base64,
            "hex" => Encoding::Hex,
            "percent" => Encoding::Percent,
            "escape" => Encoding::Escape,
            "html" => Encoding::Html,
            _ => return Err(format!("unknown encoding {s:?}")),
        })
    }
}

/// Default nesting of decodings (`base64` of a `percent`-encoded URL is 2).
pub const DEFAULT_DECODE_DEPTH: usize = 2;

/// The shortest base64 run looked at (18 bytes of text).
const MIN_BASE64: usize = 24;
/// The shortest hex run looked at (16 bytes of text).
const MIN_HEX: usize = 32;
/// The shortest decoded text scanned.
const MIN_DECODED: usize = 8;
/// Encoded spans longer than this are not decoded (a large embedded blob is
/// an image or a binary, not a credential).
pub const MAX_ENCODED: usize = 1 << 20;

/// A span of the input that decodes to text (no `Debug`: the decoded text
/// may be a secret).
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
    pub decoded: Vec<u8>,
}

/// Every span of `hay` that decodes to text, in input order (spans of
/// different encodings may overlap).
pub(crate) fn candidates(hay: &[u8]) -> Vec<Candidate> {
    let mut out = Vec::new();
    runs(hay, &mut out);
    marked(hay, &mut out);
    out.sort_by_key(|c| (c.start, c.end));
    out
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Whether all 16 bytes are in the base64 alphabets: plain byte arithmetic
/// without branches, which the compiler turns into a few vector
/// instructions.
#[inline]
fn block_is_b64(block: &[u8; 16]) -> bool {
    let mut ok = 1u8;
    for &b in block {
        let digit = (b.wrapping_sub(b'0') < 10) as u8;
        let letter = ((b | 0x20).wrapping_sub(b'a') < 26) as u8;
        let sign = (b == b'+') as u8 | (b == b'/') as u8 | (b == b'-') as u8 | (b == b'_') as u8;
        ok &= digit | letter | sign;
    }
    ok == 1
}

/// Base64 and hex runs.
fn runs(hay: &[u8], out: &mut Vec<Candidate>) {
    const BLOCK: usize = 16;
    let mut i = 0;
    while i + BLOCK <= hay.len() {
        let block: &[u8; BLOCK] = hay[i..i + BLOCK].try_into().expect("a block");
        if !block_is_b64(block) {
            i += BLOCK;
            continue;
        }
        let mut start = i;
        while start > 0 && is_b64(hay[start - 1]) {
            start -= 1;
        }
        let (end, text) = wrapped_run(hay, start);
        i = end.max(i + BLOCK);
        if text.len() > MAX_ENCODED {
            continue;
        }
        if let Some(c) = decode_run(start, end, &text) {
            out.push(c);
        }
    }
}

/// The end of the run starting at `start` and its text, joining the lines of
/// a line-wrapped run (every line but the last entirely base64, after its
/// indentation, and as long as the first).
fn wrapped_run(hay: &[u8], start: usize) -> (usize, Cow<'_, [u8]>) {
    let run_end = |from: usize| {
        let mut e = from;
        while e < hay.len() && is_b64(hay[e]) {
            e += 1;
        }
        while e < hay.len() && hay[e] == b'=' && e - from > 0 {
            e += 1;
        }
        e
    };
    let mut end = run_end(start);
    let first_len = end - start;
    if first_len < 40 || hay[start..end].contains(&b'=') || !starts_line(hay, start) {
        return (end, Cow::Borrowed(&hay[start..end]));
    }
    let mut text: Option<Vec<u8>> = None;
    loop {
        let mut next = end;
        if hay.get(next) == Some(&b'\r') {
            next += 1;
        }
        if hay.get(next) != Some(&b'\n') {
            break;
        }
        next += 1;
        while next < hay.len() && matches!(hay[next], b' ' | b'\t') {
            next += 1;
        }
        let e = run_end(next);
        let len = e - next;
        let line_end = hay[e..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(hay.len(), |p| e + p);
        // The continuation must be the whole line, and no longer than the
        // first (the last line of a wrapped block is the shortest).
        if len < 4 || len > first_len || hay[e..line_end].iter().any(|b| !b.is_ascii_whitespace()) {
            break;
        }
        text.get_or_insert_with(|| hay[start..end].to_vec())
            .extend_from_slice(&hay[next..e]);
        end = e;
        if len < first_len || hay[next..e].contains(&b'=') {
            break;
        }
    }
    match text {
        Some(t) => (end, Cow::Owned(t)),
        None => (end, Cow::Borrowed(&hay[start..end])),
    }
}

/// Whether only indentation precedes `start` on its line (looked for in a
/// bounded stretch: a long line of many runs must not be read back for each).
fn starts_line(hay: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(256);
    match memchr::memrchr(b'\n', &hay[lo..start]) {
        Some(p) => hay[lo + p + 1..start]
            .iter()
            .all(|b| b.is_ascii_whitespace()),
        None => lo == 0 && hay[..start].iter().all(|b| b.is_ascii_whitespace()),
    }
}

fn decode_run(start: usize, end: usize, text: &[u8]) -> Option<Candidate> {
    let hex = text.iter().all(u8::is_ascii_hexdigit);
    if hex && text.len() >= MIN_HEX && text.len().is_multiple_of(2) {
        let decoded = hex_decode(text)?;
        return is_text(&decoded).then_some(Candidate {
            start,
            end,
            encoding: Encoding::Hex,
            decoded,
        });
    }
    if text.len() < MIN_BASE64 || hex {
        return None;
    }
    // Mixed case or digits: plain words and identifiers are not base64.
    let (mut upper, mut lower, mut digit) = (false, false, false);
    for &b in text {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        digit |= b.is_ascii_digit();
    }
    if !(upper && lower) && !(digit && (upper || lower)) {
        return None;
    }
    let decoded = base64_decode(text)?;
    is_text(&decoded).then_some(Candidate {
        start,
        end,
        encoding: Encoding::Base64,
        decoded,
    })
}

fn hex_decode(text: &[u8]) -> Option<Vec<u8>> {
    let val = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    text.chunks_exact(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let url = text.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url { &URL_SAFE } else { &STANDARD };
    let body_len = text.iter().rposition(|&b| b != b'=').map_or(0, |p| p + 1);
    let mut body = &text[..body_len];
    // A run that is one character too long for base64 (a stray neighbour).
    if body.len() % 4 == 1 {
        body = &body[..body.len() - 1];
    }
    // Most runs are identifiers or hashes: their first 16 characters
    // already decode to something that is not text.
    let mut head = [0u8; 12];
    let n = engine
        .decode_slice(&body[..body.len().min(16) & !3], &mut head)
        .ok()?;
    if !is_text_prefix(&head[..n]) {
        return None;
    }
    engine.decode(body).ok()
}

/// Whether the first decoded bytes look like text (see [`is_text`]).
fn is_text_prefix(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n' | b'\r') || c >= 0x80)
}

/// Whether decoded bytes are text worth scanning: long enough, valid UTF-8
/// (or nearly), and made of printable characters.
fn is_text(b: &[u8]) -> bool {
    if b.len() < MIN_DECODED {
        return false;
    }
    let printable = b
        .iter()
        .filter(|&&c| (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n' | b'\r') || c >= 0x80)
        .count();
    let high = b.iter().filter(|&&c| c >= 0x80).count();
    printable * 100 >= b.len() * 97 && (high == 0 || std::str::from_utf8(b).is_ok())
}

/// Whether `b` ends a token (for escapes, percent-encoding and entities).
fn delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>' | b'(' | b')' | b',')
}

/// The token (delimited by [`delimiter`] bytes) around `at`.
fn token(hay: &[u8], at: usize) -> (usize, usize) {
    let mut s = at;
    while s > 0 && !delimiter(hay[s - 1]) && at - s < MAX_TOKEN {
        s -= 1;
    }
    let mut e = at;
    while e < hay.len() && !delimiter(hay[e]) && e - at < MAX_TOKEN {
        e += 1;
    }
    (s, e)
}

/// Longest stretch a token extends either way from its escape.
const MAX_TOKEN: usize = 512;

/// Percent-encoding, escapes and character references, found by `memchr`
/// and `memmem` passes over their first bytes.
fn marked(hay: &[u8], out: &mut Vec<Candidate>) {
    // Where the last token of each kind ended: later marks inside it are
    // part of it.
    let mut done = [0usize; 3];
    // `&` is everywhere in code; the character references that disguise a
    // credential are numeric (`&#95;`, `&#x5f;`), found by `memmem` (a named
    // one in the same token is decoded with it).
    let marks = memchr::memchr2_iter(b'%', b'\\', hay).chain(memchr::memmem::find_iter(hay, b"&#"));
    let mut marks: Vec<usize> = marks.collect();
    marks.sort_unstable();
    for at in marks {
        let (kind, encoding) = match hay[at] {
            b'%' => (0, Encoding::Percent),
            b'\\' => (1, Encoding::Escape),
            _ => (2, Encoding::Html),
        };
        if at < done[kind] {
            continue;
        }
        let rest = &hay[at + 1..hay.len().min(at + 12)];
        let looks_encoded = match encoding {
            Encoding::Percent => rest.len() >= 2 && rest[..2].iter().all(u8::is_ascii_hexdigit),
            Encoding::Escape => match rest.first() {
                Some(b'u') => rest.len() >= 5 && rest[1..5].iter().all(u8::is_ascii_hexdigit),
                Some(b'x') => rest.len() >= 3 && rest[1..3].iter().all(u8::is_ascii_hexdigit),
                _ => false,
            },
            _ => is_entity(rest),
        };
        if !looks_encoded {
            continue;
        }
        let (s, e) = token(hay, at);
        done[kind] = e;
        let t = &hay[s..e];
        let decoded = match encoding {
            Encoding::Percent => Some(percent_encoding::percent_decode(t).collect::<Vec<u8>>()),
            Encoding::Escape => unescape(t),
            _ => std::str::from_utf8(t).ok().map(|s| {
                html_escape::decode_html_entities(s)
                    .into_owned()
                    .into_bytes()
            }),
        };
        if let Some(decoded) = decoded.filter(|d| d != t && is_text(d)) {
            out.push(Candidate {
                start: s,
                end: e,
                encoding,
                decoded,
            });
        }
    }
}

/// Decodes `\uXXXX` (with surrogate pairs) and `\xNN`; other bytes and
/// escapes stay as written.
fn unescape(t: &[u8]) -> Option<Vec<u8>> {
    let hex = |s: &[u8]| u32::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok();
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if t[i] == b'\\' && t.get(i + 1) == Some(&b'u') {
            if let Some(mut cp) = t.get(i + 2..i + 6).and_then(hex) {
                let mut used = 6;
                if (0xD800..0xDC00).contains(&cp) && t.get(i + 6..i + 8) == Some(b"\\u") {
                    if let Some(lo) = t.get(i + 8..i + 12).and_then(hex) {
                        if (0xDC00..0xE000).contains(&lo) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            used = 12;
                        }
                    }
                }
                let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += used;
                continue;
            }
        }
        if t[i] == b'\\' && t.get(i + 1) == Some(&b'x') {
            if let Some(v) = t.get(i + 2..i + 4).and_then(hex) {
                out.push(v as u8);
                i += 4;
                continue;
            }
        }
        out.push(t[i]);
        i += 1;
    }
    Some(out)
}

/// Whether `rest` (what follows a `&`) starts a character reference:
/// `#DIGITS;`, `#xHEX;` or `NAME;` (2 to 8 letters).
fn is_entity(rest: &[u8]) -> bool {
    let Some(semi) = rest.iter().position(|&b| b == b';') else {
        return false;
    };
    match &rest[..semi] {
        [b'#', b'x' | b'X', hex @ ..] => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
        [b'#', dec @ ..] => !dec.is_empty() && dec.iter().all(u8::is_ascii_digit),
        name => (2..=8).contains(&name.len()) && name.iter().all(u8::is_ascii_alphabetic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn found(hay: &str) -> Vec<(Encoding, String)> {
        candidates(hay.as_bytes())
            .into_iter()
            .map(|c| (c.encoding, String::from_utf8(c.decoded).unwrap()))
            .collect()
    }

    #[test]
    fn base64_standard_url_safe_and_unpadded() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYzz0123abcd?>";
        for enc in [b64.encode(text), url.encode(text)] {
            assert_eq!(
                found(&format!("value: {enc}\n")),
                [(Encoding::Base64, text.to_string())]
            );
        }
    }

    #[test]
    fn wrapped_base64_is_joined() {
        let text = "password=correct-horse-battery-staple-0123456789 and more words to wrap it";
        let enc = base64::engine::general_purpose::STANDARD.encode(text);
        let wrapped: Vec<&str> = enc
            .as_bytes()
            .chunks(40)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let hay = format!("data: |\n  {}\n", wrapped.join("\n  "));
        assert_eq!(found(&hay), [(Encoding::Base64, text.to_string())]);
    }

    #[test]
    fn hex_percent_escapes_and_entities() {
        let hex: String = b"token=abcdef0123456789"
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            found(&hex),
            [(Encoding::Hex, "token=abcdef0123456789".into())]
        );
        assert_eq!(
            found("url=https%3A%2F%2Fhooks.example.com%2Fservices%2FT0"),
            [(
                Encoding::Percent,
                "url=https://hooks.example.com/services/T0".into()
            )]
        );
        assert_eq!(
            found(r#"k = "ghp\u005fabc\x41BCdefgh""#),
            [(Encoding::Escape, "ghp_abcABCdefgh".into())]
        );
        assert_eq!(
            found("<p>ghp&#95;abcdefgh&lowbar;x</p>"),
            [(Encoding::Html, "ghp_abcdefgh_x".into())]
        );
    }

    #[test]
    fn plain_text_and_binary_are_not_candidates() {
        assert!(found("let identifier_with_many_words = another_long_identifier_name;").is_empty());
        assert!(
            found("sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                .is_empty()
        );
        // Base64 of random bytes decodes to binary.
        assert!(found("integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==").is_empty());
        assert!(found("100% of %s and %d").is_empty());
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(unescape(br"\ud83d\ude00x").unwrap(), "😀x".as_bytes());
        assert_eq!(unescape(br"\u12").unwrap(), br"\u12");
    }
}
