//! Archives and compressed files: every format, nesting, the `!` paths, and
//! bad input (truncated, corrupt, bombs, lying headers, limits, unsafe
//! names, links, encryption). Every fixture is built here with the formats'
//! writers; every secret is fake.

mod common;

use common::*;
use keysweep_core::{ArchiveLimit, FileOutcome, MemberSkip, ScanEvent, ScanOptions, SkipReason};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn secret_text() -> Vec<u8> {
    format!("AWS_ACCESS_KEY_ID={AWS_ID_1}\ntoken = {GH_PAT_1}\n").into_bytes()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A tar whose member names are written as given (no path checks), so
/// `../x` and `/x` can be built.
fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = lzma_rust2::XzWriter::new(&mut out, lzma_rust2::XzOptions::with_preset(1)).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap();
    out
}

fn zst(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Scans `data` as the file `name` with `opts`.
fn scan_as(name: &str, data: &[u8], opts: &ScanOptions) -> Option<FileOutcome> {
    let s = scanner();
    s.scan_archive(&mut s.scratch(), data, Path::new(name), opts)
}

/// The findings' paths and kinds, and the skips.
/// Skipped members as (path, reason).
type Skips = Vec<(PathBuf, SkipReason)>;

fn outcome(name: &str, data: &[u8], opts: &ScanOptions) -> (Vec<(String, String)>, Skips) {
    match scan_as(name, data, opts) {
        Some(FileOutcome::Scanned {
            findings, skipped, ..
        }) => {
            let mut f: Vec<_> = findings
                .iter()
                .map(|f| {
                    (
                        f.path.as_ref().unwrap().to_string_lossy().into_owned(),
                        f.rule.kind.clone(),
                    )
                })
                .collect();
            f.sort();
            let skipped = skipped
                .into_iter()
                .map(|MemberSkip { path, reason, .. }| (path, reason))
                .collect();
            (f, skipped)
        }
        other => panic!("{name}: {other:?}"),
    }
}

fn paths(findings: &[(String, String)]) -> Vec<&str> {
    let mut p: Vec<&str> = findings.iter().map(|(p, _)| p.as_str()).collect();
    p.dedup();
    p
}

fn skip(path: &str, reason: SkipReason) -> (PathBuf, SkipReason) {
    (PathBuf::from(path), reason)
}

#[test]
fn every_format_is_opened() {
    let text = secret_text();
    let tarball = tar(&[("dir/app.env", &text)]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a.zip", zip(&[("dir/app.env", &text)]), "a.zip!dir/app.env"),
        ("a.tar", tarball.clone(), "a.tar!dir/app.env"),
        ("a.tar.gz", gz(&tarball), "a.tar.gz!dir/app.env"),
        ("a.tgz", gz(&tarball), "a.tgz!dir/app.env"),
        ("a.tar.bz2", bz2(&tarball), "a.tar.bz2!dir/app.env"),
        ("a.tar.xz", xz(&tarball), "a.tar.xz!dir/app.env"),
        ("a.tar.zst", zst(&tarball), "a.tar.zst!dir/app.env"),
        ("config.env.gz", gz(&text), "config.env.gz!config.env"),
        ("config.env.bz2", bz2(&text), "config.env.bz2!config.env"),
        ("config.env.xz", xz(&text), "config.env.xz!config.env"),
        ("config.env.zst", zst(&text), "config.env.zst!config.env"),
        // By magic bytes, whatever the name.
        (
            "lib.whl",
            zip(&[("dir/app.env", &text)]),
            "lib.whl!dir/app.env",
        ),
        ("no-extension", gz(&text), "no-extension!no-extension"),
    ];
    for (name, data, want) in cases {
        let (found, skipped) = outcome(name, &data, &ScanOptions::new());
        assert_eq!(paths(&found), [want], "{name}");
        let kinds: Vec<&str> = found.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(kinds, ["aws-access-key-id", "github-pat"], "{name}");
        assert!(skipped.is_empty(), "{name}: {skipped:?}");
    }
}

#[test]
fn plain_files_are_not_archives() {
    assert!(scan_as("a.zip", &secret_text(), &ScanOptions::new()).is_none());
    let mut off = ScanOptions::new();
    off.archives(false);
    assert!(scan_as("a.gz", &gz(&secret_text()), &off).is_none());
}

/// A `.tar.gz` holding a `.war` holding a `.jar` holding the secret.
fn nested() -> Vec<u8> {
    let jar = zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("application.properties", &secret_text()),
    ]);
    let war = zip(&[("WEB-INF/lib/app.jar", &jar)]);
    gz(&tar(&[
        ("lib/app.war", &war),
        ("README", b"nothing here\n"),
    ]))
}

#[test]
fn nesting_chains_the_path() {
    let (found, skipped) = outcome("outer.tar.gz", &nested(), &ScanOptions::new());
    assert_eq!(
        paths(&found),
        ["outer.tar.gz!lib/app.war!WEB-INF/lib/app.jar!application.properties"]
    );
    assert!(skipped.is_empty(), "{skipped:?}");
}

#[test]
fn nesting_beyond_the_depth_limit_is_skipped() {
    let mut opts = ScanOptions::new();
    opts.max_archive_depth(2);
    let (found, skipped) = outcome("outer.tar.gz", &nested(), &opts);
    assert!(found.is_empty());
    assert_eq!(
        skipped,
        [skip(
            "outer.tar.gz!lib/app.war!WEB-INF/lib/app.jar",
            SkipReason::ArchiveLimit {
                what: ArchiveLimit::Depth,
                limit: 2
            }
        )]
    );
    assert!(skipped[0].1.is_notable(false));
}

#[test]
fn binary_members_are_skipped_and_text_scanned() {
    let (found, skipped) = outcome(
        "a.jar",
        &zip(&[
            ("A.class", b"\xca\xfe\xba\xbe\0\0\0\x34"),
            ("app.env", &secret_text()),
        ]),
        &ScanOptions::new(),
    );
    assert_eq!(paths(&found), ["a.jar!app.env"]);
    assert_eq!(skipped, [skip("a.jar!A.class", SkipReason::Binary)]);
    assert!(!skipped[0].1.is_notable(false));
}

#[test]
fn utf16_members_are_transcoded() {
    let mut utf16 = vec![0xff, 0xfe];
    for u in String::from_utf8(secret_text()).unwrap().encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let (found, skipped) = outcome("a.zip", &zip(&[("w.env", &utf16)]), &ScanOptions::new());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(skipped.is_empty());
}

#[test]
fn truncated_zip_is_a_corrupt_skip() {
    let data = zip(&[("app.env", &secret_text())]);
    let out = scan_as("a.zip", &data[..data.len() / 2], &ScanOptions::new());
    assert!(
        matches!(out, Some(FileOutcome::Skipped(SkipReason::Corrupt(_)))),
        "{out:?}"
    );
}

#[test]
fn corrupt_gzip_names_the_member() {
    let mut data = gz(&secret_text().repeat(50));
    let mid = data.len() / 2;
    for b in &mut data[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let (found, skipped) = outcome("config.env.gz", &data, &ScanOptions::new());
    assert!(found.is_empty());
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, Path::new("config.env.gz!config.env"));
    assert!(
        matches!(skipped[0].1, SkipReason::Corrupt(_)),
        "{:?}",
        skipped[0].1
    );
    assert!(skipped[0].1.to_string().starts_with("corrupt archive: "));
}

#[test]
fn truncated_gzip_scans_what_came_before() {
    let mut text = secret_text();
    text.extend(std::iter::repeat_n(b"filler line of text\n", 2000).flatten());
    let data = gz(&text);
    let (found, skipped) = outcome(
        "app.env.gz",
        &data[..data.len() * 2 / 3],
        &ScanOptions::new(),
    );
    assert_eq!(
        paths(&found),
        ["app.env.gz!app.env"],
        "the secrets at the start are found"
    );
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, Path::new("app.env.gz!app.env"));
    let SkipReason::Corrupt(why) = &skipped[0].1 else {
        panic!("{:?}", skipped[0].1)
    };
    assert!(why.contains("bytes were scanned"), "{why}");
}

#[test]
fn zip_bomb_hits_the_ratio_limit() {
    let zeros = vec![0u8; 8 << 20];
    let data = zip(&[("bomb.bin", &zeros), ("app.env", &secret_text())]);
    assert!(data.len() < 64 << 10, "{} bytes", data.len());
    let (found, skipped) = outcome("bomb.zip", &data, &ScanOptions::new());
    // The bomb is refused, the member after it still scanned.
    assert_eq!(paths(&found), ["bomb.zip!app.env"]);
    assert_eq!(
        skipped,
        [skip(
            "bomb.zip!bomb.bin",
            SkipReason::ArchiveLimit {
                what: ArchiveLimit::Ratio,
                limit: 100
            }
        )]
    );
}

#[test]
fn gzip_bomb_hits_the_ratio_limit() {
    let data = gz(&vec![b'a'; 8 << 20]);
    let (_, skipped) = outcome("big.txt.gz", &data, &ScanOptions::new());
    assert_eq!(
        skipped,
        [skip(
            "big.txt.gz!big.txt",
            SkipReason::ArchiveLimit {
                what: ArchiveLimit::Ratio,
                limit: 100
            }
        )]
    );
}

#[test]
fn total_bytes_limit_stops_the_archive() {
    let filler = vec![b'x'; 4096];
    let data = zip(&[
        ("a.txt", &filler),
        ("b.txt", &filler),
        ("c.env", &secret_text()),
    ]);
    let mut opts = ScanOptions::new();
    opts.max_archive_bytes(6000);
    let (found, skipped) = outcome("a.zip", &data, &opts);
    assert!(found.is_empty());
    assert_eq!(
        skipped,
        [skip(
            "a.zip!b.txt",
            SkipReason::ArchiveLimit {
                what: ArchiveLimit::Bytes,
                limit: 6000
            }
        )],
        "the members after the limit are not read"
    );
}

#[test]
fn member_size_limit() {
    let data = gz(&tar(&[
        ("big.txt", &[b'x'; 5000]),
        ("app.env", &secret_text()),
    ]));
    let mut opts = ScanOptions::new();
    opts.max_file_size(4096);
    let (found, skipped) = outcome("a.tar.gz", &data, &opts);
    assert_eq!(paths(&found), ["a.tar.gz!app.env"]);
    assert_eq!(
        skipped,
        [skip(
            "a.tar.gz!big.txt",
            SkipReason::ArchiveLimit {
                what: ArchiveLimit::MemberSize,
                limit: 4096
            }
        )]
    );
}

#[test]
fn member_count_limit() {
    let names: Vec<String> = (0..20).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x\n"[..])).collect();
    let mut opts = ScanOptions::new();
    opts.max_archive_members(5);
    // A zip is refused before opening (its directory claims 20 entries) ...
    let out = scan_as("a.zip", &zip(&entries), &opts);
    assert!(
        matches!(
            out,
            Some(FileOutcome::Skipped(SkipReason::ArchiveLimit {
                what: ArchiveLimit::Members,
                limit: 5
            }))
        ),
        "{out:?}"
    );
    // ... a tar is read up to the limit.
    let (_, skipped) = outcome("a.tar", &tar(&entries), &opts);
    assert_eq!(
        skipped,
        [skip(
            "a.tar",
            SkipReason::ArchiveLimit {
                what: ArchiveLimit::Members,
                limit: 5
            }
        )]
    );
}

#[test]
fn tar_header_claiming_a_huge_size() {
    let mut data = tar(&[("app.env", &secret_text())]);
    // Claim 8 GiB (octal) in the size field and fix the checksum.
    let mut h = tar::Header::new_old();
    h.as_mut_bytes().copy_from_slice(&data[..512]);
    h.set_size(8 << 30);
    h.set_cksum();
    data[..512].copy_from_slice(h.as_bytes());
    let (found, skipped) = outcome("a.tar", &data, &ScanOptions::new());
    // The member is read to the end of the data (its zero padding makes it
    // binary), then the archive is reported truncated.
    assert!(found.is_empty());
    let last = skipped.last().unwrap();
    assert_eq!(last.0, Path::new("a.tar"));
    assert!(matches!(last.1, SkipReason::Corrupt(_)), "{skipped:?}");
}

#[test]
fn zip_header_claiming_a_huge_size() {
    let mut data = zip(&[("app.env", &secret_text())]);
    // Set the uncompressed size in the central directory to 4 GiB - 2.
    let cd = memchr::memmem::rfind(&data, b"PK\x01\x02").unwrap();
    data[cd + 24..cd + 28].copy_from_slice(&0xffff_fffe_u32.to_le_bytes());
    // Read as it really is (the claim is never used to allocate).
    let (found, skipped) = outcome("a.zip", &data, &ScanOptions::new());
    assert_eq!(paths(&found), ["a.zip!app.env"], "{skipped:?}");
}

#[test]
fn unsafe_names_are_only_names() {
    let text = secret_text();
    let (found, _) = outcome(
        "a.tar",
        &tar(&[("../evil", &text), ("/abs/key.env", &text)]),
        &ScanOptions::new(),
    );
    assert_eq!(paths(&found), ["a.tar!../evil", "a.tar!/abs/key.env"]);
    let (found, _) = outcome(
        "a.zip",
        &zip(&[("../evil", &text), ("/abs/key.env", &text)]),
        &ScanOptions::new(),
    );
    assert_eq!(paths(&found), ["a.zip!../evil", "a.zip!/abs/key.env"]);
}

#[test]
fn links_are_named_not_followed() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "etc-passwd", "/etc/passwd").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    b.append_link(&mut h, "hard", "etc-passwd").unwrap();
    let data = b.into_inner().unwrap();
    let (found, skipped) = outcome("a.tar", &data, &ScanOptions::new());
    assert!(found.is_empty());
    assert_eq!(
        skipped,
        [
            skip("a.tar!etc-passwd", SkipReason::Link),
            skip("a.tar!hard", SkipReason::Link)
        ]
    );
    assert!(!skipped[0].1.is_notable(false));

    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.add_symlink(
        "key",
        "/home/me/.aws/credentials",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let data = w.finish().unwrap().into_inner();
    let (found, skipped) = outcome("a.zip", &data, &ScanOptions::new());
    assert!(found.is_empty());
    assert_eq!(skipped, [skip("a.zip!key", SkipReason::Link)]);
}

#[test]
fn encrypted_member_is_skipped() {
    let mut data = zip(&[("secret.env", &secret_text()), ("open.env", &secret_text())]);
    // Set the "encrypted" flag (bit 0) of the first member, in its local
    // header and its central directory entry: a hand-made ZipCrypto member.
    assert_eq!(&data[..4], b"PK\x03\x04");
    data[6] |= 1;
    let cd = memchr::memmem::find(&data, b"PK\x01\x02").unwrap();
    data[cd + 8] |= 1;
    let (found, skipped) = outcome("a.zip", &data, &ScanOptions::new());
    assert_eq!(paths(&found), ["a.zip!open.env"]);
    assert_eq!(skipped, [skip("a.zip!secret.env", SkipReason::Encrypted)]);
    assert!(skipped[0].1.is_notable(false));
}

#[test]
fn unsupported_method_is_skipped() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("lzma.env", stored).unwrap();
    w.write_all(&secret_text()).unwrap();
    let mut data = w.finish().unwrap().into_inner();
    // Method 14 (LZMA), in the local header and the central directory.
    data[8..10].copy_from_slice(&14u16.to_le_bytes());
    let cd = memchr::memmem::find(&data, b"PK\x01\x02").unwrap();
    data[cd + 10..cd + 12].copy_from_slice(&14u16.to_le_bytes());
    let (found, skipped) = outcome("a.zip", &data, &ScanOptions::new());
    assert!(found.is_empty());
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, Path::new("a.zip!lzma.env"));
    assert!(
        matches!(&skipped[0].1, SkipReason::Unsupported(_)),
        "{:?}",
        skipped[0].1
    );
    assert!(skipped[0].1.is_notable(false));
}

#[test]
fn arbitrary_garbage_after_magic_is_corrupt_not_a_panic() {
    for magic in [
        &b"PK\x03\x04"[..],
        &[0x1f, 0x8b, 0x08],
        &[0xfd, b'7', b'z', b'X', b'Z', 0],
        &[0x28, 0xb5, 0x2f, 0xfd],
        b"BZh91AY&SY",
    ] {
        let mut data = magic.to_vec();
        data.extend_from_slice(&[0xa5; 100]);
        match scan_as("x", &data, &ScanOptions::new()) {
            Some(FileOutcome::Skipped(_)) => {}
            Some(FileOutcome::Scanned { skipped, .. }) => assert!(!skipped.is_empty()),
            other => panic!("{magic:?}: {other:?}"),
        }
    }
}

/// The walker: one `Scanned` for the archive, a `Skipped` per skipped
/// member; `archives(false)` makes it a binary file again.
#[test]
fn walked_archives_and_their_events() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("outer.tar.gz"), nested()).unwrap();
    std::fs::write(
        dir.path().join("app.jar"),
        zip(&[
            ("A.class", b"\xca\xfe\xba\xbe\0\0"),
            ("x.env", &secret_text()),
        ]),
    )
    .unwrap();
    let run = |opts: &ScanOptions| {
        let s = scanner();
        let events = Mutex::new(Vec::new());
        let stats = s.scan_paths(&[dir.path().to_path_buf()], opts, |ev| {
            events.lock().unwrap().push(ev)
        });
        (events.into_inner().unwrap(), stats)
    };
    let (events, stats) = run(&ScanOptions::new());
    assert_eq!(stats.files, 2);
    assert_eq!(stats.findings, 4);
    assert_eq!(stats.skipped, 1, "A.class");
    let mut found: Vec<String> = Vec::new();
    for ev in &events {
        match ev {
            ScanEvent::Scanned { findings, .. } => found.extend(findings.iter().map(|f| {
                f.path
                    .as_ref()
                    .unwrap()
                    .strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })),
            ScanEvent::Skipped {
                path,
                reason,
                explicit,
            } => {
                assert_eq!(path, &dir.path().join("app.jar!A.class"));
                assert_eq!(reason, &SkipReason::Binary);
                assert!(!explicit);
            }
            ScanEvent::Error { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    found.sort();
    found.dedup();
    assert_eq!(
        found,
        [
            "app.jar!x.env",
            "outer.tar.gz!lib/app.war!WEB-INF/lib/app.jar!application.properties"
        ]
    );

    let mut off = ScanOptions::new();
    off.archives(false);
    let (_, stats) = run(&off);
    assert_eq!((stats.files, stats.skipped, stats.findings), (0, 2, 0));
}

/// A named archive goes through `scan_file` the same way.
#[test]
fn scan_file_opens_a_named_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.env.gz");
    std::fs::write(&path, gz(&secret_text())).unwrap();
    let s = scanner();
    let mut opts = ScanOptions::new();
    // Both ways of reading: mapped and read.
    // SAFETY: the test's own temporary file is not changed while mapped.
    for mmap in [
        unsafe { keysweep_core::MmapChoice::auto() },
        keysweep_core::MmapChoice::never(),
    ] {
        opts.mmap(mmap).mmap_threshold(0);
        let Ok(FileOutcome::Scanned {
            findings, bytes, ..
        }) = s.scan_file(&mut s.scratch(), &path, &opts)
        else {
            panic!()
        };
        assert_eq!(findings.len(), 2);
        assert_eq!(bytes, secret_text().len() as u64);
        assert_eq!(
            findings[0].path.as_deref(),
            Some(PathBuf::from(format!("{}!config.env", path.display())).as_path())
        );
    }
}

mod mutations {
    //! Valid archives of every format, damaged at random (bytes flipped,
    //! truncated): never a panic, every member named inside the archive.
    use super::*;
    use proptest::prelude::*;

    fn fixtures() -> Vec<Vec<u8>> {
        let text = secret_text();
        let t = tar(&[("a.env", &text), ("b/c.txt", b"hello\n")]);
        vec![
            zip(&[("a.env", &text), ("in.zip", &zip(&[("x.env", &text)]))]),
            t.clone(),
            gz(&t),
            bz2(&t),
            xz(&t),
            zst(&t),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn damaged_archives_do_not_panic(
            which in 0usize..6,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut data = fixtures().swap_remove(which);
            for (at, x) in flips {
                let i = at.index(data.len());
                // Keep the magic so the damaged input still reaches its decoder.
                if i >= 10 {
                    data[i] ^= x;
                }
            }
            if truncate {
                let n = 10 + cut.index(data.len() - 10);
                data.truncate(n);
            }
            let mut opts = ScanOptions::new();
            opts.max_file_size(1 << 20).max_archive_bytes(4 << 20).max_archive_members(100);
            if let Some(FileOutcome::Scanned { findings, skipped, bytes }) = scan_as("f", &data, &opts) {
                prop_assert!(bytes <= 4 << 20);
                for f in &findings {
                    prop_assert!(f.path.as_ref().unwrap().to_string_lossy().starts_with("f!"));
                }
                for m in &skipped {
                    prop_assert!(m.path.starts_with("f") || m.path.to_string_lossy().starts_with("f!"));
                }
            }
        }
    }
}
