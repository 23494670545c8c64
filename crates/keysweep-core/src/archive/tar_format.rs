//! tar (ustar, GNU, pax), read as a stream: from memory or from a
//! decompressor (`.tar.gz` and friends are one level).

use std::io::Read;
use std::path::Path;

use tar::EntryType;

use super::{member_path, ArchiveLimit, Unpack};
use crate::input::SkipReason;

/// A ustar/GNU/pax header: `ustar` at 257 and a matching checksum.
pub(super) fn is_tar(data: &[u8]) -> bool {
    let Some(h) = data.get(..512) else {
        return false;
    };
    if &h[257..262] != b"ustar" {
        return false;
    }
    let field = &h[148..156];
    let digits = field
        .iter()
        .skip_while(|b| **b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(*b));
    let mut stored: u32 = 0;
    let mut any = false;
    for d in digits {
        any = true;
        stored = stored.saturating_mul(8).saturating_add(u32::from(d - b'0'));
    }
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    any && stored == sum
}

pub(super) fn scan(
    u: &mut Unpack<'_>,
    data: &[u8],
    path: &Path,
    level: u32,
) -> Result<(), SkipReason> {
    scan_stream(u, data, path, level)
}

/// Reads the tar stream `r`. Regular members are scanned; links are named
/// and skipped (never followed), directories and pax/GNU extension headers
/// ignored, other types (devices, FIFOs) skipped as not regular.
pub(super) fn scan_stream<R: Read>(
    u: &mut Unpack<'_>,
    r: R,
    path: &Path,
    level: u32,
) -> Result<(), SkipReason> {
    let mut archive = tar::Archive::new(r);
    let entries = archive.entries().map_err(|e| u.reason(&e))?;
    for entry in entries {
        if u.exhausted {
            break;
        }
        let mut entry = entry.map_err(|e| u.reason(&e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let skip = match kind {
            EntryType::Regular | EntryType::Continuous => None,
            EntryType::Directory
            | EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink => continue,
            EntryType::Symlink | EntryType::Link => Some(SkipReason::Link),
            EntryType::GNUSparse => Some(SkipReason::Unsupported("sparse tar member".to_string())),
            _ => Some(SkipReason::NotRegular),
        };
        if !u.count_member(path) {
            break;
        }
        let mp = member_path(path, &name);
        if let Some(reason) = skip {
            u.skip(mp, reason);
            continue;
        }
        match u.read_member(&mut entry) {
            Ok(bytes) => u.member_data(&bytes, mp, level),
            Err(f) => {
                // The tar reader skips the rest of a member too large for
                // us; any other failure is the stream's: nothing after it
                // can be read.
                let go_on = matches!(
                    f.reason,
                    SkipReason::ArchiveLimit {
                        what: ArchiveLimit::MemberSize,
                        ..
                    }
                );
                u.failed(mp, f, level);
                if !go_on {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}
