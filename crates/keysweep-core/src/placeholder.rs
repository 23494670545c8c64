//! Built-in false-positive control shared by every rule: placeholder values
//! and inline suppression comments.

/// Substrings (lowercase) that mark a value as a placeholder, not a secret.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "xxxxxx",
    "******",
    "<your",
    "your_",
    "your-",
    "${",
    "{{",
    "}}",
    "%(",
    "redacted",
    "replace_me",
    "replaceme",
    "dummy",
];

/// Markers that suppress findings on their line.
pub(crate) const SUPPRESS_MARKERS: &[&str] = &[
    "keysweep:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Whether a candidate secret is a placeholder: a template variable or a
/// well-known placeholder word, a value made of one repeated character, or a
/// long run of consecutive characters (`abcdefgh`, `12345678`).
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.len() >= 4 && secret.iter().all(|&b| b == secret[0]) {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return true;
    }
    has_sequential_run(&lower, 8)
}

/// Whether `bytes` holds `n` or more consecutive ascending alphanumerics.
fn has_sequential_run(bytes: &[u8], n: usize) -> bool {
    let mut run = 1;
    for w in bytes.windows(2) {
        if w[0].is_ascii_alphanumeric() && w[1] == w[0].wrapping_add(1) {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 1;
        }
    }
    false
}

/// Whether a line touched by `start..end` carries a suppression marker.
pub(crate) fn line_is_suppressed(hay: &[u8], start: usize, end: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i);
    let line = &hay[line_start..line_end];
    SUPPRESS_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            &b"AKIAIOSFODNN7EXAMPLE"[..],
            b"changeme",
            b"${DB_PASSWORD}",
            b"{{ secret }}",
            b"<your-token-here>",
            b"xxxxxxxxxxxxxxxx",
            b"aaaaaaaa",
            b"abcdefghijkl",
            b"0123456789",
        ] {
            assert!(is_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
        for s in [
            &b"Q8w7E6r5T4y3U2i1O0p9"[..],
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz",
            b"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        ] {
            assert!(!is_placeholder(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn suppression_is_per_line() {
        let hay = b"a = SECRET\nb = SECRET # keysweep:allow\n";
        assert!(!line_is_suppressed(hay, 4, 10));
        assert!(line_is_suppressed(hay, 15, 21));
    }
}
