//! Compressed streams: gzip, bzip2, xz, zstd. A stream holding a tar is
//! read as that tar (`a.tar.gz!member`); any other content is one member
//! named for the file without its compression suffix (`a.env.gz!a.env`).

use std::cell::Cell;
use std::io::{Cursor, Read};
use std::path::Path;
use std::rc::Rc;

use super::meter::Counting;
use super::{member_path, tar_format, ArchiveKind, ArchiveLimit, Unpack, MAX_XZ_DICTIONARY};
use crate::input::SkipReason;

pub(super) fn scan(
    u: &mut Unpack<'_>,
    kind: ArchiveKind,
    data: &[u8],
    path: &Path,
    level: u32,
) -> Result<(), SkipReason> {
    let consumed = Rc::new(Cell::new(0));
    let source = Counting::new(data, Rc::clone(&consumed));
    let decoder: Box<dyn Read + '_> = match kind {
        ArchiveKind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(source)),
        ArchiveKind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(source)),
        ArchiveKind::Xz => {
            check_xz_dictionary(data)?;
            Box::new(lzma_rust2::XzReader::new(source, true))
        }
        ArchiveKind::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(source)
                .map_err(|e| SkipReason::Corrupt(e.to_string()))?,
        ),
        ArchiveKind::Zip | ArchiveKind::Tar => unreachable!("not a compressed stream"),
    };
    let mut stream = u.meter(decoder, consumed);
    let mut head = Vec::with_capacity(512);
    let head_read = (&mut stream).take(512).read_to_end(&mut head);
    let mut whole = Cursor::new(&head[..]).chain(&mut stream);
    if head_read.is_ok() && tar_format::is_tar(&head) {
        return tar_format::scan_stream(u, whole, path, level);
    }
    if !u.count_member(path) {
        return Ok(());
    }
    let mp = member_path(path, &inner_name(path));
    if let Err(e) = head_read {
        let reason = u.reason(&e);
        u.skip(mp, reason);
        return Ok(());
    }
    match u.read_member(&mut whole) {
        Ok(bytes) => u.member_data(&bytes, mp, level),
        Err(f) => u.failed(mp, f, level),
    }
    Ok(())
}

/// The name of a compressed file's content: its last name without the
/// compression suffix (`.tgz` becomes `.tar`); the name itself without one.
fn inner_name(path: &Path) -> String {
    const SUFFIXES: &[(&str, &str)] = &[
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".tbz", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".gzip", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
        (".zstd", ""),
    ];
    let full = path.to_string_lossy();
    let last = full.rsplit(['!', '/', '\\']).next().unwrap_or(&full);
    let lower = last.to_ascii_lowercase();
    for (suffix, with) in SUFFIXES {
        if lower.len() > suffix.len() && lower.ends_with(suffix) {
            return format!("{}{with}", &last[..last.len() - suffix.len()]);
        }
    }
    last.to_string()
}

/// Refuses an xz stream whose first block asks for an LZMA2 dictionary
/// above [`MAX_XZ_DICTIONARY`] (the decoder allocates it whole). Headers
/// that do not parse are left to the decoder to reject.
fn check_xz_dictionary(data: &[u8]) -> Result<(), SkipReason> {
    match xz_dictionary(data) {
        Some(dict) if dict > MAX_XZ_DICTIONARY => Err(SkipReason::ArchiveLimit {
            what: ArchiveLimit::Dictionary,
            limit: MAX_XZ_DICTIONARY,
        }),
        _ => Ok(()),
    }
}

/// The LZMA2 dictionary size declared by the first block header.
fn xz_dictionary(data: &[u8]) -> Option<u64> {
    fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
        let mut v: u64 = 0;
        for i in 0..9 {
            let b = *data.get(*pos)?;
            *pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    // 12-byte stream header, then the block header (size byte 0 = index).
    let size_byte = *data.get(12)?;
    if size_byte == 0 {
        return None;
    }
    let end = 12 + (usize::from(size_byte) + 1) * 4;
    let header = data.get(..end)?;
    let flags = *header.get(13)?;
    let mut pos = 14;
    if flags & 0x40 != 0 {
        varint(header, &mut pos)?;
    }
    if flags & 0x80 != 0 {
        varint(header, &mut pos)?;
    }
    for _ in 0..=(flags & 3) {
        let id = varint(header, &mut pos)?;
        let props = usize::try_from(varint(header, &mut pos)?).ok()?;
        let p = header.get(pos..pos.checked_add(props)?)?;
        pos += props;
        if id == 0x21 && props == 1 {
            let bits = u64::from(p[0]);
            return Some(if bits >= 40 {
                u64::from(u32::MAX)
            } else {
                (2 | (bits & 1)) << (bits / 2 + 11)
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_names() {
        assert_eq!(inner_name(Path::new("dir/config.env.gz")), "config.env");
        assert_eq!(inner_name(Path::new("a.zip!x/b.TGZ")), "b.tar");
        assert_eq!(inner_name(Path::new("blob")), "blob");
        assert_eq!(inner_name(Path::new(".gz")), ".gz");
    }

    #[test]
    fn xz_dictionary_of_a_real_stream() {
        let mut out = Vec::new();
        let mut w =
            lzma_rust2::XzWriter::new(&mut out, lzma_rust2::XzOptions::with_preset(1)).unwrap();
        std::io::Write::write_all(&mut w, b"hello").unwrap();
        w.finish().unwrap();
        let dict = xz_dictionary(&out).unwrap();
        assert!((4096..=MAX_XZ_DICTIONARY).contains(&dict), "{dict}");
    }
}
