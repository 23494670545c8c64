//! Reading inputs: readers, single files (read or memory-mapped), binary detection.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crate::archive::{
    ArchiveLimit, MemberSkip, DEFAULT_MAX_ARCHIVE_BYTES, DEFAULT_MAX_ARCHIVE_DEPTH,
    DEFAULT_MAX_ARCHIVE_MEMBERS, DEFAULT_MAX_ARCHIVE_RATIO,
};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::scan::{ScanScratch, Scanner};

/// How many leading bytes are checked for a NUL byte to call a file binary.
pub const BINARY_PROBE: usize = 64 * 1024;

/// Options for scanning files and directories.
///
/// # Example
///
/// ```
/// use keysweep_core::ScanOptions;
///
/// let mut opts = ScanOptions::new();
/// opts.max_file_size(1 << 20).threads(2).binary(true);
/// assert_eq!(opts.get_max_file_size(), 1 << 20);
/// assert!(!opts.get_mmap().is_enabled(), "files are read unless a program opts in");
/// ```
///
/// Binary files are skipped when met while walking and scanned when named
/// ([`ScanOptions::binary_walked`], [`ScanOptions::binary_named`]), as
/// ripgrep treats implicit and explicit paths.
///
/// Archives and compressed files, walked or named, are opened and their
/// members scanned (see [`Scanner::scan_archive`] for what is reported);
/// [`ScanOptions::archives`] turns that off, and the `max_archive_*`
/// options bound the work one archive may cause.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub(crate) max_file_size: u64,
    pub(crate) mmap: MmapChoice,
    pub(crate) mmap_threshold: u64,
    pub(crate) binary_walked: BinaryDetection,
    pub(crate) binary_named: BinaryDetection,
    pub(crate) ignore: bool,
    pub(crate) follow_links: bool,
    pub(crate) threads: usize,
    pub(crate) archives: bool,
    pub(crate) max_archive_depth: u32,
    pub(crate) max_archive_bytes: u64,
    pub(crate) max_archive_ratio: u64,
    pub(crate) max_archive_members: u64,
}

/// What to do with a file that looks binary ([`is_binary`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryDetection {
    /// Skip it ([`SkipReason::Binary`]).
    Skip,
    /// Scan it like text.
    Scan,
}

/// Whether files may be memory-mapped instead of read, as in ripgrep's
/// `grep_searcher::MmapChoice`.
///
/// Mapping a file is only sound while no other process changes or truncates
/// it: the mapped bytes may change under the scan (Rust assumes a `&[u8]`
/// does not change), and touching pages a truncation removed raises
/// `SIGBUS`. A library cannot know whether its caller's files are safe to
/// map, so [`MmapChoice::never`] is the default, and a program opts in with
/// the `unsafe` constructor [`MmapChoice::auto`].
///
/// # Example
///
/// ```
/// use keysweep_core::{MmapChoice, ScanOptions};
///
/// let mut opts = ScanOptions::new();
/// assert_eq!(opts.get_mmap(), MmapChoice::never());
/// // SAFETY: this program's inputs are not changed while it scans them, and
/// // if they were, a crash would be acceptable.
/// opts.mmap(unsafe { MmapChoice::auto() });
/// assert!(opts.get_mmap().is_enabled());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmapChoice(MmapChoiceImpl);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum MmapChoiceImpl {
    /// Always read.
    #[default]
    Never,
    /// Map files at or above [`ScanOptions::mmap_threshold`] when mapping works.
    Auto,
}

impl MmapChoice {
    /// Never memory-map; read every file into the scratch buffer (the default).
    pub fn never() -> MmapChoice {
        MmapChoice(MmapChoiceImpl::Never)
    }

    /// Memory-map files of at least [`ScanOptions::mmap_threshold`] bytes
    /// (falling back to reading when a map fails).
    ///
    /// # Safety
    ///
    /// While a file is mapped, its bytes are the scan's input slice. If
    /// another process writes to the file, that slice changes while it is
    /// borrowed, which is undefined behaviour; if it truncates the file,
    /// reading the lost pages kills the process with `SIGBUS`. The caller
    /// asserts that the files it scans are not changed during the scan, or
    /// that such a crash (or wrong results for a file changed while scanned)
    /// is acceptable to it, as it is for a command-line scanner.
    pub unsafe fn auto() -> MmapChoice {
        MmapChoice(MmapChoiceImpl::Auto)
    }

    /// Whether files may be mapped.
    pub fn is_enabled(&self) -> bool {
        self.0 == MmapChoiceImpl::Auto
    }

    /// Maps `file` read-only if this choice allows it; `None` if it does
    /// not or the map fails (the caller then reads the file).
    fn open(&self, file: &File, path: &Path) -> Option<memmap2::Mmap> {
        if !self.is_enabled() {
            return None;
        }
        // SAFETY: `MmapChoiceImpl::Auto` is only made by the `unsafe fn
        // MmapChoice::auto`, whose caller accepted the risk of a file changed
        // or truncated while mapped (see its `# Safety`). The mapping is
        // read-only and private; keysweep never writes through or to it.
        match unsafe { memmap2::MmapOptions::new().map(file) } {
            Ok(mmap) => Some(mmap),
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "mmap failed, reading instead");
                None
            }
        }
    }
}

/// Files at least this big are memory-mapped when mapping is enabled
/// ([`MmapChoice::auto`]; see BENCHMARKS.md).
pub const DEFAULT_MMAP_THRESHOLD: u64 = 2 * 1024 * 1024;
/// Files bigger than this are skipped by default.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions::new()
    }
}

impl ScanOptions {
    /// Defaults: 64 MiB size limit, never memory-map (read every file; see
    /// [`MmapChoice`]), skip binary files met while walking, honour ignore
    /// files, do not follow symlinks, one thread per CPU; open archives
    /// within the `DEFAULT_MAX_ARCHIVE_*` limits.
    pub fn new() -> ScanOptions {
        ScanOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            mmap: MmapChoice::never(),
            mmap_threshold: DEFAULT_MMAP_THRESHOLD,
            binary_walked: BinaryDetection::Skip,
            binary_named: BinaryDetection::Scan,
            ignore: true,
            follow_links: false,
            threads: 0,
            archives: true,
            max_archive_depth: DEFAULT_MAX_ARCHIVE_DEPTH,
            max_archive_bytes: DEFAULT_MAX_ARCHIVE_BYTES,
            max_archive_ratio: DEFAULT_MAX_ARCHIVE_RATIO,
            max_archive_members: DEFAULT_MAX_ARCHIVE_MEMBERS,
        }
    }

    /// Files larger than this many bytes are skipped with a notice (default
    /// 64 MiB). This also bounds each member of an archive, and an archive
    /// file itself.
    pub fn max_file_size(&mut self, bytes: u64) -> &mut Self {
        self.max_file_size = bytes;
        self
    }

    /// The size limit.
    pub fn get_max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Whether files may be memory-mapped (default [`MmapChoice::never`]).
    pub fn mmap(&mut self, choice: MmapChoice) -> &mut Self {
        self.mmap = choice;
        self
    }

    /// The memory-map choice.
    pub fn get_mmap(&self) -> MmapChoice {
        self.mmap
    }

    /// With [`MmapChoice::auto`], map files of at least this many bytes and
    /// read smaller ones (default [`DEFAULT_MMAP_THRESHOLD`], 2 MiB).
    /// Without it, every file is read whatever the threshold.
    pub fn mmap_threshold(&mut self, bytes: u64) -> &mut Self {
        self.mmap_threshold = bytes;
        self
    }

    /// Shorthand: `true` scans binary files met while walking too
    /// ([`ScanOptions::binary_walked`] `Scan`), `false` skips them (`Skip`,
    /// the default). Named files are governed by
    /// [`ScanOptions::binary_named`].
    pub fn binary(&mut self, yes: bool) -> &mut Self {
        self.binary_walked = if yes {
            BinaryDetection::Scan
        } else {
            BinaryDetection::Skip
        };
        self
    }

    /// Binary files met while walking a directory (default
    /// [`BinaryDetection::Skip`]).
    pub fn binary_walked(&mut self, d: BinaryDetection) -> &mut Self {
        self.binary_walked = d;
        self
    }

    /// Binary files named directly: the paths given to
    /// [`Scanner::scan_paths`] and [`Scanner::scan_file`] (default
    /// [`BinaryDetection::Scan`]: naming a file asks for it).
    pub fn binary_named(&mut self, d: BinaryDetection) -> &mut Self {
        self.binary_named = d;
        self
    }

    /// Honour `.gitignore`, `.ignore` and `.keysweepignore` (default `true`).
    pub fn ignore(&mut self, yes: bool) -> &mut Self {
        self.ignore = yes;
        self
    }

    /// Follow symbolic links while walking (default `false`).
    pub fn follow_links(&mut self, yes: bool) -> &mut Self {
        self.follow_links = yes;
        self
    }

    /// Number of walker threads; 0 picks one per CPU (default 0).
    pub fn threads(&mut self, n: usize) -> &mut Self {
        self.threads = n;
        self
    }

    /// Open archives and compressed files (zip family, tar, gzip, bzip2,
    /// xz, zstd; recognised by their first bytes), walked or named, and
    /// scan their members (default `true`). Off, they are files like any
    /// other (binary, mostly).
    pub fn archives(&mut self, yes: bool) -> &mut Self {
        self.archives = yes;
        self
    }

    /// Whether archives are opened.
    pub fn get_archives(&self) -> bool {
        self.archives
    }

    /// Open archives nested at most this many levels deep: 1 opens only
    /// the archive file itself, 0 none (default
    /// [`DEFAULT_MAX_ARCHIVE_DEPTH`], 4: a jar in a war in an ear in a
    /// tar.gz). A deeper archive is skipped
    /// ([`ArchiveLimit::Depth`]).
    pub fn max_archive_depth(&mut self, levels: u32) -> &mut Self {
        self.max_archive_depth = levels;
        self
    }

    /// The nesting limit.
    pub fn get_max_archive_depth(&self) -> u32 {
        self.max_archive_depth
    }

    /// Unpack at most this many bytes from one top-level archive, counting
    /// every nesting level (default [`DEFAULT_MAX_ARCHIVE_BYTES`], 256 MiB).
    /// The member being read when it is hit, and all after it, are skipped
    /// ([`ArchiveLimit::Bytes`]).
    pub fn max_archive_bytes(&mut self, bytes: u64) -> &mut Self {
        self.max_archive_bytes = bytes;
        self
    }

    /// The unpacked-bytes limit.
    pub fn get_max_archive_bytes(&self) -> u64 {
        self.max_archive_bytes
    }

    /// A compressed stream (a zip member, a gzip file, ...) may produce at
    /// most this many bytes per compressed byte it has consumed, measured
    /// as it is decompressed, past its first
    /// [`RATIO_FLOOR`](crate::RATIO_FLOOR) bytes (default
    /// [`DEFAULT_MAX_ARCHIVE_RATIO`], 100). Against zip bombs
    /// ([`ArchiveLimit::Ratio`]).
    pub fn max_archive_ratio(&mut self, ratio: u64) -> &mut Self {
        self.max_archive_ratio = ratio;
        self
    }

    /// The compression-ratio limit.
    pub fn get_max_archive_ratio(&self) -> u64 {
        self.max_archive_ratio
    }

    /// Read at most this many members of one top-level archive, counting
    /// every nesting level (default [`DEFAULT_MAX_ARCHIVE_MEMBERS`],
    /// 100,000; [`ArchiveLimit::Members`]).
    pub fn max_archive_members(&mut self, members: u64) -> &mut Self {
        self.max_archive_members = members;
        self
    }

    /// The member-count limit.
    pub fn get_max_archive_members(&self) -> u64 {
        self.max_archive_members
    }
}

/// Why a file was not scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A NUL byte in the first 64 KiB (only for files met while walking).
    Binary,
    /// Larger than the size limit.
    TooLarge {
        /// The file size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A FIFO, socket or device.
    NotRegular,
    /// An archive limit was hit ([`ScanOptions`]' `max_archive_*` options
    /// and [`ScanOptions::max_file_size`] for members).
    ArchiveLimit {
        /// Which limit.
        what: ArchiveLimit,
        /// Its value.
        limit: u64,
    },
    /// An encrypted archive member (no password is tried).
    Encrypted,
    /// A symbolic or hard link inside an archive: named, never followed.
    Link,
    /// A corrupt or truncated archive or member; what the reader said.
    Corrupt(String),
    /// An archive feature keysweep cannot read (a compression method, a
    /// sparse member); what the reader said.
    Unsupported(String),
}

impl SkipReason {
    /// Whether a program should tell its user of this skip: the user named
    /// the file (`named`), or it is too large (a secret in it would go
    /// unseen), or it is an archive's content that could not be read
    /// (limits, encryption, corruption). Binary and special files met while
    /// walking, and binary members and links in archives, are routine.
    pub fn is_notable(&self, named: bool) -> bool {
        named
            || matches!(
                self,
                SkipReason::TooLarge { .. }
                    | SkipReason::ArchiveLimit { .. }
                    | SkipReason::Encrypted
                    | SkipReason::Corrupt(_)
                    | SkipReason::Unsupported(_)
            )
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::TooLarge { size, limit } => {
                write!(
                    f,
                    "file of {size} bytes exceeds the size limit of {limit} bytes"
                )
            }
            SkipReason::NotRegular => f.write_str("not a regular file"),
            SkipReason::ArchiveLimit { what, limit } => match what {
                ArchiveLimit::Depth => {
                    write!(f, "archive nested deeper than {limit} levels")
                }
                ArchiveLimit::Bytes => {
                    write!(f, "more than {limit} bytes unpacked from one archive")
                }
                ArchiveLimit::Ratio => write!(
                    f,
                    "compression ratio above {limit}:1 (a decompression bomb?)"
                ),
                ArchiveLimit::Members => {
                    write!(f, "more than {limit} members in one archive")
                }
                ArchiveLimit::MemberSize => {
                    write!(f, "archive member exceeds the size limit of {limit} bytes")
                }
                ArchiveLimit::Dictionary => write!(f, "xz dictionary larger than {limit} bytes"),
            },
            SkipReason::Encrypted => f.write_str("encrypted archive member"),
            SkipReason::Link => f.write_str("link in an archive (not followed)"),
            SkipReason::Corrupt(why) => write!(f, "corrupt archive: {why}"),
            SkipReason::Unsupported(why) => write!(f, "unsupported archive: {why}"),
        }
    }
}

/// The result of scanning one file.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileOutcome {
    /// The file was scanned.
    Scanned {
        /// Bytes scanned (for an archive: its members' unpacked bytes that
        /// were scanned).
        bytes: u64,
        /// What was found.
        findings: Vec<Finding>,
        /// An archive's members that were not scanned (empty for other files).
        skipped: Vec<MemberSkip>,
    },
    /// The file was skipped.
    Skipped(SkipReason),
}

/// Whether `data` looks binary: a NUL byte in its first [`BINARY_PROBE`] bytes.
///
/// UTF-16 text is not binary, although most of its bytes may be NUL: it is
/// transcoded and scanned (see [`Scanner::scan_slice`]).
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_PROBE)]).is_some()
        && crate::text_encoding::detect(data).is_none()
}

impl Scanner {
    /// Reads `reader` to its end (at most `limit` bytes; more is an error) into
    /// the scratch buffer and scans it. `name` is attached to findings.
    pub fn scan_reader<R: Read>(
        &self,
        scratch: &mut ScanScratch,
        mut reader: R,
        limit: u64,
        name: Option<&Arc<Path>>,
    ) -> io::Result<Vec<Finding>> {
        let mut buf = std::mem::take(&mut scratch.buf);
        buf.clear();
        let res = reader
            .by_ref()
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf);
        let out = match res {
            Ok(_) if buf.len() as u64 > limit => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("input exceeds the size limit of {limit} bytes"),
            )),
            Ok(_) => Ok(self.scan_slice(scratch, &buf, name)),
            Err(e) => Err(e),
        };
        shrink(&mut buf);
        scratch.buf = buf;
        out
    }

    /// Scans one named file; a binary one is scanned or skipped as
    /// [`ScanOptions::binary_named`] says.
    pub fn scan_file(
        &self,
        scratch: &mut ScanScratch,
        path: &Path,
        opts: &ScanOptions,
    ) -> Result<FileOutcome> {
        self.scan_file_as(scratch, path, opts, opts.binary_named)
    }

    pub(crate) fn scan_file_as(
        &self,
        scratch: &mut ScanScratch,
        path: &Path,
        opts: &ScanOptions,
        binary: BinaryDetection,
    ) -> Result<FileOutcome> {
        let skip_binary = binary == BinaryDetection::Skip;
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Ok(FileOutcome::Skipped(SkipReason::NotRegular));
        }
        let size = meta.len();
        if size > opts.max_file_size {
            return Ok(FileOutcome::Skipped(SkipReason::TooLarge {
                size,
                limit: opts.max_file_size,
            }));
        }
        let name: Arc<Path> = Arc::from(path);
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        if let Some(mmap) = (size >= opts.mmap_threshold)
            .then(|| opts.mmap.open(&file, path))
            .flatten()
        {
            if let Some(out) = self.scan_archive(scratch, &mmap, path, opts) {
                return Ok(out);
            }
            if skip_binary && is_binary(&mmap) {
                return Ok(FileOutcome::Skipped(SkipReason::Binary));
            }
            let findings = self.scan_slice(scratch, &mmap, Some(&name));
            return Ok(FileOutcome::Scanned {
                bytes: mmap.len() as u64,
                findings,
                skipped: Vec::new(),
            });
        }
        let mut buf = std::mem::take(&mut scratch.buf);
        buf.clear();
        // Size the buffer once: `Take` hides the file size from `read_to_end`.
        buf.reserve_exact((size as usize).saturating_add(1));
        let res = (&file)
            .take(opts.max_file_size.saturating_add(1))
            .read_to_end(&mut buf);
        let out = match res {
            Err(e) => Err(Error::io(path, e)),
            // The file grew past the limit since we looked at its size.
            Ok(_) if buf.len() as u64 > opts.max_file_size => {
                Ok(FileOutcome::Skipped(SkipReason::TooLarge {
                    size: buf.len() as u64,
                    limit: opts.max_file_size,
                }))
            }
            Ok(_) => match self.scan_archive(scratch, &buf, path, opts) {
                Some(out) => Ok(out),
                None if skip_binary && is_binary(&buf) => {
                    Ok(FileOutcome::Skipped(SkipReason::Binary))
                }
                None => Ok(FileOutcome::Scanned {
                    bytes: buf.len() as u64,
                    findings: self.scan_slice(scratch, &buf, Some(&name)),
                    skipped: Vec::new(),
                }),
            },
        };
        shrink(&mut buf);
        scratch.buf = buf;
        out
    }
}

/// Keeps a reused buffer from pinning the memory of one unusually large file.
fn shrink(buf: &mut Vec<u8>) {
    const KEEP: usize = 8 * 1024 * 1024;
    if buf.capacity() > KEEP {
        *buf = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_probe() {
        assert!(
            !is_binary(b"\xff\xfeK\0E\0Y\0"),
            "UTF-16 with a BOM is text"
        );
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"abc"));
        let mut late = vec![b'a'; BINARY_PROBE + 10];
        late[BINARY_PROBE + 5] = 0;
        assert!(!is_binary(&late));
    }

    #[test]
    fn reader_limit_is_enforced() {
        let s = Scanner::with_default_rules().unwrap();
        let mut scratch = s.scratch();
        let err = s
            .scan_reader(&mut scratch, &b"0123456789"[..], 5, None)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(s
            .scan_reader(&mut scratch, &b"0123456789"[..], 10, None)
            .unwrap()
            .is_empty());
    }
}
