//! Which lines of a new version of a file are new.

use std::collections::HashMap;

/// For each line of `new` (index 0 = line 1), whether it is added relative to
/// `old`: a line counts as unchanged while `old` still has an unused line with
/// the same content (ignoring a trailing `\r`), wherever it was. Moved lines
/// are therefore not "added", so a pre-existing secret that moves within a
/// file, or to a renamed file, does not block a commit; a changed line is added.
pub fn added_lines(old: &[u8], new: &[u8]) -> Vec<bool> {
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for line in split(old) {
        *counts.entry(line).or_default() += 1;
    }
    split(new)
        .map(|line| match counts.get_mut(line) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

fn split(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let empty = text.is_empty();
    body.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(if empty { 0 } else { usize::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_changed_and_moved() {
        let old = b"a\nb\nc\n";
        assert_eq!(added_lines(old, b"a\nb\nc\n"), [false, false, false]);
        assert_eq!(added_lines(old, b"c\na\nb\n"), [false, false, false]);
        assert_eq!(added_lines(old, b"a\nB\nc\nd"), [false, true, false, true]);
        assert_eq!(added_lines(b"", b"x\ny\n"), [true, true]);
        assert_eq!(added_lines(old, b""), Vec::<bool>::new());
        // Duplicates: only as many unchanged as there were.
        assert_eq!(added_lines(b"s\n", b"s\ns\n"), [false, true]);
        // CRLF vs LF is not a change.
        assert_eq!(added_lines(b"a\r\nb\r\n", b"a\nb\n"), [false, false]);
    }
}
