//! Text encodings other than UTF-8: UTF-16 files are transcoded before they
//! are scanned, so a key saved by a Windows editor or PowerShell
//! (`Out-File` writes UTF-16LE with a BOM) is found like any other.
//!
//! Detection is cheap and conservative: a UTF-16 byte-order mark, or (without
//! one) the NUL pattern of mostly-ASCII UTF-16 text in the first
//! [`PROBE`] bytes. Anything else is scanned as bytes, unchanged.
//! Transcoding replaces invalid sequences (unpaired surrogates) with U+FFFD,
//! so invalid UTF-16 never fails a scan. Findings in transcoded text carry
//! line and column numbers of the text (the same lines as the file), and
//! byte spans into the transcoded UTF-8.

use std::borrow::Cow;

/// How many leading bytes decide whether a file without a BOM is UTF-16.
const PROBE: usize = 4096;

/// A UTF-16 encoding that [`detect`] recognised, with the length of its BOM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Utf16 {
    /// The encoding (`UTF_16LE` or `UTF_16BE`).
    pub(crate) encoding: &'static encoding_rs::Encoding,
    /// Bytes of byte-order mark to skip (0 or 2).
    pub(crate) bom: usize,
}

/// Whether `data` is UTF-16 text: a BOM (`FF FE` little-endian, `FE FF`
/// big-endian; `FF FE 00 00`, UTF-32LE, is not) followed by data with a NUL
/// byte somewhere, or at least 16 probed bytes
/// of which nearly every other byte is NUL and the rest nearly never are.
pub(crate) fn detect(data: &[u8]) -> Option<Utf16> {
    match data {
        [0xFF, 0xFE, 0, 0, ..] => None,
        // A BOM counts only with a NUL somewhere after it: every ASCII
        // character (so every secret) in UTF-16 has one, and bytes that merely
        // start with FF FE (invalid UTF-8, binary) usually have none.
        [0xFF, 0xFE, rest @ ..] if memchr::memchr(0, rest).is_some() => Some(Utf16 {
            encoding: encoding_rs::UTF_16LE,
            bom: 2,
        }),
        [0xFE, 0xFF, rest @ ..] if memchr::memchr(0, rest).is_some() => Some(Utf16 {
            encoding: encoding_rs::UTF_16BE,
            bom: 2,
        }),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => None,
        // Cheap exit for the common case: UTF-16 of ASCII starts with a NUL
        // in one of the first two bytes.
        [a, b, ..] if *a != 0 && *b != 0 => None,
        _ => nul_pattern(&data[..data.len().min(PROBE)]),
    }
}

fn nul_pattern(probe: &[u8]) -> Option<Utf16> {
    let pairs = probe.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in probe.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    // At least 90 % of one side NUL, at most 10 % of the other.
    let mostly = |n: usize| n * 10 >= pairs * 9;
    let rarely = |n: usize| n * 10 <= pairs;
    if mostly(odd) && rarely(even) {
        Some(Utf16 {
            encoding: encoding_rs::UTF_16LE,
            bom: 0,
        })
    } else if mostly(even) && rarely(odd) {
        Some(Utf16 {
            encoding: encoding_rs::UTF_16BE,
            bom: 0,
        })
    } else {
        None
    }
}

/// `data` as UTF-8 text when it is UTF-16 ([`detect`]), else `None`.
pub(crate) fn transcode(data: &[u8]) -> Option<Cow<'_, str>> {
    let utf16 = detect(data)?;
    let (text, had_errors) = utf16
        .encoding
        .decode_without_bom_handling(&data[utf16.bom..]);
    if had_errors {
        tracing::debug!(
            encoding = utf16.encoding.name(),
            "invalid UTF-16 sequences replaced with U+FFFD"
        );
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn utf16be(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFE, 0xFF] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        out
    }

    #[test]
    fn boms_and_nul_patterns_are_recognised() {
        let text = "KEY=value\r\nOTHER=thing\r\n";
        for data in [
            utf16le(text, true),
            utf16le(text, false),
            utf16be(text, true),
            utf16be(text, false),
        ] {
            assert_eq!(transcode(&data).as_deref(), Some(text));
        }
    }

    #[test]
    fn utf8_binary_and_utf32_are_left_alone() {
        assert_eq!(detect(b"plain ASCII text, long enough to probe"), None);
        assert_eq!(
            detect("naïve UTF-8 text ✓ with more words".as_bytes()),
            None
        );
        assert_eq!(detect(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]), None);
        // Invalid UTF-8 that happens to start with FF FE: no NUL, not UTF-16.
        assert_eq!(detect(b"\xff\xfeAKIA0123456789ABCDEF\n"), None);
        // An ELF-like header: NULs, but not every other byte.
        let mut bin = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        bin.extend([0u8; 64]);
        assert_eq!(detect(&bin), None);
        // Too short to tell without a BOM.
        assert_eq!(detect(&utf16le("abc", false)), None);
    }

    #[test]
    fn invalid_utf16_is_replaced_not_refused() {
        let mut data = utf16le("KEY=value and then ", true);
        data.extend([0x00, 0xD8]); // an unpaired high surrogate
        data.extend(utf16le(" more", false));
        let text = transcode(&data).unwrap();
        assert!(text.contains('\u{FFFD}'), "{text:?}");
        assert!(text.starts_with("KEY=value"));
    }
}
