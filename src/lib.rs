//! keysweep: find leaked credentials at high speed, then rotate them.
//!
//! This facade re-exports the scanning engine ([`keysweep_core`]). Depend on it
//! with `default-features = false` to get the library without the command
//! line (clap, tracing-subscriber, ...):
//!
//! ```toml
//! keysweep = { version = "0.1", default-features = false }
//! ```
//!
//! # Example
//!
//! ```
//! use keysweep::Scanner;
//!
//! let scanner = Scanner::with_default_rules()?;
//! let findings = scanner.scan_bytes(b"aws_access_key_id = AKIAQYLPMN5HHHFPZAM2");
//! assert_eq!(findings.len(), 1);
//! println!("{} at line {}: {}", findings[0].rule.name, findings[0].line, findings[0].secret);
//! # Ok::<(), keysweep::Error>(())
//! ```
//!
//! # Crate features
//!
//! * `cli` (default): builds the `keysweep` binary.
//! * `git` (off by default): the `git` module: history, staged-change and pre-push scanning (gix).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use keysweep_core::*;

/// Git history, staged-change and pre-push scanning (feature `git`).
#[cfg(feature = "git")]
pub use keysweep_git as git;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
