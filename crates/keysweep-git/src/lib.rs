//! keysweep's git inputs, in pure Rust (gix).
//!
//! * [`scan_history`]: every blob reachable from all references (or a
//!   [`Range`]), each distinct blob scanned exactly once, in parallel, from
//!   loose objects and packs alike, with the commit that introduced it.
//! * [`scan_staged`]: exactly the staged content (index blobs), reporting only
//!   secrets on lines added or changed relative to `HEAD`.
//! * [`pushed_range`]: the commits a `git push` would send.
//!
//! # Example
//!
//! ```no_run
//! use keysweep_core::Scanner;
//! use keysweep_git::{scan_history, HistoryOptions};
//!
//! let scanner = Scanner::with_default_rules()?;
//! let stats = scan_history(&scanner, ".".as_ref(), &HistoryOptions::default(), |hf| {
//!     let first = &hf.provenance[0];
//!     println!("{} in {} ({})", hf.finding.rule.name, first.path, first.commit.id);
//! })?;
//! println!("{} commits, {} blobs", stats.commits, stats.blobs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! None; the facade's and CLI's `git` feature pulls this crate in.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod commit;
mod error;
mod history;
mod ignore_file;
mod lines;
mod staged;
mod tree;

pub use commit::{CommitInfo, Provenance};
pub use error::{Error, GixError, Result};
pub use history::{open, scan_history, HistoryFinding, HistoryOptions, HistoryStats, Range};
pub use ignore_file::{is_ignored, repo_ignore};
pub use lines::added_lines;
pub use staged::{pushed_range, scan_staged, StagedOptions, StagedStats};
