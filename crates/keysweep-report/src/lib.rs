//! keysweep's findings as reports: the record, its reader, the writers.
//!
//! Every front end (the `keysweep` command line, the Python bindings) goes
//! through this crate for what it prints or writes about findings, so a
//! report is the same whoever writes it:
//!
//! | concept | here |
//! |---|---|
//! | a finding and where it came from | [`Item`], [`Origin`] ([`GitOrigin`], [`Commit`]) |
//! | the JSON / JSON Lines record (also Python's `Finding.to_dict()`) | [`Record`] |
//! | reading findings back (JSON report, bare array, JSON Lines) | [`read_records`], [`Record::to_item`] |
//! | the report order and displayed path | [`Item::report_order`], [`display_path`] |
//! | the formats and the reporter (baseline, streaming, summary) | [`Format`], [`Reporter`], [`Totals`], [`Summary`] |
//! | SARIF 2.1.0 and the human format | [`sarif::render`], [`human::render`] |
//! | atomic report files, devices written in place | [`Destination`], [`remove_unfinished`] |
//!
//! # Example
//!
//! ```
//! use keysweep_report::{read_records, Destination, Format, Item, Reporter, Totals};
//!
//! let scanner = keysweep_core::Scanner::with_default_rules()?;
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("report.json");
//!
//! let mut reporter = Reporter::new(Format::Json, false, None, Destination::open(Some(&out))?);
//! for f in scanner.scan_bytes(b"aws_access_key_id = AKIAQYLPMN5HHHFPZAM2") {
//!     reporter.push(Item::plain(f));
//! }
//! assert_eq!(reporter.finish(Totals::default(), false)?, 1);
//!
//! let records = read_records("report.json", &std::fs::read_to_string(&out)?)?;
//! assert_eq!(records[0].rule_id, "ks.aws.1");
//! assert!(records[0].secret.is_none()); // redacted unless revealed
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! - `git` (off by default): [`Item::from_history`] and `From<&Provenance>`
//!   for [`Commit`], over `keysweep-git`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod destination;
mod error;
mod item;
mod origin;
mod read;
mod record;
mod summary;
mod write;

pub use destination::{remove_unfinished, write_atomic, Destination};
pub use error::{Error, Result};
pub use item::{display_path, sort_items, Item};
pub use origin::{Commit, GitOrigin, Origin};
pub use read::{read_records, read_records_file};
pub use record::Record;
pub use summary::{Summary, Totals};
pub use write::{human, json_document, sarif, Format, Reporter, UnknownFormat};
