//! Arbitrary bytes as an archive, with small limits: no panic, no unbounded
//! allocation (run with libFuzzer's -rss_limit_mb), every finding and skip
//! named inside the archive, and the unpacked bytes within the limit.
//!
//! The first byte steers the input towards one format by prefixing its
//! magic bytes (unless the rest already starts with some), so each decoder
//! is explored, not only the magic-byte check.
#![no_main]

use keysweep_core::{FileOutcome, ScanOptions, ScanScratch, Scanner};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::with_default_rules().expect("default rules compile"))
}

const MAGICS: [&[u8]; 6] = [
    b"PK\x03\x04",
    &[0x1f, 0x8b, 0x08],
    b"BZh91AY&SY",
    &[0xfd, b'7', b'z', b'X', b'Z', 0],
    &[0x28, 0xb5, 0x2f, 0xfd],
    b"",
];

fuzz_target!(|input: &[u8]| {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Option<ScanScratch>> = const { std::cell::RefCell::new(None) };
    }
    let Some((&steer, rest)) = input.split_first() else {
        return;
    };
    let magic = MAGICS[usize::from(steer) % MAGICS.len()];
    let data = if keysweep_core::archive_kind(rest).is_some() {
        rest.to_vec()
    } else {
        [magic, rest].concat()
    };
    let mut opts = ScanOptions::new();
    opts.max_file_size(64 * 1024)
        .max_archive_bytes(256 * 1024)
        .max_archive_members(64)
        .max_archive_depth(3);
    let s = scanner();
    let name = Path::new("fuzz.bin");
    let out = SCRATCH.with(|cell| {
        let mut cell = cell.borrow_mut();
        let scratch = cell.get_or_insert_with(|| s.scratch());
        s.scan_archive(scratch, &data, name, &opts)
    });
    if let Some(FileOutcome::Scanned {
        bytes,
        findings,
        skipped,
    }) = out
    {
        assert!(bytes <= 256 * 1024, "{bytes} bytes scanned");
        for f in &findings {
            let p = f.path.as_ref().expect("members are named");
            assert!(
                p.to_string_lossy().starts_with("fuzz.bin!"),
                "{}",
                p.display()
            );
        }
        for m in &skipped {
            // A string prefix: `Path::starts_with` compares whole components.
            assert!(
                m.path.to_string_lossy().starts_with("fuzz.bin"),
                "{}",
                m.path.display()
            );
        }
    }
});
