//! Zip and its family (jar, war, apk, whl, docx, ...), read from memory.

use std::cell::Cell;
use std::io::Cursor;
use std::path::Path;
use std::rc::Rc;

use zip::result::ZipError;

use super::meter::Counting;
use super::{member_path, ArchiveLimit, Unpack};
use crate::input::SkipReason;

pub(super) fn scan(
    u: &mut Unpack<'_>,
    data: &[u8],
    path: &Path,
    level: u32,
) -> Result<(), SkipReason> {
    // The entry count in the end-of-central-directory record sizes the
    // reader's table: check it against the limit before opening.
    if let Some(claimed) = claimed_entries(data) {
        let left = u.opts.max_archive_members.saturating_sub(u.members);
        if claimed > left {
            return Err(SkipReason::ArchiveLimit {
                what: ArchiveLimit::Members,
                limit: u.opts.max_archive_members,
            });
        }
    }
    let consumed = Rc::new(Cell::new(0));
    let source = Counting::new(Cursor::new(data), Rc::clone(&consumed));
    let mut archive = zip::ZipArchive::new(source).map_err(reason)?;
    for i in 0..archive.len() {
        if u.exhausted {
            break;
        }
        let (name, is_dir, is_link, encrypted) = match archive.by_index_raw(i) {
            Ok(f) => (
                f.name().to_owned(),
                f.is_dir(),
                f.is_symlink(),
                f.encrypted(),
            ),
            Err(e) => return Err(reason(e)),
        };
        if is_dir {
            continue;
        }
        if !u.count_member(path) {
            break;
        }
        let mp = member_path(path, &name);
        if is_link {
            u.skip(mp, SkipReason::Link);
            continue;
        }
        if encrypted {
            u.skip(mp, SkipReason::Encrypted);
            continue;
        }
        let read = match archive.by_index(i) {
            Ok(file) => {
                let mut metered = u.meter(file, Rc::clone(&consumed));
                u.read_member(&mut metered)
            }
            Err(e) => {
                u.skip(mp, reason(e));
                continue;
            }
        };
        match read {
            Ok(bytes) => u.member_data(&bytes, mp, level),
            Err(f) => u.failed(mp, f, level),
        }
    }
    Ok(())
}

fn reason(e: ZipError) -> SkipReason {
    match e {
        ZipError::UnsupportedArchive(m) if m == ZipError::PASSWORD_REQUIRED => {
            SkipReason::Encrypted
        }
        ZipError::UnsupportedArchive(m) => SkipReason::Unsupported(m.to_string()),
        e => SkipReason::Corrupt(e.to_string()),
    }
}

/// The number of entries the end-of-central-directory record (or its zip64
/// form) claims, if one is found.
fn claimed_entries(data: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const LOCATOR: &[u8] = b"PK\x06\x07";
    const EOCD64: &[u8] = b"PK\x06\x06";
    // The record is 22 bytes plus a comment of at most 65535.
    let tail_start = data.len().saturating_sub(22 + 65535);
    let tail = &data[tail_start..];
    let at = memchr::memmem::rfind(tail, EOCD)? + tail_start;
    let rec = data.get(at..at + 22)?;
    let entries = u64::from(u16::from_le_bytes([rec[10], rec[11]]));
    if entries != 0xffff {
        return Some(entries);
    }
    let loc = data.get(at.checked_sub(20)?..at)?;
    if &loc[..4] != LOCATOR {
        return Some(entries);
    }
    let off = usize::try_from(u64::from_le_bytes(loc[8..16].try_into().ok()?)).ok()?;
    let rec64 = data.get(off..off.checked_add(56)?)?;
    if &rec64[..4] != EOCD64 {
        return Some(entries);
    }
    Some(u64::from_le_bytes(rec64[32..40].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_entries_of_an_empty_zip() {
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0; 4]);
        eocd.extend_from_slice(&7u16.to_le_bytes());
        eocd.extend_from_slice(&7u16.to_le_bytes());
        eocd.extend_from_slice(&[0; 10]);
        assert_eq!(claimed_entries(&eocd), Some(7));
        assert_eq!(claimed_entries(b"no record"), None);
    }
}
