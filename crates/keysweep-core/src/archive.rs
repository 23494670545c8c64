//! Archives and compressed files: zip and its family (jar, war, apk, whl,
//! docx, ...), tar (ustar, GNU, pax), gzip, bzip2, xz and zstd, nested.
//!
//! Nothing is ever written to disk: members are unpacked into memory, one at
//! a time, each scanned like a file met while walking (through
//! [`Scanner::scan_slice`], so UTF-16 transcoding, rules and allow-lists
//! apply; binary members are skipped as [`ScanOptions::binary_walked`]
//! says). A finding's path is the `!`-joined chain of names, e.g.
//! `outer.tar.gz!lib/app.jar!application.properties`; a compressed single
//! file `config.env.gz` holds the member `config.env.gz!config.env`.
//!
//! Archives are recognised by their first bytes ([`archive_kind`]), never by
//! their name, so files that are not archives pay a few byte comparisons.
//!
//! Every count is bounded by [`ScanOptions`] limits, checked as bytes are
//! unpacked (sizes in headers are never trusted, nor used to allocate):
//! nesting depth, bytes unpacked per top-level archive, the compression ratio
//! of each stream, the number of members, and the size of each member
//! ([`ScanOptions::max_file_size`]). A limit hit, an encrypted, unsupported
//! or corrupt member becomes a [`MemberSkip`] naming the member; the rest of
//! the archive is scanned where the format allows.

mod compressed;
mod meter;
mod tar_format;
mod zip_format;

use std::cell::Cell;
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::finding::Finding;
use crate::input::{is_binary, BinaryDetection, FileOutcome, ScanOptions, SkipReason};
use crate::scan::{ScanScratch, Scanner};

use meter::Hit;

/// Archives nested deeper than this many levels are skipped by default
/// (a jar in a war in an ear in a tar.gz is 4 levels).
pub const DEFAULT_MAX_ARCHIVE_DEPTH: u32 = 4;
/// At most this many bytes are unpacked from one top-level archive by
/// default (256 MiB), counting every nesting level.
pub const DEFAULT_MAX_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;
/// A compressed stream may expand at most this many times by default (100:1).
pub const DEFAULT_MAX_ARCHIVE_RATIO: u64 = 100;
/// At most this many members are read from one top-level archive by
/// default, counting every nesting level.
pub const DEFAULT_MAX_ARCHIVE_MEMBERS: u64 = 100_000;
/// A stream's first MiB is never refused for its compression ratio: small,
/// highly repetitive text files are common and harmless.
pub const RATIO_FLOOR: u64 = 1024 * 1024;
/// xz streams whose (first) block declares a larger LZMA2 dictionary are
/// refused before decoding (the decoder allocates the whole dictionary);
/// 64 MiB is what `xz -9` uses.
pub const MAX_XZ_DICTIONARY: u64 = 64 * 1024 * 1024;

/// A kind of archive or compressed file, recognised by [`archive_kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArchiveKind {
    /// Zip and formats built on it: jar, war, ear, apk, aar, whl, nupkg,
    /// egg, docx, xlsx, pptx, odt (`PK\x03\x04`).
    Zip,
    /// tar: ustar, GNU or pax (`ustar` at offset 257 and a valid checksum).
    Tar,
    /// gzip (`.gz`, `.tgz`).
    Gzip,
    /// bzip2 (`.bz2`).
    Bzip2,
    /// xz (`.xz`, `.txz`).
    Xz,
    /// Zstandard (`.zst`).
    Zstd,
}

/// Which [`ScanOptions`] limit an archive hit ([`SkipReason::ArchiveLimit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArchiveLimit {
    /// [`ScanOptions::max_archive_depth`]: nesting levels.
    Depth,
    /// [`ScanOptions::max_archive_bytes`]: bytes unpacked from one top-level archive.
    Bytes,
    /// [`ScanOptions::max_archive_ratio`]: expansion of one compressed stream.
    Ratio,
    /// [`ScanOptions::max_archive_members`]: members of one top-level archive.
    Members,
    /// [`ScanOptions::max_file_size`]: the size of one member.
    MemberSize,
    /// [`MAX_XZ_DICTIONARY`]: the dictionary an xz stream asks for.
    Dictionary,
}

/// A member of an archive that was not scanned (or not wholly).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberSkip {
    /// The `!`-joined chain naming the member, e.g. `a.tar.gz!lib/app.jar`
    /// (or the archive itself, when the archive could not be read on).
    pub path: PathBuf,
    /// Why.
    pub reason: SkipReason,
}

/// What `data` is, by its first bytes; `None` for anything else.
///
/// # Example
///
/// ```
/// use keysweep_core::{archive_kind, ArchiveKind};
///
/// assert_eq!(archive_kind(b"PK\x03\x04rest"), Some(ArchiveKind::Zip));
/// assert_eq!(archive_kind(b"\x1f\x8b\x08\0"), Some(ArchiveKind::Gzip));
/// assert_eq!(archive_kind(b"plain text"), None);
/// ```
pub fn archive_kind(data: &[u8]) -> Option<ArchiveKind> {
    const BZ_BLOCK: &[u8] = &[0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const BZ_EMPTY: &[u8] = &[0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    if data.starts_with(b"PK\x03\x04") {
        Some(ArchiveKind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(ArchiveKind::Gzip)
    } else if data.len() >= 10
        && data.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&data[3])
        && (&data[4..10] == BZ_BLOCK || &data[4..10] == BZ_EMPTY)
    {
        Some(ArchiveKind::Bzip2)
    } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(ArchiveKind::Xz)
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(ArchiveKind::Zstd)
    } else if tar_format::is_tar(data) {
        Some(ArchiveKind::Tar)
    } else {
        None
    }
}

/// `parent!name`, as a path (never `Path::join`, which an absolute `name`
/// would replace).
fn member_path(parent: &Path, name: &str) -> PathBuf {
    let mut s = OsString::from(parent.as_os_str());
    s.push("!");
    s.push(name);
    PathBuf::from(s)
}

/// A member that could not be read whole: why, and what was read of it.
struct Failed {
    reason: SkipReason,
    partial: Vec<u8>,
}

/// The state of unpacking one top-level archive.
struct Unpack<'a> {
    scanner: &'a Scanner,
    scratch: &'a mut ScanScratch,
    opts: &'a ScanOptions,
    /// Bytes unpacked so far, every level.
    unpacked: u64,
    /// Members met so far, every level.
    members: u64,
    /// A limit of the whole top-level archive was hit: read no more.
    exhausted: bool,
    /// The limit a [`meter::Meter`] hit last, for the error it caused.
    trip: Rc<Cell<Option<Hit>>>,
    bytes: u64,
    findings: Vec<Finding>,
    skipped: Vec<MemberSkip>,
}

impl Unpack<'_> {
    fn skip(&mut self, path: PathBuf, reason: SkipReason) {
        if let SkipReason::ArchiveLimit {
            what: ArchiveLimit::Bytes | ArchiveLimit::Members,
            ..
        } = reason
        {
            self.exhausted = true;
        }
        self.skipped.push(MemberSkip { path, reason });
    }

    /// Why reading failed: a limit a meter hit, else a corrupt stream.
    fn reason(&self, e: &io::Error) -> SkipReason {
        match self.trip.take() {
            Some(hit) => hit.reason(),
            None => SkipReason::Corrupt(e.to_string()),
        }
    }

    /// Counts one member of `archive`; false (and a skip of `archive`) past
    /// the member limit.
    fn count_member(&mut self, archive: &Path) -> bool {
        self.members += 1;
        if self.members > self.opts.max_archive_members {
            self.skip(
                archive.to_path_buf(),
                SkipReason::ArchiveLimit {
                    what: ArchiveLimit::Members,
                    limit: self.opts.max_archive_members,
                },
            );
            return false;
        }
        true
    }

    /// Bytes that may still be unpacked.
    fn budget(&self) -> u64 {
        self.opts.max_archive_bytes.saturating_sub(self.unpacked)
    }

    /// Wraps a decompressor reading from a source whose consumed bytes are
    /// counted in `input`.
    fn meter<R: Read>(&self, inner: R, input: Rc<Cell<u64>>) -> meter::Meter<R> {
        meter::Meter::new(
            inner,
            input,
            self.opts.max_archive_ratio,
            self.budget(),
            self.opts.max_archive_bytes,
            Rc::clone(&self.trip),
        )
    }

    /// Reads one member into memory: at most the member size limit (and the
    /// remaining budget) plus one byte, growing the buffer as bytes come.
    /// A corrupt or truncated stream keeps what was read before the error.
    fn read_member(&mut self, r: &mut dyn Read) -> Result<Vec<u8>, Failed> {
        let member_limit = self.opts.max_file_size;
        let budget = self.budget();
        let limit = member_limit.min(budget);
        let mut buf = Vec::new();
        let res = r.take(limit.saturating_add(1)).read_to_end(&mut buf);
        let n = buf.len() as u64;
        self.unpacked = self.unpacked.saturating_add(n.min(limit));
        let refused = |reason| Failed {
            reason,
            partial: Vec::new(),
        };
        if let Err(e) = res {
            let reason = self.reason(&e);
            let partial = if matches!(reason, SkipReason::Corrupt(_)) && n <= limit {
                buf
            } else {
                Vec::new()
            };
            return Err(Failed { reason, partial });
        }
        if n > limit {
            return Err(refused(if n > member_limit {
                SkipReason::ArchiveLimit {
                    what: ArchiveLimit::MemberSize,
                    limit: member_limit,
                }
            } else {
                SkipReason::ArchiveLimit {
                    what: ArchiveLimit::Bytes,
                    limit: self.opts.max_archive_bytes,
                }
            }));
        }
        Ok(buf)
    }

    /// Reports a member that could not be read whole; the bytes read before
    /// a corruption are scanned (a truncated download still shows its
    /// secrets), and the skip says so.
    fn failed(&mut self, path: PathBuf, f: Failed, level: u32) {
        let Failed { reason, partial } = f;
        match reason {
            SkipReason::Corrupt(why) if !partial.is_empty() => {
                let n = partial.len();
                self.member_data(&partial, path.clone(), level);
                self.skip(
                    path,
                    SkipReason::Corrupt(format!("{why} (its first {n} bytes were scanned)")),
                );
            }
            reason => self.skip(path, reason),
        }
    }

    /// Handles the contents of one member found at nesting `level`: a
    /// nested archive is opened (within the depth limit), a binary member
    /// skipped, anything else scanned.
    fn member_data(&mut self, data: &[u8], path: PathBuf, level: u32) {
        if let Some(kind) = archive_kind(data) {
            if level >= self.opts.max_archive_depth {
                self.skip(
                    path,
                    SkipReason::ArchiveLimit {
                        what: ArchiveLimit::Depth,
                        limit: u64::from(self.opts.max_archive_depth),
                    },
                );
            } else if let Err(reason) = self.container(kind, data, &path, level + 1) {
                self.skip(path, reason);
            }
            return;
        }
        if self.opts.binary_walked == BinaryDetection::Skip && is_binary(data) {
            self.skip(path, SkipReason::Binary);
            return;
        }
        let name: Arc<Path> = Arc::from(path);
        self.bytes += data.len() as u64;
        let found = self.scanner.scan_slice(self.scratch, data, Some(&name));
        self.findings.extend(found);
    }

    /// Reads the archive `data` (of `kind`, at nesting `level`, named
    /// `path`). An error stops this archive; what was read before counts.
    fn container(
        &mut self,
        kind: ArchiveKind,
        data: &[u8],
        path: &Path,
        level: u32,
    ) -> Result<(), SkipReason> {
        if self.exhausted {
            return Ok(());
        }
        match kind {
            ArchiveKind::Zip => zip_format::scan(self, data, path, level),
            ArchiveKind::Tar => tar_format::scan(self, data, path, level),
            ArchiveKind::Gzip | ArchiveKind::Bzip2 | ArchiveKind::Xz | ArchiveKind::Zstd => {
                compressed::scan(self, kind, data, path, level)
            }
        }
    }
}

impl Scanner {
    /// Scans `data`, the contents of the file `path`, as an archive if it is
    /// one ([`archive_kind`]) and [`ScanOptions::archives`] is on; `None`
    /// otherwise (scan it as a file).
    ///
    /// The outcome is one [`FileOutcome::Scanned`] for the whole archive:
    /// `bytes` counts the unpacked bytes that were scanned, `findings` has
    /// every member's findings (their paths are `!`-joined chains) and
    /// `skipped` every member that was not scanned. An archive that cannot
    /// be opened at all is [`FileOutcome::Skipped`].
    ///
    /// # Example
    ///
    /// ```
    /// use keysweep_core::{FileOutcome, ScanOptions, Scanner};
    /// use std::io::Write;
    /// use std::path::Path;
    ///
    /// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    /// gz.write_all(b"AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n")?;
    /// let data = gz.finish()?;
    ///
    /// let scanner = Scanner::with_default_rules()?;
    /// let out = scanner.scan_archive(&mut scanner.scratch(), &data, Path::new("config.env.gz"), &ScanOptions::new());
    /// let Some(FileOutcome::Scanned { findings, .. }) = out else { panic!() };
    /// assert_eq!(&*findings[0].path.as_ref().unwrap().to_string_lossy(), "config.env.gz!config.env");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan_archive(
        &self,
        scratch: &mut ScanScratch,
        data: &[u8],
        path: &Path,
        opts: &ScanOptions,
    ) -> Option<FileOutcome> {
        if !opts.archives || opts.max_archive_depth == 0 {
            return None;
        }
        let kind = archive_kind(data)?;
        let _span = tracing::debug_span!("archive", path = %path.display(), ?kind).entered();
        let mut u = Unpack {
            scanner: self,
            scratch,
            opts,
            unpacked: 0,
            members: 0,
            exhausted: false,
            trip: Rc::new(Cell::new(None)),
            bytes: 0,
            findings: Vec::new(),
            skipped: Vec::new(),
        };
        // The decoders are third-party code fed untrusted bytes: should one
        // panic, the archive is reported corrupt and the scan goes on.
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            u.container(kind, data, path, 1)
        }))
        .unwrap_or_else(|_| {
            Err(SkipReason::Corrupt(
                "the archive reader failed unexpectedly".to_string(),
            ))
        });
        if let Err(reason) = res {
            if u.members == 0 && u.skipped.is_empty() {
                return Some(FileOutcome::Skipped(reason));
            }
            u.skip(path.to_path_buf(), reason);
        }
        Some(FileOutcome::Scanned {
            bytes: u.bytes,
            findings: u.findings,
            skipped: u.skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_magic() {
        assert_eq!(archive_kind(b"PK\x03\x04"), Some(ArchiveKind::Zip));
        assert_eq!(archive_kind(b"PK\x05\x06"), None);
        assert_eq!(
            archive_kind(b"BZh91AY&SYxx"),
            Some(ArchiveKind::Bzip2),
            "a bzip2 block"
        );
        assert_eq!(archive_kind(b"BZh9 is text"), None);
        assert_eq!(
            archive_kind(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0]),
            Some(ArchiveKind::Xz)
        );
        assert_eq!(
            archive_kind(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(ArchiveKind::Zstd)
        );
        assert_eq!(archive_kind(b""), None);
        let mut fake_tar = vec![b'a'; 600];
        fake_tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(archive_kind(&fake_tar), None, "a bad checksum is no tar");
    }

    #[test]
    fn member_paths_are_chained_not_joined() {
        assert_eq!(
            member_path(Path::new("a.zip"), "/etc/passwd"),
            PathBuf::from("a.zip!/etc/passwd")
        );
        assert_eq!(
            member_path(Path::new("a.tar.gz!b.jar"), "../x"),
            PathBuf::from("a.tar.gz!b.jar!../x")
        );
    }
}
