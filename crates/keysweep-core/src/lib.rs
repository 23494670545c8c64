//! keysweep's scanning engine.
//!
//! keysweep finds leaked credentials. This crate holds everything a scan needs
//! and nothing else (no command line, no cloud SDKs):
//!
//! * [`Rule`]s are data: TOML files under `patterns/`, embedded at build time,
//!   plus user files loaded at run time ([`RuleSetBuilder`]).
//! * [`RuleSet`] compiles them into one case-insensitive Aho-Corasick automaton
//!   over all rules' keywords and one regex per rule. A scan runs the automaton
//!   over the input and confirms only the rules whose keywords hit, in bounded
//!   windows around each hit (absolute offsets, so `\b` keeps its context).
//! * [`Scanner`] (immutable, `Clone + Send + Sync`) plus a per-thread
//!   [`ScanScratch`] scans byte slices, readers, files (read, or, when a
//!   program opts in with [`MmapChoice::auto`], memory-mapped above a size
//!   threshold) and directory trees (parallel, honouring
//!   `.gitignore`, `.ignore` and `.keysweepignore`).
//! * Every [`Finding`] carries its rule, position, a [`Secret`] that prints
//!   redacted, a redacted snippet and a keyed [`Fingerprint`].
//!
//! # Where each concept lives
//!
//! | concept | items |
//! |---|---|
//! | rule files, the embedded rules, gitleaks configs | [`Rule`], [`parse_rules`], [`RuleSetBuilder`], [`import_gitleaks`] |
//! | which rule wins when two report the same secret (`generic-*` kinds yield to specific ones) | [`RuleSet`] (compile), `Scanner::scan_slice` |
//! | scanning bytes, readers, files | [`Scanner::scan_slice`], [`Scanner::scan_reader`], [`Scanner::scan_file`] |
//! | walking trees, stopping early | [`Scanner::scan_paths`], [`Scanner::visit_paths`], [`ScanVisitor`], [`ScanEvent`], [`ScanStats`] |
//! | input policy: size limit, binary files (walked / named), ignore files, links | [`ScanOptions`], [`BinaryDetection`], [`SkipReason`] (and [`SkipReason::is_notable`]), [`IGNORE_FILE`] |
//! | archives and compressed files (zip family, tar, gzip, bzip2, xz, zstd; nested; `a.tar.gz!b.jar!c` paths; limits) | [`Scanner::scan_archive`], [`archive_kind`], [`MemberSkip`], [`ArchiveLimit`], `ScanOptions::archives` and `max_archive_*` |
//! | UTF-16 text | transcoded by [`Scanner::scan_slice`]; not binary for [`is_binary`] |
//! | fingerprints and their key (the built-in key unless the program passes another; programs read [`FINGERPRINT_KEY_ENV`] with [`FingerprintKey::from_env`]) | [`Fingerprint`], [`FingerprintKey`] |
//! | baselines (`.keysweep-baseline.json`) | [`Baseline`], [`BaselineEntry`] |
//! | a rule's own examples (`keysweep rules check`) | [`RuleCheck`] |
//!
//! Reports (the JSON record, JSON Lines, SARIF, atomic report files) are in
//! `keysweep-report`; git history, staged changes and pre-push ranges in
//! `keysweep-git`. This crate reads no environment variable unless asked
//! ([`FingerprintKey::from_env`]).
//!
//! # Example
//!
//! ```
//! use keysweep_core::Scanner;
//!
//! let scanner = Scanner::with_default_rules()?;
//! let mut scratch = scanner.scratch();
//! let text = b"export GITHUB_TOKEN=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\n";
//! let findings = scanner.scan_slice(&mut scratch, text, None);
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule.kind, "github-pat");
//! // Redacted unless explicitly exposed:
//! assert_eq!(format!("{}", findings[0].secret), "ghp_*****");
//! # Ok::<(), keysweep_core::Error>(())
//! ```
//!
//! # Crate features
//!
//! This crate has no optional features for users; it is the lean core every
//! other keysweep crate builds on. (`fuzzing` exposes internals to the fuzz
//! targets under `fuzz/` as the hidden, unstable module `__fuzz`.)
#![deny(missing_docs)]
// The two unsafe sites (the keyword table's unchecked read, the opt-in
// memory map) each state their contract: an unsafe block needs a `SAFETY:`
// comment, and an `unsafe fn` body is not one implicit unsafe block.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod archive;
mod baseline;
mod check;
mod checksum;
mod compile;
mod decode;
mod entropy;
mod error;
mod finding;
mod fingerprint;
mod gitleaks;
mod input;
mod keywords;
mod placeholder;
mod rule;
mod scan;
mod secret;
mod text_encoding;
mod walk;

pub use archive::{
    archive_kind, ArchiveKind, ArchiveLimit, MemberSkip, DEFAULT_MAX_ARCHIVE_BYTES,
    DEFAULT_MAX_ARCHIVE_DEPTH, DEFAULT_MAX_ARCHIVE_MEMBERS, DEFAULT_MAX_ARCHIVE_RATIO,
    MAX_XZ_DICTIONARY, RATIO_FLOOR,
};

/// Internals for the fuzz targets (`fuzz/`): not a stable API, only built
/// with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// The keyword prefilter automaton (see `keywords.rs`).
    #[derive(Debug)]
    pub struct Keywords(crate::keywords::Keywords);

    impl Keywords {
        /// Builds the automaton for lowercase `patterns`, as a rule set does.
        pub fn new(patterns: &[String]) -> Result<Keywords, aho_corasick::BuildError> {
            crate::keywords::Keywords::new(patterns).map(Keywords)
        }

        /// Calls `hit(pattern, start, end)` for every keyword occurrence in
        /// `hay`, overlapping ones included, in the order of aho-corasick's
        /// `find_overlapping_iter`.
        pub fn for_each_hit(&self, hay: &[u8], hit: impl FnMut(usize, usize, usize)) {
            self.0.for_each_hit(hay, &mut Vec::new(), hit)
        }
    }
}

pub use baseline::{Baseline, BaselineEntry, BASELINE_FILE};
pub use check::{CheckFailure, RuleCheck};
pub use checksum::{base62_padded, github_checksum, Checksum};
pub use compile::{RuleSet, RuleSetBuilder};
pub use decode::{Encoding, DEFAULT_DECODE_DEPTH, MAX_ENCODED};
pub use entropy::shannon_entropy;
pub use error::{error_chain, Error, Result, RuleError};
pub use finding::Finding;
pub use fingerprint::{Fingerprint, FingerprintKey, FINGERPRINT_KEY_ENV};
pub use gitleaks::{import_gitleaks, import_gitleaks_file, GitleaksImport};
pub use input::{
    is_binary, BinaryDetection, FileOutcome, MmapChoice, ScanOptions, SkipReason, BINARY_PROBE,
    DEFAULT_MAX_FILE_SIZE, DEFAULT_MMAP_THRESHOLD,
};
pub use placeholder::is_placeholder;
pub use rule::{
    parse_rule_file, parse_rules, Allow, Rule, SecretGroup, Severity, UnknownSeverity,
    DEFAULT_WINDOW, MAX_WINDOW,
};
pub use scan::{ScanScratch, Scanner};
pub use secret::Secret;
pub use walk::{ScanEvent, ScanStats, ScanVisitor, IGNORE_FILE};
