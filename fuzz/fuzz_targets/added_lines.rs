//! The staged-diff line classifier: split the data into `old` and `new` at the
//! first 0xFF byte (or the middle); the result has one entry per line of `new`,
//! and `new` compared with itself has no added line.
#![no_main]

use keysweep_git::added_lines;
use libfuzzer_sys::fuzz_target;

/// Lines as git counts them: a final line without `\n` still counts.
fn line_count(text: &[u8]) -> usize {
    let newlines = text.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!text.is_empty() && !text.ends_with(b"\n"))
}

fuzz_target!(|data: &[u8]| {
    let cut = data
        .iter()
        .position(|&b| b == 0xff)
        .unwrap_or(data.len() / 2);
    let old = &data[..cut];
    let new = &data[(cut + 1).min(data.len())..];
    let added = added_lines(old, new);
    assert_eq!(added.len(), line_count(new));
    assert!(added_lines(new, new).iter().all(|&a| !a));
    // Everything is added relative to nothing.
    assert!(added_lines(b"", new).iter().all(|&a| a));
});
