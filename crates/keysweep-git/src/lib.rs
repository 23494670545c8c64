//! keysweep's git inputs, in pure Rust (gix).
//!
//! * [`scan_history`]: every blob reachable from all references (or a
//!   [`Range`]), each distinct blob scanned exactly once, in parallel, from
//!   loose objects and packs alike, with the commit that introduced it.
//! * [`scan_staged`]: exactly the staged content (index blobs), reporting only
//!   secrets on lines added or changed relative to `HEAD`.
//! * [`visit_staged`]: the same as events to a sink that can stop it.
//! * [`PushUpdate`] and [`push_ranges`]: the ref updates git hands a pre-push
//!   hook, and the commits they send ([`pushed_range`] for a push of the
//!   current branch).
//! * [`repo_ignore`] / [`is_ignored`]: the work tree's `.keysweepignore`,
//!   applied to staged scans by default and to history scans on request
//!   ([`HistoryOptions::ignore_file`]).
//!
//! History and staged scans hand events to a sink that returns
//! [`std::ops::ControlFlow`]: `Break` stops the scan early.
//!
//! # Example
//!
//! ```no_run
//! use keysweep_core::Scanner;
//! use keysweep_git::{scan_history, HistoryOptions};
//! use keysweep_git::HistoryEvent;
//! use std::ops::ControlFlow;
//!
//! let scanner = Scanner::with_default_rules()?;
//! let stats = scan_history(&scanner, ".".as_ref(), &HistoryOptions::default(), |ev| {
//!     if let HistoryEvent::Finding(hf) = ev {
//!         let first = &hf.provenance[0];
//!         println!("{} in {} ({})", hf.finding.rule.name, first.path, first.commit.id);
//!     }
//!     ControlFlow::Continue(())
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
mod push;
mod staged;
mod tree;

pub use commit::{CommitInfo, Provenance};
pub use error::{Error, GixError, Result};
pub use history::{
    open, scan_history, HistoryEvent, HistoryFinding, HistoryOptions, HistoryStats, Range,
};
pub use ignore_file::{is_ignored, repo_ignore};
pub use lines::added_lines;
pub use push::{push_ranges, PushUpdate, ZERO_ID};
pub use staged::{
    pushed_range, scan_staged, visit_staged, StagedEvent, StagedOptions, StagedStats,
};
